"""Voice: ask for work by a clip (multipart), and confirm or reject a doubtful hearing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile

from adapters.api.context import LOCATED, Context, located
from adapters.api.errors import ERRORS, VOICE_ERRORS
from adapters.http_models import VoiceOut
from application.errors import AudioRefusedError
from application.snapshots import HearingView, TaskView

MULTIPART_ROOM = 65_536  # the multipart envelope and form fields around a clip at the limit
# what a part holding a clip may say it is: audio, a container that may hold audio, or nothing
_AUDIO_TYPES = ("audio/", "video/", "application/ogg", "application/octet-stream")

# the media types a clip may be sent as, in the schema (a part's type, as clients send it)
CLIP_TYPES = ("audio/ogg", "audio/webm", "audio/mpeg", "audio/mp4", "audio/wav")
CLIP_ENCODING: dict[str, Any] = {"requestBody": {"content": {"multipart/form-data": {
    "encoding": {"audio": {"contentType": ", ".join(CLIP_TYPES)}}}}}}
PENDING: dict[int | str, dict[str, Any]] = {202: {
    "model": VoiceOut, "description": "Heard doubtfully: nothing is planned until the "
    "speaker confirms (POST /hearings/{id}/confirmation) or rejects it",
    "headers": {"Location": {"description": "The hearing to confirm or reject.",
                             "schema": {"type": "string"}}}}}


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person

    @api.post("/voice", status_code=201, response_model=VoiceOut, tags=["voice"],
              responses={**LOCATED, **PENDING, **VOICE_ERRORS}, openapi_extra=CLIP_ENCODING)
    def request_by_voice(
        response: Response,
        audio: Annotated[UploadFile, File(
            description="The clip: ogg/opus, m4a, mp3, wav or webm.")],
        language: Annotated[Literal["auto", "en", "tr"], Form(description=(
            "The language spoken; auto: detected."))] = "auto",
        environment: Annotated[str | None, Form(
            description="An environment of the policy.")] = None,
        who: str = Depends(person),
    ) -> Any:
        """Ask for work by voice. The clip is heard on this machine and handled exactly as
        the typed request: 201 with the task, or 202 when the hearing is doubtful, with the
        hearing its speaker must confirm first. The audio itself is never kept."""
        declared = (audio.content_type or "").lower()
        if declared and not declared.startswith(_AUDIO_TYPES):
            raise AudioRefusedError(f"the file is {declared}, not audio: send a voice clip "
                                    "(ogg/opus, m4a, mp3, wav or webm)", "not_audio")
        heard = uc.hear_request(who, audio.file.read(),
                                language=None if language == "auto" else language,
                                environment=environment, source="api")
        out = VoiceOut(heard=heard.transcript, language=heard.language, task=heard.task,
                       hearing=heard.hearing)
        if heard.hearing is not None:
            response.status_code = 202
            return located(response, f"/hearings/{heard.hearing.id}", out)
        assert heard.task is not None
        return located(response, f"/tasks/{heard.task.id}", out)

    @api.get("/hearings/{hearing_id}", response_model=HearingView, tags=["voice"])
    def get_hearing(hearing_id: str, who: str = Depends(person)) -> Any:
        """A doubtful hearing: its transcript, and whether its speaker decided."""
        return uc.hearing(who, hearing_id)

    @api.post("/hearings/{hearing_id}/confirmation", status_code=201,
              response_model=TaskView, tags=["voice"], responses=LOCATED)
    def confirm_hearing(hearing_id: str, response: Response,
                        who: str = Depends(person)) -> Any:
        """The speaker's "yes, that's it": the work is asked for as heard (only the speaker;
        once)."""
        task = uc.confirm_hearing(who, hearing_id)
        return located(response, f"/tasks/{task.id}", task)

    @api.post("/hearings/{hearing_id}/rejection", response_model=HearingView, tags=["voice"])
    def reject_hearing(hearing_id: str, who: str = Depends(person)) -> Any:
        """The speaker's "no": nothing is planned from it (only the speaker; once)."""
        return uc.reject_hearing(who, hearing_id)

    return api
