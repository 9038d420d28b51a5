"""The .atlas and the leaderboards: what ran, how often it worked, who plans best."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from altlas.bootstrap import StartupError, System
from altlas.cli.common import (
    answer,
    json_out,
    with_system,
    write_chart,
)
from application.personal_files import ATLAS
from application.text import (
    atlas_text,
    leaderboard_text,
    runbook_history_text,
    short,
    shown,
)


@with_system
def atlas_show(system: System, args: argparse.Namespace) -> int:
    query = " ".join(args.query) or None
    found = system.use_cases().atlas_patterns(None, query)
    if args.json:
        json_out(found)
    else:
        print(atlas_text(found, args.locale, query=query, limit=args.limit))
    return 0


@with_system
def atlas_similar(system: System, args: argparse.Namespace) -> int:
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


@with_system
def atlas_reindex(system: System, args: argparse.Namespace) -> int:
    similar = system.similar()
    indexed = similar.reindex()
    answer(args, {"indexed": indexed, "store": similar.store.name,
                  "embedder": similar.embedder.name},
           f"indexed {indexed} run(s) in the {similar.store.name} vector store with "
           f"{similar.embedder.name}")
    return 0


@with_system
def atlas_export(system: System, args: argparse.Namespace) -> int:
    document = system.use_cases().atlas_document(None, system.settings.instance_name,
                                                 datetime.now(UTC))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        system.personal_files().write(ATLAS, args.output, [text])
        answer(args, {"output": args.output, "patterns": len(document["patterns"])},
               f"exported {len(document['patterns'])} pattern(s) to {args.output}")
    return 0


@with_system
def atlas_import(system: System, args: argparse.Namespace) -> int:
    try:
        raw = Path(args.file).read_bytes()
    except OSError as e:
        raise StartupError(f"cannot read {args.file}: {e.strerror}") from None
    done = system.use_cases().import_atlas(args.actor, raw, args.source)
    answer(args, done,
           f"imported {done['patterns']} pattern(s), {done['runs']} run(s), from "
           f"{done['source']}" if done["imported"] else
           f"{args.file} was imported before (sha256 {done['digest'][:12]}); nothing changed")
    return 0


@with_system
def leaderboard_show(system: System, args: argparse.Namespace) -> int:
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


@with_system
def leaderboard_match(system: System, args: argparse.Namespace) -> int:
    match_id = system.use_cases().record_match(args.actor, args.a, args.b, args.outcome,
                                               args.task)
    answer(args, {"match": match_id, "a": args.a, "b": args.b, "outcome": args.outcome},
           f"match {short(match_id)} recorded: {args.a} vs {args.b}, {args.outcome}")
    return 0
