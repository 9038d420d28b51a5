"""A spoken request is the typed one plus what was heard of its clip; a doubtful hearing
waits for its speaker, and a refused clip leaves nothing behind."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from typing import Any
from uuid import UUID

import pytest

from altlas.settings import Settings
from application.errors import AudioRefusedError
from application.ports import Hearing
from application.use_cases import Ears
from application.voice import needs_confirmation
from domain.catalog import upcast
from domain.grounding import Inventory
from domain.records import RecordedEvent
from domain.voice import HearingSettledError, NotSpeakerError
from testkit.fakes.ports import FixedTranscriber, hearing_of
from tests.unit.test_use_cases import Desk

CLIP = b"OggS" + bytes(range(256)) * 8


def doubtful(hearing: Hearing, inventory: Inventory, services: Collection[str]) -> bool:
    return needs_confirmation(hearing, Settings(speech_min_avg_logprob=-1.0), inventory,
                              services)


def desk_hearing(hearing: Hearing, refusal: AudioRefusedError | None = None
                 ) -> tuple[Desk, FixedTranscriber]:
    desk = Desk()
    ears = FixedTranscriber(hearing, refusal)
    desk.uc.ears = Ears(lambda: ears, doubtful)
    return desk, ears


@pytest.fixture
def clear() -> Iterator[tuple[Desk, FixedTranscriber]]:
    desk, ears = desk_hearing(hearing_of("check disk on web-1"))
    yield desk, ears
    desk.app.close()


@pytest.fixture
def doubted() -> Iterator[Desk]:
    desk, _ = desk_hearing(hearing_of("restart nginx on web-1", avg_logprob=-1.4))
    yield desk
    desk.app.close()


def recorded(desk: Desk) -> list[Any]:
    return list(desk.app.notification_log.select(start=1, limit=10))


def test_a_clearly_heard_clip_is_asked_for_as_its_transcript(
        clear: tuple[Desk, FixedTranscriber]) -> None:
    desk, ears = clear
    heard = desk.uc.hear_request("deniz", CLIP, environment="dev", language="en")
    assert heard.transcript == "check disk on web-1" and heard.hearing is None
    assert heard.task is not None and heard.task.request == "check disk on web-1"
    assert heard.task.heard is not None
    assert heard.task.heard["model"] == "fake:fixed"
    assert heard.task.heard["audio_sha256"] == hashlib.sha256(CLIP).hexdigest()
    assert heard.task.heard["duration_s"] == 2.4
    names = ears.heard[0][1]
    assert "web-1" in names and ears.heard[0][2] == "en"  # the inventory primes the decoder


def test_the_audio_itself_is_never_recorded(clear: tuple[Desk, FixedTranscriber]) -> None:
    desk, _ = clear
    desk.uc.hear_request("deniz", CLIP)
    stored = b"".join(n.state for n in recorded(desk))
    assert CLIP[:64] not in stored and bytes(range(64)) not in stored


def test_a_refused_clip_records_nothing() -> None:
    desk, _ = desk_hearing(hearing_of(""), AudioRefusedError("no speech", "no_speech"))
    with pytest.raises(AudioRefusedError):
        desk.uc.hear_request("deniz", CLIP)
    assert recorded(desk) == []
    desk.app.close()


def test_a_blank_transcript_is_no_request() -> None:
    desk, _ = desk_hearing(hearing_of("   "))
    with pytest.raises(AudioRefusedError, match="could not hear a request") as refused:
        desk.uc.hear_request("deniz", CLIP)
    assert refused.value.reason == "no_speech" and recorded(desk) == []
    desk.app.close()


def test_a_doubtful_hearing_is_held_for_its_speaker_not_asked_for(doubted: Desk) -> None:
    heard = doubted.uc.hear_request("deniz", CLIP)
    assert heard.task is None and heard.hearing is not None
    assert heard.hearing.status == "doubted"
    assert heard.hearing.transcript == "restart nginx on web-1"
    assert [n.topic.rpartition(".")[2] for n in recorded(doubted)] == ["Doubted"]


def test_a_restart_heard_clearly_is_still_held_for_its_speaker() -> None:
    desk, _ = desk_hearing(hearing_of("restart nginx on web-1", avg_logprob=-0.1))
    heard = desk.uc.hear_request("deniz", CLIP)
    assert heard.task is None and heard.hearing is not None
    assert [n.topic.rpartition(".")[2] for n in recorded(desk)] == ["Doubted"]
    desk.app.close()


def test_the_speaker_confirming_asks_for_the_work_as_heard(doubted: Desk) -> None:
    hearing = doubted.uc.hear_request("deniz", CLIP).hearing
    assert hearing is not None
    task = doubted.uc.confirm_hearing("deniz", hearing.id)
    assert task.request == "restart nginx on web-1" and task.requester == "deniz"
    assert task.heard is not None and task.heard["avg_logprob"] == -1.4
    assert doubted.uc.hearing("deniz", hearing.id).task_id == task.id


def test_someone_else_cannot_confirm_or_reject_a_hearing(doubted: Desk) -> None:
    hearing = doubted.uc.hear_request("deniz", CLIP).hearing
    assert hearing is not None
    with pytest.raises(NotSpeakerError, match="only deniz, who said it, may confirm"):
        doubted.uc.confirm_hearing("erin", hearing.id)
    with pytest.raises(NotSpeakerError, match="only deniz, who said it, may reject"):
        doubted.uc.reject_hearing("alice", hearing.id)
    assert doubted.uc.hearing("deniz", hearing.id).status == "doubted"


def test_a_rejected_hearing_can_no_longer_be_confirmed(doubted: Desk) -> None:
    hearing = doubted.uc.hear_request("deniz", CLIP).hearing
    assert hearing is not None
    assert doubted.uc.reject_hearing("deniz", hearing.id).status == "rejected"
    with pytest.raises(HearingSettledError, match="already rejected"):
        doubted.uc.confirm_hearing("deniz", hearing.id)
    assert not [n for n in recorded(doubted) if "Task" in n.topic]


def test_requests_recorded_before_voice_read_as_typed() -> None:
    old = RecordedEvent(
        position=1, aggregate_id=UUID(int=1), version=1, type_name="TaskRequested",
        state={"request": "check disk", "reply_to": None, "class_version": 3})
    assert upcast(old).state["heard"] is None
