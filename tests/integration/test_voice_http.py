"""POST /voice over the real application and the real engine: a clip heard clearly is asked
for as its transcript and planned as the typed request; what is not a request is refused
with the reason, and records nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.ports import Transcriber
from testkit.helpers import auth, token_policy
from testkit.speech import as_ogg_opus, say, silence
from testkit.voice import asked


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, System]]:
    home = tmp_path_factory.mktemp("voice-http")
    (home / "policy.yaml").write_text(token_policy())
    system = bootstrap(Settings(data_dir=home / "data", segmenter="rules",
                                policy_file=home / "policy.yaml", poll_interval_ms=50))
    stop = threading.Event()
    worker = threading.Thread(target=system.worker().run, args=(stop,), daemon=True)
    worker.start()
    with TestClient(system.api()) as client:
        yield client, system
    stop.set()
    worker.join(timeout=30)
    system.close()


def until_planned(system: System, task_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while (plan := system.app.get_task(UUID(task_id)).plan) is None:
        assert time.monotonic() < deadline, "the task was not planned"
        time.sleep(0.05)
    return plan


def test_a_spoken_request_is_planned_as_the_typed_one(
        served: tuple[TestClient, System]) -> None:
    client, system = served
    clip = as_ogg_opus(say("check disk on web one"))
    answer = client.post("/voice", files={"audio": ("request.ogg", clip, "audio/ogg")},
                         data={"environment": "prod"}, headers=auth("erin"))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["heard"] == "Check disk on web-1" and body["language"] == "en"
    assert answer.headers["Location"] == f"/tasks/{body['task']['id']}"
    heard = body["task"]["heard"]
    assert heard["duration_s"] > 1 and heard["model"].startswith("faster-whisper")
    assert len(heard["audio_sha256"]) == 64 and body["hearing"] is None
    typed = client.post("/tasks", json={"request": "check disk on web-1",
                                        "environment": "prod"}, headers=auth("erin")).json()
    assert until_planned(system, body["task"]["id"]) == until_planned(system, typed["id"])


def requested(system: System) -> int:
    return sum(1 for e in system.history.read() if e.type_name == "TaskRequested")


def test_a_restart_heard_clearly_is_confirmed_before_it_is_asked_for(
        served: tuple[TestClient, System]) -> None:
    client, system = served
    before = requested(system)
    clip = as_ogg_opus(say("restart nginx on web one"))
    answer = client.post("/voice", files={"audio": ("request.ogg", clip, "audio/ogg")},
                         data={"environment": "prod"}, headers=auth("erin"))
    assert answer.status_code == 202, answer.text
    hearing = answer.json()["hearing"]
    heard = hearing["transcript"]
    assert heard.startswith("Restart") and heard.endswith("web-1")
    assert hearing["heard"]["avg_logprob"] > system.settings.speech_min_avg_logprob
    assert requested(system) == before
    confirmed = client.post(f"/hearings/{hearing['id']}/confirmation", headers=auth("erin"))
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["request"] == heard


@pytest.mark.parametrize(("clip", "status", "error"), [
    (silence(3.0), 422, "no_speech"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(200), 415, "not_audio"),
])
def test_what_is_not_a_request_is_refused_with_the_reason(
        served: tuple[TestClient, System], clip: bytes, status: int, error: str) -> None:
    client, system = served
    before = asked(system)
    answer = client.post("/voice", files={"audio": ("clip.wav", clip, "audio/wav")},
                         headers=auth("erin"))
    assert (answer.status_code, answer.json()["error"]) == (status, error), answer.text
    assert answer.json()["message"]
    assert asked(system) == before


def test_a_clip_over_the_limit_is_refused_before_it_is_read(
        served: tuple[TestClient, System]) -> None:
    client, system = served
    before = asked(system)
    limit = system.settings.speech_max_bytes
    answer = client.post("/voice", files={"audio": ("big.ogg", bytes(limit + 70_000),
                                                    "audio/ogg")}, headers=auth("erin"))
    assert answer.status_code == 413
    assert "ALTLAS_SPEECH_MAX_BYTES" in answer.json()["message"]
    assert asked(system) == before


def test_without_a_token_nothing_is_heard(served: tuple[TestClient, System]) -> None:
    client, system = served
    before = asked(system)
    clip = as_ogg_opus(say("check disk on web one"))
    answer = client.post("/voice", files={"audio": ("r.ogg", clip, "audio/ogg")})
    assert answer.status_code == 401
    assert asked(system) == before


def test_a_clip_sent_while_the_model_loads_is_answered_at_once_to_send_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import adapters.speech

    loading, may_finish = threading.Event(), threading.Event()
    real = adapters.speech.transcriber_from

    def slow_load(settings: Settings) -> Transcriber:
        loading.set()
        may_finish.wait(timeout=60)
        return real(settings)

    monkeypatch.setattr(adapters.speech, "transcriber_from", slow_load)
    (tmp_path / "policy.yaml").write_text(token_policy())
    system = bootstrap(Settings(data_dir=tmp_path / "data", segmenter="rules",
                                policy_file=tmp_path / "policy.yaml"))
    assert system.ears is not None
    warm = threading.Thread(target=system.ears.transcriber)  # as `serve` warms it at start
    try:
        warm.start()
        assert loading.wait(timeout=30)
        with TestClient(system.api()) as client:
            before = asked(system)
            started = time.monotonic()
            answer = client.post("/voice", files={"audio": ("q.wav", silence(2), "audio/wav")},
                                 headers=auth("erin"))
            assert time.monotonic() - started < 5, "the clip was held for the model's load"
            assert (answer.status_code, answer.json()["error"]) == (503, "speech_warming")
            assert answer.headers["Retry-After"]
            assert "again" in answer.json()["message"]
            assert asked(system) == before
            may_finish.set()
            warm.join(timeout=120)
            again = client.post("/voice", files={"audio": ("q.wav", silence(2), "audio/wav")},
                                headers=auth("erin"))
            assert (again.status_code, again.json()["error"]) == (422, "no_speech")
    finally:
        may_finish.set()
        warm.join(timeout=120)
        system.close()
