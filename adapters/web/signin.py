"""Signing in and out: an API token, checked as the API checks it, exchanged for an
HTTP-only, SameSite=Strict session cookie that ends after ALTLAS_UI_SIGNED_IN_SECONDS, or
when the person signs out (then on the server too, adapters/web/session.py)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from adapters.web.page import PREFIX, ForgedFormError, Viewer, Web, browser_locale
from adapters.web.session import COOKIE, SIGNIN_COOKIE
from adapters.web.text import t

WHY = ("signin.needed", "signin.ended")


def routes(web: Web) -> APIRouter:
    ui = web.router()

    @ui.get("/signin")
    def signin_form(request: Request, next: str = "", why: str = "") -> Response:
        nonce = secrets.token_urlsafe(16)
        response = web.page(request, None, "signin.html", next=_inside(next),
                            csrf=web.sessions.csrf(f"signin:{nonce}"),
                            why=why if why in WHY else None)
        _cookie(request, response, SIGNIN_COOKIE, nonce, 600)
        return response

    @ui.post("/signin")
    async def signin(request: Request) -> Response:
        form = await request.form()
        nonce = request.cookies.get(SIGNIN_COOKIE)
        csrf, token, after = (form.get(k) for k in ("csrf", "token", "next"))
        if not nonce or not isinstance(csrf, str) or not web.sessions.csrf_ok(
                f"signin:{nonce}", csrf):
            raise ForgedFormError()
        person = web.uc.access.token_holder(token.strip()) if isinstance(token, str) else None
        if person is None or not isinstance(token, str):
            fresh = secrets.token_urlsafe(16)
            refused = web.page(request, None, "signin.html", status=401,
                                next=_inside(after if isinstance(after, str) else ""),
                                csrf=web.sessions.csrf(f"signin:{fresh}"),
                                error=t(browser_locale(request), "signin.unknown"))
            _cookie(request, refused, SIGNIN_COOKIE, fresh, 600)
            return refused
        _, cookie = web.sessions.open(person, token.strip())
        response = RedirectResponse(_inside(after if isinstance(after, str) else ""), 303)
        _cookie(request, response, COOKIE, cookie, web.sessions.lifetime)
        response.delete_cookie(SIGNIN_COOKIE, path=PREFIX)
        return response

    @ui.post("/signout")
    async def signout(request: Request, viewer: Viewer = Depends(web.viewer)) -> Response:
        await web.checked_form(request, viewer)
        return signed_out(lambda: web.sessions.end(viewer.session))

    @ui.post("/signout/everywhere")
    async def signout_everywhere(request: Request,
                                 viewer: Viewer = Depends(web.viewer)) -> Response:
        """Every session of the person, on every device and copy of a cookie, ends; the
        history records that they did it, as it records an admin doing it for them."""
        await web.checked_form(request, viewer)
        return signed_out(lambda: web.uc.end_sessions(viewer.person, viewer.person))

    def signed_out(end: Callable[[], object]) -> Response:
        end()
        if web.live is not None:
            web.live.recheck()  # this process's open streams of the ended sessions end now
        response = RedirectResponse(f"{PREFIX}/signin", 303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    return ui


def _inside(path: str) -> str:
    """Where to go after signing in: a page of the dashboard, never another site."""
    ok = path.startswith(f"{PREFIX}/") and not path.startswith("//") and "\\" not in path \
        and all(c.isprintable() and not c.isspace() for c in path)
    return path if ok else f"{PREFIX}/"


def _cookie(request: Request, response: Response, name: str, value: str, seconds: int) -> None:
    response.set_cookie(name, value, max_age=seconds, path=PREFIX, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
