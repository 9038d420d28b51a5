"""The `altlas` command line. Errors print one line and exit with code 2."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn
from uuid import UUID

from altlas.adapters.policy_file import PolicyFileError, load_policy
from altlas.bootstrap import StartupError, System, bootstrap
from altlas.domain.errors import DomainError
from altlas.render import approval_text, events_table, run_text, task_text
from altlas.settings import SettingsError, load_settings

Handler = Callable[[argparse.Namespace], int]


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an id (expected a UUID)") from None


def _json_out(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def _with_system(body: Callable[[System, argparse.Namespace], int]) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        system = bootstrap(load_settings())
        try:
            return body(system, args)
        finally:
            system.close()

    return handler


def _demo(system: System, _: argparse.Namespace) -> int:
    from altlas.demo import run_demo

    return run_demo(system, sys.stdout)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from altlas.adapters.http_api import create_api

    settings = load_settings()
    system = bootstrap(settings)
    try:
        uvicorn.run(create_api(system.app, system.worker, system.history),
                    host=args.host or settings.http_host, port=args.port or settings.http_port,
                    log_level=settings.log_level.lower())
    finally:
        system.close()
    return 0


def _events(system: System, args: argparse.Namespace) -> int:
    records = list(system.history.read(after=args.after, limit=args.limit))
    if args.json:
        _json_out([r.to_dict() for r in records])
    elif records:
        print(events_table(records))
    else:
        print(f"no events after position {args.after}")
    return 0


def _task_request(system: System, args: argparse.Namespace) -> int:
    task_id = system.app.request_task(args.text, args.actor, mode=args.mode,
                                      persona=args.persona, environment=args.env, source="cli")
    print(task_id)
    return 0


def _task_plan(system: System, args: argparse.Namespace) -> int:
    source = sys.stdin if args.file == "-" else None
    try:
        text = source.read() if source else Path(args.file).read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidFileError(f"{args.file}: cannot read: {e.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidFileError(f"{args.file}:{e.lineno}: not valid JSON: {e.msg}") from None
    view = system.app.record_segmentation(args.task_id, document, segmenter="cli",
                                          actor=args.actor)
    print(task_text(view))
    return 0


def _show(kind: str) -> Callable[[System, argparse.Namespace], int]:
    def show(system: System, args: argparse.Namespace) -> int:
        app = system.app
        if kind == "task":
            view: Any = app.get_task(args.id)
            text = task_text(view)
        elif kind == "run":
            view = app.get_run(args.id)
            text = run_text(view, with_output=True)
        else:
            view = app.get_approval(args.id)
            text = approval_text(view, app.clock())
        if args.json:
            _json_out(view.to_dict())
        else:
            print(text)
        return 0

    return show


def _run_start(system: System, args: argparse.Namespace) -> int:
    run = system.app.start_run(args.task_id, actor=args.actor)
    if args.json:
        _json_out(run.to_dict())
    else:
        print(run_text(run))
    return 0


def _run_advance(system: System, args: argparse.Namespace) -> int:
    print(run_text(system.worker.advance(args.id), with_output=True))
    return 0


def _approve(system: System, args: argparse.Namespace) -> int:
    print(approval_text(system.app.cast_vote(args.id, args.actor), system.app.clock()))
    return 0


def _deny(system: System, args: argparse.Namespace) -> int:
    print(approval_text(system.app.deny_approval(args.id, args.actor, args.reason),
                        system.app.clock()))
    return 0


def _expire(system: System, args: argparse.Namespace) -> int:
    print(approval_text(system.app.expire_approval(args.id), system.app.clock()))
    return 0


def _cancel(system: System, args: argparse.Namespace) -> int:
    print(approval_text(system.app.cancel_approval(args.id, args.reason, actor=args.actor),
                        system.app.clock()))
    return 0


def _policy_check(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else load_settings().policy_file
    policy = load_policy(path)
    print(f"{path or 'built-in policy'}: ok — {len(policy.environments)} environments, "
          f"{len(policy.hosts)} hosts, {len(policy.people)} people, {len(policy.rules)} rules")
    return 0


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, exit code 2, like every other refusal."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="altlas",
        description="Event-sourced operations backend: requests become plans, plans pass "
        "their risk gates, runs are recorded as events.",
        epilog="Configuration comes from ALTLAS_* environment variables; see README.md.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(parent: Any, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    def actor(p: argparse.ArgumentParser) -> None:
        p.add_argument("--as", dest="actor", required=True, metavar="PERSON",
                       help="who is doing this (a person named in the policy)")

    def as_json(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print JSON instead of text")

    add(sub, "demo", _with_system(_demo), "run a scripted journey end to end on this store")
    p = add(sub, "serve", _serve, "start the HTTP API (OpenAPI schema at /docs)")
    p.add_argument("--host", help="address to bind (default ALTLAS_HTTP_HOST)")
    p.add_argument("--port", type=int, help="port to bind (default ALTLAS_HTTP_PORT)")
    p = add(sub, "events", _with_system(_events), "list recorded events in global order")
    p.add_argument("--after", type=int, default=0, metavar="POS",
                   help="start after this position")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="show at most N events")
    as_json(p)

    task = sub.add_parser("task", help="request, plan and show tasks").add_subparsers(
        dest="task_command", required=True, metavar="ACTION")
    p = add(task, "request", _with_system(_task_request), "ask for work; prints the task id")
    p.add_argument("text", help="what should be done")
    actor(p)
    p.add_argument("--env", help="target environment named in the policy")
    p.add_argument("--mode", default="normal", help="normal, explore, dream or chaos")
    p.add_argument("--persona", default="technical_expert", help="reply persona")
    p = add(task, "plan", _with_system(_task_plan), "record an .alt plan (JSON file, - = stdin)")
    p.add_argument("task_id", type=_uuid)
    p.add_argument("file")
    actor(p)
    p = add(task, "show", _with_system(_show("task")), "show a task and its plan")
    p.add_argument("id", type=_uuid)
    as_json(p)

    run = sub.add_parser("run", help="start, advance and show runs").add_subparsers(
        dest="run_command", required=True, metavar="ACTION")
    p = add(run, "start", _with_system(_run_start), "start a run; gated steps open approvals")
    p.add_argument("task_id", type=_uuid)
    actor(p)
    as_json(p)
    p = add(run, "advance", _with_system(_run_advance), "execute what the gates allow now")
    p.add_argument("id", type=_uuid)
    p = add(run, "show", _with_system(_show("run")), "show a run and its steps")
    p.add_argument("id", type=_uuid)
    as_json(p)

    p = add(sub, "approve", _with_system(_approve), "approve a gated step")
    p.add_argument("id", type=_uuid)
    actor(p)
    p = add(sub, "deny", _with_system(_deny), "deny a gated step, with a reason")
    p.add_argument("id", type=_uuid)
    actor(p)
    p.add_argument("--reason", required=True)
    approval = sub.add_parser("approval", help="show, expire or cancel approvals").add_subparsers(
        dest="approval_command", required=True, metavar="ACTION")
    p = add(approval, "show", _with_system(_show("approval")), "show an approval")
    p.add_argument("id", type=_uuid)
    as_json(p)
    p = add(approval, "expire", _with_system(_expire), "expire an approval whose time is up")
    p.add_argument("id", type=_uuid)
    p = add(approval, "cancel", _with_system(_cancel), "cancel an open approval")
    p.add_argument("id", type=_uuid)
    actor(p)
    p.add_argument("--reason", required=True)

    policy = sub.add_parser("policy", help="check policy files").add_subparsers(
        dest="policy_command", required=True, metavar="ACTION")
    p = add(policy, "check", _policy_check, "validate a policy file (default: the configured one)")
    p.add_argument("file", nargs="?")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (SettingsError, StartupError, PolicyFileError, InvalidFileError, DomainError) as e:
        print(f"altlas: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


class InvalidFileError(Exception):
    pass


if __name__ == "__main__":
    sys.exit(main())
