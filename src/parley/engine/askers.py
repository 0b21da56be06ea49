"""Answering approval questions in-process: the terminal, `-y`, or a test's stand-in host.

A door that runs in the same process as the engine gives a port that asks (or decides); the
answerer asks it for every open question of the sessions it sees and answers through the
service, so the first answer from any door still wins.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging

from parley.engine.approvals import Approvals
from parley.engine.permissions import Decision
from parley.protocol import types as wire
from parley.store.records import StoredEvent

log = logging.getLogger(__name__)


class ApprovalPort(abc.ABC):
    """How an in-process door asks a person. `ask` returns the decision, or None to leave the
    question to someone else (it then times out unless another door answers)."""

    @property
    @abc.abstractmethod
    def available(self) -> bool:
        """Whether this port can answer at all; a door that cannot does not offer to."""

    @abc.abstractmethod
    async def ask(self, question: wire.ApprovalRequestParams) -> Decision | None: ...


class NoApprovals(ApprovalPort):
    """Nobody to ask: the session's mode and rules decide, and `ask` means deny."""

    @property
    def available(self) -> bool:
        return False

    async def ask(self, question: wire.ApprovalRequestParams) -> Decision | None:
        return None


class Answerer:
    """Watches a door's events and answers each open question through `port`."""

    def __init__(self, approvals: Approvals, port: ApprovalPort) -> None:
        self.approvals = approvals
        self.port = port
        self._asking: dict[str, asyncio.Task[None]] = {}

    def see(self, event: StoredEvent) -> None:
        if not event.method.startswith("approval/"):
            return  # (a replayed event's params stay undecoded)
        approval_id = event.params.get("approvalId")
        if not isinstance(approval_id, str):
            return
        if event.method == "approval/requested":
            question = self.approvals.question(approval_id)
            if question is not None and approval_id not in self._asking:
                task = asyncio.create_task(self._ask(question))
                self._asking[approval_id] = task
                task.add_done_callback(lambda _: self._forget(approval_id))
        elif event.method in ("approval/resolved", "approval/timeout"):
            stale = self._asking.pop(approval_id, None)
            if stale is not None:
                stale.cancel()  # settled elsewhere: stop asking

    def _forget(self, approval_id: str) -> None:
        self._asking.pop(approval_id, None)

    async def _ask(self, question: wire.ApprovalRequestParams) -> None:
        try:
            decision = await self.port.ask(question)
        except Exception:  # e.g. the terminal went away: a question that failed is a "no"
            log.exception("asking about approval %s failed", question.approval_id)
            decision = "reject_once"
        if decision is None:
            return
        if decision not in question.options:
            log.warning(
                "approval %s answered %r; counted as reject", question.approval_id, decision
            )
            decision = "reject_once"
        self.approvals.answer_if_open(question.approval_id, decision)

    async def aclose(self) -> None:
        tasks = list(self._asking.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
