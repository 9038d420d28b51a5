"""Approvals expire on time even if nobody clicks: the service checks every few seconds."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from uuid import UUID

from application.app import AltlasApplication
from application.ports import ReadModels
from application.runner import RunWorker
from domain.errors import ConflictError

log = logging.getLogger("altlas.scheduler")


class ExpiryScheduler:
    def __init__(self, app: AltlasApplication, worker: RunWorker,
                 reads: Callable[[], ReadModels]) -> None:
        self._app = app
        self._worker = worker
        self._reads = reads

    def tick(self) -> list[str]:
        """Expire every open approval whose time is up; cancel what waited for it."""
        now = self._app.clock()
        expired = []
        for row in self._reads().open_approvals():
            approval = self._app.get_approval(UUID(row["approval_id"]))
            if approval.status != "open" or approval.expires_at > now:
                continue
            try:
                self._app.expire_approval(UUID(approval.id))
            except ConflictError:
                continue  # decided meanwhile
            expired.append(approval.id)
            if approval.run_id:
                self._worker.advance(UUID(approval.run_id))
            log.info("approval %s expired", approval.id)
        return expired

    def run(self, stop: threading.Event, every_seconds: float = 5.0) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("expiry check failed; trying again in %gs", every_seconds)
            stop.wait(every_seconds)
