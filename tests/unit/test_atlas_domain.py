"""Patterns and success intervals: what the .atlas computes."""

from __future__ import annotations

import pytest

from domain.atlas import normalised_request, pattern_of, percentile, wilson
from testkit.helpers import plan, step


def test_two_wordings_of_one_plan_are_one_pattern() -> None:
    a = plan(step("s1", "ssh", "systemctl restart nginx", target="web-1"))
    b = plan(step("x", "ssh", "sudo systemctl restart nginx", target="web-2"))
    assert pattern_of(a) == pattern_of(b)
    assert pattern_of(a).key == "ssh:restart nginx"
    assert pattern_of(a).intent == "restart"
    assert pattern_of(a).target_kind == "ssh"


def test_the_order_of_the_steps_is_part_of_the_pattern() -> None:
    check_then_restart = plan(step("s1", "ssh", "systemctl status nginx", target="web-1"),
                              step("s2", "ssh", "systemctl restart nginx", target="web-1",
                                   needs=["s1"]))
    restart_then_check = plan(step("s1", "ssh", "systemctl restart nginx", target="web-1"),
                              step("s2", "ssh", "systemctl status nginx", target="web-1",
                                   needs=["s1"]))
    assert pattern_of(check_then_restart).key == "ssh:status nginx > ssh:restart nginx"
    assert pattern_of(check_then_restart) != pattern_of(restart_then_check)


def test_another_service_or_an_unknown_command_is_another_pattern() -> None:
    nginx = pattern_of(plan(step("s1", "ssh", "systemctl restart nginx", target="web-1")))
    redis = pattern_of(plan(step("s1", "ssh", "systemctl restart redis", target="web-1")))
    assert nginx != redis
    assert pattern_of(plan(step("s1", action="cowsay hi"))).key == "local:other"


def test_a_request_is_normalised_by_the_hosts_its_plan_acted_on() -> None:
    assert normalised_request("restart  nginx on WEB-1 and web-10", ["web-1", "web-10"]) == (
        "restart nginx on {host} and {host}")
    assert normalised_request("restart nginx on web-12", ["web-1"]) == "restart nginx on web-12"


@pytest.mark.parametrize(("successes", "runs", "low", "high"), [
    (5, 10, 0.2366, 0.7634),   # the textbook case
    (0, 5, 0.0, 0.4345),       # no success is not certainty of failure
    (5, 5, 0.5655, 1.0),
    (0, 0, 0.0, 1.0),          # nothing known
])
def test_wilson_interval(successes: int, runs: int, low: float, high: float) -> None:
    got = wilson(successes, runs)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile(list(range(1, 101)), 0.95) == pytest.approx(95.05)
    assert percentile([], 0.95) is None
