"""The runner against real peers: local processes, a real sshd, a real Prometheus, HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
import yaml

from adapters.policy_file import parse_policy
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.snapshots import RunView
from domain.policy import StepRefusedError
from domain.run import Run
from testkit.fakes.local_http import QuietHandler, local_http
from testkit.helpers import peer_policy, plan, run_to_rest, step
from tests.conftest import SSHPeer


@pytest.fixture
def system(tmp_path: Path, ssh_peer: SSHPeer, prometheus_url: str, service: str
           ) -> Iterator[System]:
    policy_file = tmp_path / "policy.yaml"
    policy = yaml.safe_load(peer_policy(ssh_peer.port, ssh_peer.user))
    policy["hosts"]["web-1"]["http"] = [urlsplit(service).port]  # the test service's port
    policy_file.write_text(yaml.safe_dump(policy))
    settings = Settings(data_dir=tmp_path, database_url=None, views_database_url=None,
                        policy_file=policy_file, segmenter="rules",
                        ssh_known_hosts=ssh_peer.known_hosts, ssh_key=ssh_peer.client_key,
                        prometheus_url=prometheus_url, output_cap_bytes=4096)
    system = bootstrap(settings)
    system.worker().steps.backoff_s = 0.3
    yield system
    system.close()


def run_plan(system: System, *steps: dict[str, Any], env: str | None = None) -> RunView:
    return run_to_rest(system, plan(*steps), environment=env, approve=True)


def by_id(run: RunView) -> dict[str, Any]:
    return {s.id: s for s in run.steps}


# -- the DAG ---------------------------------------------------------------------------

def test_independent_steps_run_in_parallel(system: System) -> None:
    """Each of the three had started before any of them ended, as their events say (not
    the whole run's wall time, which a loaded machine stretches)."""
    run = run_plan(system, step("a", action="sleep 1"), step("b", action="sleep 1"),
                   step("c", action="sleep 1"), step("d", action="echo done",
                                                     needs=["a", "b", "c"]))
    assert run.outcome == "succeeded"
    events = list(system.app.events.get(UUID(run.id)))
    started = [e.timestamp for e in events if isinstance(e, Run.StepStarted)
               and e.step_id in ("a", "b", "c")]
    ended = [e.timestamp for e in events if isinstance(e, Run.StepSucceeded)
             and e.step_id in ("a", "b", "c")]
    assert len(started) == len(ended) == 3
    assert max(started) < min(ended), "a step started only after another had ended"
    # one after another, the last would end two seconds after the first
    assert (max(ended) - min(ended)).total_seconds() < 1.5, "the steps took turns"
    assert by_id(run)["d"].output.strip() == "done"


def test_a_hanging_step_is_stopped_at_its_timeout(system: System) -> None:
    started = time.monotonic()
    run = run_plan(system, step("a", action="sleep 30", timeout_s=0.5),
                   step("b", action="echo never", needs=["a"]))
    assert time.monotonic() - started < 5
    steps = by_id(run)
    assert steps["a"].status == "failed" and "timed out after 0.5s" in steps["a"].error
    assert steps["b"].status == "skipped" and steps["b"].error == "needs a, which failed"
    assert run.outcome == "failed"


def test_a_failing_step_is_retried_with_backoff(system: System, tmp_path: Path) -> None:
    marker = Path(f"/tmp/altlas-retry-{tmp_path.name}")
    marker.unlink(missing_ok=True)
    result: list[RunView] = []
    worker = threading.Thread(target=lambda: result.append(run_plan(
        system, step("a", action=f"ls {marker}", retries=3))))
    worker.start()
    deadline = time.monotonic() + 20
    while not any(r.type_name == "StepFailed" for r in system.history.read()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    marker.touch()
    worker.join(timeout=30)
    marker.unlink()
    [run] = result
    assert run.outcome == "succeeded" and by_id(run)["a"].attempts >= 2
    failures = [r for r in system.history.read() if r.type_name == "StepFailed"]
    assert failures and all(r.state["will_retry"] for r in failures)


def test_conditions_decide_on_earlier_facts(system: System) -> None:
    run = run_plan(system, step("disk", action="df -h"),
                   step("never", action="echo no", needs=["disk"],
                        when="disk.max_percent > 100"),
                   step("always", action="echo yes", needs=["disk"],
                        when="disk.max_percent >= 0"))
    steps = by_id(run)
    assert steps["disk"].facts["max_percent"] >= 0
    assert steps["never"].status == "skipped"
    assert steps["never"].error.startswith("condition not met: disk.max_percent > 100 is false")
    assert steps["always"].status == "succeeded"
    assert run.outcome == "succeeded"


def test_huge_output_is_capped_not_held(system: System) -> None:
    run = run_plan(system, step("a", action="head -c 100000000 /dev/zero"))
    a = by_id(run)["a"]
    assert a.status == "succeeded" and len(a.output) < 5000
    assert "[output truncated: 99995904 more bytes]" in a.output


# -- ssh -------------------------------------------------------------------------------

def test_ssh_step_runs_on_the_host(system: System) -> None:
    run = run_plan(system, step("a", kind="ssh", action="df -h", target="web-1"),
                   step("b", kind="ssh", action="uptime", target="web-1"))
    a, b = by_id(run)["a"], by_id(run)["b"]
    assert run.outcome == "succeeded"
    assert "Filesystem" in a.output and "max_percent" in a.facts
    assert "load average" in b.output and "load1" in b.facts


def test_ssh_arguments_are_not_interpreted_by_the_remote_shell(system: System) -> None:
    run = run_plan(system, step("a", kind="ssh", action="echo '$(id); rm -rf ~' '`whoami`'",
                                target="dev-box"))
    assert by_id(run)["a"].output.strip() == "$(id); rm -rf ~ `whoami`"


def test_host_key_mismatch_refuses_to_connect(system: System, tmp_path: Path,
                                             ssh_peer: SSHPeer) -> None:
    wrong = tmp_path / "known_hosts"
    other = "AAAAC3NzaC1lZDI1NTE5AAAAIEcTtb1rQ1eE5Jkq7Xq8C1kQvZ6Yc1Vh1f3r8kUjWn2b"
    wrong.write_text(f"[127.0.0.1]:{ssh_peer.port} ssh-ed25519 {other}\n")
    system.executors["ssh"]._known_hosts = wrong  # type: ignore[attr-defined]
    run = run_plan(system, step("a", kind="ssh", action="uptime", target="web-1"))
    a = by_id(run)["a"]
    assert a.status == "failed"
    assert "host key of web-1 (127.0.0.1:" in a.error and "does not match known_hosts" in a.error


def test_unreachable_host_fails_with_a_reason(system: System) -> None:
    started = time.monotonic()
    run = run_plan(system, step("a", kind="ssh", action="uptime", target="ghost"))
    a = by_id(run)["a"]
    assert a.status == "failed" and "cannot reach ghost (127.0.0.1:1)" in a.error
    assert time.monotonic() - started < 15


def test_ssh_step_stops_at_its_timeout(system: System) -> None:
    run = run_plan(system, step("a", kind="ssh", action="sleep 30", target="web-1",
                                timeout_s=1))
    assert "timed out after 1s on web-1" in by_id(run)["a"].error


def test_huge_ssh_output_is_capped(system: System) -> None:
    run = run_plan(system, step("a", kind="ssh", action="head -c 100000000 /dev/zero",
                                target="web-1", timeout_s=60))
    a = by_id(run)["a"]
    assert a.status == "succeeded" and "[output truncated:" in a.output


def test_critical_step_is_posted_never_executed(system: System, tmp_path: Path) -> None:
    victim = Path("/tmp/altlas-victim")
    victim.mkdir(exist_ok=True)
    run = run_plan(system, step("a", kind="ssh", action=f"rm -rf {victim}", target="web-1"))
    a = by_id(run)["a"]
    assert a.gate == "manual" and a.status == "manual" and a.attempts == 0
    assert "a person does it by hand" in a.error
    assert run.outcome == "manual_outstanding"
    assert victim.exists()


# -- promql ----------------------------------------------------------------------------

def test_promql_instant_and_range_queries(system: System) -> None:
    run = run_plan(system, step("up", kind="promql", action="up", target="prod"),
                   step("load", kind="promql", action="node_load1", target="prod",
                        params={"range": {"minutes": 1, "step": "5s"}}),
                   step("none", kind="promql", action="count(up == 0) or vector(0)",
                        target="prod"),
                   step("act", action="echo all up", needs=["none"], when="none.value == 0"))
    steps = by_id(run)
    assert steps["up"].facts["series"] >= 2 and steps["up"].facts["value"] == 1
    assert json.loads(steps["load"].output)[0]["values"]
    assert steps["none"].facts["value"] == 0
    assert steps["act"].status == "succeeded"


def test_bad_promql_fails_with_the_servers_reason(system: System) -> None:
    run = run_plan(system, step("a", kind="promql", action="sum(rate(", target="prod"))
    assert "query failed" in by_id(run)["a"].error


# -- http ------------------------------------------------------------------------------

class _Service(QuietHandler):
    def do_GET(self) -> None:
        self.reply_json(200, {"status": "ok", "db": {"lag_seconds": 3}})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.reply_json(201, {"received": body, "request": self.headers.get("X-Request-Id")})


@pytest.fixture
def service() -> Iterator[str]:
    with local_http(_Service) as port:
        yield f"http://127.0.0.1:{port}"


def test_http_step_maps_the_response_and_fills_the_body(system: System, service: str) -> None:
    run = run_plan(
        system,
        step("get", kind="http", action=f"{service}/health", target="web-1",
             params={"extract": {"healthy": "$.status", "lag": "$.db.lag_seconds"}}),
        step("post", kind="http", action=f"{service}/notes", target="web-1", needs=["get"],
             when="get.healthy == 'ok'",
             params={"method": "POST", "headers": {"X-Request-Id": "t1"},
                     "body": "lag was {get.lag}s", "extract": {"echo": "$.received"}}))
    steps = by_id(run)
    assert steps["get"].facts == {"status_code": 200, "healthy": "ok", "lag": 3}
    assert steps["post"].facts["echo"] == "lag was 3s"
    assert "t1" in steps["post"].output


def test_http_url_must_belong_to_the_target(system: System, service: str) -> None:
    with pytest.raises(StepRefusedError, match="is not the step's target web-1"):
        run_plan(system, step("a", kind="http", action="http://example.org/", target="web-1"))


def test_http_reaches_an_internal_address_only_at_a_named_port(system: System,
                                                                service: str) -> None:
    other = urlsplit(service).port + 1  # type: ignore[operator]
    with pytest.raises(StepRefusedError, match="internal address"):
        run_plan(system, step("a", kind="http", action=f"http://127.0.0.1:{other}/",
                              target="web-1"))


# -- llm without a model ---------------------------------------------------------------

def test_llm_step_without_a_model_gives_a_labelled_digest(system: System) -> None:
    run = run_plan(system, step("a", action="df -h"),
                   step("sum", kind="llm", action="Summarise", needs=["a"]))
    digest = by_id(run)["sum"].output
    assert digest.startswith("No language model is configured")
    assert "max_percent=" in digest and "Filesystem" in digest


def test_policy_allow_rules_per_host_refuse_at_segmentation(ssh_peer: SSHPeer) -> None:
    import yaml

    data = yaml.safe_load(peer_policy(ssh_peer.port))
    data["hosts"]["db-1"]["allow"] = ["^(df|uptime)\\b"]
    policy = parse_policy(yaml.safe_dump(data), "p.yaml")
    from domain.plan import Plan
    from domain.policy import StepRefusedError

    ok = Plan.from_document(plan(step("a", kind="ssh", action="uptime", target="db-1")))
    policy.classify(ok.steps[0])
    bad = Plan.from_document(plan(step("a", kind="ssh", action="cat /etc/passwd",
                                       target="db-1")))
    with pytest.raises(StepRefusedError, match="not allowed on db-1"):
        policy.classify(bad.steps[0])
