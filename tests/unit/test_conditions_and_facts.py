from __future__ import annotations

import pytest

from domain.conditions import ConditionError, evaluate, parse_condition
from domain.facts import command_facts

DF = """Filesystem      Size  Used Avail Use% Mounted on
/dev/vda        252G  227G   25G  91% /
tmpfs            24G     0   24G   0% /dev/shm"""
UPTIME = " 12:00:39 up 11 min,  0 user,  load average: 4.21, 2.03, 0.50"


def test_df_and_uptime_give_the_facts_conditions_use() -> None:
    disk = command_facts(DF, 0)
    assert disk["max_percent"] == 91 and disk["min_percent"] == 0 and disk["exit_code"] == 0
    load = command_facts(UPTIME, 0)
    assert (load["load1"], load["load5"], load["load15"]) == (4.21, 2.03, 0.5)
    assert "max_percent" not in load


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ("s1.max_percent > 90", True),
        ("s1.max_percent > 91", False),
        ("s1.max_percent >= 91", True),
        ("s1.exit_code != 0", False),
        ("s2.load1 > 4 and s1.max_percent > 90", True),
        ("s2.load1 > 5 or s1.max_percent < 10", False),
        ("s3.output contains 'active'", True),
        ("s3.output == 'inactive'", False),
    ],
)
def test_conditions_evaluate_on_facts(condition: str, holds: bool) -> None:
    facts = {"s1": command_facts(DF, 0), "s2": command_facts(UPTIME, 0),
             "s3": {"output": "active"}}
    assert evaluate(parse_condition(condition), facts).holds is holds


def test_a_missing_fact_decides_nothing() -> None:
    verdict = evaluate(parse_condition("s1.max_percent > 90"), {"s1": {"exit_code": 0}})
    assert verdict.holds is None and "s1 has no max_percent" in verdict.explanation


def test_explanation_shows_the_value_compared() -> None:
    verdict = evaluate(parse_condition("s1.max_percent > 95"), {"s1": {"max_percent": 91.0}})
    assert verdict.explanation == "s1.max_percent > 95 is false (s1.max_percent = 91)"


@pytest.mark.parametrize("text", ["disk > 90", "s1.max_percent >> 90", "s1.x > 1 and s2.y < 2 "
                                  "or s3.z == 3", "s1.output contains 5", "import os"])
def test_malformed_conditions_are_refused(text: str) -> None:
    with pytest.raises(ConditionError):
        parse_condition(text)
