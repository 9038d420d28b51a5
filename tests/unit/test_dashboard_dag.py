"""The run page's graph: where each step goes, how it is coloured, what its arrows say."""

from __future__ import annotations

from typing import Any

from adapters.pages.dag import FILL, STROKE, layout


def step(sid: str, *needs: str, status: str = "pending", risk: str = "READ_ONLY"
         ) -> dict[str, Any]:
    return {"id": sid, "needs": list(needs), "status": status, "risk": risk, "kind": "local"}


def test_a_step_sits_one_column_after_the_longest_chain_it_needs() -> None:
    graph = layout([step("a"), step("b", "a"), step("c", "a", "b"), step("d")], {})
    x = {n.id: n.x for n in graph.nodes}
    assert x["a"] == x["d"] < x["b"] < x["c"]
    assert len({(n.x, n.y) for n in graph.nodes}) == 4  # no two boxes on one place
    assert all(n.x + graph.box_w <= graph.width for n in graph.nodes)
    assert all(n.y + graph.box_h <= graph.height for n in graph.nodes)


def test_steps_are_filled_by_status_and_edged_by_risk() -> None:
    graph = layout([step("a", status="succeeded", risk="HIGH_RISK"),
                    step("b", "a", status="failed", risk="READ_ONLY")], {})
    a, b = graph.nodes
    assert (a.fill, b.fill) == (FILL["succeeded"], FILL["failed"])
    assert (a.stroke, a.stroke_width) == STROKE["HIGH_RISK"]
    assert a.stroke_width > b.stroke_width


def test_an_arrow_carries_the_condition_its_step_runs_under() -> None:
    graph = layout([step("a"), step("b", "a"), step("c", "a")],
                   {"b": {"when": "a.exit_code == 0"}})
    labels = sorted(str(e.label) for e in graph.edges)
    assert labels == ["None", "a.exit_code == 0"]


def test_a_need_that_loops_or_names_no_step_draws_no_arrow_and_does_not_hang() -> None:
    graph = layout([step("a", "b"), step("b", "a"), step("c", "ghost", "c")], {})
    assert len(graph.nodes) == 3
    assert len(graph.edges) == 2  # a<->b; c's ghost and itself are not drawn
