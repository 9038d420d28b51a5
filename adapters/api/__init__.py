"""The HTTP API: each endpoint turns a request into one use case, as the token's person.

Every endpoint but /healthz and /metrics needs a bearer token; the policy maps the token's
sha256 to a person, who is the actor: no body names who is acting. What a person may do is
decided by the use cases (application/access.py), as for every front. Errors map by kind:
unauthenticated 401, not allowed 403, not found 404, conflict 409, body over the limit
413, a clip that is not audio 415, invalid input 422, a policy file that became invalid
503; the body is always ``{"error": code, "message": text}``. Tokens follow the policy
file without a restart. Ids may be given whole or as any unique beginning of one, as
listings show them.

One router per area of the product, in the module of its name.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry

from adapters.api import (
    alerts,
    approvals,
    arena,
    atlas,
    audit,
    leaderboards,
    models,
    privacy,
    runbooks,
    runs,
    service,
    tasks,
    voice,
)
from adapters.api.auth import authenticator
from adapters.api.context import Context
from adapters.api.errors import ERRORS, install_handlers
from adapters.audit_jobs import AuditJobs
from application.ports import WorkerRegistry
from application.use_cases import UseCases

# The order the schema lists them in, and FastAPI matches paths in.
AREAS = (service, tasks, voice, runbooks, runs, approvals, audit, atlas, alerts, leaderboards,
         arena, models, privacy)

__all__ = ["authenticator", "create_api"]


def create_api(use_cases: UseCases, *,
               workers: WorkerRegistry | None = None,
               metrics: CollectorRegistry | None = None,
               person: Callable[..., str] | None = None,
               store_check: Callable[[], str | None] | None = None,
               instance: str = "altlas", jobs: AuditJobs | None = None) -> FastAPI:
    """``jobs``: the audit jobs, shared with the dashboard so one verification runs at a
    time whichever front started it."""
    # /docs and /redoc load Swagger UI and ReDoc from the package's files: no CDN
    api = FastAPIOffline(title="altlas", version="0.2.0", responses=ERRORS,
                  description="Event-sourced operations backend: ask for work, approve it, "
                  "follow its runs, audit the history. Authenticate with `Authorization: "
                  "Bearer <token>` (`altlas token new --for PERSON`). After a request, altlas "
                  "plans it and runs what its gates allow by itself; votes move runs on.")
    ctx = Context(uc=use_cases, person=person or authenticator(use_cases.access),
                  jobs=jobs or AuditJobs(), instance=instance, workers=workers,
                  store_check=store_check, metrics=metrics)
    install_handlers(api)
    for area in AREAS:
        # the routes themselves, not FastAPI's lazy include: `api.routes` lists every route,
        # which the 405 answer and the checks of every route's body limit and token rely on
        api.router.routes.extend(area.router(ctx).routes)
    return api
