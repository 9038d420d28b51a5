"""What every page of the dashboard is given and does alike: who is looking (from the
session cookie, checked as the API checks a token), their language, the CSRF check of a form,
and the rendering of a template, or of the page that says what went wrong.

A page module writes ``def routes(web: Web) -> APIRouter`` (with ``web.router()``), reads
through ``web.uc`` as the person ``viewer.person``, answers ``web.page(request, viewer,
"its.html", ...)``, and may name its places in the navigation with ``NAV = ((path, label
key), ...)``. Its module goes in ``PAGES`` (adapters/web/__init__.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from adapters.api.errors import status_for
from adapters.audit_jobs import AuditJobs
from adapters.web.live import Changes, stream
from adapters.web.renders import Renders
from adapters.web.session import COOKIE, Session, Sessions
from adapters.web.text import t
from application.access import AccessDeniedError
from application.errors import PolicyUnavailableError
from application.use_cases import UseCases
from domain.errors import DomainError, InvalidInputError

PREFIX = "/ui"
T = TypeVar("T")
# stands for the CSRF token in a live part shared by several sessions; each stream puts its
# own in (random, so no text a person wrote can be mistaken for it)
CSRF_SLOT = f"csrf-{secrets.token_hex(16)}"
CSRF_SLOT_BYTES = CSRF_SLOT.encode()
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


@dataclass(frozen=True)
class Viewer:
    """The person looking at a page, as the policy knows them now."""

    person: str
    roles: frozenset[str]
    locale: str
    csrf: str  # what this session's forms carry
    session: Session

    def may(self, role: str) -> bool:
        return "admin" in self.roles or role in self.roles


class SignInNeededError(Exception):
    """No session, or one that ended: the page sends the person to sign in."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class ForgedFormError(Exception):
    """A form without this session's CSRF token: refused, nothing done."""


@dataclass
class Web:
    """The use cases, the sessions, the live feed and the navigation the pages share."""

    uc: UseCases
    sessions: Sessions
    live: Changes | None = None
    nav: list[tuple[str, ...]] = field(default_factory=list)  # (path, label[, action needed])
    jobs: AuditJobs = field(default_factory=AuditJobs)  # the API's: one verification at a time
    renders: Renders = field(default_factory=Renders)  # the live parts, shared by their streams

    def router(self) -> APIRouter:
        return APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)

    def viewer(self, request: Request) -> Viewer:
        """The FastAPI dependency of every signed-in page."""
        return self._viewer(request, lately=False)

    def _viewer(self, request: Request, *, lately: bool) -> Viewer:
        session = self.sessions.read(request.cookies.get(COOKIE), lately=lately)
        if session is None:
            raise SignInNeededError("signin.ended" if COOKIE in request.cookies
                                    else "signin.needed")
        policy = self.uc.access.credentials()  # PolicyUnavailableError: the 503 page
        if not self.sessions.current(session, policy):
            raise SignInNeededError("signin.ended")
        locale = policy.locale_of(session.person, request.headers.get("accept-language"))
        return Viewer(session.person, policy.roles_of(session.person), locale,
                      self.sessions.csrf(session.nonce), session)

    async def checked_form(self, request: Request, viewer: Viewer) -> Mapping[str, Any]:
        """The posted form, once its CSRF token is this session's; ForgedFormError if not."""
        form = await request.form()
        token = form.get("csrf")
        if not self.sessions.csrf_ok(viewer.session.nonce,
                                     token if isinstance(token, str) else None):
            raise ForgedFormError()
        return form

    def stream(self, request: Request, viewer: Viewer,
               part: Callable[[int], Awaitable[tuple[int, str]]], event: str,
               after: int | None, last_event_id: str | None) -> Response:
        """A page's live part: ``part(position)`` (see ``shared``) as the views move on,
        from where the browser last heard (Last-Event-ID) or its page was drawn
        (``after``), until the session ends."""
        if self.live is None:
            raise InvalidInputError("this server does not follow the views live")
        since = int(last_event_id) if last_event_id and last_event_id.isdigit() else after

        def ended() -> str | None:
            """Why the stream stops: its session ended, or the person's roles changed (what
            they were shared by is no longer theirs, ``shared``)."""
            try:
                key = None if self._viewer(request, lately=True).roles == viewer.roles \
                    else "live.roles"
            except SignInNeededError as e:
                key = e.key
            return None if key is None else \
                f'<p class="notice" role="alert">{t(viewer.locale, key)}</p>'

        token = viewer.csrf.encode()
        return stream(self.live, since, part, event, lambda: self.renders.run(ended),
                      lambda wire: wire.replace(CSRF_SLOT_BYTES, token))

    async def shared(self, key: Hashable, wanted: int,
                     draw: Callable[[], T]) -> tuple[int, T]:
        """What ``draw`` gives, as drawn once for every stream of ``key`` at the views'
        position ``wanted`` or later: ``key`` must hold all of the viewer that ``draw``
        shows (never the session's CSRF token: see ``shared_fragment``)."""
        live = self.live
        if live is None:
            raise InvalidInputError("this server does not follow the views live")
        return await self.renders.latest(key, wanted, lambda: (live.position, draw()))

    def page(self, request: Request, viewer: Viewer | None, template: str, *,
             status: int = 200, locale: str | None = None, **context: Any) -> HTMLResponse:
        return render(request, template, viewer, status=status, nav=self.nav_for(viewer),
                      locale=locale, **context)

    def nav_for(self, viewer: Viewer | None) -> list[tuple[str, str]]:
        """The places this person may open: a page whose every route they would be refused
        is not offered."""
        return [(path, label) for path, label, *needs in self.nav
                if viewer is not None and all(self.may(viewer, action) for action in needs)]

    def acted(self, act: Callable[[], T], show: Callable[..., Response],
              said: Callable[[T], Mapping[str, Any]]) -> Response:
        """A form's page again (``show``): with the use case's refusal and its status when it
        refused (nothing was done), else with what ``said`` says of what was done, once the
        views hold it."""
        try:
            done = act()
        except DomainError as e:
            return show(status=status_for(e), refused=str(e))
        if self.live is not None:
            self.live.reach(self.uc.position())
        return show(**said(done))

    def may(self, viewer: Viewer, action: str) -> bool:
        """Whether the use case would let this person do ``action``: what decides which
        buttons a page shows (the use case still checks when one is pressed)."""
        try:
            self.uc.access.check(viewer.person, action)
        except AccessDeniedError:
            return False
        return True


