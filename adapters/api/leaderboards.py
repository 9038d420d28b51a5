"""Leaderboards: runbooks and planners ranked, ratings, their charts, matches."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from adapters.api.context import LOCATED, Context, located, png
from adapters.api.errors import ERRORS
from adapters.http_models import (
    ErrorOut,
    LeaderboardOut,
    MatchIn,
    MatchOut,
    RunbookHistoryOut,
)


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person


    @api.get("/leaderboards", response_model=LeaderboardOut, tags=["leaderboards"])
    def leaderboards(method: Literal["elo", "bt"] = "elo", who: str = Depends(person)) -> Any:
        """Runbooks (kinds of plans) surest first, then soonest resolved; planners by their
        plans' runs and refusals; planners' ratings from matches (Elo or Bradley-Terry) with
        95% bootstrap intervals."""
        return uc.leaderboard(who, method)

    @api.get("/leaderboards/runbooks", response_model=RunbookHistoryOut, tags=["leaderboards"])
    def runbook(q: str = Query(min_length=1, max_length=500, pattern=r"\S",
                               description="Words of the runbook's pattern or requests."),
                who: str = Depends(person)) -> Any:
        """The best-ranked runbook the words find, with its success rate per period."""
        return uc.runbook_history(who, q)

    @api.get("/leaderboards/ratings.png", tags=["leaderboards"], response_class=Response,
             responses={200: {"content": {"image/png": {}}, "description": "The chart"}})
    def ratings_chart(method: Literal["elo", "bt"] = "elo",
                      who: str = Depends(person)) -> Response:
        """Each planner's rating with its 95% interval, best on top (404: no match yet)."""
        return png(uc.chart(who, method=method))

    @api.get("/leaderboards/runbooks.png", tags=["leaderboards"], response_class=Response,
             responses={200: {"content": {"image/png": {}}, "description": "The chart"}})
    def runbook_chart(q: str = Query(min_length=1, max_length=500, pattern=r"\S",
                                     description="Words of the runbook's pattern or requests."),
                      who: str = Depends(person)) -> Response:
        """A runbook's success rate over time with its 95% interval."""
        return png(uc.chart(who, runbook=q))

    @api.post("/matches", status_code=201, response_model=MatchOut, tags=["leaderboards"],
              responses={**LOCATED,
                         403: {"model": ErrorOut, "description": "Not an approver, or who "
                               "registered a planner's model or asked for its adapter"},
                         404: {"model": ErrorOut, "description": "A planner the arena does "
                               "not know, named"}})
    def match(body: MatchIn, response: Response, who: str = Depends(person)) -> Any:
        """Record which of two planners' plans was better (approvers): MatchPlayed, which
        the ratings count, under the arena's rules; Location is its record in the
        timeline."""
        a, b = body.planners
        match_id = uc.record_match(who, a, b, body.outcome, body.task_id)
        return located(response, f"/timeline?aggregate_id={match_id}", {"match_id": match_id})

    return api
