"""Commands of spoken requests: a doubtful hearing held for its speaker, then confirmed (the
task asked for, in the same transaction) or rejected."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from application.core import AppCore
from application.snapshots import HearingView
from domain.base import EventMeta
from domain.task import Task
from domain.voice import Hearing


class VoiceCommands(AppCore):
    def doubt_hearing(self, transcript: str, speaker: str, heard: dict[str, Any], *,
                      environment: str | None = None, source: str = "api",
                      reply_to: dict[str, str] | None = None) -> HearingView:
        self._check_environment(environment)
        who = self.privacy.pseudonym(speaker)
        with self._revealing():
            hearing = Hearing.doubt(transcript, who, heard, EventMeta.for_command(who),
                                    environment=environment, source=source,
                                    reply_to=reply_to, seal=self.privacy.sealer(who))
        self.save(hearing)
        return self._shown(HearingView.of(hearing))

    def confirm_hearing(self, hearing_id: UUID, *, by: str) -> UUID:
        """The speaker's yes: the hearing's confirmation and its task are recorded
        together, so the task exists exactly when the hearing says it was confirmed."""
        def confirm() -> UUID:
            hearing = self.load(Hearing, hearing_id)
            meta = EventMeta(self.privacy.pseudonym(by), hearing.correlation_id, str(uuid4()))
            task_id = hearing.confirm(meta)
            task = Task.request_work(
                self.privacy.reveal(hearing.transcript), hearing.speaker, meta,
                environment=hearing.environment, source=hearing.source,
                reply_to=hearing.reply_to, seal=self.privacy.sealer(hearing.speaker),
                heard=hearing.heard, id=task_id)
            self.save(hearing, task)
            return task_id

        with self._turn(hearing_id), self._revealing():
            return self._retrying(confirm)

    def reject_hearing(self, hearing_id: UUID, *, by: str) -> HearingView:
        def reject(hearing: Hearing, meta: EventMeta) -> None:
            hearing.reject(meta)

        return self._shown(HearingView.of(self._change(Hearing, hearing_id, by, reject)))

    def get_hearing(self, hearing_id: UUID) -> HearingView:
        return self._shown(self._read(Hearing, hearing_id, HearingView.of))
