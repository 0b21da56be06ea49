"""A session's open approval questions, and answering one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from parley.doors.http import models, views
from parley.doors.http.context import daemon, json
from parley.doors.http.errors import responses

router = APIRouter(tags=["approvals"])


@router.get(
    "/sessions/{session_id}/approvals", response_model=models.Approvals, responses=responses(404)
)
async def pending(request: Request, session_id: str) -> Response:
    """Questions waiting for an answer; each also arrives on the stream as approval/requested."""
    service = daemon(request).service
    service.session_info(session_id)
    return json({"approvals": [views.approval(q) for q in service.pending_approvals(session_id)]})


@router.post(
    "/sessions/{session_id}/approvals/{approval_id}",
    response_model=models.Answered,
    responses=responses(404),
)
async def answer(
    request: Request, session_id: str, approval_id: str, body: models.ApprovalAnswer
) -> Response:
    """Answer with one of the question's options. The first answer from any door wins; a late
    one, or one for a question that timed out, is 404."""
    daemon(request).service.answer_approval(approval_id, body.decision, session_id)
    return json({"approval_id": approval_id, "decision": body.decision})
