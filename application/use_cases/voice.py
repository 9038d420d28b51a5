"""Use cases of spoken requests: a clip heard on this machine, then handled exactly as the
typed request (same grounding, planning and gates), or, heard doubtfully, held until its
speaker confirms what was heard."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass

from application.errors import AudioRefusedError
from application.ports import Hearing, Transcriber
from application.snapshots import HearingView, TaskView
from application.use_cases.base import UseCasesBase
from domain.errors import ConflictError
from domain.grounding import Inventory


@dataclass(frozen=True)
class Heard:
    """What a clip came to: its transcript, and the task asked for, or the hearing that
    waits for its speaker's word (exactly one of the two)."""

    transcript: str
    language: str
    task: TaskView | None
    hearing: HearingView | None


@dataclass(frozen=True)
class Ears:
    """The transcriber (made on first use: loading a model takes seconds) and the rule that
    says which hearings, read against the inventory and its services, are too doubtful to
    plan unconfirmed."""

    transcriber: Callable[[], Transcriber]
    doubtful: Callable[[Hearing, Inventory, Collection[str]], bool]


class VoiceUseCases(UseCasesBase):
    def hear_request(self, who: str, audio: bytes, *, language: str | None = None,
                     environment: str | None = None, source: str = "api",
                     reply_to: dict[str, str] | None = None) -> Heard:
        """Refused with AudioRefusedError before anything is recorded; the audio itself is
        never recorded, only its sha256."""
        self.access.check(who, "request")
        if self.ears is None:
            raise VoiceNotEnabledError("voice requests are not enabled here: install the "
                                       "speech extra (pip install 'altlas[speech]') and "
                                       "restart; type the request meanwhile")
        policy = self.app.policy
        hearing = self.ears.transcriber().transcribe(
            audio, names=[*sorted(policy.hosts), *sorted(policy.services)], language=language)
        text = " ".join(hearing.text.split())
        if not text:
            raise AudioRefusedError("I could not hear a request in the clip; say it again "
                                    "closer to the microphone, or type it", "no_speech")
        heard = {"audio_sha256": hashlib.sha256(audio).hexdigest(),
                 "duration_s": round(hearing.duration_s, 3), "model": hearing.model,
                 "language": hearing.language,
                 "language_probability": round(hearing.language_probability, 4),
                 "avg_logprob": round(hearing.avg_logprob, 4),
                 "no_speech_prob": round(hearing.no_speech_prob, 4)}
        if self.ears.doubtful(hearing, Inventory.of(policy), policy.services):
            doubted = self.app.doubt_hearing(text, who, heard, environment=environment,
                                             source=source, reply_to=reply_to)
            return Heard(text, hearing.language, None, doubted)
        task = self.app.get_task(self.app.request_task(
            text, who, environment=environment, source=source, reply_to=reply_to,
            heard=heard))
        return Heard(text, hearing.language, task, None)

    def confirm_hearing(self, who: str, hearing_ref: str) -> TaskView:
        """Only the speaker: the task is asked for now, as if they had typed the transcript."""
        self.access.check(who, "request")
        task_id = self.app.confirm_hearing(self.resolve(hearing_ref, "hearing"), by=who)
        return self.app.get_task(task_id)

    def reject_hearing(self, who: str, hearing_ref: str) -> HearingView:
        """Only the speaker: nothing is planned from it."""
        self.access.check(who, "request")
        return self.app.reject_hearing(self.resolve(hearing_ref, "hearing"), by=who)

    def hearing(self, who: str | None, hearing_ref: str) -> HearingView:
        self._may(who, "read")
        return self.app.get_hearing(self.resolve(hearing_ref, "hearing"))


class VoiceNotEnabledError(ConflictError):
    """This installation has no transcriber: the speech extra is not installed."""
