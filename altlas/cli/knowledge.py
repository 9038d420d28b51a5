"""The .atlas and the leaderboards: what ran, how often it worked, who plans best."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from altlas.bootstrap import StartupError, System
from altlas.cli.common import (
    Subparsers,
    actor,
    add,
    as_json,
    group,
    json_out,
    path_arg,
    positive,
    with_system,
    write_chart,
)
from application.text import (
    atlas_text,
    leaderboard_text,
    runbook_history_text,
    short,
    shown,
)


def _atlas_show(system: System, args: argparse.Namespace) -> int:
    query = " ".join(args.query) or None
    found = system.use_cases().atlas_patterns(None, query)
    if args.json:
        json_out(found)
    else:
        print(atlas_text(found, args.locale, query=query, limit=args.limit))
    return 0


def _atlas_similar(system: System, args: argparse.Namespace) -> int:
    found = system.use_cases().similar_runs(None, " ".join(args.request), args.k,
                                            environment=args.environment, outcome=args.outcome)
    if args.json:
        json_out([f.to_dict() for f in found])
    elif not found:
        print("no completed run is on record yet")
    for f in found if not args.json else ():
        steps = "; ".join(s["action"] for s in f.plan["steps"])
        print(f"{f.score:.2f}  {short(f.run_id)} {f.outcome:<9} “{shown(f.request)}” → {steps}")
    return 0


def _atlas_reindex(system: System, _: argparse.Namespace) -> int:
    similar = system.similar()
    indexed = similar.reindex()
    print(f"indexed {indexed} run(s) in the {similar.store.name} vector store with "
          f"{similar.embedder.name}")
    return 0


def _atlas_export(system: System, args: argparse.Namespace) -> int:
    document = system.use_cases().atlas_document(None, system.settings.instance_name,
                                                 datetime.now(UTC))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"exported {len(document['patterns'])} pattern(s) to {args.output}")
    return 0


def _atlas_import(system: System, args: argparse.Namespace) -> int:
    try:
        raw = Path(args.file).read_bytes()
    except OSError as e:
        raise StartupError(f"cannot read {args.file}: {e.strerror}") from None
    done = system.use_cases().import_atlas(args.actor, raw, args.source)
    if done["imported"]:
        print(f"imported {done['patterns']} pattern(s), {done['runs']} run(s), from "
              f"{done['source']}")
    else:
        print(f"{args.file} was imported before (sha256 {done['digest'][:12]}); nothing changed")
    return 0


def _leaderboard_show(system: System, args: argparse.Namespace) -> int:
    uc = system.use_cases()
    if args.runbook:
        query = " ".join(args.runbook)
        found, chart = (uc.runbook_chart(None, query) if args.chart
                        else (uc.runbook_history(None, query), None))
        if args.json:
            json_out(found)
        else:
            print(runbook_history_text(found, args.locale))
    else:
        board = uc.leaderboard(None, args.method)
        if args.json:
            json_out(board)
        else:
            print(leaderboard_text(board, args.locale, limit=args.limit))
        chart = uc.chart(None, method=args.method) if args.chart else None
    if chart is not None:
        write_chart(args.chart, chart)
    return 0


def _leaderboard_match(system: System, args: argparse.Namespace) -> int:
    match_id = system.use_cases().record_match(args.actor, args.a, args.b, args.outcome,
                                               args.task)
    print(f"match {short(match_id)} recorded: {args.a} vs {args.b}, {args.outcome}")
    return 0


def register(sub: Subparsers) -> None:
    atlas = group(sub, "atlas", "the .atlas knowledge base")
    p = add(atlas, "show", with_system(_atlas_show),
            "patterns of plans that ran: runs, success rate, durations, failures")
    p.add_argument("query", nargs="*", help="words the pattern, intent or requests contain")
    p.add_argument("--limit", type=positive, default=20, metavar="N")
    as_json(p)
    p = add(atlas, "similar", with_system(_atlas_similar),
            "past runs whose requests are nearest in meaning, with their plans")
    p.add_argument("request", nargs="+", help="a request, in plain words")
    p.add_argument("-k", type=positive, default=3, help="how many (default 3)")
    p.add_argument("--environment", help="only runs in this environment")
    p.add_argument("--outcome", choices=["succeeded", "failed", "cancelled"])
    as_json(p)
    add(atlas, "reindex", with_system(_atlas_reindex),
        "embed every completed run again (after changing ALTLAS_EMBEDDINGS or the store)")
    p = add(atlas, "export", with_system(_atlas_export),
            "write the .atlas document (altlas/schemas/atlas.schema.json)")
    p.add_argument("--output", default="-", metavar="FILE", type=path_arg,
                   help="default: standard output")
    p = add(atlas, "import", with_system(_atlas_import),
            "merge another installation's .atlas export (recorded as an event)")
    p.add_argument("file", metavar="FILE", type=path_arg)
    p.add_argument("--source", help="where it came from (default: the document's source)")
    actor(p)
    board = group(sub, "leaderboard", "runbooks, planners and their ratings")
    p = add(board, "show", with_system(_leaderboard_show),
            "runbooks surest first, planners by their plans' runs, ratings from matches")
    p.add_argument("runbook", nargs="*", help="words of a runbook: its success over time")
    p.add_argument("--method", choices=["elo", "bt"], default="elo",
                   help="how planners are rated (default elo)")
    p.add_argument("--limit", type=positive, default=10, metavar="N")
    p.add_argument("--chart", metavar="FILE.png", type=path_arg,
                   help="also draw the ratings, or the runbook over time, as a PNG")
    as_json(p)
    p = add(board, "match", with_system(_leaderboard_match),
            "record which of two planners' plans was better (approvers)")
    p.add_argument("a", help="a planner: a segmenter or model, e.g. local:qwen")
    p.add_argument("b", help="the other planner")
    p.add_argument("outcome", choices=["a", "b", "tie", "both_bad"])
    p.add_argument("--task", help="the request both planned")
    actor(p)
