"""Runs ``http`` steps with httpx: method, URL, headers, a body template filled from earlier
steps' facts, and JSONPath mappings from the response into facts."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext.parser import parse as jsonpath

from application.ports import StepContext, StepOutcome
from domain.plan import PlanStep
from domain.policy import Host

MAX_OUTPUT_CHARS = 64_000
_FIELD = re.compile(r"\{([a-z0-9][a-z0-9_-]{0,39})\.([a-z_][a-z0-9_]*)\}")


def fill(template: str, facts: Mapping[str, Mapping[str, Any]]) -> str:
    """``{s1.value}`` → that fact's value; a missing fact is an error, never empty text."""
    def value(m: re.Match[str]) -> str:
        found = facts.get(m.group(1), {}).get(m.group(2))
        if found is None:
            raise ValueError(f"the body needs {m.group(0)}, which no earlier step provided")
        return str(found)

    return _FIELD.sub(value, template)


class HTTPExecutor:
    def __init__(self, hosts: Mapping[str, Host]) -> None:
        self._hosts = hosts

    async def execute(self, step: PlanStep, context: StepContext) -> StepOutcome:
        started = time.monotonic()
        params = step.params
        method = str(params.get("method", "GET")).upper()
        url = step.action
        refusal = self._check_target(step, url)
        if refusal:
            return StepOutcome(False, None, "", refusal, 0)
        headers = {str(k): str(v) for k, v in dict(params.get("headers", {})).items()}
        try:
            body = fill(str(params["body"]), context.facts) if "body" in params else None
            extract = {name: jsonpath(str(path))
                       for name, path in dict(params.get("extract", {})).items()}
        except (ValueError, JsonPathParserError) as e:
            return StepOutcome(False, None, "", str(e), 0)
        try:
            async with httpx.AsyncClient(timeout=step.timeout_s, follow_redirects=False) as client:
                response = await client.request(method, url, headers=headers, content=body)
        except httpx.TimeoutException:
            return StepOutcome(False, None, "", f"timed out after {step.timeout_s:g}s",
                               _ms_since(started))
        except httpx.HTTPError as e:
            return StepOutcome(False, None, "", f"request failed: {e}", _ms_since(started))
        text = response.text[:MAX_OUTPUT_CHARS]
        facts: dict[str, Any] = {"status_code": response.status_code}
        if extract:
            try:
                document = response.json()
            except json.JSONDecodeError:
                return StepOutcome(False, response.status_code, text,
                                   "the response is not JSON, so nothing can be extracted",
                                   _ms_since(started), facts)
            for name, path in extract.items():
                matches = [m.value for m in path.find(document)]
                if matches:
                    facts[name] = matches[0]
        if response.status_code >= 400:
            return StepOutcome(False, response.status_code, text,
                               f"HTTP {response.status_code} {response.reason_phrase}",
                               _ms_since(started), facts)
        return StepOutcome(True, response.status_code, text, None, _ms_since(started), facts)

    def _check_target(self, step: PlanStep, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"{url!r} is not an http(s) URL"
        host = self._hosts.get(step.target or "")
        if host is None:
            return f"http steps need a target host of the inventory, not {step.target!r}"
        if parts.hostname not in (host.name, host.reach):
            return (f"the URL's host {parts.hostname} is not the step's target {host.name} "
                    f"({host.reach})")
        return None


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
