"""Secrets by reference and redaction (domain/secrets.py), and the log filter, without I/O."""

from __future__ import annotations

import base64
import json
import logging
import sys
from typing import Any
from uuid import uuid4

import pytest

from altlas.log_redaction import RedactingFilter
from domain.catalog import upcast
from domain.records import RecordedEvent
from domain.secrets import (
    REDACTED,
    Redacted,
    Redactor,
    UnknownSecretError,
    plan_problems,
    step_references,
    substitute,
)
from testkit.corpora import PLANTED
from testkit.helpers import plan, step

SECRET = "Sup3r-Secret-Value-42"
redactor = Redactor([SECRET])


@pytest.mark.parametrize(("text", "kept"), [
    ("PASSWORD=hunter2 done", "PASSWORD=[redacted] done"),
    ("export DB_PASSWORD='s3cr3t!' && go", "export DB_PASSWORD='[redacted]' && go"),
    ("db_password: hunter2", "db_password: [redacted]"),
    ("token=abc123&page=2", "token=[redacted]&page=2"),
    ("client_secret=xyz", "client_secret=[redacted]"),
    ("Authorization: Bearer abc.def.ghi", "Authorization: [redacted]"),
    ("authorization: Basic dXNlcjpwYXNz", "authorization: [redacted]"),
    ("Set-Cookie: session=abc123; Path=/; HttpOnly", "Set-Cookie: [redacted]"),
    ("Cookie: sid=1; theme=dark", "Cookie: [redacted]"),
    ("X-Api-Key: k-123456", "X-Api-Key: [redacted]"),
    ('{"access_token": "abc123", "token_type": "Bearer", "expires_in": 3600}',
     '{"access_token": "[redacted]", "token_type": "Bearer", "expires_in": 3600}'),
    ("{'password': 'a b c'}", "{'password': '[redacted]'}"),
    ('{"pw": "x", "Authorization": "Bearer eyJhbGciOi"}',
     '{"pw": "x", "Authorization": "[redacted]"}'),
    ('curl -H "Authorization: Bearer t0ken-value" https://x', 'curl -H "Authorization: '
     '[redacted]" https://x'),
    ("sent Bearer abcdef123456 to it", "sent Bearer [redacted] to it"),
    ("postgresql://altlas:pw123@db:5432/x", "postgresql://altlas:[redacted]@db:5432/x"),
    ("key AKIAIOSFODNN7EXAMPLE end", "key [redacted] end"),
    ("xoxb-1234567890-abcdefghijkl", REDACTED),
    ("ghp_" + "a1" * 18, REDACTED),
    ("github_pat_" + "A" * 40, REDACTED),
    ("glpat-" + "x" * 20, REDACTED),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fw",
     REDACTED),
    ("a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEab\ncd==\n-----END RSA PRIVATE KEY-----\nb",
     f"a\n{REDACTED}\nb"),
    ("cut -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk", f"cut {REDACTED}"),
])
def test_credentials_are_taken_out_and_the_rest_kept(text: str, kept: str) -> None:
    found = redactor.text(text)
    assert found.text == kept
    assert found.count >= 1


@pytest.mark.parametrize("text", [
    "/dev/sda1  50G  20G  30G  40% /",
    "The token expired. Secret keys: 3. basic authentication failed.",
    "Authorization: Bearer",  # a scheme's name alone
    "uses {secret:DB_PASSWORD} and password={secret:DB_PASSWORD}",
    "PASSWORD=[redacted]",
    "https://example.org/path?q=1",
    "ghp_short",
])
def test_ordinary_output_is_left_alone(text: str) -> None:
    assert redactor.text(text) == Redacted(text, 0)


@pytest.mark.parametrize("form", [
    SECRET, json.dumps(SECRET)[1:-1], "Sup3r-Secret-Value-42".replace("-", "%2D"),
    base64.b64encode(SECRET.encode()).decode(),
])
def test_a_known_value_is_taken_out_in_the_forms_it_travels_in(form: str) -> None:
    from urllib.parse import quote

    text = f"before {quote(SECRET, safe='') if '%' in form else form} after"
    found = redactor.text(text)
    assert SECRET not in found.text and found.count == 1, found
    assert found.text.startswith("before [redacted]")


