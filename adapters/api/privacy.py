"""Privacy: forgetting a person and what is recorded about one."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response, StreamingResponse

from adapters.api.context import LOCATED, Context, asked
from adapters.api.errors import ERRORS
from adapters.http_models import (
    ErasureIn,
)
from application.snapshots import ApprovalView


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person

    @api.post("/privacy/erasures", status_code=201, response_model=ApprovalView,
              tags=["privacy"], responses=LOCATED)
    def forget(body: ErasureIn, response: Response, who: str = Depends(person)) -> Any:
        """Ask to forget a person (admins). Once someone else (an approver or admin, not
        the person) grants the approval this returns, their key is destroyed: their name
        and what they wrote read as erased everywhere, and the history still verifies. 404
        for nobody on record by that name (never, or forgotten already)."""
        return asked(response, uc.forget(who, body.person, body.reason))

    @api.get("/privacy/people/{name}/events", tags=["privacy"],
             response_class=StreamingResponse,
             responses={200: {"content": {"application/x-ndjson": {}},
                              "description": "One event per line, as people read it"}})
    def personal_data(name: str, who: str = Depends(person)) -> StreamingResponse:
        """Everything recorded about a person (admins; a data-access request): each event
        that names them or holds what they wrote."""
        lines = (json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n"
                 for e in uc.personal_data(who, name))
        return StreamingResponse(lines, media_type="application/x-ndjson")

    return api
