"""How the API refuses: status codes by kind of error, one body shape for all of them."""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.gguf_header import NoModelFileError
from adapters.http_models import ErrorOut
from application.access import AccessDeniedError
from application.errors import (
    AudioRefusedError,
    NotFoundError,
    TooOftenError,
    UnknownEnvironmentError,
)
from application.ports import VectorStoreUnavailableError, WarmingError
from domain.errors import ConflictError, DomainError, InvalidInputError, NotAllowedError
from domain.models import UnknownModelError
from domain.policy import UnknownHostError
from domain.run import UnknownStepError
from streams.audit import KafkaNotConfiguredError

# a kind of input that is fine but finds no such thing, or a server set up without what it
# needs, is not the request's fault: 404 and 409, as the schema cannot say them
_STATUS = ((NotFoundError, 404), (UnknownModelError, 404), (NoModelFileError, 404),
           (UnknownEnvironmentError, 404), (UnknownHostError, 404), (UnknownStepError, 404),
           (NotAllowedError, 403),
           (ConflictError, 409),
           (KafkaNotConfiguredError, 409), (InvalidInputError, 422))
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": why} for code, why in (
        (400, "The body is not JSON"),
        (401, "No token, or a token the policy does not know"),
        (403, "The token's person may not do this"),
        (404, "No task, run or approval has this id"),
        (409, "The current state does not allow it (decided, expired, voted already)"),
        (413, "The body is over the limit (ALTLAS_MAX_BODY_BYTES)"),
        (422, "The input is malformed or breaks a rule"),
        (429, "Expensive work asked for too often (ALTLAS_RATE_LIMITS): see Retry-After"),
        (503, "The policy file was changed and cannot be used until it is fixed"))}


# a clip refused, by AudioRefusedError.reason; any other reason is 422
_AUDIO_STATUS = {"too_large": 413, "not_audio": 415}
VOICE_ERRORS: dict[int | str, dict[str, Any]] = {415: {
    "model": ErrorOut, "description": "The file is not audio (the reason says what it is)"},
    503: {"model": ErrorOut, "description": "The speech model is still loading after a start "
          "(`speech_warming`, Retry-After), or the policy file cannot be used"}}


class ErrorResponse(JSONResponse):
    """A refusal that can always be written: what it quotes of the input that JSON cannot
    carry (infinity, a lone surrogate) is shown as text instead of failing with a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except ValueError:  # UnicodeEncodeError among them
            return super().render(_writable(content))


def _writable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_writable(k): _writable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_writable(v) for v in value]
    return value


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _methods(api: FastAPI, path: str) -> list[str]:
    """The methods the schema lists for ``path`` (FastAPI's 405 names only one route's): of
    the routes written as it (/models/rollback) if any, else of those whose template matches
    it (/models/{name})."""
    own = [r for r in api.routes if getattr(r, "path", None) == path]
    matching = own or [r for r in api.routes if (regex := getattr(r, "path_regex", None))
                       is not None and regex.match(path)]
    methods = {m for r in matching for m in getattr(r, "methods", None) or ()}
    return sorted(methods - {"HEAD"})


def _error_code(exc: Exception) -> str:
    if isinstance(exc, AccessDeniedError):
        return "forbidden"
    name = type(exc).__name__.removesuffix("Error")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def status_for(exc: DomainError) -> int:
    """The status code of a refusal, by its kind: the API's and the dashboard's."""
    if isinstance(exc, TooOftenError):
        return 429
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)


def install_handlers(api: FastAPI) -> None:
    """Every refusal in the API's one error shape: ``{"error": code, "message": text}``."""
    @api.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> ErrorResponse:
        if isinstance(exc, AudioRefusedError):
            return ErrorResponse({"error": exc.reason, "message": str(exc)},
                                 status_code=_AUDIO_STATUS.get(exc.reason, 422))
        if isinstance(exc, TooOftenError):
            return ErrorResponse({"error": "too_often", "message": str(exc)}, status_code=429,
                                 headers={"Retry-After": str(exc.retry_after)})
        return ErrorResponse({"error": _error_code(exc), "message": str(exc)},
                             status_code=status_for(exc))

    @api.exception_handler(VectorStoreUnavailableError)
    async def store_down(_: Request, exc: VectorStoreUnavailableError) -> ErrorResponse:
        return ErrorResponse({"error": "vector_store_unavailable", "message": str(exc)},
                            status_code=503)

    @api.exception_handler(WarmingError)
    async def warming(_: Request, exc: WarmingError) -> ErrorResponse:
        return ErrorResponse({"error": exc.code, "message": str(exc)}, status_code=503,
                            headers={"Retry-After": "5"})

    @api.exception_handler(AuthError)
    async def auth_error(_: Request, exc: AuthError) -> ErrorResponse:
        return ErrorResponse({"error": exc.code, "message": str(exc)}, status_code=exc.status,
                            headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> ErrorResponse:
        """Starlette's own refusals (a body that is not JSON, an unknown path or method) in
        the API's one error shape; a 405 lists every method the path has."""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_methods(api, request.url.path))
        code = {400: "bad_body", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error")
        message = {400: "the body is not valid JSON: send a JSON object"}.get(
            exc.status_code, str(exc.detail))
        return ErrorResponse({"error": code, "message": message}, status_code=exc.status_code,
                            headers=headers)

    @api.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> ErrorResponse:
        """FastAPI's own answer, but a body that is not UTF-8 is shown, not a crash (500)."""
        shown = jsonable_encoder(exc.errors(), custom_encoder={
            bytes: lambda b: b.decode("utf-8", "replace")})
        first = shown[0] if shown else {}
        if first.get("type") == "json_invalid":  # not a JSON document at all
            return ErrorResponse({"error": "bad_body", "message": "the body is not valid JSON "
                                 f"({first.get('ctx', {}).get('error', 'invalid')}): send a "
                                 "JSON object"}, status_code=400)
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "the request"
        message = f"{where}: {first.get('msg', 'invalid')}"
        if first.get("type") in ("literal_error", "enum"):  # name the values it may take
            message = f"{where}: must be one of {first['ctx']['expected']}"
        return ErrorResponse({"error": "invalid_input", "message": message,
                             "detail": shown}, status_code=422)
