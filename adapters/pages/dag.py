"""A run's plan laid out as the graph it is, for the run page to draw as inline SVG: each
step a box in the column of its depth (the longest chain of steps it needs), filled by its
status and edged by its risk, and each need an arrow labelled with the condition the step
runs under. Pure layout: the template draws it, so the picture needs no script."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BOX_W, BOX_H = 168, 54
GAP_X, GAP_Y = 64, 22
MARGIN = 16

# fill by status: what happened to the step
FILL = {"succeeded": "#d8f3dc", "failed": "#fbd5d1", "running": "#d6e8fa",
        "pending": "#eef1f4", "skipped": "#f7f7f7", "cancelled": "#f7f7f7",
        "interrupted": "#fde8c8", "manual": "#efe3fb"}
# edge by risk: what it may do
STROKE = {"READ_ONLY": ("#6e7781", 1.5), "LOW_RISK": ("#1a7f37", 2.0),
          "MEDIUM_RISK": ("#9a6700", 3.0), "HIGH_RISK": ("#b42318", 3.5),
          "CRITICAL": ("#6b0f0a", 4.5)}


@dataclass(frozen=True)
class Node:
    id: str
    x: int
    y: int
    status: str
    risk: str
    kind: str
    fill: str
    stroke: str
    stroke_width: float


@dataclass(frozen=True)
class Edge:
    path: str  # SVG path data
    label: str | None  # the condition the step runs under
    label_x: int
    label_y: int


@dataclass(frozen=True)
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int
    box_w: int = BOX_W
    box_h: int = BOX_H


def layout(steps: Sequence[Mapping[str, Any]], planned: Mapping[str, Mapping[str, Any]]
           ) -> Graph:
    """``steps``: the run's steps (id, needs, status, risk, kind); ``planned``: the plan's
    steps by id, for the condition each runs under (``when``)."""
    needs = {s["id"]: [n for n in s.get("needs", ()) if n != s["id"]] for s in steps}
    depth: dict[str, int] = {}

    def depth_of(step: str, seen: frozenset[str] = frozenset()) -> int:
        if step not in depth:
            before = [n for n in needs.get(step, ()) if n in needs and n not in seen]
            depth[step] = 1 + max((depth_of(n, seen | {step}) for n in before), default=-1)
        return depth[step]

    columns: dict[int, list[str]] = {}
    for s in steps:
        columns.setdefault(depth_of(s["id"]), []).append(s["id"])
    place = {step: (MARGIN + d * (BOX_W + GAP_X), MARGIN + row * (BOX_H + GAP_Y))
             for d, ids in columns.items() for row, step in enumerate(ids)}
    nodes = []
    for s in steps:
        x, y = place[s["id"]]
        colour, width = STROKE.get(s["risk"], STROKE["MEDIUM_RISK"])
        nodes.append(Node(s["id"], x, y, s["status"], s["risk"], s.get("kind", ""),
                          FILL.get(s["status"], FILL["pending"]), colour, width))
    edges = []
    for s in steps:
        when = planned.get(s["id"], {}).get("when")
        for need in needs[s["id"]]:
            if need not in place:
                continue
            (x1, y1), (x2, y2) = place[need], place[s["id"]]
            sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H // 2, x2, y2 + BOX_H // 2
            bend = (sx + ex) // 2
            edges.append(Edge(f"M{sx},{sy} C{bend},{sy} {bend},{ey} {ex - 6},{ey}",
                              when, bend, (sy + ey) // 2 - 4))
    width = MARGIN * 2 + max(len(columns), 1) * (BOX_W + GAP_X) - GAP_X
    height = MARGIN * 2 + max((len(c) for c in columns.values()), default=1) * (
        BOX_H + GAP_Y) - GAP_Y
    return Graph(nodes, edges, width, height)
