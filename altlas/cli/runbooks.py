"""Runbooks: list, show, publish (from a file or a run), run with parameters."""

from __future__ import annotations

import argparse
import json
from typing import Any

from altlas.bootstrap import System
from altlas.cli.common import (
    json_out,
    read_json,
    report_planned,
    with_system,
)
from application.text import short
from domain.errors import InvalidInputError


@with_system
def runbook_list(system: System, args: argparse.Namespace) -> int:
    found = system.use_cases().runbooks(None)
    if args.json:
        json_out(found)
        return 0
    if not found:
        print("no runbooks yet: `altlas runbook publish FILE --as PERSON` adds one")
    for row in found:
        waiting = (f"; v{row['pending']} waits for approval {short(row['approval_id'])}"
                   if row["pending"] else "") + ("; retired" if row["retired"] else "")
        published = (f"v{row['published']} by {row['author']}" if row["published"]
                     else "not published")
        params = ", ".join((row["parameters"] or {}).get("properties", {}))
        print(f"{row['name']}  {published}{waiting}" + (f"  ({params})" if params else ""))
    return 0


@with_system
def runbook_show(system: System, args: argparse.Namespace) -> int:
    view = system.use_cases().runbook(None, args.name)
    if args.json:
        json_out(view)
        return 0
    print(_text(view))
    return 0


@with_system
def runbook_publish(system: System, args: argparse.Namespace) -> int:
    view = system.use_cases().publish_runbook(args.actor, read_json(args.file))
    return _published(view, args)


@with_system
def runbook_save(system: System, args: argparse.Namespace) -> int:
    return _published(system.use_cases().save_run_as_runbook(args.actor, args.run, args.name),
                      args)


@with_system
def runbook_retire(system: System, args: argparse.Namespace) -> int:
    view = system.use_cases().retire_runbook(args.actor, args.name)
    if args.json:
        json_out(view)
    else:
        print(f"retired runbook {view['name']}: it runs no more, by hand or by a trigger; runs "
              "asked for before still wait for their approvals. Publishing a new version "
              "brings it back")
    return 0


@with_system
def runbook_run(system: System, args: argparse.Namespace) -> int:
    after = system.use_cases().position()
    task = system.use_cases().run_runbook(args.actor, args.name, _parameters(args),
                                          source="cli")
    return report_planned(system, args, task, after)


def _published(view: dict[str, Any], args: argparse.Namespace) -> int:
    if args.json:
        json_out(view)
    elif view["pending"]:
        pending = view["pending"]
        print(f"runbook {view['name']} v{pending['version']} has gated steps: it is published "
              f"once someone other than you approves it: `altlas approve "
              f"{short(pending['approval_id'])} --as PERSON`")
    else:
        print(f"published runbook {view['name']} v{view['published']['version']}: "
              f"`altlas runbook run {view['name']} --param NAME=VALUE --as PERSON` runs it")
    return 0


def _text(view: dict[str, Any]) -> str:
    published = view["published"]
    if published is None:
        return f"runbook {view['name']}: no version published yet"
    if view["retired"]:
        return (f"runbook {view['name']} v{published['version']} is retired: it runs no more; "
                "publishing a new version brings it back")
    lines = [f"runbook {view['name']} v{published['version']} by {published['author']} "
             f"(plan {published['plan_hash'][:12]})"]
    for name, prop in published["parameters"]["properties"].items():
        bounds = {k: prop[k] for k in ("minimum", "maximum", "pattern") if k in prop}
        lines.append(f"  {name}: {prop['x-altlas-kind']}"
                     + (f" {json.dumps(bounds)}" if bounds else ""))
    for s in published["plan"]["steps"]:
        lines.append(f"  {s['id']} [{s['kind']}] {s['action']}"
                     + (f" on {s['target']}" if s.get("target") else ""))
    if view["pending"]:
        lines.append(f"v{view['pending']['version']} waits for approval "
                     f"{short(view['pending']['approval_id'])}")
    return "\n".join(lines)


@with_system
def trigger_add(system: System, args: argparse.Namespace) -> int:
    if args.webhook is not None:
        view = system.use_cases().create_webhook_trigger(
            args.actor, args.name, args.runbook, read_json(args.webhook), dict(args.map))
    elif args.on is not None:
        view = system.use_cases().create_event_trigger(
            args.actor, args.name, args.runbook, _parameters(args), args.on[0], args.on[1],
            dict(args.map))
    else:
        view = system.use_cases().create_trigger(
            args.actor, args.name, args.runbook, _parameters(args), cron=args.cron,
            every_seconds=args.every, timezone=args.tz, late=args.late, overlap=args.overlap)
    if args.json:
        json_out(view)
    elif args.webhook is not None:
        print(f"trigger {view['name']} runs runbook {view['runbook']} for {view['owner']} on "
              f"each POST /triggers/{view['name']} (X-Delivery-Id header; its credential: "
              f"the policy's triggers.webhooks.{view['name']})")
    elif view["on"] is not None:
        print(f"trigger {view['name']} runs runbook {view['runbook']} for {view['owner']} "
              f"each time {view['on']['event']} matches {view['on']['match']!r} (a worker "
              "fires it once per event: `altlas worker`)")
    else:
        print(f"trigger {view['name']} runs runbook {view['runbook']} for {view['owner']}; "
              f"next at {view['next_at']} (a worker fires it: `altlas worker`)")
    return 0


@with_system
def trigger_list(system: System, args: argparse.Namespace) -> int:
    found = system.use_cases().triggers(None)
    if args.json:
        json_out(found)
        return 0
    if not found:
        print("no triggers yet: `altlas trigger add NAME --runbook R --every 900 --as PERSON`")
    for row in found:
        nxt = (f"  next {row['next_at']:%Y-%m-%d %H:%M:%S} UTC" if row["next_at"] else "")
        print(f"{row['name']}  {row['runbook']} for {row['owner']}  {row['schedule']}{nxt}  "
              f"fired {row['fired']}, missed {row['missed']}"
              + ("" if row["status"] == "active" else f"  ({row['status']})"))
    return 0


@with_system
def trigger_show(system: System, args: argparse.Namespace) -> int:
    view = system.use_cases().trigger(None, args.name)
    if args.json:
        json_out(view)
    else:
        print("\n".join(f"{k}: {v}" for k, v in view.items()))
    return 0


SAID = {"pause": "paused: it runs nothing until `altlas trigger resume {name}`",
        "resume": "resumed: next at {next_at}", "remove": "removed: it runs no more"}


@with_system
def trigger_change(system: System, args: argparse.Namespace) -> int:
    view = system.use_cases().change_trigger(args.actor, args.name, args.change)
    if args.json:
        json_out(view)
    else:
        said = SAID[args.change].format(name=view["name"], next_at=view["next_at"] or
                                        "its next webhook delivery or event")
        print(f"trigger {view['name']} {said}")
    return 0


def _parameters(args: argparse.Namespace) -> dict[str, str]:
    names = [name for name, _ in args.param]
    if len(set(names)) != len(names):
        raise InvalidInputError("give each --param once")
    return dict(args.param)
