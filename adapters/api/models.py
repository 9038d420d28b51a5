"""The models that plan: registry, activation, promotion, rollback, trainings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from adapters.api.context import LOCATED, Context, asked, located, png
from adapters.api.errors import ERRORS
from adapters.http_models import (
    ActivationIn,
    ErrorOut,
    ModelIn,
    ModelOut,
    ModelsOut,
    PromotionIn,
    TrainingOut,
)
from application.snapshots import ApprovalView


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person

    @api.get("/models", response_model=ModelsOut, tags=["models"])
    def models(who: str = Depends(person)) -> Any:
        """The registered GGUF models, what their headers say, and which one plans."""
        return uc.models.catalog(who)

    @api.get("/models/{name}", response_model=ModelOut, tags=["models"],
             responses={404: {"model": ErrorOut}})
    def model(name: str, who: str = Depends(person)) -> Any:
        """A registered model: what its header says, and whether it plans."""
        return uc.models.model(who, name)

    @api.post("/models", status_code=201, response_model=ModelOut, tags=["models"],
              responses={**LOCATED, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
    def add_model(body: ModelIn, response: Response, who: str = Depends(person)) -> Any:
        """Register a GGUF file on the altlas host from its header (operators): 422 naming
        the field or byte where it is no usable model, 409 when the name or the file is
        registered already. It plans nothing until activated."""
        added = uc.models.add(who, body.path, body.name)
        return located(response, f"/models/{added['name']}", added)

    @api.post("/models/{name}/activation", status_code=201, response_model=ApprovalView,
              tags=["models"], responses={**LOCATED, 409: {"model": ErrorOut},
                                          422: {"model": ErrorOut}})
    def activate_model(name: str, body: ActivationIn, response: Response,
                       who: str = Depends(person)) -> Any:
        """Ask that the local segmenter plan with this model (operators): it does once
        someone else (an approver or admin) grants the approval this returns."""
        return asked(response, uc.models.activate(who, name, body.reason))

    @api.post("/models/promotions", status_code=201, response_model=ApprovalView,
              tags=["models"], responses={**LOCATED, 404: {"model": ErrorOut},
                                          409: {"model": ErrorOut}})
    def promote_adapter(body: PromotionIn, response: Response,
                        who: str = Depends(person)) -> Any:
        """Ask that an evaluated adapter plan on its base (operators): 409 unless its latest
        evaluation beats the base (more exact plans, no more wrong ones). It does once an
        approver who asked for neither it nor its training grants the approval returned."""
        return asked(response, uc.models.promote(who, body.adapter, body.reason))

    @api.post("/models/rollback", status_code=201, response_model=ApprovalView,
              tags=["models"], responses={**LOCATED, 409: {"model": ErrorOut}})
    def roll_back_model(body: ActivationIn, response: Response,
                        who: str = Depends(person)) -> Any:
        """Ask to go back to what planned before the last activation or promotion
        (operators; someone else approves). 409 when nothing changed yet."""
        return asked(response, uc.models.rollback(who, body.reason))

    @api.get("/trainings/{ref}", response_model=TrainingOut, tags=["models"],
             responses={404: {"model": ErrorOut}})
    def training(ref: str, who: str = Depends(person)) -> Any:
        """A training (its id, or its first 6 characters or more): status, progress, the
        adapter once trained, or why it stopped."""
        return uc.models.training(who, ref)

    @api.get("/trainings/{ref}/loss.png", tags=["models"], response_class=Response,
             responses={200: {"content": {"image/png": {}}}, 404: {"model": ErrorOut}})
    def training_chart(ref: str, who: str = Depends(person)) -> Response:
        """The training's loss per step (404 before its first step)."""
        return png(uc.training_chart(who, ref)[1])

    @api.get("/trainings/{ref}/evaluation.png", tags=["models"], response_class=Response,
             responses={200: {"content": {"image/png": {}}}, 404: {"model": ErrorOut}})
    def evaluation_chart(ref: str, who: str = Depends(person)) -> Response:
        """Its adapter's exact, asked, refused and wrong plans against its base's (404 before
        it is evaluated)."""
        return png(uc.evaluation_chart(who, ref)[1])

    return api