def test_the_count_is_what_a_reader_sees_taken_out() -> None:
    text = f"{SECRET}\nPASSWORD=x\nAuthorization: Bearer {SECRET}\n"
    found = redactor.text(text)
    assert found.text == "[redacted]\nPASSWORD=[redacted]\nAuthorization: Bearer [redacted]\n"
    assert found.count == 3


def test_a_value_too_short_to_tell_apart_is_not_used() -> None:
    assert Redactor(["abc"]).text("abc abcabc") == Redacted("abc abcabc", 0)


def test_json_values_lose_what_sensitive_keys_hold() -> None:
    data: Any = {"token": "plain", "n": 3, "list": [{"client_secret": "x"}, f"v {SECRET}"]}
    cleaned, count = redactor.data(data)
    assert cleaned == {"token": REDACTED, "n": 3,
                       "list": [{"client_secret": REDACTED}, "v [redacted]"]}
    assert count == 3




@pytest.mark.parametrize(("kind", "line", "secret"), PLANTED, ids=[p[0] for p in PLANTED])
def test_every_planted_credential_is_taken_out(kind: str, line: str, secret: str) -> None:
    assert secret not in Redactor().text(f"before\n{line}\nafter").text


def test_what_detect_secrets_finds_is_taken_out_too() -> None:
    """Yelp's detect-secrets as a second opinion: every planted line its plugins flag, the
    redactor cleans (it is not used itself: see BENCHMARKS.md, Redaction)."""
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.keyword import KeywordDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.slack import SlackDetector

    plugins = [AWSKeyDetector(), SlackDetector(), GitHubTokenDetector(), JwtTokenDetector(),
               PrivateKeyDetector(), KeywordDetector()]
    flagged = [(line, secret) for _, line, secret in PLANTED
               if any(list(p.analyze_string(part)) for p in plugins
                      for part in line.splitlines())]
    assert len(flagged) >= 6
    for line, secret in flagged:
        assert secret not in Redactor().text(line).text


# -- references ----------------------------------------------------------------------

def test_references_are_put_in_once_and_never_read_again() -> None:
    values = {"A": "{secret:B}", "B": "bee"}
    assert substitute("x{secret:A}y", values) == "x{secret:B}y"
    assert substitute("{secret:B}/{secret:B}", values, lambda v: v.upper()) == "BEE/BEE"
    with pytest.raises(UnknownSecretError, match=r"^secret NOPE is not defined$"):
        substitute("{secret:NOPE}", values)


def test_a_step_needs_the_secrets_its_executor_puts_in() -> None:
    assert step_references("ssh", "echo {secret:A} {secret:B} {secret:A}", {}) == ["A", "B"]
    assert step_references("http", "https://h/{secret:U}",
                           {"headers": {"Authorization": "Bearer {secret:T}"},
                            "body": "{secret:P}"}) == ["U", "T", "P"]
    assert step_references("manual", "log in with {secret:P}", {}) == []


def _problems(*steps: dict[str, Any]) -> list[str]:
    return plan_problems(plan(*steps))


def _http(**params: Any) -> dict[str, Any]:
    return step("s1", kind="http", action="https://web-1/api", target="web-1", params=params)


@pytest.mark.parametrize("header", ["Authorization", "authorization", "AUTHORIZATION",
                                    "Proxy-Authorization", "Cookie", "X-Api-Key", "x-api-key",
                                    "X-Auth-Token", "Private-Token", "X-Vault-Token"])
@pytest.mark.parametrize("value", ["Bearer abc123", "abc123", "token ghp_x", "s=abc"])
def test_a_credential_header_with_a_literal_value_is_refused(header: str, value: str) -> None:
    where = f".{header}" if "-" not in header else f"['{header}']"
    assert f"$.steps[0].params.headers{where}: a literal credential; use {{secret:NAME}}" in \
        _problems(_http(headers={header: value}))


