"""The long-running processes: serve, the chat fronts, workers, relay, projections."""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
import sys
import threading
from dataclasses import asdict

from altlas.bootstrap import StartupError, System
from altlas.cli.common import (
    answer,
    json_out,
    log,
    register_packaged,
    with_system,
)
from altlas.progress import Progress
from altlas.serving import background, start_fronts, start_inside
from projections.views import PROJECTIONS
from streams.kafka import KafkaUnavailableError


@with_system
def demo_command(system: System, args: argparse.Namespace) -> int:
    from altlas.demo import run_demo

    demo = run_demo(system, sys.stderr if args.json else sys.stdout)
    if args.json:
        json_out(asdict(demo))
    return 0 if demo.ok else 1


def _stop_on_signals() -> threading.Event:
    """SIGINT or SIGTERM ask long-running work to finish what it is doing and stop."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@with_system
def serve_command(system: System, args: argparse.Namespace) -> int:
    import uvicorn

    settings = system.settings
    stop = threading.Event()
    threads = start_inside(system, stop, worker=_with_worker(system, args.worker))
    threads.append(register_packaged(system))
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
                    port=args.port or settings.http_port,
                    log_level=settings.level_for(server=True).lower(),
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
    threads.append(register_packaged(system))
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


@with_system
def discord_command(system: System, args: argparse.Namespace) -> int:
    return _chat_process(system, "discord", args.worker)


@with_system
def slack_command(system: System, args: argparse.Namespace) -> int:
    return _chat_process(system, "slack", args.worker)


@with_system
def worker_command(system: System, args: argparse.Namespace) -> int:
    stop = _stop_on_signals()
    worker = system.worker()
    if args.until_quiet:
        worker.until_quiet(stop)
        return 0
    threads = start_inside(system, stop, worker=False)
    threads.append(register_packaged(system))
    log.info("worker %s: on %s; Ctrl-C or SIGTERM stops it after its running steps "
             "(up to %gs)", worker.id, "SQLite" if system.local_store else "PostgreSQL",
             system.settings.worker_stop_seconds)
    worker.run(stop)
    for thread in threads:
        thread.join(timeout=10)
    return 0


@with_system
def relay_command(system: System, args: argparse.Namespace) -> int:
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


@with_system
def project_command(system: System, args: argparse.Namespace) -> int:
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


@with_system
def rebuild_command(system: System, args: argparse.Namespace) -> int:
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
    answer(args, {"projections": names or list(PROJECTIONS), "events": total,
                  "workers": workers}, f"rebuilt {shown} from {total} event(s){by}")
    return 0
