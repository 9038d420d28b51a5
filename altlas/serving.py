"""What a long-running altlas process runs beside its front, wired once for `serve`,
`slack`, `discord` and `worker` (and the tests that stand in for them)."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from altlas.bootstrap import System
from domain.errors import DomainError

if TYPE_CHECKING:  # made by the serving processes; the CLI's commands never load it
    from application.use_cases import Ears
    from bots.chat import ChatFront

log = logging.getLogger("altlas")


def background(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


@dataclass
class Fronts:
    """The chat front, the configured Slack app and Discord bot (or None)."""

    chat: ChatFront
    slack: Any = None
    discord: Any = None
    threads: list[threading.Thread] = field(default_factory=list)


def start_inside(system: System, stop: threading.Event, *, worker: bool,
                 feed: bool = True) -> list[threading.Thread]:
    """The policy file followed, so its edits take effect here without a restart; without
    Kafka, the feed that keeps the views current (it gives way to the worker's reactions in
    this process); and, if asked, a worker, so that what people ask for moves on in this
    process."""
    threads = [background(functools.partial(system.follow_policy, stop), "policy")]
    system.wake_on_other_processes()
    mine = system.worker() if worker or system.has_worker else None
    if system.embedded and feed:
        views = system.store_feed()
        idle = system.settings.poll_interval_ms / 1000
        reacting = mine.reacting if mine is not None else (lambda: False)
        threads.append(background(lambda: views.run(stop, idle, system.app.recorded,
                                                    busy=reacting, turn=system.views_turn()),
                                  "store-feed"))
    if worker and mine is not None:
        threads.append(background(functools.partial(mine.run, stop), "worker"))
        similar = system.similar()
        idle = system.settings.poll_interval_ms / 1000
        threads.append(background(lambda: similar.run(stop, max(idle, 1.0),
                                                      system.app.recorded), "similar-runs"))
    return threads


def start_fronts(system: System, stop: threading.Event) -> Fronts:
    """The chat fronts configured, each with the follower that tells people what happened,
    in the thread where they asked."""
    chat = system.chat(catch_up=not system.embedded)
    slack = system.slack(chat)
    discord = system.discord(chat)
    fronts = Fronts(chat, slack[0] if slack else None, discord[0] if discord else None)
    idle = system.settings.poll_interval_ms / 1000
    for front in (slack, discord):
        if front is not None:
            conversation = system.conversation(front[1])
            fronts.threads.append(background(functools.partial(conversation.run, stop, idle),
                                             f"tell-{conversation.platform}"))
    if system.ears is not None:
        fronts.threads.append(background(functools.partial(warm, system.ears), "speech-model"))
    return fronts


def warm(ears: Ears) -> None:
    """Load the speech model now (seconds), so the first clip does not wait for it."""
    try:
        ears.transcriber()
    except DomainError as e:
        log.warning("voice clips cannot be heard here: %s", e)
