"""The local executor runs real processes: argv only, bounded in time and output."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from pathlib import Path

from adapters.local_exec import LocalExecutor
from application.ports import StepContext
from domain.plan import PlanStep
from testkit.helpers import default_policy


def _run(action: str, allow: str, timeout_s: float = 10, cap: int = 64 * 1024) -> tuple[
        LocalExecutor, PlanStep]:
    policy = dataclasses.replace(default_policy(), local_allow=(re.compile(allow),))
    return LocalExecutor(policy.classify, output_cap=cap), PlanStep(
        id="s", kind="local", action=action, timeout_s=timeout_s)


def test_allowed_command_runs_and_its_output_is_captured() -> None:
    executor, step = _run("uname -a", r"^uname -a$")
    outcome = asyncio.run(executor.execute(step, StepContext()))
    assert outcome.ok and outcome.exit_code == 0
    assert "Linux" in outcome.output


def test_command_not_on_the_allow_list_never_starts(tmp_path: object) -> None:
    executor, step = _run("rm -rf /tmp/nothing-here", r"^uptime$")
    outcome = asyncio.run(executor.execute(step, StepContext()))
    assert not outcome.ok and outcome.exit_code is None
    assert "not on the local allow-list" in str(outcome.error)


def test_it_checks_what_runs_as_the_policy_does() -> None:
    executor, step = _run("/usr/bin/uname -a", r"^uname -a$")  # the policy reads: uname -a
    assert asyncio.run(executor.execute(step, StepContext())).ok
    executor, step = _run("sudo uname -a", r"uname -a$")  # a wrapper: never a local step
    outcome = asyncio.run(executor.execute(step, StepContext()))
    assert not outcome.ok and "not on the local allow-list" in str(outcome.error)


def test_shell_syntax_is_refused_never_run_as_other_arguments(tmp_path: object) -> None:
    executor, step = _run("echo hi; touch /tmp/altlas-should-not-exist", r"^echo ")
    outcome = asyncio.run(executor.execute(step, StepContext()))
    assert not outcome.ok and "is shell code" in str(outcome.error)
    assert not Path("/tmp/altlas-should-not-exist").exists()
    executor, step = _run("echo 'hi; touch /tmp/altlas-should-not-exist'", r"^echo ")
    quoted = asyncio.run(executor.execute(step, StepContext()))  # quoted: one argument
    assert quoted.ok and quoted.output.strip() == "hi; touch /tmp/altlas-should-not-exist"


def test_nonzero_exit_is_a_failure_with_the_code() -> None:
    executor, step = _run("ls /definitely/not/here", r"^ls ")
    outcome = asyncio.run(executor.execute(step, StepContext()))
    assert not outcome.ok and outcome.exit_code == 2
    assert "exited with code 2" in str(outcome.error)


def test_a_hanging_command_is_killed_at_its_timeout() -> None:
    executor, step = _run("sleep 30", r"^sleep ", timeout_s=0.5)
    started = time.monotonic()
    outcome = asyncio.run(executor.execute(step, StepContext()))
    assert time.monotonic() - started < 5
    assert not outcome.ok and "timed out after 0.5s" in str(outcome.error)


def test_huge_output_is_capped_and_says_so() -> None:
    # about 100 MB of output
    executor, step = _run("head -c 100000000 /dev/zero", r"^head -c \d+ /dev/zero$", cap=1000)
    outcome = asyncio.run(executor.execute(step, StepContext()))
    assert outcome.ok
    assert len(outcome.output) < 1100
    assert "[output truncated: 99999000 more bytes]" in outcome.output


def test_missing_program_is_a_clear_failure() -> None:
    executor, step = _run("no-such-program-xyz", r"^no-such")
    outcome = asyncio.run(executor.execute(step, StepContext()))
    assert not outcome.ok and "cannot start no-such-program-xyz" in str(outcome.error)
