"""Asking the host: each open approval of a session it follows becomes an `approval/request`.

The approval id doubles as the request id, so a host can correlate either way. When the server
stops waiting (answered, by this host or another door; timed out; the turn was cancelled) the
request is withdrawn with `$/cancelRequest`, so token-based hosts close their dialogs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parley.doors.jsonrpc.peer import JsonRpcPeer
from parley.engine.permissions import Decision
from parley.protocol import types as wire
from parley.protocol.codec import unstructure
from parley.protocol.methods import APPROVAL_REQUEST
from parley.store.records import StoredEvent

if TYPE_CHECKING:
    from parley.engine.service import Service

log = logging.getLogger(__name__)
_SETTLED = ("approval/resolved", "approval/timeout")


class HostApprovals:
    def __init__(
        self, peer: JsonRpcPeer, service: Callable[[], Service], options: tuple[Decision, ...]
    ) -> None:
        self.peer = peer
        self.service = service
        self.options = options
        self._asked: set[str] = set()

    def see(self, event: StoredEvent) -> None:
        """Called with every event delivered to this host, in order."""
        if event.method != wire.ApprovalRequested.method and event.method not in _SETTLED:
            return  # (a replayed event's params stay undecoded)
        approval_id = event.params.get("approvalId")
        if not isinstance(approval_id, str):
            return
        if event.method == wire.ApprovalRequested.method:
            question = self.service().approvals.question(approval_id)
            if question is not None:  # still open, not a replay of an old question
                self.ask(question)
        elif event.method in _SETTLED and approval_id in self._asked:
            self._asked.discard(approval_id)
            self.peer.withdraw(approval_id)

    def ask(self, question: wire.ApprovalRequestParams) -> None:
        if question.approval_id in self._asked:
            return
        self._asked.add(question.approval_id)
        params = unstructure(question)
        params["options"] = [o for o in question.options if o in self.options]
        answer = self.peer.request(APPROVAL_REQUEST, params, question.approval_id)
        answer.add_done_callback(lambda done: self._answered(question, done))

    def _answered(self, question: wire.ApprovalRequestParams, done: asyncio.Future[Any]) -> None:
        self._asked.discard(question.approval_id)
        if done.cancelled():
            return  # withdrawn: settled elsewhere
        decision = _decision(question, done, self.options)
        self.service().approvals.answer_if_open(question.approval_id, decision, question.session_id)


def _decision(
    question: wire.ApprovalRequestParams, done: asyncio.Future[Any], offered: tuple[Decision, ...]
) -> str:
    """The host's decision; an error answer or one that was not offered is a rejection."""
    if (error := done.exception()) is not None:
        log.warning("host answered approval %s with an error: %s", question.approval_id, error)
        return "reject_once"
    answer = done.result()
    decision = answer.get("decision") if isinstance(answer, dict) else None
    if decision not in offered:
        log.warning(
            "host answered approval %s with %r; treating it as reject", question.approval_id, answer
        )
        return "reject_once"
    return str(decision)
