"""*Now*: what waits for the person, what runs, what is on fire; kept current by server-sent
events. Approve and deny are posted from here to the same use case as every front."""

from __future__ import annotations

import functools
from collections.abc import Callable

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from adapters.pages.now import board, now
from adapters.web.page import PREFIX, Viewer, Web, shared_fragment
from adapters.web.text import t
from application.snapshots import ApprovalView
from domain.errors import InvalidInputError

NAV = ((f"{PREFIX}/", "nav.now"),)
LIVE = "now"  # the event the page's live part listens for
REASON_MAX = 2000


def routes(web: Web) -> APIRouter:
    ui = web.router()

    async def sections(viewer: Viewer, wanted: int) -> tuple[int, str]:
        """The live part, read once for everyone of these roles and drawn once for everyone
        who sees it alike (roles, language, which approvals are theirs, which they voted
        on), whoever they are: its form token is filled in by each session's stream."""
        position, shown = await web.shared(("now", viewer.roles), wanted,
                                           lambda: board(web.uc, viewer.person))
        alike = ("now", viewer.roles, viewer.locale, shown.mine(viewer.person),
                 shown.voted(viewer.person))
        _, html = await web.renders.latest(alike, position, lambda: (position, shared_fragment(
            "now_live.html", viewer, now=shown.seen_by(viewer.person))), coalesce=False)
        return position, html

    def show(request: Request, viewer: Viewer, *, status: int = 200,
             notice: str | None = None, refused: str | None = None) -> Response:
        position = web.live.current() if web.live is not None else 0
        return web.page(request, viewer, "now.html", status=status, position=position,
                        now=now(web.uc, viewer.person), notice=notice, refused=refused)

    @ui.get("/")
    def now_page(request: Request, viewer: Viewer = Depends(web.viewer)) -> Response:
        return show(request, viewer)

    @ui.get("/now/stream")
    def now_stream(request: Request, viewer: Viewer = Depends(web.viewer),
                   after: int | None = Query(None, ge=0, le=2**63 - 1),
                   last_event_id: str | None = Header(None)) -> Response:
        """The live part of *Now*."""
        return web.stream(request, viewer, lambda wanted: sections(viewer, wanted), LIVE,
                          after, last_event_id)

    @ui.post("/approvals/{approval_id}/approve")
    async def approve(approval_id: str, request: Request,
                      viewer: Viewer = Depends(web.viewer)) -> Response:
        await web.checked_form(request, viewer)
        return _decided(request, viewer, lambda: web.uc.vote(viewer.person, approval_id))

    @ui.post("/approvals/{approval_id}/deny")
    async def deny(approval_id: str, request: Request,
                   viewer: Viewer = Depends(web.viewer)) -> Response:
        form = await web.checked_form(request, viewer)
        reason = str(form.get("reason") or "").strip()
        if not reason or len(reason) > REASON_MAX:
            raise InvalidInputError(t(viewer.locale, "deny.reason", most=REASON_MAX))
        return _decided(request, viewer,
                        lambda: web.uc.deny(viewer.person, approval_id, reason))

    def _decided(request: Request, viewer: Viewer,
                 act: Callable[[], ApprovalView]) -> Response:
        """The *Now* page again, saying what became of the vote or why it was refused."""
        return web.acted(act, functools.partial(show, request, viewer), lambda approval: {
            "notice": t(viewer.locale, f"decided.{approval.status}", id=approval.id[:8],
                        remaining=approval.remaining)})

    return ui
