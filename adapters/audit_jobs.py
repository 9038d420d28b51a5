"""Long audit work over HTTP as a job: a verification of a million events takes longer than a
request should, so it runs in a thread of the server, one at a time, and is asked about by id.

Jobs are not events: they read the history and record nothing; a restart forgets them (the
caller starts the verification again). The last few finished ones are kept for their results.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from application.errors import NotFoundError
from domain.errors import ConflictError

if TYPE_CHECKING:
    from application.use_cases import UseCases

log = logging.getLogger("altlas.audit")

Progress = Callable[[int], None]


class AuditJobRunningError(ConflictError):
    """Another audit job is running; its id is in the message."""


@dataclass
class AuditJob:
    id: str
    kind: str
    kafka: bool
    requested_by: str
    total: int  # events in the store when it started (the topic may hold as many again)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "running"  # running, done, failed
    checked: int = 0
    finished_at: datetime | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "kafka": self.kafka, "status": self.status,
                "requested_by": self.requested_by, "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "checked": self.checked, "total": self.total, "result": self.result,
                "error": self.error}


class AuditJobs:
    def __init__(self, keep: int = 20) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, AuditJob] = OrderedDict()
        self._keep = keep

    def verify(self, who: str, kafka: bool, total: int,
               work: Callable[[Progress], list[dict[str, Any]]]) -> AuditJob:
        """The running verification if it is the same one, else a new job; raises
        AuditJobRunningError while a different one runs."""
        with self._lock:
            running = next((j for j in self._jobs.values() if j.status == "running"), None)
            if running is not None:
                if running.kind == "verify" and running.kafka == kafka:
                    return running
                raise AuditJobRunningError(
                    f"audit job {running.id} ({running.kind}) is running; ask "
                    f"GET /audit/jobs/{running.id} and start this one when it is done")
            job = AuditJob(str(uuid4()), "verify", kafka, who, total)
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                self._jobs.popitem(last=False)
        threading.Thread(target=self._run, args=(job, work), name=f"audit-{job.id[:8]}",
                         daemon=True).start()
        return job

    def get(self, job_id: str) -> AuditJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no audit job has the id {job_id} (jobs are kept until the "
                                "server restarts, the last 20)", job_id)
        return job

    def _run(self, job: AuditJob, work: Callable[[Progress], list[dict[str, Any]]]) -> None:
        def progress(n: int) -> None:
            job.checked += n

        try:
            reports = work(progress)
            job.result = {"ok": all(r["ok"] for r in reports), "reports": reports}
            job.status = "done"
        except Exception as e:
            log.exception("audit job %s failed", job.id)
            job.error = f"{type(e).__name__}: {e}"
            job.status = "failed"
        finally:
            job.finished_at = datetime.now(UTC)


def start_verify(jobs: AuditJobs, uc: UseCases, who: str, kafka: bool = False) -> AuditJob:
    """``who``'s verification as a job, refused (403, 422, 429) before one starts: what the
    API and the dashboard both start."""
    uc.can_verify(who, kafka=kafka)
    return jobs.verify(who, kafka, uc.position(),
                       lambda progress: uc.verify(who, kafka=kafka, progress=progress,
                                                 counted=True))
