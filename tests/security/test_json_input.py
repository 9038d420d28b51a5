"""JSON that tries to take the API down: a lone surrogate in a string or a key, a number that
parses as infinity or NaN, nesting that would make the parser recurse past Python's limit.
Every route that takes a body is tried (listed from the served OpenAPI, so a new route is
covered), by every way a JSON body can arrive (content types, chunked, the CLI, a route that
reads raw bytes); each is refused with a 4xx that names the field, and records nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.api import create_api
from tests.security.gatehouse import Gatehouse, auth, gatehouse

DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path_factory.mktemp("json"), worker=False) as g:
        yield g


def body_routes(gate: Gatehouse) -> list[str]:
    """Every path whose POST takes a JSON body in the served schema, with its ids filled."""
    schema = gate.client.get("/openapi.json").json()
    found = [re.sub(r"\{[^}]+\}", "00000000", path)
             for path, item in schema["paths"].items()
             if "application/json" in item.get("post", {}).get("requestBody", {}).get(
                 "content", {})]
    assert len(found) >= 13, found
    return found


def send(gate: Gatehouse, path: str, raw: bytes, content_type: str = "application/json",
         **headers: str) -> Any:
    return gate.client.post(path, content=raw, headers={
        **auth("alice"), "Content-Type": content_type, **headers})


def refused(gate: Gatehouse, path: str, raw: bytes, field: str, **kw: Any) -> None:
    before = gate.events()
    r = send(gate, path, raw, **kw)
    assert r.status_code == 422, (path, r.status_code, r.text[:300])
    assert r.json()["message"].startswith(f"{field}: "), r.text
    assert gate.events() == before


def test_a_lone_surrogate_in_any_string_of_any_body_is_refused_naming_its_field(
        gate: Gatehouse) -> None:
    for path in body_routes(gate):
        refused(gate, path, b'{"request": "check disk \\ud800"}', "request")
        refused(gate, path, b'{"plan": {"steps": [{"cmd": "df\\udfff"}]}}', "plan.steps.0.cmd")


def test_a_lone_surrogate_as_a_key_is_refused(gate: Gatehouse) -> None:
    for path in body_routes(gate):
        refused(gate, path, b'{"a": {"\\udc00": 1}}', r"a.\udc00")


def test_a_number_that_is_not_finite_is_refused_instead_of_written_as_infinity(
        gate: Gatehouse) -> None:
    for path in body_routes(gate):
        for number in (b"1e400", b"-1e400", b"1E+0400", b"1" * 400 + b".5", b"NaN",
                       b"-Infinity"):
            refused(gate, path, b'{"mode": "chaos", "chaos_level": ' + number + b"}",
                    "chaos_level")


def test_nesting_a_hundred_thousand_deep_is_refused_before_it_is_parsed(
        gate: Gatehouse) -> None:
    for path in body_routes(gate):
        before = gate.events()
        r = send(gate, path, DEEP)
        assert r.status_code == 400, (path, r.status_code, r.text[:300])
        assert "more than 64 levels deep" in r.json()["message"]
        assert gate.events() == before


def test_other_json_content_types_and_no_content_type_are_checked_alike(
        gate: Gatehouse) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json",
                         "APPLICATION/JSON", ""):
        refused(gate, "/tasks", b'{"request": "\\ud800"}', "request",
                content_type=content_type)


def test_a_body_sent_in_chunks_is_checked_whole(gate: Gatehouse) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"request": "check disk on web-1 '
        yield b'\\ud8'
        yield b'00"}'

    before = gate.events()
    r = gate.client.post("/tasks", content=chunks(), headers={
        **auth("alice"), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["message"].startswith("request: ")
    assert gate.events() == before


def test_a_raw_reading_route_refuses_deep_or_unsafe_json_sent_as_plain_text(
        gate: Gatehouse) -> None:
    """/atlas/imports reads its body itself, whatever its type: the same reader refuses it."""
    for raw, words in ((DEEP, "more than 64 levels deep"),
                       (b'{"patterns": [1e400]}', "patterns.0: must be a finite number"),
                       (b"1" * 5000, "not JSON")):
        before = gate.events()
        r = send(gate, "/atlas/imports", raw, content_type="text/plain")
        assert r.status_code == 422, r.text[:300]
        assert words in r.json()["message"]
        assert gate.events() == before


def test_utf8_bytes_of_a_surrogate_are_refused_as_not_utf8_not_a_crash(
        gate: Gatehouse) -> None:
    for path in body_routes(gate):
        r = send(gate, path, b'{"request": "\xed\xa0\x80"}')
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:300])


def test_a_surrogate_pair_is_valid_unicode_and_accepted(gate: Gatehouse) -> None:
    r = send(gate, "/tasks", json.dumps({"request": "check disk on web-1 \U0001F600"}).encode())
    assert r.status_code == 201, r.text


def test_the_cli_refuses_a_deep_atlas_document_in_one_line(gate: Gatehouse) -> None:
    file = gate.data_dir / "deep.json"
    file.write_bytes(DEEP)
    done = gate.cli("atlas", "import", str(file), "--as", "alice")
    assert done.returncode == 2, done.stderr
    assert "more than 64 levels deep" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_error_handler_writes_its_answer_even_without_the_guard(
        gate: Gatehouse) -> None:
    """A refusal that quotes infinity or a lone surrogate back is still written (not a 500),
    should any input reach a route past the guard."""
    with TestClient(create_api(gate.system.use_cases())) as bare:
        for raw in (b'{"request": "x", "mode": "chaos", "chaos_level": 1e400}',
                    b'{"request": ["\\ud800"]}'):
            r = bare.post("/tasks", content=raw, headers={
                **auth("alice"), "Content-Type": "application/json"})
            assert r.status_code == 422, r.text[:300]
