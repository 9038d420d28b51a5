"""What an ``http`` step may reach: its target host of the inventory, and on a loopback,
link-local or private address only at a port the policy names for that host. A read stays a
read: no method-override header or ``_method`` parameter turns a GET into something else.

The policy checks a step's URL when the plan is recorded; the executor checks it again, and
then checks every address the host name resolves to before it connects to one of them."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from domain.plan import PlanStep

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Headers and parameters web frameworks honour to run a request as another method.
OVERRIDE_HEADERS = frozenset({"x-http-method-override", "x-http-method", "x-method-override"})
OVERRIDE_PARAMS = frozenset({"_method"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class WebTarget:
    """Where an http step goes: the URL's host name, its port, and the method."""

    hostname: str
    port: int
    method: str


def web_target(step: PlanStep, names: tuple[str, ...], http_ports: frozenset[int]) -> WebTarget:
    """The step's URL checked against its target host (known by ``names``: its inventory
    name and address) and the ports the policy names for it; raises WebTargetError."""
    url = step.action
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise WebTargetError(f"{url!r} is not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise WebTargetError("the URL carries credentials; send them in params.headers")
    hostname = parts.hostname.rstrip(".").lower()
    if hostname not in {n.rstrip(".").lower() for n in names}:
        raise WebTargetError(f"the URL's host {hostname} is not the step's target "
                             f"{names[0]} ({names[-1]})")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise WebTargetError(f"the URL's port in {url!r} is not a port number") from None
    literal = address_of(hostname)
    if (hostname == "localhost" or hostname.endswith(".localhost")
            or (literal is not None and internal(literal))) and port not in http_ports:
        raise WebTargetError(internal_refusal(names[0], hostname, port))
    method = str(step.params.get("method", "GET")).upper()
    headers = step.params.get("headers") or {}
    named = {str(k).lower() for k in headers} if isinstance(headers, dict) else set()
    if "host" in named:
        raise WebTargetError("params.headers may not set Host: it is the URL's host")
    if method in READ_METHODS:
        if named & OVERRIDE_HEADERS:
            raise WebTargetError(f"a {method} with a method-override header is not a read; "
                                 "write the method it means in params.method")
        if {k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)} & OVERRIDE_PARAMS:
            raise WebTargetError(f"a {method} with a _method parameter is not a read; write "
                                 "the method it means in params.method")
    return WebTarget(hostname, port, method)


def address_of(hostname: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(hostname)
    except ValueError:
        return None


def internal(address: IPAddress) -> bool:
    """Loopback, link-local (cloud metadata lives there), private, shared, reserved,
    unspecified or multicast: nothing an http step reaches unless the policy says so."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_loopback or address.is_link_local or address.is_private
            or address.is_reserved or address.is_unspecified or address.is_multicast
            or address in ipaddress.ip_network("100.64.0.0/10"))


def internal_refusal(host: str, where: str, port: int) -> str:
    return (f"{where} is an internal address: http steps reach {host} there only on the "
            f"ports the policy names for it (hosts.{host}.http), not {port}")


class WebTargetError(ValueError):
    pass
