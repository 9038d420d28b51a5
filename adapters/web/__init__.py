"""The web dashboard at /ui: server-rendered pages (Jinja2) over the same use cases as every
front, made live with htmx and server-sent events, every asset served from the package.

A person signs in with their API token (adapters/web/signin.py), which becomes a session
cookie checked against the policy on every request, as a bearer token is. One module per
page, each with ``routes(web)``; ``PAGES`` is the order FastAPI matches them in.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from adapters.audit_jobs import AuditJobs
from adapters.web import history, incidents, knowledge, now, runbooks, runs, signin
from adapters.web.live import Changes
from adapters.web.page import PREFIX, Web, browser_locale, error_page
from adapters.web.session import Sessions
from adapters.web.text import t
from application.use_cases import UseCases

PAGES = (signin, now, runs, runbooks, history, incidents, knowledge)
STATIC = Path(__file__).parent / "static"

__all__ = ["mount_dashboard"]


def mount_dashboard(api: FastAPI, uc: UseCases, sessions: Sessions,
                    live: Changes | None = None, jobs: AuditJobs | None = None) -> Web:
    """The dashboard's pages and assets on ``api``, after its own routes."""
    nav = [entry for page in PAGES for entry in getattr(page, "NAV", ())]
    web = Web(uc, sessions, live, nav=nav, jobs=jobs or AuditJobs())
    for page in PAGES:
        api.router.routes.extend(page.routes(web).routes)
    api.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="ui-static")

    @api.get(PREFIX, include_in_schema=False)
    def home() -> Response:
        return RedirectResponse(f"{PREFIX}/", 307)

    @api.api_route(f"{PREFIX}/{{rest:path}}", methods=["GET", "POST"], include_in_schema=False)
    def no_such_page(request: Request) -> Response:
        return error_page(request, 404, t(browser_locale(request), "error.not_found"))

    return web
