"""*Incidents*: the list with each one's status and likeliest cause, and one incident with
its alerts on a time axis (SVG drawn on the server), its evidence chart and its
remediation's run."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from adapters.api.context import png
from adapters.pages import incidents
from adapters.web.page import PREFIX, Viewer, Web

NAV = ((f"{PREFIX}/incidents", "nav.incidents"),)


def routes(web: Web) -> APIRouter:
    ui = web.router()

    @ui.get("/incidents")
    def listing(request: Request, viewer: Viewer = Depends(web.viewer),
                status: str | None = Query(None, max_length=20),
                limit: int = Query(50, ge=1, le=1000)) -> Response:
        return web.page(request, viewer, "incidents.html", chosen=status or "",
                        rows=incidents.incident_list(web.uc, viewer.person, status, limit),
                        statuses=incidents.STATUSES)

    @ui.get("/incidents/{ref}")
    def incident(ref: str, request: Request,
                 viewer: Viewer = Depends(web.viewer)) -> Response:
        return web.page(request, viewer, "incident.html",
                        incident=incidents.incident_page(web.uc, viewer.person, ref),
                        width=incidents.WIDTH)

    @ui.get("/incidents/{ref}/chart.png")
    def chart(ref: str, viewer: Viewer = Depends(web.viewer)) -> Response:
        return png(web.uc.incident_chart(viewer.person, ref))

    return ui
