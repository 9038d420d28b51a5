"""http steps reach only what the policy named: their target host, on a loopback, link-local
or private address only at a port listed for it, whatever the URL's spelling or what the name
resolves to; a GET stays a read. Refused when the plan is recorded where the URL shows it, and
by the executor after DNS, connecting only to the address it checked."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import pytest

from adapters.http_exec import HTTPExecutor, resolve
from application.ports import StepContext, StepOutcome
from domain.plan import Plan
from domain.policy import Policy, StepRefusedError
from domain.risk import RiskLevel
from domain.web import IPAddress
from testkit.fakes.local_http import local_http
from testkit.helpers import plan, step

HOSTS = {
    "web-1": {"env": "prod"},
    "metrics": {"env": "prod", "address": "10.0.0.5", "http": [9100]},
    "loop": {"env": "dev", "address": "127.0.0.1"},
    "loop6": {"env": "dev", "address": "::1"},
    "metadata": {"env": "dev", "address": "169.254.169.254"},
    "cgnat": {"env": "dev", "address": "100.64.1.1"},
    "anyone": {"env": "dev", "address": "0.0.0.0"},
    "mapped": {"env": "dev", "address": "::ffff:127.0.0.1"},
    "lan": {"env": "dev", "address": "192.168.1.20"},
    "public": {"env": "dev", "address": "93.184.216.34"},
    "localhost": {"env": "dev"},
}


def policy(hosts: dict[str, Any] | None = None) -> Policy:
    return Policy.from_mapping({
        "version": 1,
        "environments": {"dev": {"tier": "dev", "approvers": ["ops"]},
                         "prod": {"tier": "prod", "approvers": ["ops"]}},
        "people": {"alice": {}, "bob": {}},
        "groups": {"ops": ["alice", "bob"]},
        "hosts": hosts or HOSTS,
    })


def http(url: str, target: str, **params: Any) -> Any:
    return Plan.from_document(plan(step("s1", kind="http", action=url, target=target,
                                        **({"params": params} if params else {})))).steps[0]


REFUSED_URLS = [
    ("http://localhost:8080/admin/secret", "localhost", "internal address"),
    ("http://LOCALHOST:8080/", "localhost", "internal address"),
    ("http://localhost.:8080/", "localhost", "internal address"),
    ("http://localhost/", "localhost", "internal address"),
    ("https://localhost/", "localhost", "internal address"),
    ("http://127.0.0.1:6379/", "loop", "internal address"),
    ("http://[::1]:80/", "loop6", "internal address"),
    ("http://169.254.169.254/latest/meta-data/iam/", "metadata", "internal address"),
    ("http://100.64.1.1/", "cgnat", "internal address"),
    ("http://0.0.0.0:80/", "anyone", "internal address"),
    ("http://[::ffff:127.0.0.1]/", "mapped", "internal address"),
    ("http://192.168.1.20:8443/", "lan", "internal address"),
    ("http://10.0.0.5:9200/_cat/indices", "metrics", "internal address"),
    ("http://web-2/", "web-1", "not the step's target"),
    ("http://web-1.evil.example/", "web-1", "not the step's target"),
    ("http://evil.example#@web-1/", "web-1", "not the step's target"),
    ("http://evil.example\\@web-1/", "web-1", "credentials"),
    ("http://web-1@evil.example/", "web-1", "credentials"),
    ("http://user:pw@web-1/", "web-1", "credentials"),
    ("http://web-1:99999/", "web-1", "port"),
    ("gopher://web-1/", "web-1", "not an http(s) URL"),
    ("file:///etc/passwd", "web-1", "not an http(s) URL"),
    ("//web-1/health", "web-1", "not an http(s) URL"),
]


class TestThePlanIsRefusedWhenTheUrlShowsIt:
    @pytest.mark.parametrize(("url", "target", "why"), REFUSED_URLS,
                             ids=[u for u, _, _ in REFUSED_URLS])
    def test_an_url_outside_what_the_policy_names(self, url: str, target: str,
                                                  why: str) -> None:
        with pytest.raises(StepRefusedError, match=re.escape(why)):
            policy().classify(http(url, target))

    def test_an_internal_address_at_a_port_the_policy_names_is_allowed(self) -> None:
        verdict = policy().classify(http("http://10.0.0.5:9100/metrics", "metrics"))
        assert verdict.risk is RiskLevel.READ_ONLY
        with pytest.raises(StepRefusedError, match="not 9101"):
            policy().classify(http("http://10.0.0.5:9101/metrics", "metrics"))

    def test_a_public_host_of_the_inventory_is_reached_on_any_port(self) -> None:
        assert policy().classify(http("http://93.184.216.34:8080/", "public")).risk is \
            RiskLevel.READ_ONLY

    @pytest.mark.parametrize("header", ["X-HTTP-Method-Override", "x-http-method-override",
                                        "X-HTTP-Method", "X-Method-Override",
                                        "X-METHOD-OVERRIDE"])
    @pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
    def test_a_read_with_a_method_override_header_is_refused(self, header: str,
                                                              method: str) -> None:
        with pytest.raises(StepRefusedError, match="method-override"):
            policy().classify(http("https://web-1/users/7", "web-1", method=method,
                                   headers={header: "DELETE"}))

    @pytest.mark.parametrize("query", ["_method=DELETE", "a=1&_method=delete", "_METHOD=PUT",
                                       "_method"])
    def test_a_read_with_a_method_parameter_is_refused(self, query: str) -> None:
        with pytest.raises(StepRefusedError, match="_method"):
            policy().classify(http(f"https://web-1/users/7?{query}", "web-1"))

    def test_a_write_is_a_change_with_or_without_an_override(self) -> None:
        step_ = http("https://web-1/users/7", "web-1", method="POST",
                     headers={"X-HTTP-Method-Override": "DELETE"})
        assert policy().classify(step_).risk is RiskLevel.HIGH_RISK

    def test_the_host_header_is_the_urls(self) -> None:
        with pytest.raises(StepRefusedError, match="Host"):
            policy().classify(http("https://web-1/", "web-1", headers={"host": "admin"}))

    def test_a_policy_names_ports_as_numbers(self) -> None:
        from domain.policy import PolicyError

        for bad in (["80"], [0], [70000], [True], "80"):
            with pytest.raises(PolicyError, match="http"):
                policy({"web-1": {"env": "prod", "http": bad}})


class _Service(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_GET(self) -> None:
        _Service.seen.append({"host": self.headers["Host"], "path": self.path})
        data = json.dumps({"secret": "s3cr3t"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def service() -> Iterator[int]:
    _Service.seen.clear()
    with local_http(_Service) as port:
        yield port


def run(executor: HTTPExecutor, url: str, target: str) -> StepOutcome:
    return asyncio.run(executor.execute(http(url, target), StepContext()))


def answers(*addresses: str) -> Any:
    async def fake(name: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(a) for a in addresses]

    return fake


class TestTheExecutorChecksWhatTheNameResolvesTo:
    """The plan's URL names a host; only at run time is it known where that name leads."""

    def test_a_name_that_resolves_to_loopback_is_refused(self, service: int) -> None:
        import socket

        name = socket.gethostname()  # /etc/hosts maps the machine's name to loopback
        found = asyncio.run(resolve(name, service))
        assert found and all(a.is_loopback for a in found), found
        hosts = policy({"box": {"env": "dev", "address": name}}).hosts
        outcome = run(HTTPExecutor(hosts), f"http://{name}:{service}/", "box")
        assert not outcome.ok and "internal address" in str(outcome.error)
        assert _Service.seen == []

    def test_a_name_with_one_inward_answer_among_public_ones_is_refused(self,
                                                                        service: int) -> None:
        hosts = policy({"svc": {"env": "dev", "address": "svc.example"}}).hosts
        executor = HTTPExecutor(hosts, answers("93.184.216.34", "127.0.0.1"))
        outcome = run(executor, f"http://svc.example:{service}/", "svc")
        assert not outcome.ok and "127.0.0.1" in str(outcome.error)
        assert _Service.seen == []

    def test_the_connection_goes_to_the_address_that_was_checked(self, service: int) -> None:
        """Resolved once: a second lookup (DNS rebinding) never decides where it goes."""
        lookups: list[str] = []

        async def rebinding(name: str, port: int) -> list[IPAddress]:
            lookups.append(name)
            return [ipaddress.ip_address("127.0.0.1" if len(lookups) == 1 else "10.9.9.9")]

        hosts = policy({"svc": {"env": "dev", "address": "svc.example",
                                "http": [service]}}).hosts
        outcome = run(HTTPExecutor(hosts, rebinding), f"http://svc.example:{service}/x",
                      "svc")
        assert outcome.ok, outcome.error
        assert lookups == ["svc.example"]
        assert _Service.seen == [{"host": f"svc.example:{service}", "path": "/x"}]

    def test_an_unresolvable_name_fails_the_step_with_the_reason(self) -> None:
        hosts = policy({"svc": {"env": "dev", "address": "nowhere.invalid"}}).hosts
        outcome = run(HTTPExecutor(hosts), "http://nowhere.invalid/", "svc")
        assert not outcome.ok and "cannot resolve nowhere.invalid" in str(outcome.error)

    def test_a_plan_recorded_before_these_checks_is_still_refused_when_it_runs(
        self, service: int
    ) -> None:
        hosts = policy().hosts
        outcome = run(HTTPExecutor(hosts), f"http://localhost:{service}/admin/secret",
                      "localhost")
        assert not outcome.ok and outcome.error is not None
        assert outcome.error.startswith("refused: ") and "s3cr3t" not in outcome.output
        assert _Service.seen == []
