from __future__ import annotations

from typing import Any

import pytest

from domain.plan import Plan, PlanError
from testkit.helpers import plan, step


def _error(doc: Any) -> PlanError:
    with pytest.raises(PlanError) as caught:
        Plan.from_document(doc)
    return caught.value


def test_plan_round_trips_through_its_document() -> None:
    doc = plan(step("a"), step("b", needs=["a"], retries=2, timeout_s=5))
    parsed = Plan.from_document(doc)
    assert Plan.from_document(parsed.to_document()) == parsed
    assert [s.id for s in parsed.topological_order()] == ["a", "b"]


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ([], "$"),
        ({"alt": 2, "steps": []}, "$.alt"),
        ({"alt": 1, "steps": []}, "$.steps"),
        (plan(step("a", kind="telnet")), "$.steps[0].kind"),
        (plan(step("A B")), "$.steps[0].id"),
        (plan(step("a", action="")), "$.steps[0].action"),
        (plan(step("a"), step("a")), "$.steps[1].id"),
        (plan(step("a", needs=["ghost"])), "$.steps[0].needs[0]"),
        (plan(step("a", needs=["a"])), "$.steps[0].needs[0]"),
        (plan(step("a", timeout_s=0)), "$.steps[0].timeout_s"),
        (plan(step("a", retries=99)), "$.steps[0].retries"),
        (plan(step("a", risk="SPICY")), "$.steps[0].risk"),
        (plan(step("a", colour="red")), "$.steps[0].colour"),
    ],
)
def test_invalid_plans_name_the_json_path(doc: Any, path: str) -> None:
    assert _error(doc).path == path


def test_cycle_is_refused_with_the_steps_in_it() -> None:
    err = _error(plan(step("a", needs=["c"]), step("b", needs=["a"]), step("c", needs=["b"])))
    assert "cycle" in str(err) and "a, b, c" in str(err)


def test_too_many_steps_are_refused() -> None:
    assert _error(plan(*[step(f"s{i}") for i in range(51)])).path == "$.steps"
