"""The `altlas` command line. A refused command prints one line on stderr and exits with 2;
a request whose run fails (or that cannot be planned) exits with 1."""

from __future__ import annotations

import argparse
import asyncio
import functools
import getpass
import hashlib
import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from uuid import UUID

from adapters.packaged import ModelUnavailableError
from adapters.policy_file import PolicyFileError, load_policy
from altlas import log_redaction
from altlas.bootstrap import StartupError, System, bootstrap
from altlas.follow import Followed, Follower
from altlas.progress import Progress
from altlas.render import events_table
from altlas.secret_store import known_values, load_secrets
from altlas.serving import background, start_fronts, start_inside
from altlas.settings import Settings, SettingsError, load_settings
from application.documents import DocumentError, alt_document, checked_plan, last_document
from application.history import UnreadableEventError
from application.i18n import t
from application.ports import VectorStoreUnavailableError
from application.presenters import PlanModel
from application.text import (
    approval_text,
    atlas_text,
    duel_text,
    in_charge,
    incident_text,
    incidents_text,
    leaderboard_text,
    models_text,
    plan_text,
    run_text,
    runbook_history_text,
    short,
    shown,
    training_text,
)
from application.use_cases import Filters, Page
from application.views import ApprovalView
from domain.approval import ApprovalSubject
from domain.errors import DomainError
from domain.policy import LOCALES
from domain.training import HYPERPARAMETERS
from projections.views import PROJECTIONS
from streams.audit import KafkaNotConfiguredError
from streams.kafka import KafkaUnavailableError

log = logging.getLogger("altlas")
LABELLED = Path(__file__).resolve().parents[1] / "tests" / "data"  # the labelled files

