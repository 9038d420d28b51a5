"""Runs ``http`` steps with httpx: method, URL, headers, a body template filled from earlier
steps' facts, and JSONPath mappings from the response into facts."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext.parser import parse as jsonpath

from application.ports import StepContext, StepOutcome
from domain.plan import PlanStep
from domain.policy import Host
from domain.secrets import REFERENCE, UnknownSecretError, substitute
from domain.web import (
    IPAddress,
    WebTarget,
    WebTargetError,
    address_of,
    internal,
    internal_refusal,
    web_target,
)

MAX_OUTPUT_CHARS = 64_000
_FIELD = re.compile(r"\{([a-z0-9][a-z0-9_-]{0,39})\.([a-z_][a-z0-9_]*)\}")
_SLOT = re.compile(f"{_FIELD.pattern}|{REFERENCE.pattern}")


def fill(template: str, facts: Mapping[str, Mapping[str, Any]],
         secrets: Mapping[str, str] | None = None) -> str:
    """``{s1.value}`` → that fact's value, ``{secret:NAME}`` → the secret's; a missing one is
    an error, never empty text. One pass: what a fact or a secret holds is never read for
    more of either (an answer from a server cannot ask for a secret)."""
    def value(m: re.Match[str]) -> str:
        if m.group(3) is not None:
            return substitute(m.group(0), secrets or {})
        found = facts.get(m.group(1), {}).get(m.group(2))
        if found is None:
            raise ValueError(f"the body needs {m.group(0)}, which no earlier step provided")
        return str(found)

    return _SLOT.sub(value, template)


Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


async def resolve(name: str, port: int) -> list[IPAddress]:
    """Every address the system's resolver gives for ``name``."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(name, port,
                                                             type=socket.SOCK_STREAM)
    except OSError as e:
        raise WebTargetError(f"cannot resolve {name}: {e.strerror or e}") from None
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


class HTTPExecutor:
    def __init__(self, hosts: Mapping[str, Host], resolver: Resolver = resolve) -> None:
        self._hosts = hosts
        self._resolve = resolver

    async def execute(self, step: PlanStep, context: StepContext) -> StepOutcome:
        started = time.monotonic()
        params = step.params
        host = self._hosts.get(step.target or "")
        if host is None:
            return _refused(f"http steps need a target host of the inventory, not "
                            f"{step.target!r}")
        try:
            target = web_target(step, (host.name, host.reach), host.http)
            address = await self._checked_address(target, host)
        except WebTargetError as e:
            return _refused(str(e))
        secrets = context.secrets
        written = dict(params.get("headers", {}))
        try:
            headers = {str(k): substitute(str(v), secrets) for k, v in written.items()}
            body = (fill(str(params["body"]), context.facts, secrets) if "body" in params
                    else None)
            extract = {name: jsonpath(str(path))
                       for name, path in dict(params.get("extract", {})).items()}
            # the policy checked the URL as written: a secret goes only in its path or query
            url = substitute(step.action, secrets, lambda v: quote(v, safe=""))
        except (ValueError, JsonPathParserError, UnknownSecretError) as e:
            return StepOutcome(False, None, "", str(e), 0)
        url, headers, extensions = _pinned(url, address, target, headers)
        try:
            async with httpx.AsyncClient(timeout=step.timeout_s, follow_redirects=False) as client:
                response = await client.request(target.method, url, headers=headers,
                                                content=body, extensions=extensions)
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


    async def _checked_address(self, target: WebTarget, host: Host) -> IPAddress:
        """The address to connect to: every address the name resolves to must be one the
        step may reach (a name that also resolves inward is refused outright), and the
        connection goes to the address checked here, never to a second lookup's answer."""
        literal = address_of(target.hostname)
        found = [literal] if literal is not None else await self._resolve(target.hostname,
                                                                           target.port)
        if not found:
            raise WebTargetError(f"{target.hostname} resolves to no address")
        for address in found:
            if internal(address) and target.port not in host.http:
                raise WebTargetError(internal_refusal(
                    host.name, f"{target.hostname} ({address})", target.port))
        return found[0]


def _pinned(url: str, address: IPAddress, target: WebTarget, headers: dict[str, str]
            ) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL with the checked address in place of the name; the name stays in the Host
    header and, for TLS, in the SNI and the certificate check."""
    parts = urlsplit(url)
    literal = f"[{address}]" if address.version == 6 else str(address)
    pinned = urlunsplit(parts._replace(netloc=f"{literal}:{target.port}"))
    headers = {**headers, "Host": parts.netloc}
    extensions = {"sni_hostname": target.hostname} if parts.scheme == "https" else {}
    return pinned, headers, extensions


def _refused(reason: str) -> StepOutcome:
    return StepOutcome(False, None, "", f"refused: {reason}", 0)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
