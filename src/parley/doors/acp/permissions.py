"""Asking the client: each open approval of a followed session becomes a
`session/request_permission` request, its answer goes to `Service.answer_approval`.

The approval id doubles as the request id. When the engine stops waiting (answered by another
door, timed out, the turn cancelled) the request is withdrawn with `$/cancel_request`; after
a `session/cancel` the client answers its open requests itself (outcome `cancelled`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parley.doors.acp import tool_view
from parley.doors.jsonrpc.peer import JsonRpcPeer
from parley.engine.permissions import ALL_DECISIONS
from parley.protocol import types as wire

if TYPE_CHECKING:
    from parley.engine.service import Service

log = logging.getLogger(__name__)
REQUEST_PERMISSION = "session/request_permission"
_OPTIONS = [
    {"optionId": "allow_once", "name": "Allow", "kind": "allow_once"},
    {"optionId": "allow_always", "name": "Always allow", "kind": "allow_always"},
    {"optionId": "reject_once", "name": "Reject", "kind": "reject_once"},
    {"optionId": "reject_always", "name": "Always reject", "kind": "reject_always"},
]


class PermissionRequests:
    def __init__(self, peer: JsonRpcPeer, service: Callable[[], Service]) -> None:
        self.peer = peer
        self.service = service
        self._asked: dict[str, str] = {}  # approval id -> session id

    def see(self, event_method: str, params: dict[str, Any], cwd: str) -> None:
        """Called with every event of a followed session, in order."""
        approval_id = params.get("approvalId")
        if not isinstance(approval_id, str):
            return
        if event_method == wire.ApprovalRequested.method:
            question = self.service().approvals.question(approval_id)
            if question is not None:  # still open, not a replay of an old question
                self.ask(question, cwd)
        elif (
            event_method in ("approval/resolved", "approval/timeout")
            and self._asked.pop(approval_id, None) is not None
        ):
            self.peer.withdraw(approval_id)

    def ask(self, question: wire.ApprovalRequestParams, cwd: str) -> None:
        if question.approval_id in self._asked:
            return
        self._asked[question.approval_id] = question.session_id
        call = tool_view.tool_call(question.tool_call_id, question.tool, question.input, None, cwd)
        del call["sessionUpdate"]
        params = {"sessionId": question.session_id, "toolCall": call, "options": _OPTIONS}
        answer = self.peer.request(REQUEST_PERMISSION, params, question.approval_id)
        answer.add_done_callback(lambda done: self._answered(question, done))

    def cancelled(self, session_id: str) -> None:
        """The client cancelled the session's turn, which settles its questions; the client
        answers its requests itself (outcome `cancelled`), so they are not withdrawn aloud."""
        for approval_id, owner in list(self._asked.items()):
            if owner == session_id:
                del self._asked[approval_id]
                self.peer.withdraw(approval_id, tell=False)

    def _answered(self, question: wire.ApprovalRequestParams, done: asyncio.Future[Any]) -> None:
        self._asked.pop(question.approval_id, None)
        if done.cancelled():
            return  # withdrawn: settled elsewhere
        decision = _decision(question, done)
        self.service().approvals.answer_if_open(question.approval_id, decision, question.session_id)


def _decision(question: wire.ApprovalRequestParams, done: asyncio.Future[Any]) -> str:
    """The client's choice; an error, a cancelled outcome or an unknown option rejects."""
    if (error := done.exception()) is not None:
        log.warning("client answered permission %s with an error: %s", question.approval_id, error)
        return "reject_once"
    answer = done.result()
    outcome = answer.get("outcome") if isinstance(answer, dict) else None
    if isinstance(outcome, dict) and outcome.get("outcome") == "selected":
        option = outcome.get("optionId")
        if option in ALL_DECISIONS:
            return str(option)
        log.warning("client chose unknown option %r; treating it as reject", option)
    return "reject_once"
