"""A request heard in a voice clip that the decoder was not sure of.

A clip heard clearly becomes a task at once (its hearing recorded in ``Task.Requested``). A
doubtful one is held here instead, shown to the speaker, and becomes a task only when the
speaker confirms it: a mishearing must become a question, never another action. Nothing
here holds the audio; the transcript is sealed with the speaker's key like any request.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.base import AuditedAggregate, EventMeta, Seal, as_written
from domain.errors import ConflictError, InvalidInputError, NotAllowedError

DOUBTED, CONFIRMED, REJECTED = "doubted", "confirmed", "rejected"
# what a hearing records about the clip: never the audio itself
HEARD_FIELDS = ("audio_sha256", "duration_s", "model", "language", "language_probability",
                "avg_logprob", "no_speech_prob")


class Hearing(AuditedAggregate):
    class Doubted(AuditedAggregate.Created):
        """The clip's transcript, awaiting its speaker's word. ``heard`` is what the
        transcriber said about the clip (HEARD_FIELDS); ``environment``, ``source`` and
        ``reply_to`` are those the task will be asked with."""

        type_name = "HearingDoubted"
        speaker: str
        transcript: str
        heard: dict[str, Any]
        environment: str | None
        source: str
        reply_to: dict[str, str] | None

    class Confirmed(AuditedAggregate.Event):
        """The speaker said the transcript is what they asked: ``task_id`` is the task."""

        type_name = "HearingConfirmed"
        task_id: str

        def apply(self, hearing: Hearing) -> None:
            hearing.status = CONFIRMED
            hearing.task_id = self.task_id

    class Rejected(AuditedAggregate.Event):
        """The speaker said it is not what they asked: nothing is planned."""

        type_name = "HearingRejected"

        def apply(self, hearing: Hearing) -> None:
            hearing.status = REJECTED

    def __init__(self, speaker: str, transcript: str, heard: dict[str, Any],
                 environment: str | None, source: str, reply_to: dict[str, str] | None,
                 correlation_id: str) -> None:
        self.speaker = speaker
        self.transcript = transcript
        self.heard = heard
        self.environment = environment
        self.source = source
        self.reply_to = reply_to
        self.correlation_id = correlation_id
        self.status = DOUBTED
        self.task_id: str | None = None

    @classmethod
    def doubt(cls, transcript: str, speaker: str, heard: dict[str, Any], meta: EventMeta, *,
              environment: str | None = None, source: str = "api",
              reply_to: dict[str, str] | None = None, seal: Seal = as_written) -> Hearing:
        return cls._create_audited(cls.Doubted, meta, speaker=speaker,
                                   transcript=seal(transcript.strip()),
                                   heard=checked_heard(heard), environment=environment,
                                   source=source, reply_to=reply_to)

    def confirm(self, meta: EventMeta) -> UUID:
        """The task the confirmed hearing becomes: its id follows from the hearing's, so a
        confirmation sent twice can never ask for the work twice."""
        self._check_speaker(meta, "confirm")
        task_id = task_id_of(self.id)
        self._trigger(self.Confirmed, meta, task_id=str(task_id))
        return task_id

    def reject(self, meta: EventMeta) -> None:
        self._check_speaker(meta, "reject")
        self._trigger(self.Rejected, meta)

    def _check_speaker(self, meta: EventMeta, verb: str) -> None:
        if meta.actor != self.speaker:
            raise NotSpeakerError(f"only {self.speaker}, who said it, may {verb} what was "
                                  f"heard in clip {self.id}; send a clip of your own instead")
        if self.status != DOUBTED:
            raise HearingSettledError(f"the hearing {self.id} is already {self.status}; "
                                      "nothing more to decide")


def task_id_of(hearing_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:altlas:hearing:{hearing_id}")


def checked_heard(heard: dict[str, Any]) -> dict[str, Any]:
    """What a hearing records about its clip: exactly HEARD_FIELDS, the sha256 as 64 hex."""
    if set(heard) != set(HEARD_FIELDS):
        raise InvalidInputError(f"a hearing records {', '.join(HEARD_FIELDS)}; got "
                                f"{', '.join(sorted(heard))}")
    digest = heard["audio_sha256"]
    if not (isinstance(digest, str) and len(digest) == 64
            and all(c in "0123456789abcdef" for c in digest)):
        raise InvalidInputError("audio_sha256 must be 64 lower-case hex digits")
    return dict(heard)


class NotSpeakerError(NotAllowedError):
    """Only who said the clip confirms or rejects what was heard in it."""


class HearingSettledError(ConflictError):
    """The hearing was confirmed or rejected already: a second answer changes nothing."""
