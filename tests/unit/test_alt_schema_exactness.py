"""The .alt schema says exactly what the plan parser accepts, as a client's validator reads
it (ECMA-262 patterns, through jsonschema_rs as schemathesis uses it) and as the server does:
a condition, a blank action or target, a step id, in every whitespace and digit of Unicode."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from hypothesis import given, settings
from hypothesis import strategies as st

from application.documents import inlined_schema, schema_errors
from domain.conditions import parse_condition
from domain.errors import InvalidInputError
from domain.plan import Plan, StepsConflictError

_STEP = inlined_schema("alt")["properties"]["steps"]["items"]
_CLIENT = jsonschema_rs.validator_for({**inlined_schema("alt"), "$schema":
                                       "https://json-schema.org/draft/2020-12/schema"})
_TRICKY = ["\x85", "\ufeff", "\x1c", "\xa0", "\u2028", "\u0663", "\n", "\t", " ", "  "]
_WHEN_TOKENS = st.sampled_from([
    "s1", ".", "a", "x_y", ">", ">=", "==", "!=", "contains", "'", '"', "5", "-", "1.5",
    "and", "or", " and ", " or ", "'a and b'", "s2.b", "A", *_TRICKY])


def plan(**step: Any) -> dict[str, Any]:
    return {"alt": 1, "steps": [{"id": "s1", "kind": "ssh", "action": "df", "target": "web-1"},
                                {"id": "s2", "kind": "ssh", "action": "df", "target": "web-1",
                                 "needs": ["s1"], **step}]}


def server_accepts(document: dict[str, Any]) -> bool:
    try:
        Plan.from_document(document)
    except StepsConflictError:
        pass  # steps that do not fit together: a 409, which no schema can say
    except InvalidInputError:
        return False
    return not schema_errors(document)


def both_agree(document: dict[str, Any]) -> None:
    assert _CLIENT.is_valid(document) == server_accepts(document), document


def test_the_when_pattern_is_the_condition_grammar() -> None:
    pattern = _STEP["properties"]["when"]["pattern"]
    assert jsonschema_rs.validator_for({"pattern": pattern}).is_valid(
        "s1.output contains 'a and b'")
    assert str(parse_condition("s1.output contains 'a and b'")) == "s1.output contains 'a and b'"


@settings(max_examples=3000, deadline=None)
@given(st.lists(_WHEN_TOKENS, max_size=12).map("".join))
def test_a_condition_is_accepted_by_the_server_exactly_when_the_schema_allows_it(
        when: str) -> None:
    both_agree(plan(when=when))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*_TRICKY, "x", "df -h"]), min_size=1, max_size=4).map(
    "".join), st.sampled_from(["action", "target"]))
def test_a_blank_action_or_target_is_blank_for_both(text: str, field: str) -> None:
    both_agree(plan(**{field: text}))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*_TRICKY, "s", "3", "-", "_", "A"]), min_size=1,
                max_size=4).map("".join))
def test_a_step_id_is_one_for_both(step_id: str) -> None:
    document = plan()
    document["steps"][1]["id"] = step_id
    both_agree(document)
