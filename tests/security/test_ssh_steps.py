"""What an ssh step runs on the host is what the policy classified, against the real sshd (its
login shell is the user's): an argument vector exactly (no word expanded, no assignment or
keyword read from it, no shell builtin that evaluates code reached by quoting tricks), or shell
code as the shell code it is, never as literal words that would do something else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from domain.plan import Plan
from domain.risk import RiskLevel
from testkit.helpers import peer_policy, plan, run_to_rest, step
from tests.conftest import SSHPeer


@pytest.fixture
def system(tmp_path: Path, ssh_peer: SSHPeer) -> Iterator[System]:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(peer_policy(ssh_peer.port, ssh_peer.user))
    found = bootstrap(Settings(data_dir=tmp_path, policy_file=policy_file, segmenter="rules",
                               ssh_known_hosts=ssh_peer.known_hosts,
                               ssh_key=ssh_peer.client_key))
    yield found
    found.close()


def ssh(system: System, action: str) -> Any:
    run = run_to_rest(system, plan(step("s1", kind="ssh", action=action, target="dev-box")),
                      approve=True)
    return run.steps[0]


@pytest.fixture
def canary() -> Iterator[Path]:
    path = Path(f"/tmp/altlas-canary-{uuid4().hex}")
    yield path
    path.unlink(missing_ok=True)


@pytest.mark.parametrize("trick", [
    "printf -v 'a[$(touch {c})]' x",
    "declare -a 'x=($(touch {c}))'",
    "test -v 'a[$(touch {c})]'",
    "eval 'touch {c}'",
    "echo '$(touch {c})'",
    "echo 'true; touch {c}'",
    "echo \"\\`touch {c}\\`\"",
])
def test_no_shell_on_the_host_evaluates_what_the_words_say(system: System, canary: Path,
                                                          trick: str) -> None:
    done = ssh(system, trick.format(c=canary))
    assert done.attempts == 1, (done.status, done.error)  # it did reach the host
    assert not canary.exists(), f"{trick!r} ran code on the host"


@pytest.mark.parametrize("code", [
    "echo $(touch {c})",
    "echo `touch {c}`",
    "true; touch {c}",
    "true && touch {c}",
    "true | touch {c}",
    "echo > {c}",
    "FOO=$(touch {c}) true",
])
def test_shell_code_runs_as_the_shell_code_it_was_classified_as(system: System, canary: Path,
                                                               code: str) -> None:
    """Never as literal words that would do something else: the touch hidden in it is what
    the policy classified (a change, gated), and once approved it is what runs."""
    action = code.format(c=canary)
    classified = system.app.policy.classify(Plan.from_document(plan(step(
        "s1", kind="ssh", action=action, target="dev-box"))).steps[0])
    assert classified.risk is not RiskLevel.READ_ONLY, classified
    done = ssh(system, action)
    assert done.status == "succeeded", (done.status, done.error)
    assert canary.exists(), f"{code!r} did not run as the shell code it is"


def test_a_read_pipeline_runs_as_a_pipeline_at_once(system: System) -> None:
    run = run_to_rest(system, plan(step("s1", kind="ssh", target="dev-box",
                                        action="cat /etc/hostname | head -n 1")))
    [done] = run.steps  # two reads: no approval
    assert done.status == "succeeded" and done.approval_id is None, done
    assert done.output.strip() == Path("/etc/hostname").read_text().strip()


def test_the_host_receives_the_words_exactly(system: System) -> None:
    words = ["a b", "c'd", 'e"f', "$HOME", "*", "~", "\\n", "ü"]
    quoted = " ".join("'" + w.replace("'", "'\"'\"'") + "'" for w in words)
    done = ssh(system, f"printf '%s\\n' {quoted}")
    assert done.status == "succeeded", done.error
    assert done.output.splitlines() == words


def test_a_leading_assignment_is_a_program_name_not_an_assignment(system: System) -> None:
    done = ssh(system, "LC_ALL=C true")
    assert done.status == "failed" and done.exit_code == 127