@pytest.mark.parametrize("value", ["Bearer {secret:API_TOKEN}", "{secret:API_TOKEN}",
                                   "token {secret:GH}", "sid={secret:SID}; lang={secret:L}"])
def test_a_credential_header_holding_references_is_accepted(value: str) -> None:
    assert _problems(_http(headers={"Authorization": value, "Cookie": value})) == []


@pytest.mark.parametrize(("field", "doc"), [
    ("action", step("s1", kind="ssh", target="web-1", action="mysql --password=hunter2 -e x")),
    ("action", step("s1", kind="ssh", target="web-1", action="deploy TOKEN=abc123")),
    ("action", step("s1", kind="local", action="curl -H 'Authorization: Bearer abc' http://x")),
    ("action", step("s1", kind="http", target="web-1", action="https://web-1/x?token=abc")),
    ("action", step("s1", kind="http", target="web-1", action="https://u:pw@web-1/x")),
    ("action", step("s1", kind="http", target="web-1", action="https://web-1/x?q=pass"
                    "word%3Dhunter2")),
    ("action", step("s1", kind="ssh", target="web-1", action="aws s3 ls --key "
                    "AKIAIOSFODNN7EXAMPLE")),
    ("action", step("s1", kind="ssh", target="web-1", action="notify xoxb-12345-abcdefghijk")),
    ("params.body", _http(body='{"password": "hunter2"}')),
    ("params.body", _http(body='{"pass\\u0077ord": "hunter2"}')),
    ("params.body", _http(body="user=a&token=t0k3n")),
    ("params.body", _http(body="-----BEGIN PRIVATE KEY-----\nMIIE")),
    ("params.headers['X-Custom']", _http(headers={"X-Custom": "Bearer abcdef123"})),
    ("description", step("s1", description="uses ghp_" + "a" * 36)),
    ("action", step("s1", kind="manual", target="web-1", action="log in with password=x")),
])
def test_a_literal_credential_anywhere_is_refused_with_its_path(field: str,
                                                                doc: dict[str, Any]) -> None:
    problems = _problems(doc)
    assert f"$.steps[0].{field}: a literal credential; use {{secret:NAME}}" in problems
    assert not any(secret in p for p in problems for secret in ("hunter2", "abc123", "t0k3n"))


@pytest.mark.parametrize("doc", [
    step("s1", kind="ssh", target="web-1", action="mysql --password={secret:DB} -e 'select 1'"),
    step("s1", kind="ssh", target="web-1", action="echo PASSWORD={secret:DB}"),
    step("s1", kind="local", action="curl -H 'Authorization: Bearer {secret:T}' http://x"),
    step("s1", kind="ssh", target="web-1", action="sudo -u app deploy {secret:T}"),
    step("s1", kind="ssh", target="web-1", action="env TOKEN={secret:T} deploy"),
    step("s1", kind="http", target="web-1", action="https://web-1/x/{secret:P}?token={secret:T}"),
    _http(body='{"password": "{secret:DB}"}', headers={"X-Api-Key": "{secret:K}"}),
    step("s1", kind="manual", target="web-1", action="log in with {secret:DB}"),
])
def test_references_where_they_are_data_are_accepted(doc: dict[str, Any]) -> None:
    assert _problems(doc) == []


