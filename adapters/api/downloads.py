"""A task's .alt, a run's .last and a run's CloudEvents as files to save: the API's routes
and the dashboard's links answer with the same bytes."""

from __future__ import annotations

import json

from fastapi.responses import Response

from application.documents import alt_document
from application.use_cases import UseCases
from streams.cloudevents import cloudevent


def alt_file(uc: UseCases, who: str, ref: str) -> Response:
    task = uc.task(who, ref)
    return _file(json.dumps(alt_document(task), indent=2, ensure_ascii=False),
                 f"{task.id}.alt", "application/json")


def last_file(uc: UseCases, who: str, ref: str) -> Response:
    document = uc.run_document(who, ref)
    return _file(json.dumps(document, indent=2, ensure_ascii=False, default=str),
                 f"{document.get('run_id', ref)}.last", "application/json")


def cloudevents_file(uc: UseCases, who: str, ref: str) -> Response:
    run = uc.run(who, ref)
    lines = "".join(json.dumps(cloudevent(r), ensure_ascii=False, separators=(",", ":")) + "\n"
                    for r in uc.run_events(who, run.id))
    return _file(lines, f"{run.id}.cloudevents.jsonl", "application/x-ndjson")


def _file(text: str, name: str, media_type: str) -> Response:
    return Response(text, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
