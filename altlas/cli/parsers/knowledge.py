"""The commands of knowledge: what they accept; `altlas.cli.knowledge` carries them out."""

from __future__ import annotations

from altlas.cli.parsing import (
    DOCUMENT_JSON,
    Subparsers,
    actor,
    add,
    as_json,
    group,
    path_arg,
    positive,
)


def register(sub: Subparsers) -> None:
    atlas = group(sub, "atlas", "the .atlas knowledge base")
    p = add(atlas, "show", "knowledge:atlas_show",
            "patterns of plans that ran: runs, success rate, durations, failures")
    p.add_argument("query", nargs="*", help="words the pattern, intent or requests contain")
    p.add_argument("--limit", type=positive, default=20, metavar="N",
                   help="at most N patterns (default 20)")
    as_json(p)
    p = add(atlas, "similar", "knowledge:atlas_similar",
            "past runs whose requests are nearest in meaning, with their plans")
    p.add_argument("request", nargs="+", help="a request, in plain words")
    p.add_argument("-k", type=positive, default=3, help="how many (default 3)")
    p.add_argument("--environment", help="only runs in this environment")
    p.add_argument("--outcome", choices=["succeeded", "failed", "cancelled"],
                   help="only runs that ended so")
    as_json(p)
    p = add(atlas, "reindex", "knowledge:atlas_reindex",
            "embed every completed run again (after changing ALTLAS_EMBEDDINGS or the store)")
    as_json(p)
    p = add(atlas, "export", "knowledge:atlas_export",
            "write the .atlas document (altlas/schemas/atlas.schema.json)")
    p.add_argument("--output", type=path_arg,
                   default="-", metavar="FILE", help="default: standard output")
    as_json(p, DOCUMENT_JSON)
    p = add(atlas, "import", "knowledge:atlas_import",
            "merge another installation's .atlas export (recorded as an event)")
    p.add_argument("file", type=path_arg, metavar="FILE", help="an `altlas atlas export` document")
    p.add_argument("--source", help="where it came from (default: the document's source)")
    actor(p)
    as_json(p)
    board = group(sub, "leaderboard", "runbooks, planners and their ratings")
    p = add(board, "show", "knowledge:leaderboard_show",
            "runbooks surest first, planners by their plans' runs, ratings from matches")
    p.add_argument("runbook", nargs="*", help="words of a runbook: its success over time")
    p.add_argument("--method", choices=["elo", "bt"], default="elo",
                   help="how planners are rated (default elo)")
    p.add_argument("--limit", type=positive, default=10, metavar="N",
                   help="at most N rows per table (default 10)")
    p.add_argument("--chart", type=path_arg, metavar="FILE.png",
                   help="also draw the ratings, or the runbook over time, as a PNG")
    as_json(p)
    p = add(board, "match", "knowledge:leaderboard_match",
            "record which of two planners' plans was better (approvers)")
    p.add_argument("a", help="a planner: a segmenter or model, e.g. local:qwen")
    p.add_argument("b", help="the other planner")
    p.add_argument("outcome", choices=["a", "b", "tie", "both_bad"],
                   help="which plan was better: a, b, tie or both_bad")
    p.add_argument("--task", help="the request both planned")
    actor(p)
    as_json(p)
