"""GET /sessions/{id}/stream: every event of a session as SSE, resumable with Last-Event-ID."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from parley.core.errors import ErrorCode, ParleyError
from parley.doors.http.context import daemon
from parley.doors.http.errors import responses
from parley.doors.http.routes.execute import SSE_CONTENT
from parley.doors.http.sse import Streams
from parley.engine.hub import Subscription

router = APIRouter(tags=["stream"])
_SEQ_DIGITS = 18


@router.get(
    "/sessions/{session_id}/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events: `id: <seq>`, `event: <name>`, JSON data",
            "content": SSE_CONTENT,
        },
        **responses(404),
    },
)
async def stream(
    request: Request,
    session_id: str,
    after: Annotated[
        str | None, Query(description="Replay events after this seq first (0: all).")
    ] = None,
    answer_approvals: Annotated[
        bool, Query(description="Whether this client answers approvals (POST .../approvals).")
    ] = True,
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Live events of the session; with Last-Event-ID (or ?after=) first every stored event
    after that seq, with no gap and no duplicate. Keep-alive comments every 15 s."""
    d = daemon(request)
    if d.streams.closing:
        raise ParleyError(ErrorCode.SHUTTING_DOWN, "the daemon is stopping")
    d.service.session_info(session_id)  # session_not_found before the stream starts
    resume = _seq(last_event_id, "Last-Event-ID") if last_event_id else None
    if resume is None and after is not None:
        resume = _seq(after, "after")
    subscription = d.streams.subscribe(d.service.hub, answers_approvals=answer_approvals)
    subscription.add(session_id, resume)
    return _SessionStream(d.streams, subscription, session_id)


class _SessionStream(Response):
    """The stream as a response: Streams.serve_session writes it (sse.py)."""

    media_type = "text/event-stream"

    def __init__(self, streams: Streams, subscription: Subscription, session_id: str) -> None:
        super().__init__()
        self._serve = functools.partial(streams.serve_session, subscription, session_id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._serve(scope, receive, send)


def _seq(text: str, where: str) -> int:
    text = text.strip()
    if not text.isdigit() or len(text) > _SEQ_DIGITS:
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            f"{where} must be an event id this daemon sent (a seq), got {text[:40]!r}",
            data={"pointer": where},
        )
    return int(text)
