"""A host that echoes a secret back transformed does not get it into the record.

api-1 may receive PROD_TOKEN; it answers with the token hex-encoded, reversed, spaced out,
in base64, %-encoded byte by byte, or cut over two JSON fields or two lines. Whatever form it
takes, what altlas shows and keeps — `GET /runs/{id}`, `GET /events`, `altlas audit export`,
the store's files — holds none of it, and the step says how much it took out."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest

from application.core import run_id_of
from testkit.fakes.local_http import QuietHandler, local_http
from testkit.helpers import plan, step
from tests.security.gatehouse import Gatehouse, gatehouse
from tests.security.test_secret_scopes import PROD_TOKEN, scoped_policy

HALF = len(PROD_TOKEN) // 2

# how the host sends the token back → the pieces of it that must not be kept
ECHOES: dict[str, tuple[Callable[[str], str], Callable[[str], list[str]]]] = {
    "hex": (lambda t: json.dumps({"echo": t.encode().hex()}), lambda t: [t.encode().hex()]),
    "HEX": (lambda t: json.dumps({"echo": t.encode().hex().upper()}),
            lambda t: [t.encode().hex().upper()]),
    "reversed": (lambda t: f"token: {t[::-1]}\n", lambda t: [t[::-1]]),
    "spaced": (lambda t: " ".join(t), lambda t: [" ".join(t)]),
    "dotted": (lambda t: ".".join(t), lambda t: [".".join(t)]),
    "one per line": (lambda t: "\n".join(t), lambda t: ["\n".join(t)]),
    "base64": (lambda t: base64.b64encode(t.encode()).decode(),
               lambda t: [base64.b64encode(t.encode()).decode().rstrip("=")]),
    "base64url": (lambda t: base64.urlsafe_b64encode(t.encode()).decode().rstrip("="),
                  lambda t: [base64.urlsafe_b64encode(t.encode()).decode().rstrip("=")]),
    "every byte %-encoded": (lambda t: "".join(f"%{b:02x}" for b in t.encode()),
                             lambda t: ["".join(f"%{b:02x}" for b in t.encode())]),
    "two JSON fields": (lambda t: json.dumps({"n": "x", "a": t[:HALF], "b": t[HALF:]}),
                        lambda t: [t[:HALF], t[HALF:]]),
    "two lines": (lambda t: f"begin {t[:HALF]}\n{t[HALF:]} end\n", lambda t: [t[:HALF],
                                                                                t[HALF:]]),
}


class _Echo(QuietHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        token = parse_qs(parts.query)["t"][0]
        body = ECHOES[parts.path.rsplit("/", 1)[-1].replace("_", " ")][0](token).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def echoed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gatehouse, dict[str, str]]]:
    """One run per echo, each step's run id by its echo."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALTLAS_SECRET_PROD_TOKEN", PROD_TOKEN)
        with local_http(_Echo) as port, gatehouse(tmp_path_factory.mktemp("echo"), worker=False,
                                                  policy=scoped_policy(port)) as house:
            runs = {}
            for echo in ECHOES:
                task = house.system.app.submit_plan(f"echo {echo}", plan(step(
                    "s1", kind="http", target="api-1",
                    action=f"http://127.0.0.1:{port}/v1/{echo.replace(' ', '_')}"
                           "?t={secret:PROD_TOKEN}")), "deniz")
                runs[echo] = str(run_id_of(UUID(task.id)))
            task = house.system.app.submit_plan("echo in facts", plan(step(
                "s1", kind="http", target="api-1",
                action=f"http://127.0.0.1:{port}/v1/two_JSON_fields?t={{secret:PROD_TOKEN}}",
                params={"extract": {"a": "$.a", "b": "$.b", "n": "$.n"}})), "deniz")
            runs["facts"] = str(run_id_of(UUID(task.id)))
            house.system.worker().until_quiet()
            yield house, runs


def kept(text: str, echo: str) -> list[str]:
    return [piece for piece in ECHOES[echo][1](PROD_TOKEN) if piece in text]


@pytest.mark.parametrize("echo", list(ECHOES))
def test_an_echoed_secret_is_redacted_in_the_run_shown_over_http(
    echoed: tuple[Gatehouse, dict[str, str]], echo: str
) -> None:
    house, runs = echoed
    run = house.get(f"/runs/{runs[echo]}", "deniz")
    [s1] = run["steps"]
    assert run["outcome"] == "succeeded" and s1["status"] == "succeeded", s1
    assert s1["redacted"] >= 1 and "[redacted]" in s1["output"], s1["output"]
    assert kept(json.dumps(run), echo) == []
    assert kept(s1["output"], echo) == []


def test_no_form_of_it_is_in_the_events_the_export_or_the_store(
    echoed: tuple[Gatehouse, dict[str, str]]
) -> None:
    house, _ = echoed
    events = json.dumps(house.get("/events", "alice", limit=1000)["items"])
    exported = house.cli("audit", "export")
    assert exported.returncode == 0, exported.stderr
    raw = b"".join(p.read_bytes() for p in house.data_dir.rglob("*") if p.is_file())
    for echo in ECHOES:
        assert kept(events, echo) == [], echo
        assert kept(exported.stdout, echo) == [], echo
        assert not [p for p in ECHOES[echo][1](PROD_TOKEN) if p.encode() in raw], echo


def test_what_the_host_said_besides_is_kept(
    echoed: tuple[Gatehouse, dict[str, str]]
) -> None:
    house, runs = echoed
    output = house.get(f"/runs/{runs['two JSON fields']}", "deniz")["steps"][0]["output"]
    assert json.loads(output) == {"n": "x", "a": "[redacted]", "b": "[redacted]"}
    said = house.get(f"/runs/{runs['two lines']}", "deniz")["steps"][0]["output"]
    assert said.startswith("begin ") and said.endswith(" end\n"), said


def test_a_secret_cut_over_two_extracted_facts_is_redacted_in_each(
    echoed: tuple[Gatehouse, dict[str, str]]
) -> None:
    house, runs = echoed
    [s1] = house.get(f"/runs/{runs['facts']}", "deniz")["steps"]
    assert s1["facts"] == {"status_code": 200, "a": "[redacted]", "b": "[redacted]",
                           "n": "x"}, s1["facts"]