@pytest.mark.parametrize(("doc", "why"), [
    (step("s1", kind="ssh", target="web-1", action="{secret:CMD} -rf /"), "never its name"),
    (step("s1", kind="local", action="A={secret:T} df"), "never its name"),
    (step("s1", kind="ssh", target="web-1", action="bash -c 'echo {secret:T}'"), "shell"),
    (step("s1", kind="ssh", target="web-1", action="sh -c \"curl -H 'X: {secret:T}' x\""),
     "shell"),
    (step("s1", kind="ssh", target="web-1", action="psql -c \"select '{secret:T}'\""), "SQL"),
    (step("s1", kind="ssh", target="web-1", action="su app -c 'deploy {secret:T}'"), "shell"),
    (step("s1", kind="http", target="web-1", action="https://{secret:HOST}/x"), "host"),
    (step("s1", kind="http", target="web-1", action="https://web-1:{secret:P}/x"), "port"),
    (_http(extract={"a": "$.{secret:X}"}), "JSONPath"),
    (step("s1", kind="promql", action="up{job='{secret:J}'}"), "promql steps cannot"),
    (step("s1", kind="llm", action="explain {secret:J}"), "llm steps cannot"),
    (step("s1", kind="ssh", target="web-1", action="echo {secret:lower}"), "not a secret's"),
])
def test_references_that_could_change_what_runs_are_refused(doc: dict[str, Any],
                                                            why: str) -> None:
    problems = _problems(doc)
    assert any(p.startswith("$.steps[0].") and why in p for p in problems), problems


# -- the events ------------------------------------------------------------------------

@pytest.mark.parametrize("type_name", ["StepSucceeded", "StepFailed"])
def test_outcomes_recorded_before_redaction_read_as_none_redacted(type_name: str) -> None:
    state = {"step_id": "s1", "exit_code": 0, "output": "x", "duration_ms": 1, "facts": {},
             "error": "e", "will_retry": False, "class_version": 2}
    old = RecordedEvent(position=None, aggregate_id=uuid4(), version=2, type_name=type_name,
                        state=state)
    assert upcast(old).state["redacted"] == 0


# -- logs ------------------------------------------------------------------------------

def _record(msg: str, *args: Any, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError(f"connect postgresql://u:{SECRET}@db/x failed")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.LogRecord("altlas.test", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_the_log_filter_redacts_messages_arguments_and_tracebacks() -> None:
    log_filter = RedactingFilter([SECRET])
    formatter = logging.Formatter("%(message)s")
    cases = [_record("value %s", SECRET), _record("password=%s done", "hunter2"),
             _record(f"plain {SECRET}"), _record("failed", exc=True),
             _record("%(a)s", {"a": f"Bearer {SECRET}"})]
    for record in cases:
        assert log_filter.filter(record)
        shown = formatter.format(record)
        assert SECRET not in shown and "hunter2" not in shown, shown
        assert REDACTED in shown
    ordinary = _record("step %s of run %s", "s1", "r1")
    log_filter.filter(ordinary)
    assert ordinary.args == ("s1", "r1") and ordinary.getMessage() == "step s1 of run r1"


@pytest.mark.parametrize("text", [
    SECRET[: len(SECRET) // 2] + " and more",  # a part of a value alone
    SECRET.encode().hex()[:20],
    " ".join(SECRET[:6]) + " then other words",
    json.dumps({"a": SECRET[:8], "n": 1, "b": "unrelated-value"}),
    "0123456789abcdef " * 8,
])
def test_what_is_not_a_known_value_in_any_form_is_left_as_it_is(text: str) -> None:
    assert redactor.text(text) == Redacted(text, 0)


def test_a_value_cut_over_two_lines_is_taken_out_and_the_lines_around_kept() -> None:
    cut = len(SECRET) // 2
    text = f"first line\nkey {SECRET[:cut]}\n{SECRET[cut:]} rest\nlast line"
    assert redactor.text(text) == Redacted("first line\nkey [redacted] rest\nlast line", 1)


def test_a_value_cut_over_two_strings_of_a_json_value_is_taken_out_of_both() -> None:
    cut = len(SECRET) // 2
    found, n = redactor.data({"x": [SECRET[:cut], SECRET[cut:]], "y": "kept", "n": 2})
    assert (found, n) == ({"x": [REDACTED, REDACTED], "y": "kept", "n": 2}, 1)
    assert [redactor.data(v) for v in (7, None, 1.5, True)] == [(7, 0), (None, 0), (1.5, 0),
                                                                (True, 0)]