def render(request: Request, template: str, viewer: Viewer | None, *, status: int = 200,
           nav: list[tuple[str, str]] | None = None, locale: str | None = None,
           **context: Any) -> HTMLResponse:
    loc = locale or (viewer.locale if viewer else browser_locale(request))
    response = TEMPLATES.TemplateResponse(request, template, _context(
        viewer, loc, request=request, nav=nav or [], **context), status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def shared_fragment(template: str, viewer: Viewer, **context: Any) -> str:
    """A live part as any session of this viewer sees it: the CSRF token left as a slot
    that each session's stream fills (``Web.stream``)."""
    return fragment(template, replace(viewer, csrf=CSRF_SLOT), **context)


def fragment(template: str, viewer: Viewer, **context: Any) -> str:
    """A part of a page (what a live update swaps in), as text."""
    return TEMPLATES.get_template(template).render(_context(viewer, viewer.locale, **context))


def _context(viewer: Viewer | None, locale: str, **context: Any) -> dict[str, Any]:
    return {"viewer": viewer, "locale": locale, "prefix": PREFIX,
            "t": lambda key, **params: t(locale, key, **params), **context}


def browser_locale(request: Request) -> str:
    """Before anyone signed in: the browser's first language when altlas speaks it."""
    first = request.headers.get("accept-language", "").split(",")[0]
    language = first.replace("_", "-").split("-")[0].strip().lower()
    return language if language in ("en", "tr") else "en"


def signin_path(request: Request) -> str:
    here = request.url.path if request.method == "GET" else f"{PREFIX}/"
    return f"{PREFIX}/signin?next={quote(here)}"


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", None, status=status, message=message)


class PageRoute(APIRoute):
    """A page's refusals as pages: sign-in needed → the sign-in page; a refused or
    malformed request → its message with the API's status code; never a traceback."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            loc = browser_locale(request)
            try:
                return await handle(request)
            except SignInNeededError as e:
                if request.method == "GET" and "text/event-stream" not in request.headers.get(
                        "accept", ""):
                    return RedirectResponse(f"{signin_path(request)}&why={e.key}", 303)
                return error_page(request, 401, t(loc, e.key))
            except ForgedFormError:
                return error_page(request, 403, t(loc, "error.forged"))
            except PolicyUnavailableError as e:
                return error_page(request, 503, t(loc, "error.policy", reason=str(e)))
            except DomainError as e:
                return error_page(request, status_for(e), str(e))
            except RequestValidationError as e:
                first = e.errors()[0] if e.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()) if p not in (
                    "query", "body", "path")) or "the request"
                return error_page(request, 422, t(loc, "error.invalid", where=where,
                                                  message=first.get("msg", "invalid")))

        return page
