"""Voice messages in Discord: a voice message (flags IS_VOICE_MESSAGE, an ogg/opus attachment
with its duration and waveform) arrives through discord.py's own gateway parser, is fetched
from the (fake) CDN, heard by the real engine and handled as the typed request, in replies
to it; a clip too big or a download that fails is answered with the reason."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import discord.http
import pytest
import pytest_asyncio

from altlas.bootstrap import System, bootstrap, ears_from
from altlas.serving import start_inside
from altlas.settings import Settings
from application.use_cases import Ears
from bots.discord_bot import AltlasDiscord, DiscordNotifier
from testkit.fakes.discord import FakeDiscord
from testkit.speech import as_ogg_opus, say
from testkit.voice import asked

ALICE = FakeDiscord.user_obj("100000000000000001", "alice")

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def ears(tmp_path_factory: pytest.TempPathFactory) -> Ears:
    """The real engine, loaded once for the module."""
    found = ears_from(Settings(data_dir=tmp_path_factory.mktemp("ears")))
    assert found is not None, "the speech extra is not installed: scripts/venv.sh speech"
    return found


@pytest.fixture(scope="module")
def clip() -> bytes:
    return as_ogg_opus(say("check disk on web one"))


@pytest_asyncio.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    f = FakeDiscord()
    await f.start()
    monkeypatch.setattr(discord.http.Route, "BASE", f.api_base)
    yield f
    await f.stop()


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord, tmp_path: Path, ears: Ears) -> AsyncIterator[
        tuple[AltlasDiscord, System]]:
    system = bootstrap(Settings(data_dir=tmp_path, database_url=None, views_database_url=None,
                                segmenter="rules", poll_interval_ms=50))
    system.ears = ears
    stop = threading.Event()
    threads = start_inside(system, stop, worker=True)
    made = AltlasDiscord(system.chat(), system.chat_posts(), guild_id=int(fake.guild_id),
                         hear_clips=True, max_clip_bytes=system.settings.speech_max_bytes)
    threads.append(threading.Thread(target=system.conversation(DiscordNotifier(made)).run,
                                    args=(stop, 0.05), daemon=True))
    threads[-1].start()
    await made.login("fake-bot-token")
    yield made, system
    stop.set()
    for thread in threads:
        await asyncio.to_thread(thread.join, 30)
    await made.close()
    await asyncio.get_running_loop().shutdown_default_executor()
    system.close()


def send(bot: AltlasDiscord, message: dict[str, Any]) -> None:
    """What discord.py's gateway does with a MESSAGE_CREATE dispatch."""
    bot._connection.parsers["MESSAGE_CREATE"](message)


async def replies_to(fake: FakeDiscord, message_id: str, count: int,
                     timeout: float = 120) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        found = [c.json["content"] for c in fake.find("POST", r"/channels/\d+/messages")
                 if str((c.json.get("message_reference") or {}).get("message_id"))
                 == message_id]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"replies so far: {found}"
        await asyncio.sleep(0.05)


async def test_a_voice_message_is_heard_then_planned_as_typed(
        fake: FakeDiscord, bot: tuple[AltlasDiscord, System], clip: bytes) -> None:
    client, _ = bot
    message = fake.voice_message(ALICE, clip)
    send(client, message)
    first = await replies_to(fake, message["id"], 2)
    assert first == ["I heard: “Check disk on web-1”",
                     "On it: planning “Check disk on web-1”…"]
    working = next(m for m in fake.messages.values()
                   if m["content"].startswith("On it: planning"))
    plans = await replies_to(fake, working["id"], 1)
    assert "df -h" in plans[0] and "web-1" in plans[0]
    assert fake.find("GET", r"/attachments/.*")  # fetched from the CDN, by its URL


async def test_a_clip_too_big_or_not_downloadable_is_answered_and_records_nothing(
        fake: FakeDiscord, bot: tuple[AltlasDiscord, System], clip: bytes) -> None:
    client, system = bot
    big = fake.voice_message(ALICE, clip, size=system.settings.speech_max_bytes + 1)
    send(client, big)
    assert (await replies_to(fake, big["id"], 1))[0].startswith(
        "The clip is over the limit of 10 MB")
    gone = fake.voice_message(ALICE, clip, voice=False, filename="request.mp3",
                              content_type="audio/mpeg")
    fake.attachment_status[gone["attachments"][0]["id"]] = 403
    send(client, gone)
    assert (await replies_to(fake, gone["id"], 1))[0].startswith(
        "I could not download the clip (the file store answered HTTP 403)")
    assert len(fake.find("GET", r"/attachments/.*")) == 1  # the big one was never fetched
    assert asked(system) == 0
