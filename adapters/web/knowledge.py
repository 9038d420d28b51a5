"""*Knowledge*: the .atlas patterns with their success rates and intervals, the leaderboards
(Elo or Bradley-Terry, with intervals) and the trainings with their loss and evaluation
charts: what `altlas atlas`, `leaderboard` and `models training` show."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from adapters.api.context import png
from adapters.pages import knowledge
from adapters.web.page import PREFIX, Viewer, Web

NAV = ((f"{PREFIX}/knowledge", "nav.knowledge"),)


def routes(web: Web) -> APIRouter:
    ui = web.router()

    @ui.get("/knowledge")
    def page(request: Request, viewer: Viewer = Depends(web.viewer),
             q: str | None = Query(None, max_length=500),
             method: str = Query("elo", max_length=10),
             limit: int = Query(50, ge=1, le=1000)) -> Response:
        return web.page(request, viewer, "knowledge.html", q=q or "",
                        shown=knowledge.knowledge(web.uc, viewer.person, q, method, limit),
                        methods=knowledge.METHODS)

    @ui.get("/trainings/{ref}/loss.png")
    def loss(ref: str, viewer: Viewer = Depends(web.viewer)) -> Response:
        return png(web.uc.training_chart(viewer.person, ref)[1])

    @ui.get("/trainings/{ref}/evaluation.png")
    def evaluation(ref: str, viewer: Viewer = Depends(web.viewer)) -> Response:
        return png(web.uc.evaluation_chart(viewer.person, ref)[1])

    @ui.get("/leaderboards/ratings.png")
    def ratings(viewer: Viewer = Depends(web.viewer),
                method: str = Query("elo", pattern="^(elo|bt)$")) -> Response:
        return png(web.uc.chart(viewer.person, method=method))

    return ui
