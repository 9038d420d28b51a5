"""The arena: two planners plan one request and a person judges."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from adapters.api.context import LOCATED, Context, located
from adapters.api.errors import ERRORS
from adapters.http_models import (
    DuelIn,
    DuelOut,
    ErrorOut,
    VerdictIn,
)


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person

    @api.post("/arena", status_code=201, response_model=DuelOut, tags=["leaderboards"],
              responses={**LOCATED, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
    def arena(body: DuelIn, response: Response, who: str = Depends(person)) -> Any:
        """Two planners plan one request (or a task's plan meets an alternative): poll GET
        /arena/{id} until `planned`; which planner made which plan shows once decided."""
        duel = uc.arena.ask(who, body.request, a=body.a, b=body.b,
                            environment=body.environment, task_ref=body.task_id)
        return located(response, f"/arena/{duel['id']}", duel)

    @api.get("/arena/{ref}", response_model=DuelOut, tags=["leaderboards"],
             responses={404: {"model": ErrorOut}})
    def duel(ref: str, who: str = Depends(person)) -> Any:
        """A duel (its id, or its task's id)."""
        return uc.arena.duel(who, ref)

    @api.post("/arena/{ref}/votes", response_model=DuelOut, tags=["leaderboards"],
              responses={403: {"model": ErrorOut}, 409: {"model": ErrorOut}})
    def judge(ref: str, body: VerdictIn, who: str = Depends(person)) -> Any:
        """The verdict (approvers): a match the ratings count. 403 for who registered one of
        the planners' models, 409 once decided; both recorded (ArenaVoteRefused)."""
        return uc.arena.vote(who, ref, body.verdict)

    return api
