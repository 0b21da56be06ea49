"""Turns: execute on a session (answer or SSE), cancel, and single-shot execute."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from parley.core.errors import ErrorCode, ParleyError
from parley.doors.http import models, new_session, views
from parley.doors.http.context import Daemon, daemon, json
from parley.doors.http.errors import from_parley, responses
from parley.engine.turn_handle import TurnHandle

router = APIRouter(tags=["execute"])

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# One server-sent event: `data` is JSON (docs/http.md lists the events).
SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string"},
        "id": {"type": "string"},
    },
    "required": ["data"],
}
SSE_CONTENT = {"text/event-stream": {"schema": SSE_EVENT}}
SSE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The turn's result; with stream:true, its events as server-sent events",
        "content": SSE_CONTENT,
    }
}
SINGLE_SHOT_TAG = "single-shot"


@router.post(
    "/sessions/{session_id}/execute",
    response_model=models.ExecuteResult,
    responses={**SSE_ANSWER, **responses(404, 409, 429)},
)
async def execute(request: Request, session_id: str, body: models.Execute) -> Response:
    """Run a turn. stream:false answers with its result once it ends; stream:true answers
    with its events as SSE. A client going away does not cancel the turn (POST /cancel does)."""
    return await _run(daemon(request), session_id, body.prompt, body.stream)


@router.post(
    "/sessions/{session_id}/cancel", response_model=models.Cancelled, responses=responses(404)
)
async def cancel(request: Request, session_id: str) -> Response:
    """Cancel the session's running turn; it still ends, and is stored, as cancelled."""
    service = daemon(request).service
    running = service.running_turn(session_id)
    cancelled = service.cancel_turn(session_id)
    return json({"cancelled": cancelled, "turn_id": running.turn_id if running else None})


@router.post(
    "/execute", response_model=models.ExecuteResult, responses={**SSE_ANSWER, **responses(404, 429)}
)
async def execute_once(request: Request, body: models.SingleShot) -> Response:
    """One turn in a new session that is deleted once the turn ends: nothing is kept."""
    return await _single_shot(daemon(request), body, body.stream)


@router.post("/execute/stream", responses={**SSE_ANSWER, **responses(404, 429)})
async def execute_once_stream(request: Request, body: models.SingleShot) -> Response:
    """As POST /execute with stream:true."""
    return await _single_shot(daemon(request), body, True)


async def _single_shot(d: Daemon, body: models.SingleShot, stream: bool) -> Response:
    info = new_session.create_session(d, body, tags=[SINGLE_SHOT_TAG])

    def forget(_: object = None) -> None:
        with contextlib.suppress(ParleyError):
            d.service.delete_session(info.session_id)

    try:
        return await _run(d, info.session_id, body.prompt, stream, on_end=forget)
    except BaseException:
        forget()
        raise


async def _run(
    d: Daemon,
    session_id: str,
    prompt: str,
    stream: bool,
    on_end: Callable[[object], None] | None = None,
) -> Response:
    if d.streams.closing:
        raise ParleyError(ErrorCode.SHUTTING_DOWN, "the daemon is stopping")
    service = d.service
    loop = asyncio.get_running_loop()
    started = loop.time()
    subscription = None
    if stream:  # following before the turn starts: not one of its events is missed
        subscription = service.subscribe(answers_approvals=True)
        subscription.add(session_id)
    try:
        handle = await service.start_turn(session_id, prompt)
    except BaseException:
        if subscription is not None:
            subscription.close()
        raise
    if on_end is not None:
        handle.outcome.add_done_callback(on_end)
    if subscription is not None:
        return StreamingResponse(
            d.streams.turn_stream(subscription, handle, started),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )
    return await _answer(handle, started)


async def _answer(handle: TurnHandle, started: float) -> Response:
    result = await handle
    duration = int((asyncio.get_running_loop().time() - started) * 1000)
    if result.stop_reason == "error" and result.error is not None:
        error = ParleyError(
            result.error.code,
            result.error.message,
            data={"turn_id": result.turn_id, "session_id": result.session_id},
        )
        return from_parley(error, in_turn=True)
    return json(views.turn_result(result, duration))
