"""Ways around the confirmation of a doubtful hearing, and around the Slack gate for clips:
someone other than the speaker answering (HTTP, Slack), an answer replayed, a doubtful clip
planned before its speaker's word, a forged signature on a file share, a file URL that would
take the bot token elsewhere. Every clip is heard by the real engine; every hearing here is
doubted (ALTLAS_SPEECH_MIN_AVG_LOGPROB=0), so each must wait for its speaker."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from uuid import UUID

import httpx
import pytest

from domain.records import RecordedEvent
from testkit.fakes import slack_payloads as p
from testkit.fakes.slack import Call
from testkit.helpers import auth, token_policy
from testkit.slack_desk import Desk, blocks, ephemeral, open_desk, posted, wait
from testkit.speech import as_ogg_opus, say
from testkit.voice import asked, warmed

ERIN, DENIZ = "U0ERIN001", "U0DENIZ01"
_EVENTS = itertools.count(1)
_TS = itertools.count(1)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    home = tmp_path_factory.mktemp("voice-gate")
    (home / "policy.yaml").write_text(token_policy())
    with open_desk(home / "data", home / "policy.yaml", speech_min_avg_logprob=0.0) as opened:
        warmed(opened.system)
        yield opened


@pytest.fixture(scope="module")
def clip() -> bytes:
    return as_ogg_opus(say("check disk on web one"))


def requested(desk: Desk) -> list[RecordedEvent]:
    return [e for e in desk.system.history.read() if e.type_name == "TaskRequested"]


def voice(desk: Desk, person: str, clip: bytes) -> httpx.Response:
    return httpx.post(f"{desk.url}/voice", files={"audio": ("r.ogg", clip, "audio/ogg")},
                      headers=auth(person), timeout=120)


def shared(desk: Desk, user: str, clip: bytes, **file: str) -> tuple[str, Call]:
    """A clip shared in Slack; the doubt altlas posts in its thread, with its buttons."""
    ts = f"1700001000.{next(_TS):06d}"
    kept = {**desk.slack.share(clip, "audio/webm", "audio_message.webm"), **file}
    response = desk.send(p.file_share(user, kept, size=len(clip), ts=ts,
                                      event_id=f"Ev0GATE{next(_EVENTS):05d}"), p.JSON)
    assert response.status_code == 200
    return ts, wait(lambda: posted(desk, lambda c: c.body.get("thread_ts") == ts), 120)[0]


def click(desk: Desk, user: str, answer: str, doubt: Call
          ) -> tuple[tuple[str, dict[str, str]], httpx.Response]:
    """The click as Slack signs and sends it, and altlas's answer."""
    hearing = next(b for b in blocks(doubt) if b["type"] == "actions")["elements"][0]["value"]
    body = p.block_actions(user, f"altlas_hearing:{answer}", hearing,
                           {"ts": doubt.body["__ts"], "text": doubt.body.get("text", ""),
                            "blocks": blocks(doubt), "thread_ts": doubt.body["thread_ts"]},
                           desk.slack.response_url(f"act/{user}"))
    headers = p.headers(body, p.FORM)
    return (body, headers), httpx.post(f"{desk.url}/slack/events", content=body,
                                       headers=headers, timeout=10)


def test_a_doubtful_clip_is_never_planned_before_its_speaker_confirms(
        desk: Desk, clip: bytes) -> None:
    before = len(requested(desk))
    answer = voice(desk, "erin", clip)
    assert answer.status_code == 202, answer.text
    hearing = answer.json()["hearing"]
    assert answer.headers["Location"] == f"/hearings/{hearing['id']}"
    assert answer.json()["task"] is None and hearing["transcript"] == "Check disk on web-1"
    time.sleep(1.0)  # the workers run all along: nothing of theirs may follow a doubt
    assert len(requested(desk)) == before
    confirmed = httpx.post(f"{desk.url}/hearings/{hearing['id']}/confirmation",
                           headers=auth("erin"))
    assert confirmed.status_code == 201
    task = confirmed.json()
    assert task["request"] == "Check disk on web-1" and task["heard"]["avg_logprob"] < 0
    wait(lambda: desk.system.app.get_task(UUID(task["id"])).plan)


def test_only_the_speaker_answers_over_http_and_the_first_answer_counts(
        desk: Desk, clip: bytes) -> None:
    hearing = voice(desk, "erin", clip).json()["hearing"]["id"]
    before = len(requested(desk))
    for person in ("deniz", "alice"):  # a requester, an operator: neither said it
        for verb in ("confirmation", "rejection"):
            refused = httpx.post(f"{desk.url}/hearings/{hearing}/{verb}", headers=auth(person))
            assert refused.status_code == 403
            assert "only erin, who said it" in refused.json()["message"]
    assert httpx.post(f"{desk.url}/hearings/{hearing}/rejection",
                      headers=auth("erin")).status_code == 200
    again = httpx.post(f"{desk.url}/hearings/{hearing}/confirmation", headers=auth("erin"))
    assert again.status_code == 409 and "already rejected" in again.json()["message"]
    assert len(requested(desk)) == before