Handler = Callable[[argparse.Namespace], int]


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a time; use ISO 8601, e.g. 2026-11-23T14:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json_out(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def _locale(system: System, person: str | None) -> str:
    """The person's language from the policy, else the terminal's (LANG), else English."""
    if person is not None and person in system.policy.people:
        return system.policy.locale_of(person, os.environ.get("LANG"))
    language = os.environ.get("LANG", "en").split("_")[0].split(".")[0].lower()
    return language if language in LOCALES else "en"


def _with_system(body: Callable[[System, argparse.Namespace], int]) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        system = bootstrap(load_settings())
        try:
            who = getattr(args, "actor", None)
            if who is not None:
                system.use_cases().access.person(who)
            args.locale = _locale(system, who)
            return body(system, args)
        finally:
            system.close()

    return handler


def _demo(system: System, _: argparse.Namespace) -> int:
    from altlas.demo import run_demo

    return run_demo(system, sys.stdout)


def _stop_on_signals() -> threading.Event:
    """SIGINT or SIGTERM ask long-running work to finish what it is doing and stop."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _serve(system: System, args: argparse.Namespace) -> int:
    import uvicorn

    settings = system.settings
    stop = threading.Event()
    threads = start_inside(system, stop, worker=_with_worker(system, args.worker))
    threads.append(_register_packaged(system))
    similar = system.similar()  # its model loads while the API starts answering
    threads.append(background(similar.warm, "similar-warm-up"))
    if not system.embedded and not args.no_relay:
        relay = system.relay()
        threads.append(background(lambda: relay.run(stop, settings.poll_interval_ms / 1000,
                                                    wake=system.app.recorded), "relay"))
    fronts = start_fronts(system, stop)
    threads += fronts.threads
    discord_bot = fronts.discord
    if fronts.slack is not None:
        log.info("serve: Slack events at POST /slack/events")
    if discord_bot is not None:
        token = settings.discord_token.get_secret_value()  # type: ignore[union-attr]
        threads.append(background(lambda: asyncio.run(discord_bot.start(token)), "discord"))
    api = system.api(catch_up=not system.embedded, chat=fronts.chat, slack=fronts.slack)
    try:
        # log_config=None: uvicorn's records go through the same (redacted) handler
        uvicorn.run(api, host=args.host or settings.http_host,
                    port=args.port or settings.http_port, log_level=settings.log_level.lower(),
                    log_config=None)
    finally:
        stop.set()
        if discord_bot is not None and not discord_bot.is_closed():
            asyncio.run_coroutine_threadsafe(discord_bot.close(), discord_bot.loop).result(10)
        for thread in threads:
            thread.join(timeout=settings.worker_stop_seconds + 10)
    return 0


def _chat_process(system: System, front: str, worker: bool) -> int:
    """`altlas slack` and `altlas discord`: one front in its own process."""
    settings = system.settings
    stop = threading.Event()
    threads = start_inside(system, stop, worker=_with_worker(system, worker))
    threads.append(_register_packaged(system))
    fronts = start_fronts(system, stop)
    threads += fronts.threads
    try:
        if front == "discord":
            if fronts.discord is None:
                raise StartupError("ALTLAS_DISCORD_TOKEN is not set")
            fronts.discord.run(
                settings.discord_token.get_secret_value(),  # type: ignore[union-attr]
                log_handler=None)
        else:
            if fronts.slack is None or settings.slack_app_token is None:
                raise StartupError("Socket Mode needs ALTLAS_SLACK_BOT_TOKEN, "
                                   "ALTLAS_SLACK_SIGNING_SECRET and ALTLAS_SLACK_APP_TOKEN")
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(fronts.slack,
                                             settings.slack_app_token.get_secret_value())
            asyncio.run(handler.start_async())  # type: ignore[no-untyped-call]  # bolt's own
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=settings.worker_stop_seconds + 10)
    return 0


def _with_worker(system: System, asked: bool) -> bool:
    """A worker inside on the embedded default (or when asked); else `altlas worker`."""
    if system.local_store or asked:
        return True
    log.info("no worker in this process: run `altlas worker` beside it")
    return False


def _discord(system: System, args: argparse.Namespace) -> int:
    return _chat_process(system, "discord", args.worker)


def _slack(system: System, args: argparse.Namespace) -> int:
    return _chat_process(system, "slack", args.worker)


def _worker(system: System, args: argparse.Namespace) -> int:
    stop = _stop_on_signals()
    worker = system.worker()
    if args.until_quiet:
        worker.until_quiet(stop)
        return 0
    threads = start_inside(system, stop, worker=False)
    threads.append(_register_packaged(system))
    log.info("worker %s: on %s; Ctrl-C or SIGTERM stops it after its running steps "
             "(up to %gs)", worker.id, "SQLite" if system.local_store else "PostgreSQL",
             system.settings.worker_stop_seconds)
    worker.run(stop)
    for thread in threads:
        thread.join(timeout=10)
    return 0


def _relay(system: System, args: argparse.Namespace) -> int:
    relay = system.relay()
    if args.once:
        total = 0
        try:
            while sent := relay.run_once():
                total += sent
        except KafkaUnavailableError as e:
            raise StartupError(f"{e}; {total} event(s) were published, the rest wait in the "
                               "store: run it again when the broker is back") from None
        checkpoint = relay.checkpoint_now()
        at = f"; checkpoint at position {checkpoint.position}" if checkpoint else ""
        print(f"published {total} event(s) to {system.settings.events_topic}{at}")
        return 0
    stop = _stop_on_signals()
    log.info("relay: publishing to %s; Ctrl-C stops", system.settings.events_topic)
    system.wake_on_other_processes()
    relay.run(stop, system.settings.poll_interval_ms / 1000, wake=system.app.recorded)
    log.info("relay: stopped at position %d", relay.state.load().position)
    return 0


def _project(system: System, args: argparse.Namespace) -> int:
    names = args.projection or None
    if args.source == "store":
        feed = system.store_feed(names)
        if args.once:
            print(f"applied {feed.catch_up()} event(s) from the store")
            return 0
        log.info("project: feeding %s from the event store; Ctrl-C stops",
                 ", ".join(r.name for r in feed.runners))
        system.wake_on_other_processes()
        feed.run(_stop_on_signals(), system.settings.poll_interval_ms / 1000,
                 system.app.recorded)
        return 0
    feeds = system.kafka_feeds(names)
    stop = _stop_on_signals()
    log.info("project: feeding %s from %s; Ctrl-C stops",
             ", ".join(f.runner.name for f in feeds), system.settings.events_topic)
    threads = [background(functools.partial(f.run, stop), f"kafka-{f.runner.name}")
               for f in feeds]
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for thread in threads:
            thread.join(timeout=30)
        for f in feeds:
            f.close()
    return 0


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return n


def _rebuild(system: System, args: argparse.Namespace) -> int:
    from altlas.rebuild import RebuildError, default_workers, rebuild

    names = args.projection or None
    workers = args.workers or default_workers(system)
    if workers > 1 and system.views().dialect.name != "postgresql":
        raise StartupError("--workers above 1 needs the views on PostgreSQL (SQLite takes "
                           "one writer at a time); leave --workers out")
    progress = Progress("rebuild", system.history.last_position())
    try:
        total = rebuild(system, names, workers, progress)
    except RebuildError as e:
        raise StartupError(str(e)) from None
    finally:
        progress.close()
    shown = ", ".join(names or PROJECTIONS)
    by = f" by {workers} processes" if workers > 1 else ""
    print(f"rebuilt {shown} from {total} event(s){by}")
    return 0


# -- the audit ---------------------------------------------------------------------------

def _audit_verify(system: System, args: argparse.Namespace) -> int:
    progress = Progress("verify", None)
    try:
        reports = system.auditor().reports(kafka=args.kafka, progress=progress)
    except KafkaNotConfiguredError as e:
        raise StartupError(str(e)) from None
    finally:
        progress.close()
    if args.json:
        _json_out([r.to_dict() for r in reports])
    else:
        for report in reports:
            print(report.summary())
            for problem in report.problems:
                print(f"  - {problem}")
            for note in report.notes:
                print(f"  note: {note}")
    return 0 if all(r.ok for r in reports) else 1


def _audit_accept_loss(args: argparse.Namespace) -> int:
    """After restoring what could be restored: the views are rebuilt from the store as it
    is, and the checkpoints of the lost events are set aside with who accepted it and when,
    for every later `audit verify` to show. The one command the start-up check lets by."""
    system = bootstrap(load_settings(), check_store=False)
    try:
        if not system.embedded:
            raise StartupError("accept-loss rebuilds the views from the store; with Kafka, "
                               "stop the consumers, restore the store, then rebuild the views "
                               "from the topic")
        problem = system.store_problem()
        if problem is None:
            print("nothing to accept: the event store holds everything the views and the "
                  "checkpoints beside them saw")
            return 0
        if problem.startswith("cannot read"):
            raise StartupError(problem)
        if not args.yes:
            raise StartupError(f"{problem}; nothing was changed: with --yes the views are "
                               "rebuilt from the store as it is and the acceptance recorded")
        who = f"{getpass.getuser()}@{socket.gethostname()}"
        done = system.auditor().accept_loss(who, args.reason)
        runners = system.runners()
        for runner in runners:
            runner.reset()
        rebuilt = system.store_feed().catch_up()
    finally:
        system.close()
    if args.json:
        _json_out({**done, "rebuilt": rebuilt})
    else:
        print(f"accepted: {done.get('note', 'nothing was lost')}")
        print(f"set aside {done.get('set_aside', 0)} checkpoint(s); rebuilt "
              f"{', '.join(r.name for r in runners)} from {rebuilt} event(s); "
              "`altlas audit verify` shows the acceptance from now on")
    return 0


def _audit_replay(system: System, args: argparse.Namespace) -> int:
    auditor = system.auditor()
    into = auditor.replay_target(args.until, args.into)  # a refused target: one line
    progress = Progress("replay", system.history.last_position())
    try:
        done = auditor.replay(args.until, into, progress)
    finally:
        progress.close()
    if args.json:
        _json_out(done)
    else:
        print(f"replayed {done['replayed']} event(s) up to {done['until']} into {done['into']}")
    return 0


def _audit_export(system: System, args: argparse.Namespace) -> int:
    progress = Progress("export", system.history.last_position())
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    written = 0
    try:
        for line in system.auditor().export_lines(args.until):
            out.write(line + "\n")
            written += 1
            progress(1)
    finally:
        progress.close()
        if out is not sys.stdout:
            out.close()
    if args.output != "-":
        print(f"exported {written} event(s) to {args.output}")
    return 0


# -- the .atlas ---------------------------------------------------------------------------

def _atlas_show(system: System, args: argparse.Namespace) -> int:
    query = " ".join(args.query) or None
    found = system.use_cases().atlas_patterns(None, query)
    if args.json:
        _json_out(found)
    else:
        print(atlas_text(found, args.locale, query=query, limit=args.limit))
    return 0


def _atlas_similar(system: System, args: argparse.Namespace) -> int:
    found = system.use_cases().similar_runs(None, " ".join(args.request), args.k,
                                            environment=args.environment, outcome=args.outcome)
    if args.json:
        _json_out([f.to_dict() for f in found])
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


# -- the leaderboards ----------------------------------------------------------------------

def _leaderboard_show(system: System, args: argparse.Namespace) -> int:
    uc = system.use_cases()
    if args.runbook:
        query = " ".join(args.runbook)
        found, chart = (uc.runbook_chart(None, query) if args.chart
                        else (uc.runbook_history(None, query), None))
        if args.json:
            _json_out(found)
        else:
            print(runbook_history_text(found, args.locale))
    else:
        board = uc.leaderboard(None, args.method)
        if args.json:
            _json_out(board)
        else:
            print(leaderboard_text(board, args.locale, limit=args.limit))
        chart = uc.chart(None, method=args.method) if args.chart else None
    if chart is not None:
        _write_chart(args.chart, chart)
    return 0


def _write_chart(path: str, png: bytes) -> None:
    try:
        Path(path).write_bytes(png)
    except OSError as e:
        raise StartupError(f"cannot write {path}: {e.strerror}") from None
    print(f"chart written to {path}", file=sys.stderr)


def _leaderboard_match(system: System, args: argparse.Namespace) -> int:
    match_id = system.use_cases().record_match(args.actor, args.a, args.b, args.outcome,
                                               args.task)
    print(f"match {short(match_id)} recorded: {args.a} vs {args.b}, {args.outcome}")
    return 0


# -- incidents ---------------------------------------------------------------------------

def _incidents(system: System, args: argparse.Namespace) -> int:
    uc = system.use_cases()
    if args.incident:
        found = uc.incident(None, args.incident)
        png = uc.incident_chart_of(UUID(found["id"]))[1] if args.chart else None
        if args.json:
            _json_out(found)
        else:
            print(incident_text(found, args.locale, limit=args.limit))
        if png is not None:
            _write_chart(args.chart, png)
        return 0
    if args.chart:
        raise StartupError("--chart draws one incident: give its id")
    rows = uc.incidents(None, status=None if args.status == "all" else args.status,
                        since=args.since, limit=args.limit)
    if args.json:
        _json_out(rows)
    else:
        print(incidents_text(rows, args.locale, every=args.status == "all", limit=args.limit))
    return 0


# -- models ------------------------------------------------------------------------------

def _models_list(system: System, args: argparse.Namespace) -> int:
    models = system.use_cases().models
    models.register_packaged()  # a first start registers what is installed
    catalog = models.catalog(None)
    if args.json:
        _json_out(catalog)
    else:
        print(models_text(catalog, args.locale))
    return 0


def _models_add(system: System, args: argparse.Namespace) -> int:
    added = system.use_cases().models.add(args.actor, args.path, args.name)
    print(f"registered {added['name']}: {added['architecture']}, {added['parameters']} "
          f"parameters, {added['quantization']}, context {added['context_length']}, sha256 "
          f"{added['sha256'][:12]}… — `altlas models activate {added['name']}` asks that it "
          "plan")
    return 0


def _models_activate(system: System, args: argparse.Namespace) -> int:
    approval = system.use_cases().models.activate(args.actor, args.name, args.reason or "")
    print(f"approval {short(approval.id)} opened: once someone else approves it "
          f"(`altlas approve {short(approval.id)} --as PERSON`), {args.name} plans")
    return 0


def _models_promote(system: System, args: argparse.Namespace) -> int:
    models = system.use_cases().models
    approval = models.promote(args.actor, args.adapter, args.reason or "")
    name = models.catalog(None)["pending"]["model"]
    print(t(args.locale, "models.promote_asked", adapter=name, approval=short(approval.id)))
    return 0


def _models_rollback(system: System, args: argparse.Namespace) -> int:
    models = system.use_cases().models
    approval = models.rollback(args.actor, args.reason or "")
    back = models.catalog(None)["rollback_to"]
    print(t(args.locale, "models.rollback_asked", to=in_charge(back),
            approval=short(approval.id)))
    return 0


def _models_evaluate(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    models = system.use_cases().models
    models.access.check(args.actor, "train")
    ident = models.training_id(args.id)
    file = Path(args.file) if args.file else system.settings.evaluation_file
    sample = system.settings.evaluation_sample if args.sample is None else args.sample
    training.evaluate(system, args.actor, ident, file, sample)
    print(training_text(models.training(None, str(ident)), args.locale))
    return 0


def _arena_ask(system: System, args: argparse.Namespace) -> int:
    arena = system.use_cases().arena
    duel = arena.ask(args.actor, " ".join(args.request), a=args.a, b=args.b,
                     environment=args.environment, task_ref=args.task)
    if system.local_store:  # the embedded default: plan both here and now
        system.worker().until_quiet()
        duel = arena.duel(None, duel["id"])
    if args.json:
        _json_out(duel)
    else:
        print(duel_text(duel, args.locale))
        print(f"duel {duel['id']}: `altlas arena vote {duel['id'][:8]}… a|b|tie|both_bad "
              "--as PERSON`", file=sys.stderr)
    return 0


def _arena_show(system: System, args: argparse.Namespace) -> int:
    duel = system.use_cases().arena.duel(None, args.id)
    if args.json:
        _json_out(duel)
    else:
        print(duel_text(duel, args.locale))
    return 0


def _arena_vote(system: System, args: argparse.Namespace) -> int:
    duel = system.use_cases().arena.vote(args.actor, args.id, args.verdict)
    print(duel_text(duel, args.locale))
    return 0


def _models_dataset(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    dataset = training.training_set(system, args.actor, _labelled_file(args.dev),
                                    _labelled_file(args.test))
    out = sys.stdout if args.output == "-" else None
    try:
        with out or Path(args.output).open("w", encoding="utf-8") as f:
            f.writelines(dataset.jsonl())
    except OSError as e:
        raise StartupError(f"cannot write {args.output}: {e.strerror}") from None
    counts = ", ".join(f"{source} {n}" for source, n in dataset.by_source().items())
    left = ", ".join(f"{n} {why}" for why, n in sorted(dataset.left_out.items())) or "none"
    print(f"{len(dataset.examples)} example(s) ({counts}); left out: {left}", file=sys.stderr)
    return 0


def _labelled_file(path: str) -> dict[str, Any]:
    from altlas import training

    return training.read_labelled(Path(path))


def _models_train(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    chosen = {name: getattr(args, name) for name in HYPERPARAMETERS
              if getattr(args, name) is not None}
    approval, examples = training.request(system, args.actor, args.base, chosen,
                                          _labelled_file(args.dev), _labelled_file(args.test))
    print(f"training of a LoRA adapter on {args.base} from {examples} example(s) asked: "
          f"approval {short(approval.id)} decides (`altlas approve {short(approval.id)} --as "
          "PERSON`, someone else); `altlas models training "
          f"{approval.task_id[:8]}` follows it")
    return 0


def _models_train_run(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    return training.run(system, UUID(args.id))


def _models_training(system: System, args: argparse.Namespace) -> int:
    cases = system.use_cases()
    found, png = (cases.training_chart(None, args.id) if args.chart
                  else (cases.models.training(None, args.id), None))
    if png is not None:
        _write_chart(args.chart, png)
    if args.evaluation_chart:
        _write_chart(args.evaluation_chart, cases.evaluation_chart(None, args.id)[1])
    if args.json:
        _json_out(found)
    else:
        print(training_text(found, args.locale))
    return 0


def _register_packaged(system: System) -> threading.Thread:
    """At start, in the background: loading a header takes seconds the first time."""
    def register() -> None:
        if not system.settings.register_packaged:
            return
        try:
            added = system.use_cases().models.register_packaged()
        except Exception:
            log.exception("could not register the packaged models")
            return
        if added:
            log.info("models: registered %s", ", ".join(added))

    return background(register, "models")


# -- listings ----------------------------------------------------------------------------

def _timeline(system: System, args: argparse.Namespace) -> int:
    rows = system.use_cases().timeline(
        None, as_of=args.as_of, actor=args.actor, aggregate_id=args.aggregate,
        type_name=args.type, since=args.since, until=args.until, limit=args.limit)
    if args.json:
        _json_out(rows)
        return 0
    for row in rows:
        print(f"{row['time'][:23]}  {row['type']:<17} {row['aggregate_type']:<8} "
              f"{row['aggregate_id'][:8]} v{row['version']:<3} {row['actor']}")
    if not rows:
        print(t(args.locale, "list.none"))
    return 0


def _approvals(system: System, args: argparse.Namespace) -> int:
    rows = system.use_cases().open_approvals(None, args.as_of)
    if args.json:
        _json_out(rows)
        return 0
    for row in rows:
        votes = ", ".join(row["votes"]) or t(args.locale, "approval.nobody")
        print(t(args.locale, "approvals.row", id=short(row["approval_id"]), risk=row["risk"],
                environment=row["environment"], step=row["step_id"], votes=votes,
                remaining=row["remaining"], minutes=row["seconds_left"] // 60,
                request=shown(row.get("request") or row["reason"])))
    if not rows:
        print(t(args.locale, "approvals.empty"))
    return 0


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(args.status, args.requester, args.since, args.limit, args.cursor)


def _print_page(page: Page, args: argparse.Namespace, line: Callable[[dict[str, Any]], str]
                ) -> None:
    if args.json:
        _json_out(asdict(page))
        return
    for row in page.items:
        print(line(row))
    if not page.items:
        print(t(args.locale, "list.none"))
    elif page.next:
        print(t(args.locale, "list.more", cursor=page.next))


def _task_list(system: System, args: argparse.Namespace) -> int:
    page = system.use_cases().tasks(None, _filters(args), args.as_of)
    _print_page(page, args, lambda r: (
        f"{short(r['task_id'])}  {r['requested_at'][:19]}  {r['status']:<10} "
        f"{short(r['run_id']) if r['run_id'] else '-':<8} {r['outcome'] or '-':<9} "
        f"{r['requester']:<8} {shown(r['request'])}"))
    return 0


def _run_list(system: System, args: argparse.Namespace) -> int:
    page = system.use_cases().runs(None, _filters(args), args.as_of)
    _print_page(page, args, lambda r: (
        f"{short(r['run_id'])}  {r['started_at'][:19]}  {r['status']:<10} "
        f"{r['outcome'] or '-':<9} {r['requester']:<8} {shown(r['request'])}"))
    return 0


def _events(system: System, args: argparse.Namespace) -> int:
    records = list(system.history.read(after=args.after, limit=args.limit))
    if args.json:
        _json_out([r.to_dict() for r in records])
    elif records:
        print(events_table(system.app.privacy.reveal(records)))
    else:
        print(f"no events after position {args.after}")
    return 0


# -- asking for work ---------------------------------------------------------------------

def _read_json(name: str) -> Any:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidFileError(f"{name}: cannot read: {e.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidFileError(f"{name}:{e.lineno}: not valid JSON: {e.msg}") from None


def _report(system: System, followed: Followed, args: argparse.Namespace) -> int:
    """After following a request: JSON of where it stands, or what still waits; exit 1 if
    it could not be planned or its run failed."""
    if args.json:
        out: dict[str, Any] = {"task": followed.task.to_dict()}
        if followed.run is not None:
            out["run"] = followed.run.to_dict()
        _json_out(out)
    elif followed.run is not None and followed.run.outcome is None:
        for step in followed.run.steps:
            if step.approval_id and step.status == "pending":
                approval = system.app.get_approval(UUID(step.approval_id))
                print(t(args.locale, "cli.waiting", step=step.id,
                        remaining=approval.remaining, id=short(approval.id)))
    return 1 if followed.failed else 0


def _follower(system: System, args: argparse.Namespace) -> Follower:
    return Follower(system, args.locale, None if args.json else print)


def _do(system: System, args: argparse.Namespace) -> int:
    after = system.history.last_position()
    task = system.use_cases().request_work(
        args.actor, args.text, mode=args.mode, persona=args.persona, environment=args.env,
        chaos_level=args.chaos_level, source="cli")
    if not args.json:
        print(t(args.locale, "cli.recorded", id=short(task.id)))
    if args.no_wait:
        if args.json:
            _json_out({"task": task.to_dict()})
        return 0
    return _report(system, _follower(system, args).request(UUID(task.id), after), args)


def _task_request(system: System, args: argparse.Namespace) -> int:
    task = system.use_cases().request_work(args.actor, args.text, mode=args.mode,
                                           persona=args.persona, environment=args.env,
                                           source="cli")
    print(task.id)
    return 0


def _task_answer(system: System, args: argparse.Namespace) -> int:
    after = system.history.last_position()
    task = system.use_cases().answer(args.actor, args.task_id, args.answer)
    return _report(system, _follower(system, args).request(UUID(task.id), after), args)


def _task_plan(system: System, args: argparse.Namespace) -> int:
    task = system.use_cases().record_plan(args.actor, args.task_id,
                                          checked_plan(_read_json(args.file)))
    print(plan_text(PlanModel.of(task), args.locale))
    return 0


def _alt_validate(system: System, args: argparse.Namespace) -> int:
    document = _read_json(args.file)
    try:
        plan = checked_plan(document)
        _, gates = system.app.check_plan(plan, document.get("mode", "normal"))
    except DocumentError as e:
        for problem in e.problems:
            print(f"{args.file}: {problem}")
        return 1
    except DomainError as e:
        print(f"{args.file}: {e}")
        return 1
    print(f"{args.file}: valid .alt plan with {len(gates)} step(s)")
    for gate in gates:
        needed = f" ({gate['required']} approval(s))" if gate["gate"] == "approval" else ""
        print(f"  {gate['step_id']:<4} {gate['risk']:<11} {gate['gate']}{needed}: {gate['reason']}")
    return 0


def _alt_submit(system: System, args: argparse.Namespace) -> int:
    document = _read_json(args.file)
    plan = checked_plan(document)
    after = system.history.last_position()
    task = system.use_cases().submit_plan(
        args.actor, plan,
        request=document.get("request") or f"hand-written plan {Path(args.file).name}",
        mode=document.get("mode", "normal"), persona=document.get("persona", "technical_expert"),
        environment=document.get("environment"), chaos_level=document.get("chaos_level"))
    if args.run:
        return _report(system, _follower(system, args).request(UUID(task.id), after), args)
    if args.json:
        _json_out(task.to_dict())
    else:
        print(plan_text(PlanModel.of(task), args.locale))
    return 0


def _task_export(system: System, args: argparse.Namespace) -> int:
    _json_out(alt_document(system.use_cases().task(None, args.id)))
    return 0


def _run_export(system: System, args: argparse.Namespace) -> int:
    run = system.use_cases().run(None, args.id)
    _json_out(last_document(run, system.app.get_task(UUID(run.task_id))))
    return 0


def _show(kind: str) -> Callable[[System, argparse.Namespace], int]:
    def show(system: System, args: argparse.Namespace) -> int:
        uc = system.use_cases()
        if kind == "task":
            view: Any = uc.task(None, args.id)
            text = (t(args.locale, "status.task", id=view.id, status=view.status,
                      request=shown(view.request), requester=view.requester) + "\n"
                    + plan_text(PlanModel.of(view), args.locale))
        elif kind == "run":
            view = uc.run(None, args.id)
            text = run_text(uc.run_model(UUID(view.id)), args.locale, with_output=True)
        else:
            view = uc.approval(None, args.id)
            text = approval_text(view, args.locale, system.app.clock())
        if args.json:
            _json_out(view.to_dict())
        else:
            print(text)
        return 0

    return show


def _run_start(system: System, args: argparse.Namespace) -> int:
    run = system.use_cases().start_run(args.actor, args.task_id)
    if args.json:
        _json_out(run.to_dict())
    else:
        print(run_text(system.use_cases().run_model(UUID(run.id)), args.locale))
    return 0


def _run_confirm(system: System, args: argparse.Namespace) -> int:
    run = system.use_cases().confirm_step(args.actor, args.run_id, args.step_id, args.note)
    if args.json:
        _json_out(run.to_dict())
    else:
        print(run_text(system.use_cases().run_model(UUID(run.id)), args.locale))
    return 0


def _decided(system: System, args: argparse.Namespace, act: Callable[[], Any]) -> int:
    """A vote or a denial; if it decided the approval, follow the run it lets move on."""
    after = system.history.last_position()
    view = act()
    if args.json:
        _json_out(view.to_dict())
    else:
        print(approval_text(view, args.locale, system.app.clock()))
    if view.status != "open" and view.subject == ApprovalSubject.STEP:
        _follower(system, args).run(UUID(view.task_id), after)
    elif view.status != "open":  # the installation's own: the reactions settle it
        _follower(system, args).settle()
        if view.status == "granted" and not args.json:
            print(_granted(system, view))
    return 0


def _granted(system: System, view: ApprovalView) -> str:
    """What a granted approval without a run did: a model plans, a training starts, or a
    person is forgotten."""
    if view.subject == ApprovalSubject.REGISTRY:
        catalog = system.use_cases().models.catalog(None)
        now = in_charge({"model": catalog["active"], "adapter": catalog["adapter"]})
        return f"{now} plans from now on (`altlas models list`)"
    if view.subject == ApprovalSubject.TRAINING:
        return (f"the training worker starts: `altlas models training {view.task_id[:8]}` "
                "follows it")
    return ("forgotten: their key is destroyed, so their name and what they wrote read as "
            "erased everywhere; the history still verifies")


def _approve(system: System, args: argparse.Namespace) -> int:
    return _decided(system, args, lambda: system.use_cases().vote(args.actor, args.id))


def _deny(system: System, args: argparse.Namespace) -> int:
    return _decided(system, args,
                    lambda: system.use_cases().deny(args.actor, args.id, args.reason))


def _expire(system: System, args: argparse.Namespace) -> int:
    return _decided(system, args,
                    lambda: system.use_cases().expire_approval(args.actor, args.id))


def _cancel(system: System, args: argparse.Namespace) -> int:
    return _decided(system, args, lambda: system.use_cases().cancel_approval(
        args.actor, args.id, args.reason))


# -- privacy -----------------------------------------------------------------------------

def _privacy_forget(system: System, args: argparse.Namespace) -> int:
    view = system.use_cases().forget(args.actor, args.person, args.reason)
    if args.json:
        _json_out(view.to_dict())
        return 0
    approvers = ", ".join(p for p in sorted(view.eligible) if p not in view.excluded)
    print(f"asked to forget {args.person}: approval {short(view.id)} needs "
          f"{view.required} vote from one of {approvers}; they run "
          f"`altlas approve {short(view.id)} --as PERSON` (or deny it) within "
          f"{max(int((view.expires_at - system.app.clock()).total_seconds()) // 60, 0)} min")
    return 0


def _privacy_export(system: System, args: argparse.Namespace) -> int:
    records = system.use_cases().personal_data(args.actor, args.person)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    written = 0
    try:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            written += 1
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output != "-":
        print(f"exported {written} event(s) about {args.person} to {args.output}")
    return 0


def _token_new(args: argparse.Namespace) -> int:
    """A new API token: shown once; the policy keeps only its sha256."""
    policy = load_policy(load_settings().policy_file)
    if args.person not in policy.people:
        raise InvalidFileError(f"{args.person!r} is not in the policy's people; add them first")
    token = f"altlas_{secrets.token_urlsafe(32)}"
    digest = hashlib.sha256(token.encode()).hexdigest()
    print(f"token for {args.person} (shown once; keep it secret):\n  {token}\n"
          f"add this to the policy, under api_tokens:\n  {digest}: {args.person}")
    return 0


def _key_new(_: argparse.Namespace) -> int:
    """A new key for encryption at rest, made by the event store library's own cipher."""
    from eventsourcing.cryptography import AESCipher

    key = AESCipher.create_key(32)
    print("a key to encrypt the stored events (shown once; keep it secret, and keep a copy: "
          "without it the history cannot be read)\nset it in the environment of every altlas "
          f"process before the store's first event:\n  ALTLAS_CIPHER_KEY={key}")
    return 0


def _policy_check(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else load_settings().policy_file
    policy = load_policy(path)
    print(f"{path or 'built-in policy'}: ok — {len(policy.environments)} environments, "
          f"{len(policy.hosts)} hosts, {len(policy.services)} services, "
          f"{len(policy.people)} people, {len(policy.rules)} rules")
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
        epilog="Configuration comes from ALTLAS_* environment variables; see README.md. Ids "
        "may be given whole or as any unique beginning of one, as listings show them.",
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

    def as_of(p: argparse.ArgumentParser) -> None:
        p.add_argument("--as-of", type=_time, metavar="TIME",
                       help="as it was at this time (the views replayed up to it, then kept)")

    def listing(p: argparse.ArgumentParser, statuses: str) -> None:
        p.add_argument("--status", help=statuses)
        p.add_argument("--requester", metavar="PERSON")
        p.add_argument("--since", type=_time, metavar="TIME")
        p.add_argument("--limit", type=int, default=20, metavar="N")
        p.add_argument("--cursor", metavar="CURSOR", help="the next page, as the last printed")
        as_of(p)
        as_json(p)

    def request_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--env", help="target environment named in the policy")
        p.add_argument("--mode", default="normal", choices=["normal", "explore", "dream", "chaos"])
        p.add_argument("--persona", default="technical_expert")

    add(sub, "demo", _with_system(_demo), "run a complete journey end to end on this store")
    p = add(sub, "do", _with_system(_do), "ask for work in plain words; altlas plans it, gates "
            "it and runs what may run, and this prints each step as it finishes")
    p.add_argument("text", help="e.g. \"check disk and load on the altlas host\"")
    actor(p)
    request_options(p)
    p.add_argument("--chaos-level", type=int, metavar="1-10", help="with --mode chaos")
    p.add_argument("--no-wait", action="store_true",
                   help="record the request and return; the workers take it from there")
    as_json(p)
    p = add(sub, "worker", _with_system(_worker), "react to events and run steps until "
            "stopped; start several on one PostgreSQL store to share the work")
    p.add_argument("--until-quiet", action="store_true",
                   help="stop when nothing is left to do now")
    alt = sub.add_parser("alt", help="check and submit hand-written .alt plans").add_subparsers(
        dest="alt_command", required=True, metavar="ACTION")
    p = add(alt, "validate", _with_system(_alt_validate),
            "check an .alt file against its schema and the policy; exit 1 if it is not valid")
    p.add_argument("file")
    p = add(alt, "submit", _with_system(_alt_submit),
            "record a hand-written plan as a task; it passes the same gates and runs")
    p.add_argument("file")
    actor(p)
    p.add_argument("--run", action="store_true",
                   help="wait for its run and print each step as it finishes")
    as_json(p)
    p = add(sub, "serve", _with_system(_serve), "start the HTTP API (OpenAPI schema at /docs); "
            "embeds the relay with Kafka, the store feed and a worker on the embedded default")
    p.add_argument("--host", help="address to bind (default ALTLAS_HTTP_HOST)")
    p.add_argument("--port", type=int, help="port to bind (default ALTLAS_HTTP_PORT)")
    p.add_argument("--no-relay", action="store_true",
                   help="with Kafka, leave publishing to a separate `altlas relay`")
    p.add_argument("--worker", action="store_true",
                   help="with PostgreSQL, run a worker inside too")
    p = add(sub, "discord", _with_system(_discord), "run the Discord bot until stopped")
    p.add_argument("--worker", action="store_true", help="with PostgreSQL, run a worker too")
    p = add(sub, "slack", _with_system(_slack),
            "run the Slack app over Socket Mode until stopped (HTTP mode is in `serve`)")
    p.add_argument("--worker", action="store_true", help="with PostgreSQL, run a worker too")
    p = add(sub, "relay", _with_system(_relay), "publish recorded events to Kafka until stopped")
    p.add_argument("--once", action="store_true", help="publish what is there, then exit")
    p = add(sub, "project", _with_system(_project), "feed the views until stopped")
    p.add_argument("--from", dest="source", choices=["store", "kafka"], default="store",
                   help="the notification log (embedded) or the Kafka topic")
    p.add_argument("--projection", action="append", choices=sorted(PROJECTIONS),
                   help="only this projection (repeatable; default all)")
    p.add_argument("--once", action="store_true", help="(store) catch up, then exit")
    atlas = sub.add_parser("atlas", help="the .atlas knowledge base").add_subparsers(
        dest="atlas_command", required=True, metavar="ACTION")
    p = add(atlas, "show", _with_system(_atlas_show),
            "patterns of plans that ran: runs, success rate, durations, failures")
    p.add_argument("query", nargs="*", help="words the pattern, intent or requests contain")
    p.add_argument("--limit", type=_positive, default=20, metavar="N")
    as_json(p)
    p = add(atlas, "similar", _with_system(_atlas_similar),
            "past runs whose requests are nearest in meaning, with their plans")
    p.add_argument("request", nargs="+", help="a request, in plain words")
    p.add_argument("-k", type=_positive, default=3, help="how many (default 3)")
    p.add_argument("--environment", help="only runs in this environment")
    p.add_argument("--outcome", choices=["succeeded", "failed", "cancelled"])
    as_json(p)
    add(atlas, "reindex", _with_system(_atlas_reindex),
        "embed every completed run again (after changing ALTLAS_EMBEDDINGS or the store)")
    p = add(atlas, "export", _with_system(_atlas_export),
            "write the .atlas document (altlas/schemas/atlas.schema.json)")
    p.add_argument("--output", default="-", metavar="FILE", help="default: standard output")
    p = add(atlas, "import", _with_system(_atlas_import),
            "merge another installation's .atlas export (recorded as an event)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--source", help="where it came from (default: the document's source)")
    actor(p)
    board = sub.add_parser("leaderboard", help="runbooks, planners and their ratings"
                           ).add_subparsers(dest="leaderboard_command", required=True,
                                            metavar="ACTION")
    p = add(board, "show", _with_system(_leaderboard_show),
            "runbooks surest first, planners by their plans' runs, ratings from matches")
    p.add_argument("runbook", nargs="*", help="words of a runbook: its success over time")
    p.add_argument("--method", choices=["elo", "bt"], default="elo",
                   help="how planners are rated (default elo)")
    p.add_argument("--limit", type=_positive, default=10, metavar="N")
    p.add_argument("--chart", metavar="FILE.png",
                   help="also draw the ratings, or the runbook over time, as a PNG")
    as_json(p)
    p = add(board, "match", _with_system(_leaderboard_match),
            "record which of two planners' plans was better (approvers)")
    p.add_argument("a", help="a planner: a segmenter or model, e.g. local:qwen")
    p.add_argument("b", help="the other planner")
    p.add_argument("outcome", choices=["a", "b", "tie", "both_bad"])
    p.add_argument("--task", help="the request both planned")
    actor(p)
    models = sub.add_parser("models", help="the GGUF models altlas plans with").add_subparsers(
        dest="models_command", required=True, metavar="ACTION")
    p = add(models, "list", _with_system(_models_list),
            "registered models: architecture, size, quantization; which one plans")
    as_json(p)
    p = add(models, "add", _with_system(_models_add),
            "register a GGUF file from its header (it plans nothing until activated)")
    p.add_argument("path", metavar="PATH", help="the .gguf file")
    p.add_argument("--name", help="its name in the registry (default: from the file name)")
    actor(p)
    p = add(models, "dataset", _with_system(_models_dataset),
            "the training set as JSON lines: successful runs, arena winners and the dev file, "
            "never a request of the test file")
    p.add_argument("--dev", default=str(LABELLED / "segmentation_dev.json"), metavar="FILE",
                   help="the labelled file to learn from (default: the repository's dev file)")
    p.add_argument("--test", default=str(LABELLED / "segmentation_test.json"), metavar="FILE",
                   help="the frozen file that only measures: none of its requests is used")
    p.add_argument("--output", default="-", metavar="FILE", help="default: standard output")
    actor(p)
    p = add(models, "train", _with_system(_models_train),
            "ask to train a LoRA adapter on a registered model from the training set "
            "(operators; someone else approves; a worker process of its own trains)")
    p.add_argument("base", metavar="MODEL", help="a registered model, e.g. smollm2")
    for name, default in HYPERPARAMETERS.items():
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(default),
                       metavar="N", help=f"default {default}")
    p.add_argument("--dev", default=str(LABELLED / "segmentation_dev.json"), metavar="FILE")
    p.add_argument("--test", default=str(LABELLED / "segmentation_test.json"), metavar="FILE")
    actor(p)
    p = add(models, "train-run", _with_system(_models_train_run),
            "the training worker of a granted training (the policies start it)")
    p.add_argument("id", metavar="TRAINING-ID")
    p = add(models, "training", _with_system(_models_training),
            "a training: its status, progress, loss and adapter")
    p.add_argument("id", metavar="TRAINING-ID", help="its id, or its first 6 characters or more")
    p.add_argument("--chart", metavar="FILE.png", help="also draw its loss per step")
    p.add_argument("--evaluation-chart", metavar="FILE.png",
                   help="also draw its adapter's evaluation against its base")
    as_json(p)
    p = add(models, "evaluate", _with_system(_models_evaluate),
            "measure a trained adapter against its base on the frozen test file, through "
            "llama.cpp (AdapterEvaluated; the training worker does it once by itself)")
    p.add_argument("id", metavar="TRAINING-ID", help="its id, first 6+ characters, or the "
                   "adapter's name")
    p.add_argument("--file", metavar="FILE", help="the labelled file (default "
                   "ALTLAS_EVALUATION_FILE: the repository's test file)")
    p.add_argument("--sample", type=int, metavar="N", help="a seeded sample of N requests "
                   "(default ALTLAS_EVALUATION_SAMPLE; 0: all)")
    actor(p)
    p = add(models, "promote", _with_system(_models_promote),
            "ask that an evaluated adapter plan on its base: refused unless it beats the base; "
            "an approver who did not ask for it or its training decides")
    p.add_argument("adapter", metavar="ADAPTER", help="its name (BASE+lora-ID) or training id")
    p.add_argument("--reason", help="why (shown on the approval)")
    actor(p)
    p = add(models, "rollback", _with_system(_models_rollback),
            "ask to go back to what planned before the last activation or promotion")
    p.add_argument("--reason", help="why (shown on the approval)")
    actor(p)
    p = add(models, "activate", _with_system(_models_activate),
            "ask that a registered model plan; someone else's approval decides")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--reason", help="why (shown on the approval)")
    actor(p)
    arena = sub.add_parser("arena", help="two planners plan one request; judge which plan "
                           "is better").add_subparsers(dest="arena_command", required=True,
                                                       metavar="ACTION")
    p = add(arena, "ask", _with_system(_arena_ask),
            "both plan the request (default: the model that plans now against the newest "
            "other registered model), shown as A and B")
    p.add_argument("request", nargs="*", help="the request (not with --task)")
    p.add_argument("--a", help="a planner: rules or local:NAME")
    p.add_argument("--b", help="the other planner")
    p.add_argument("--task", metavar="ID", help="a task's plan against an alternative: its "
                   "run's outcome counts as a match too")
    p.add_argument("--environment")
    actor(p)
    as_json(p)
    p = add(arena, "show", _with_system(_arena_show), "a duel (its id, or its task's id)")
    p.add_argument("id", metavar="ID")
    as_json(p)
    p = add(arena, "vote", _with_system(_arena_vote),
            "which plan is better (approvers; not who registered one of the models)")
    p.add_argument("id", metavar="ID")
    p.add_argument("verdict", choices=["a", "b", "tie", "both_bad"])
    actor(p)
    p = add(sub, "incidents", _with_system(_incidents),
            "incidents correlated from Alertmanager's alerts, likely causes first")
    p.add_argument("incident", nargs="?", metavar="ID",
                   help="one incident, with its timeline (its first 6 characters or more)")
    p.add_argument("--status", choices=["open", "resolved", "merged", "all"], default="open",
                   help="which to list (default open)")
    p.add_argument("--chart", metavar="FILE.png",
                   help="with an ID: also draw its key metric, the anomaly marked")
    p.add_argument("--since", type=_time, metavar="TIME", help="opened at or after")
    p.add_argument("--limit", type=_positive, default=20, metavar="N")
    as_json(p)
    projections = sub.add_parser("projections", help="rebuild views").add_subparsers(
        dest="projections_command", required=True, metavar="ACTION")
    p = add(projections, "rebuild", _with_system(_rebuild),
            "empty the views and apply the whole history again from the store")
    p.add_argument("--projection", action="append", choices=sorted(PROJECTIONS),
                   help="only this projection (repeatable; default all)")
    p.add_argument("--workers", type=_positive, metavar="N",
                   help="processes applying shares of the aggregates in parallel (default: "
                        "one per core, at most 4, on PostgreSQL views; 1 on SQLite)")
    audit = sub.add_parser("audit", help="verify, replay and export the history").add_subparsers(
        dest="audit_command", required=True, metavar="ACTION")
    p = add(audit, "verify", _with_system(_audit_verify),
            "check every hash chain and checkpoint; exit 1 and name each bad event")
    p.add_argument("--kafka", action="store_true", help="check the Kafka topic too")
    as_json(p)
    p = add(audit, "replay", _with_system(_audit_replay),
            "rebuild the views as of a time into a separate database")
    p.add_argument("--until", type=_time, required=True, metavar="TIME")
    p.add_argument("--into", metavar="URL",
                   help="sqlite:///PATH or postgresql://…?schema=NAME (default a new SQLite "
                   "file in the data dir)")
    as_json(p)
    p = add(audit, "accept-loss", _audit_accept_loss,
            "after a store lost events (restored from an older backup, a cut WAL file): "
            "rebuild the views from the store as it is and record the acceptance")
    p.add_argument("--yes", action="store_true", help="do it (without: say what it would do)")
    p.add_argument("--reason", metavar="TEXT", help="why, for the record")
    as_json(p)
    p = add(audit, "export", _with_system(_audit_export),
            "write the history as CloudEvents JSON lines")
    p.add_argument("--output", default="-", metavar="FILE", help="default stdout")
    p.add_argument("--until", type=_time, metavar="TIME")
    p = add(sub, "timeline", _with_system(_timeline), "the audit timeline, filtered")
    p.add_argument("--actor")
    p.add_argument("--aggregate", metavar="ID")
    p.add_argument("--type", metavar="EVENT", help="e.g. ApprovalGranted")
    p.add_argument("--since", type=_time, metavar="TIME")
    p.add_argument("--until", type=_time, metavar="TIME")
    p.add_argument("--limit", type=int, default=100)
    as_of(p)
    as_json(p)
    p = add(sub, "approvals", _with_system(_approvals), "approvals waiting for a decision")
    as_of(p)
    as_json(p)
    p = add(sub, "events", _with_system(_events), "list recorded events in global order")
    p.add_argument("--after", type=int, default=0, metavar="POS",
                   help="start after this position")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="show at most N events")
    as_json(p)

    task = sub.add_parser("task", help="request, plan, list and show tasks").add_subparsers(
        dest="task_command", required=True, metavar="ACTION")
    p = add(task, "request", _with_system(_task_request),
            "ask for work and return; prints the task id (the workers plan and run it)")
    p.add_argument("text", help="what should be done")
    actor(p)
    request_options(p)
    p = add(task, "plan", _with_system(_task_plan),
            "record an .alt plan for your own task before altlas plans it (- = stdin)")
    p.add_argument("task_id", metavar="TASK")
    p.add_argument("file")
    actor(p)
    p = add(task, "answer", _with_system(_task_answer),
            "answer what altlas asked about your task (a host's name or number, or words); "
            "planning goes on")
    p.add_argument("task_id", metavar="TASK")
    p.add_argument("answer", help="a host among the choices (its name or number), words for "
                   "the part not understood, or skip")
    actor(p)
    as_json(p)
    p = add(task, "list", _with_system(_task_list), "tasks, newest first")
    listing(p, "requested, asking, segmented, rejected or unanswered")
    p = add(task, "export", _with_system(_task_export), "print a task's plan as an .alt document")
    p.add_argument("id", metavar="TASK")
    p.add_argument("--format", choices=["alt"], default="alt")
    p = add(task, "show", _with_system(_show("task")), "show a task and its plan")
    p.add_argument("id", metavar="TASK")
    as_json(p)

    run = sub.add_parser("run", help="list, show, start and confirm runs").add_subparsers(
        dest="run_command", required=True, metavar="ACTION")
    p = add(run, "start", _with_system(_run_start),
            "start a task's run by hand (operators; altlas starts runs by itself)")
    p.add_argument("task_id", metavar="TASK")
    actor(p)
    as_json(p)
    p = add(run, "confirm", _with_system(_run_confirm),
            "say you did a step altlas left to a person (CRITICAL or manual) by hand")
    p.add_argument("run_id", metavar="RUN")
    p.add_argument("step_id", metavar="STEP")
    p.add_argument("--note", default="", help="what was done, for the record")
    actor(p)
    as_json(p)
    p = add(run, "list", _with_system(_run_list), "runs, newest first")
    listing(p, "running, completed, succeeded, failed or cancelled")
    p = add(run, "export", _with_system(_run_export), "print a run as a .last document")
    p.add_argument("id", metavar="RUN")
    p.add_argument("--format", choices=["last"], default="last")
    p = add(run, "show", _with_system(_show("run")), "show a run and its steps")
    p.add_argument("id", metavar="RUN")
    as_json(p)

    p = add(sub, "approve", _with_system(_approve), "approve a gated step")
    p.add_argument("id", metavar="APPROVAL")
    actor(p)
    as_json(p)
    p = add(sub, "deny", _with_system(_deny), "deny a gated step, with a reason")
    p.add_argument("id", metavar="APPROVAL")
    actor(p)
    p.add_argument("--reason", required=True)
    as_json(p)
    approval = sub.add_parser("approval", help="show, expire or cancel approvals").add_subparsers(
        dest="approval_command", required=True, metavar="ACTION")
    p = add(approval, "show", _with_system(_show("approval")), "show an approval")
    p.add_argument("id", metavar="APPROVAL")
    as_json(p)
    p = add(approval, "expire", _with_system(_expire),
            "expire an approval whose time is up (operators; workers do it by themselves)")
    p.add_argument("id", metavar="APPROVAL")
    actor(p)
    as_json(p)
    p = add(approval, "cancel", _with_system(_cancel),
            "withdraw an open approval request (its requester, or an operator)")
    p.add_argument("id", metavar="APPROVAL")
    actor(p)
    p.add_argument("--reason", required=True)
    as_json(p)

    privacy = sub.add_parser(
        "privacy", help="forget a person; export what is recorded about one").add_subparsers(
        dest="privacy_command", required=True, metavar="ACTION")
    p = add(privacy, "forget", _with_system(_privacy_forget),
            "ask to forget a person (admins): once someone else approves, their key is "
            "destroyed and their name and what they wrote read as erased everywhere; the "
            "history still verifies")
    p.add_argument("person", metavar="PERSON",
                   help="a name, or #id as an erased person is shown")
    actor(p)
    p.add_argument("--reason", default="", help="why, for the record (sealed with your key)")
    as_json(p)
    p = add(privacy, "export", _with_system(_privacy_export),
            "everything recorded about a person, as JSON lines (admins; a data-access "
            "request)")
    p.add_argument("person", metavar="PERSON",
                   help="a name, or #id as an erased person is shown")
    actor(p)
    p.add_argument("--output", default="-", metavar="FILE", help="default stdout")

    token = sub.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True, metavar="ACTION")
    p = add(token, "new", _token_new, "make an API bearer token for a person of the policy")
    p.add_argument("--for", dest="person", required=True, metavar="PERSON")
    key = sub.add_parser("key", help="keys for encrypting the stored events").add_subparsers(
        dest="key_command", required=True, metavar="ACTION")
    add(key, "new", _key_new, "make a key for ALTLAS_CIPHER_KEY (AES-256, base64)")
    policy = sub.add_parser("policy", help="check policy files").add_subparsers(
        dest="policy_command", required=True, metavar="ACTION")
    p = add(policy, "check", _policy_check, "validate a policy file (default: the configured one)")
    p.add_argument("file", nargs="?")
    return parser


def _log_level() -> str:
    """ALTLAS_LOG_LEVEL, or INFO when the settings are bad (they are reported next)."""
    try:
        return Settings().log_level
    except Exception:
        return "INFO"


def _credentials() -> list[str]:
    """The credentials redacted from logs by value; none while the settings are bad (they
    are reported next, and redacted by what they look like)."""
    try:
        settings = Settings()
        return known_values(settings, load_secrets(settings.secrets_file, os.environ))
    except Exception:
        return []


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log_redaction.install(_credentials())
    logging.basicConfig(level=_log_level(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("altlas.kafka", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))
    try:
        return int(args.handler(args))
    except (SettingsError, StartupError, PolicyFileError, InvalidFileError, DomainError,
            UnreadableEventError, VectorStoreUnavailableError, ModelUnavailableError) as e:
        print(f"altlas: {log_redaction.redacted(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (say, `| head`) has gone; that is not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0


class InvalidFileError(Exception):
    pass


if __name__ == "__main__":
    sys.exit(main())
