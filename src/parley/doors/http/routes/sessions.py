"""Sessions: list, create, get, delete."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from parley.doors.http import models, new_session, views
from parley.doors.http.context import daemon, json
from parley.doors.http.errors import responses
from parley.protocol import types as wire

router = APIRouter(tags=["sessions"])
Tag = Annotated[str, Query(min_length=1, max_length=wire.TAG_MAX)]


@router.get("/sessions", response_model=models.SessionList, responses=responses())
async def list_sessions(
    request: Request,
    days_back: Annotated[
        int | None, Query(ge=0, le=36500, description="Only sessions created this recently.")
    ] = None,
    tags: Annotated[list[Tag] | None, Query(description="Sessions with every tag.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=wire.NAME_MAX)] = None,
) -> Response:
    """Newest first, a page at a time: pass next_cursor back as cursor for the next."""
    service = daemon(request).service
    page = service.list_sessions(
        wire.SessionListParams(limit=limit, cursor=cursor, tags=[wire.Tag(t) for t in tags or ()])
    )
    sessions, next_cursor = page.sessions, page.next_cursor
    if days_back is not None:
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days_back)).isoformat()
        recent = [s for s in sessions if s.created_at >= since.replace("+00:00", "Z")]
        if len(recent) < len(sessions):  # newest first: the rest are older still
            sessions, next_cursor = recent, None
    return json(
        {"sessions": [views.session_summary(s) for s in sessions], "next_cursor": next_cursor}
    )


@router.post("/sessions", status_code=201, response_model=models.Session, responses=responses(404))
async def create_session(request: Request, body: models.SessionCreate) -> Response:
    """A new session, on a model or an external agent (`agent`), with MCP servers of its own
    (`mcp_servers`): as session/create on stdio takes them."""
    info = new_session.create_session(daemon(request), body, title=body.name, tags=body.tags)
    return json(views.session(info), 201)


@router.get("/sessions/{session_id}", response_model=models.Session, responses=responses(404))
async def get_session(
    request: Request,
    session_id: str,
    limit: Annotated[int, Query(ge=1, le=10000, description="Messages per page.")] = 1000,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The session, its totals and its messages, oldest first (a page at a time)."""
    detail = daemon(request).service.session_detail(session_id, limit, cursor)
    return json(views.session(detail))


@router.delete("/sessions/{session_id}", status_code=204, responses=responses(404, 409))
async def delete_session(request: Request, session_id: str) -> Response:
    daemon(request).service.delete_session(session_id)
    return Response(status_code=204)