def test_only_the_speaker_answers_in_slack_and_a_replayed_click_asks_once(
        desk: Desk, clip: bytes) -> None:
    ts, doubt = shared(desk, ERIN, clip)
    assert doubt.body["text"].startswith("I heard: “Check disk on web-1”, but I am not sure")
    before = len(requested(desk))
    click(desk, DENIZ, "yes", doubt)
    assert "yalnızca söyleyen erin yanıtlayabilir" in wait(lambda: ephemeral(desk, DENIZ))[-1]
    assert len(requested(desk)) == before
    (body, headers), first = click(desk, ERIN, "yes", doubt)
    assert first.status_code == 200
    wait(lambda: len(requested(desk)) == before + 1)
    answered = wait(lambda: [c for c in desk.slack.find("chat.update")
                             if c.body.get("ts") == doubt.body["__ts"]])
    assert all(b["type"] != "actions" for b in blocks(answered[-1]))  # its buttons are gone
    replayed = httpx.post(f"{desk.url}/slack/events", content=body,  # the same signed request
                          headers=headers, timeout=10)
    assert replayed.status_code == 409
    click(desk, ERIN, "yes", doubt)  # a click of its own, after the answer
    assert "already answered (confirmed)" in wait(
        lambda: [e for e in ephemeral(desk, ERIN) if "already" in e])[-1]
    time.sleep(0.5)
    assert len(requested(desk)) == before + 1
    assert wait(lambda: [c for c in posted(desk, lambda c: c.body.get("thread_ts") == ts)
                         if c.body.get("text", "").startswith("On it")])


def test_a_forged_signature_on_a_file_share_downloads_and_records_nothing(
        desk: Desk, clip: bytes) -> None:
    before, downloads = asked(desk.system), len(desk.slack.find("file"))
    file = desk.slack.share(clip, "audio/webm", "audio_message.webm")
    body = p.file_share(ERIN, file, size=len(clip), event_id="Ev0FORGED0001")
    assert desk.send(body, p.JSON, secret="not-the-signing-secret").status_code == 401
    unsigned = httpx.post(f"{desk.url}/slack/events", content=body,
                          headers=p.headers(body, p.JSON, signed=False))
    assert unsigned.status_code == 401
    time.sleep(0.5)
    assert len(desk.slack.find("file")) == downloads
    assert asked(desk.system) == before


def test_the_bot_token_goes_only_to_slacks_own_file_host(desk: Desk, clip: bytes) -> None:
    before = asked(desk.system)
    elsewhere = "http://127.0.0.2:9/files-pri/T0001ACME-F0EVIL/download/clip.webm"
    ts = f"1700002000.{next(_TS):06d}"
    file = {**desk.slack.share(clip, "audio/webm", "a.webm"),
            "url_private_download": elsewhere}
    desk.send(p.file_share(ERIN, file, size=len(clip), ts=ts,
                           event_id=f"Ev0GATE{next(_EVENTS):05d}"), p.JSON)
    said = wait(lambda: posted(desk, lambda c: c.body.get("thread_ts") == ts))[0]
    assert said.body["text"].startswith("I could not download the clip (the file is not on")
    assert asked(desk.system) == before


def test_a_hearing_button_with_a_forged_value_is_refused(desk: Desk) -> None:
    before = asked(desk.system)
    for value in ("not-a-hearing", "x" * 36 + ";drop"):
        response = desk.send(p.block_actions(ERIN, "altlas_hearing:yes", value, {"ts": "1.2"},
                                             desk.slack.response_url("act/forged")), p.FORM)
        assert response.status_code == 400
        assert "must be a hearing's id" in response.json()["message"]
    assert asked(desk.system) == before


def test_a_clip_that_is_not_audio_records_nothing_on_any_front(desk: Desk) -> None:
    before = asked(desk.system)
    pretend = b"#!/bin/sh\nrm -rf /\n" * 20
    as_text = httpx.post(f"{desk.url}/voice", headers=auth("erin"),
                         files={"audio": ("r.txt", pretend, "text/plain")})
    as_audio = httpx.post(f"{desk.url}/voice", headers=auth("erin"), timeout=60,
                          files={"audio": ("r.ogg", pretend, "audio/ogg")})
    assert (as_text.status_code, as_audio.status_code) == (415, 415)
    assert as_audio.json()["error"] == "not_audio"
    _, said = shared(desk, ERIN, pretend)
    assert said.body["text"].startswith("I could not read that file as audio")
    assert asked(desk.system) == before
