"""Voice clips in Slack: a clip recorded in Slack and shared in a channel, downloaded with the
bot token from the (fake) file store, heard by the real engine, and handled as the typed
request in the clip's thread; a download that fails is said in the thread."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from testkit.fakes import slack_payloads as p
from testkit.slack_desk import Desk, open_desk, posted, wait
from testkit.speech import as_ogg_opus, say
from testkit.voice import asked, warmed

ERIN = "U0ERIN001"
_EVENTS = itertools.count(1)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    with open_desk(tmp_path_factory.mktemp("slack-voice")) as opened:
        warmed(opened.system)
        yield opened



@pytest.fixture(scope="module")
def clip() -> bytes:
    return as_ogg_opus(say("check disk on web one"))


def share(desk: Desk, user: str, data: bytes, ts: str, *, size: int | None = None) -> Path:
    file = desk.slack.share(data, "audio/webm", "audio_message.webm")
    body = p.file_share(user, file, size=len(data) if size is None else size, ts=ts,
                        event_id=f"Ev0VOICE{next(_EVENTS):04d}")
    assert desk.send(body, p.JSON).status_code == 200
    return Path(file["id"])


def in_thread(desk: Desk, ts: str) -> list[str]:
    return [c.body.get("text", "") for c in posted(desk, lambda c: c.body.get("thread_ts") == ts)]


def test_a_voice_clip_is_heard_then_planned_as_typed_in_its_thread(
        desk: Desk, clip: bytes) -> None:
    ts = "1700000300.000100"
    share(desk, ERIN, clip, ts)
    said = wait(lambda: [t for t in in_thread(desk, ts) if t.startswith("Plan for")], 120)
    replies = in_thread(desk, ts)
    assert replies[0] == "I heard: “Check disk on web-1”"
    assert replies[1] == "On it: planning “Check disk on web-1”…"
    assert "df -h" in said[0]
    download = desk.slack.find("file")[-1]
    assert download.auth == "Bearer xoxb-1111-2222-fake"
    uc = desk.system.use_cases()
    requested = uc.timeline(None, type_name="TaskRequested", limit=10)
    heard = desk.system.app.get_task(UUID(requested[-1]["aggregate_id"]))
    assert heard.request == "Check disk on web-1" and heard.source == "slack"
    typed = uc.request_work("erin", "check disk on web-1")
    planned = wait(lambda: desk.system.app.get_task(UUID(typed.id)).plan)
    assert heard.plan is not None and heard.plan["steps"] == planned["steps"]
    assert heard.heard is not None and heard.heard["model"].startswith("faster-whisper")


@pytest.mark.parametrize(("status", "said"), [
    (404, "I could not download the clip (the file store answered HTTP 404)"),
    (503, "I could not download the clip (the file store answered HTTP 503)")])
def test_a_download_that_fails_is_said_and_records_nothing(
        desk: Desk, clip: bytes, status: int, said: str) -> None:
    before = asked(desk.system)
    ts = f"1700000400.{status:06d}"
    file = desk.slack.share(clip, "audio/webm", "audio_message.webm")
    desk.slack.file_status[file["id"]] = status
    desk.send(p.file_share(ERIN, file, size=len(clip), ts=ts,
                           event_id=f"Ev0VOICE{next(_EVENTS):04d}"), p.JSON)
    assert wait(lambda: in_thread(desk, ts))[0].startswith(said)
    assert asked(desk.system) == before


def test_a_clip_over_the_limit_is_refused_by_its_size_unread(desk: Desk, clip: bytes) -> None:
    before = asked(desk.system)
    downloads = len(desk.slack.find("file"))
    ts = "1700000500.000100"
    share(desk, ERIN, clip, ts, size=desk.system.settings.speech_max_bytes + 1)
    assert wait(lambda: in_thread(desk, ts))[0].startswith("The clip is over the limit of 10 MB")
    assert len(desk.slack.find("file")) == downloads
    assert asked(desk.system) == before
