"""Open approval questions, by id: asked through the session's events, answered by any door.

The question itself is an `approval/requested` event in the session's log, so every subscriber
(and one that reconnects) sees it; this table holds what is still waiting for an answer. The
first valid answer wins; a later one, or one for a question that timed out or whose turn was
cancelled, gets `approval_not_found`.
"""

from __future__ import annotations

import asyncio
import logging

import attrs

from parley.core.errors import ErrorCode, ParleyError
from parley.engine.permissions import Decision
from parley.protocol import types as wire

log = logging.getLogger(__name__)


@attrs.define(eq=False)
class _Open:
    request: wire.ApprovalRequestParams
    answer: asyncio.Future[Decision]


class Approvals:
    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}

    def open(self, request: wire.ApprovalRequestParams) -> asyncio.Future[Decision]:
        answer: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._open[request.approval_id] = _Open(request, answer)
        return answer

    def close(self, approval_id: str) -> None:
        """The engine stopped waiting (answered, timed out, or the turn was cancelled)."""
        self._open.pop(approval_id, None)

    def answer(self, approval_id: str, decision: str, session_id: str | None = None) -> None:
        """Settle an open question. `session_id`, when a door knows it, must match."""
        found = self._open.get(approval_id)
        if (
            found is None
            or found.answer.done()
            or (session_id is not None and found.request.session_id != session_id)
        ):
            raise ParleyError(
                ErrorCode.APPROVAL_NOT_FOUND,
                f"no open approval {approval_id!r}: it was answered already, timed out, "
                "or its turn ended",
            )
        options: list[str] = list(found.request.options)
        if decision not in options:
            raise ParleyError(
                ErrorCode.INVALID_PARAMS,
                f"decision must be one of {', '.join(options)}; got {decision!r}",
                data={"pointer": "/decision"},
            )
        found.answer.set_result(decision)  # type: ignore[arg-type]  # checked against options

    def answer_if_open(
        self, approval_id: str, decision: str, session_id: str | None = None
    ) -> None:
        """A door's answer to a question it asked: one settled meanwhile (answered by another
        door, timed out, its turn ended) is only logged."""
        try:
            self.answer(approval_id, decision, session_id)
        except ParleyError as exc:
            log.info("approval %s: %s", approval_id, exc.message)

    def question(self, approval_id: str) -> wire.ApprovalRequestParams | None:
        """The question while it is open."""
        found = self._open.get(approval_id)
        return found.request if found is not None and not found.answer.done() else None

    def pending(self, session_id: str) -> list[wire.ApprovalRequestParams]:
        return [
            o.request
            for o in self._open.values()
            if o.request.session_id == session_id and not o.answer.done()
        ]
