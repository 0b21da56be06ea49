"""Every error the daemon answers, in one shape: {"error": {"code", "message", "details"}}.

Engine errors (ParleyError) are mapped to an HTTP status and an API code here; FastAPI's
validation errors and Starlette's 404/405 are reshaped the same way; anything unexpected is
logged and answered as INTERNAL_ERROR, never with its traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import Response

from parley.core.errors import ErrorCode, ParleyError
from parley.doors.http.raw import error_body

log = logging.getLogger(__name__)

# Engine code -> (HTTP status, API code).
_MAPPED: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.INVALID_PARAMS: (400, "INVALID_REQUEST"),
    ErrorCode.CONFIG_INVALID: (400, "INVALID_REQUEST"),
    ErrorCode.PROVIDER_NOT_CONFIGURED: (400, "INVALID_REQUEST"),
    ErrorCode.SESSION_NOT_FOUND: (404, "SESSION_NOT_FOUND"),
    ErrorCode.PROFILE_NOT_FOUND: (404, "PROFILE_NOT_FOUND"),
    ErrorCode.TURN_NOT_FOUND: (404, "NOT_FOUND"),
    ErrorCode.APPROVAL_NOT_FOUND: (404, "NOT_FOUND"),
    ErrorCode.SESSION_BUSY: (409, "SESSION_BUSY"),
    ErrorCode.SESSION_EXISTS: (409, "SESSION_EXISTS"),
    ErrorCode.RATE_LIMITED: (429, "RATE_LIMITED"),
    ErrorCode.SHUTTING_DOWN: (503, "SHUTTING_DOWN"),
    ErrorCode.INTERNAL: (500, "INTERNAL_ERROR"),
}
# Starlette's and FastAPI's own refusals (an unknown path, a body that is not JSON).
_HTTP_CODES = {
    400: "INVALID_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
}
# What a failed turn is answered with, unless mapped above.
_EXECUTION_FAILED = (500, "EXECUTION_FAILED")

DESCRIPTIONS: dict[int, str] = {
    400: "INVALID_REQUEST: a malformed body, parameter or value",
    401: "UNAUTHORIZED: a missing or wrong API key",
    403: "FORBIDDEN: a Host or Origin this daemon does not serve",
    404: "NOT_FOUND, SESSION_NOT_FOUND or PROFILE_NOT_FOUND",
    409: "SESSION_BUSY (a turn is running) or SESSION_EXISTS",
    413: "PAYLOAD_TOO_LARGE: the body is over the daemon's limit",
    429: "RATE_LIMITED: the model provider is rate limiting",
    500: "EXECUTION_FAILED (the turn failed) or INTERNAL_ERROR",
    503: "SHUTTING_DOWN: the daemon is stopping",
}


class PayloadTooLarge(HTTPException):
    """A body sent in chunks grew past the limit while it was being read. An HTTPException,
    so FastAPI's body reading lets it through instead of calling it a parse error."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit} bytes")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorResponse(BaseModel):
    error: ErrorBody


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the error answers a route can give (besides the guard's)."""
    every = (400, 401, 403, 413, 500, 503, *statuses)
    return {s: {"model": ErrorResponse, "description": DESCRIPTIONS[s]} for s in sorted(every)}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = error_body(code, message, details)
    return Response(body, status, headers, media_type="application/json")


def status_of(error: ParleyError, *, in_turn: bool = False) -> tuple[int, str]:
    """The HTTP status and API code of an engine error; `in_turn`: it ended a turn."""
    mapped = _MAPPED.get(error.code)
    if mapped is not None and (not in_turn or mapped[0] in (409, 429, 503)):
        return mapped
    return _EXECUTION_FAILED if in_turn else (500, "INTERNAL_ERROR")


def from_parley(error: ParleyError, *, in_turn: bool = False) -> Response:
    status, code = status_of(error, in_turn=in_turn)
    return error_response(status, code, error.message, error.wire_data())


def install(app: FastAPI) -> None:
    async def parley_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ParleyError)
        return from_parley(exc)

    async def invalid(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        # Only where and why: the rejected input may be huge or hold a secret.
        problems = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e["type"]}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"])
        return error_response(
            400, "INVALID_REQUEST", f"{where}: {first['msg']}", {"errors": problems}
        )

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        return error_response(exc.status_code, code, str(exc.detail))

    async def crashed(_: Request, exc: Exception) -> Response:
        log.error("request failed", exc_info=exc)
        return error_response(500, "INTERNAL_ERROR", "internal error")

    app.add_exception_handler(ParleyError, parley_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, crashed)
