"""The .atlas: patterns of what ran, similar runs, export and import."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from adapters.api.context import Context, listing
from adapters.api.errors import ERRORS
from adapters.http_models import (
    AtlasImportOut,
    ErrorOut,
    Page,
    PatternOut,
    SimilarOut,
)
from application.atlas import document_schema
from application.documents import inlined_schema


def import_schema() -> dict[str, Any]:
    """The .atlas document's JSON Schema, as strict as an import: at least one pattern, each
    plan an .alt plan."""
    schema = {k: v for k, v in document_schema().items() if k not in ("$schema", "$id")}
    patterns = schema["properties"]["patterns"]
    pattern = patterns["items"]
    plan = pattern["properties"]["plan"]
    pattern["properties"]["plan"] = {"description": plan.get("description", ""), "anyOf": [
        {"type": "null"}, inlined_schema("alt")]}
    schema["properties"]["patterns"] = {**patterns, "minItems": 1}
    return schema


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person
    instance = ctx.instance

    @api.get("/atlas", response_model=Page[PatternOut], tags=["atlas"])
    def atlas(q: str | None = Query(None, max_length=500, description="Words the pattern, "
                                    "its intent or its requests contain."),
              limit: int = Query(50, ge=1, le=1000), who: str = Depends(person)) -> Any:
        """Patterns of plans that ran, most run first: runs, success rate with its 95%
        interval, durations, typical failures, who asked, the plan of the latest success."""
        return listing(uc.atlas_patterns(who, q)[:limit])

    @api.get("/atlas/similar", response_model=Page[SimilarOut], tags=["atlas"], responses={
        503: {"model": ErrorOut, "description": "The vector store cannot be reached, or the "
              "embedding model is still loading after a start (Retry-After)"}})
    def similar(q: str = Query(min_length=1, max_length=2000, pattern=r"\S",
                               description="A request, in plain words."),
                k: int = Query(3, ge=1, le=50), environment: str | None = None,
                outcome: Literal["succeeded", "failed", "cancelled"] | None = None,
                who: str = Depends(person)) -> Any:
        """The past runs whose requests are nearest in meaning, with their plans."""
        return listing(s.to_dict() for s in uc.similar_runs(who, q, k, environment=environment,
                                                            outcome=outcome))

    @api.get("/atlas/export", tags=["atlas"], responses={
        200: {"content": {"application/json": {}},
              "description": "The .atlas document (altlas/schemas/atlas.schema.json)"}})
    def atlas_export(who: str = Depends(person)) -> JSONResponse:
        """This installation's .atlas, to import elsewhere (the people who asked left out)."""
        return JSONResponse(uc.atlas_document(who, instance, datetime.now(UTC)))

    @api.post("/atlas/imports", response_model=AtlasImportOut, tags=["atlas"], responses={
        409: {"model": ErrorOut, "description": "Parts of the document contradict each other "
              "(more successes than runs, a pattern twice, a plan's steps that do not fit "
              "together: two with one id, a need of a step it lacks, a cycle, a condition on "
              "a step not needed)"}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": import_schema()}}}})
    async def atlas_import(request: Request, source: str | None = Query(
            None, min_length=1, max_length=200, description="Where it came from (default: "
            "the document's source)."), who: str = Depends(person)) -> Any:
        """Merge another installation's .atlas export (operators): recorded as one event; the
        same document again changes nothing. 422 names the JSON path of the first error the
        schema shows, 409 the first contradiction it cannot show."""
        raw = await request.body()
        return await run_in_threadpool(uc.import_atlas, who, raw, source)

    return api
