"""The commands of runbooks: what they accept; `altlas.cli.runbooks` carries them out."""

from __future__ import annotations

import argparse

from altlas.cli.parsing import Subparsers, actor, add, as_json, group, path_arg


def param_arg(value: str) -> tuple[str, str]:
    name, sep, given = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{value!r}: give NAME=VALUE, e.g. host=web-1")
    return name, given


def register(sub: Subparsers) -> None:
    runbook = group(sub, "runbook", "saved plans with parameters: list, show, publish, run, retire")
    p = add(runbook, "list", "runbooks:runbook_list",
            "every runbook: its published version, author and the version waiting, if any")
    as_json(p)
    p = add(runbook, "show", "runbooks:runbook_show",
            "a runbook's published version: its parameters and plan")
    p.add_argument("name", metavar="NAME", help="the runbook's name")
    as_json(p)
    p = add(runbook, "publish", "runbooks:runbook_publish",
            "publish a new version from a file ({\"runbook\": 1, \"name\", \"parameters\", "
            "\"plan\"}); one with gated steps waits for an approval by someone else")
    p.add_argument("file", type=path_arg, help="the runbook (JSON; - = stdin)")
    actor(p)
    as_json(p)
    p = add(runbook, "save", "runbooks:runbook_save",
            "save a run that succeeded as a runbook without parameters, its plan as run")
    p.add_argument("run", metavar="RUN", help="the run's id, or a unique beginning of it")
    p.add_argument("name", metavar="NAME", help="the runbook's name (e.g. disk-check)")
    actor(p)
    as_json(p)
    p = add(runbook, "run", "runbooks:runbook_run",
            "run the published version: a task like any request, through its gates")
    p.add_argument("name", metavar="NAME", help="the runbook's name")
    p.add_argument("--param", type=param_arg, action="append", default=[],
                   metavar="NAME=VALUE", help="a parameter's value; repeat for each")
    actor(p)
    p.add_argument("--run", action="store_true",
                   help="wait for its run and print each step as it finishes")
    as_json(p)
    p = add(runbook, "retire", "runbooks:runbook_retire",
            "stop a runbook: no more runs or triggered runs (runs asked for before keep "
            "their gates); a new version brings it back")
    p.add_argument("name", metavar="NAME", help="the runbook's name")
    actor(p)
    as_json(p)
    trigger = group(sub, "trigger", "run a runbook on a schedule, a webhook or an event: add, "
                    "list, show, pause, resume, remove")
    p = add(trigger, "add", "runbooks:trigger_add",
            "run a runbook on a schedule, on your behalf (you cannot approve its runs' "
            "gated steps)")
    p.add_argument("name", metavar="NAME", help="the trigger's name (e.g. disk-every-15m)")
    p.add_argument("--runbook", required=True, metavar="RUNBOOK", help="a published runbook")
    p.add_argument("--param", type=param_arg, action="append", default=[],
                   metavar="NAME=VALUE", help="a parameter's value; repeat for each")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help="five fields, e.g. '*/15 * * * *'")
    when.add_argument("--every", type=int, metavar="SECONDS",
                      help="an interval (at least the policy's triggers.min_interval)")
    when.add_argument("--webhook", type=path_arg, metavar="SCHEMA",
                      help="run on each POST /triggers/NAME whose body matches this JSON "
                      "Schema (file; its credential: the policy's triggers.webhooks.NAME)")
    when.add_argument("--on", nargs=2, metavar=("EVENT", "REGEX"),
                      help="run each time altlas records EVENT whose fact matches REGEX in "
                      "full: incident-cause (the likeliest cause's component) or pattern-low "
                      "(the pattern whose success fell low)")
    p.add_argument("--map", type=param_arg, action="append", default=[],
                   metavar="PARAM=FIELD", help="with --webhook: the body field that fills a "
                   "parameter; with --on: the event's fact (incident-cause: incident, "
                   "component, kind, host, service, title; pattern-low: pattern, runs, "
                   "successes, run); repeat for each")
    p.add_argument("--tz", default="UTC", metavar="ZONE",
                   help="the cron's time zone, an IANA name (default UTC)")
    p.add_argument("--late", choices=("run_once", "skip"), default="run_once",
                   help="firings missed while no worker ran: run once late, or skip and "
                   "record TriggerMissed (default run_once)")
    p.add_argument("--overlap", choices=("allow", "queue", "skip"), default="skip",
                   help="a firing while the last run still goes (default skip)")
    actor(p)
    as_json(p)
    p = add(trigger, "list", "runbooks:trigger_list",
            "every trigger: its schedule, next firing, firings and misses")
    as_json(p)
    p = add(trigger, "show", "runbooks:trigger_show", "one trigger as recorded")
    p.add_argument("name", metavar="NAME", help="the trigger's name")
    as_json(p)
    for change, said in (("pause", "stop a trigger until it is resumed"),
                         ("resume", "run a paused trigger again (a schedule from now on)"),
                         ("remove", "stop a trigger for good (its history stays)")):
        p = add(trigger, change, "runbooks:trigger_change", said)
        p.set_defaults(change=change)
        p.add_argument("name", metavar="NAME", help="the trigger's name")
        actor(p)
        as_json(p)
