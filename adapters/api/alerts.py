"""Alertmanager's webhook and the incidents its alerts are correlated into."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from adapters.api.auth import unavailable
from adapters.api.context import Context, aware, listing, png, utc
from adapters.api.errors import ERRORS, AuthError
from adapters.http_models import (
    AlertmanagerIn,
    AlertsReceivedOut,
    ErrorOut,
    IncidentDetailOut,
    IncidentOut,
    IsoTime,
    Page,
)
from application.access import UnknownSenderError
from application.errors import PolicyUnavailableError
from domain.alerts import IncomingAlert


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person

    def alertmanager(request: Request) -> None:
        try:
            uc.access.alert_sender(request.headers.get("authorization"))
        except UnknownSenderError as e:
            raise AuthError(401, e.code, str(e)) from None
        except PolicyUnavailableError as e:
            raise unavailable(e, "no alert") from None

    @api.post("/alerts/alertmanager", response_model=AlertsReceivedOut, tags=["alerts"],
              dependencies=[Depends(alertmanager)])
    def alerts(body: AlertmanagerIn) -> Any:
        """Alertmanager's webhook (payload version 4; receiver `webhook_configs`). Every alert
        is recorded before anything else happens: a new firing as AlertReceived, one sent
        again as AlertRefreshed, a resolution as AlertResolved; repeats change nothing."""
        sender = {"receiver": body.receiver, "group_key": body.groupKey,
                  "external_url": body.externalURL}
        return uc.receive_alerts([IncomingAlert(
            a.fingerprint, dict(a.labels), dict(a.annotations), utc(a.startsAt),
            utc(a.endsAt) if a.endsAt is not None and a.endsAt.year > 1 else None,
            {**sender, "generator_url": a.generatorURL}, resolved=a.status == "resolved")
            for a in body.alerts])

    @api.get("/incidents", response_model=Page[IncidentOut], tags=["alerts"])
    def incidents(status: Literal["open", "resolved", "merged"] | None = None,
                  since: IsoTime | None = Query(None, description="Opened at or after."),
                  limit: int = Query(20, ge=1, le=1000), who: str = Depends(person)) -> Any:
        """Incidents the alerts were correlated into, newest first: their alerts (still
        firing or not) and root-cause candidates, most likely first, with the evidence."""
        return listing(uc.incidents(who, status=status, since=aware(since), limit=limit))

    @api.get("/incidents/{ref}", response_model=IncidentDetailOut, tags=["alerts"],
             responses={404: {"model": ErrorOut}})
    def incident(ref: str, who: str = Depends(person)) -> Any:
        """One incident (its id, or the first 6 characters or more) with its timeline."""
        return uc.incident(who, ref)

    @api.get("/incidents/{ref}/chart.png", tags=["alerts"], response_class=Response,
             responses={200: {"content": {"image/png": {}}}, 404: {"model": ErrorOut}})
    def incident_chart(ref: str, who: str = Depends(person)) -> Response:
        """The incident's key metric around its opening, the anomaly marked."""
        return png(uc.incident_chart(who, ref))

    return api
