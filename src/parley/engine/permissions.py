"""Deciding whether a tool call may run: rules, then the session's mode, then the host."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

import attrs

from parley.core.errors import ErrorCode
from parley.protocol import types as wire

Decision: TypeAlias = Literal["allow_once", "allow_always", "reject_once", "reject_always"]
Action: TypeAlias = Literal["allow", "deny", "ask"]
ALL_DECISIONS: tuple[Decision, ...] = ("allow_once", "allow_always", "reject_once", "reject_always")


@attrs.frozen
class ToolCall:
    tool_call_id: str
    name: str
    input: dict[str, Any]
    kind: str  # "read" | "edit" | "execute"
    display: dict[str, Any] | None = None


@attrs.frozen
class ApprovalQuestion:
    session_id: str
    turn_id: str
    approval_id: str
    call: ToolCall
    options: tuple[Decision, ...]
    timeout_s: float
    reason: str

    def request(self, options: Sequence[Decision] | None = None) -> wire.ApprovalRequestParams:
        """The question as the wire's `approval/request` params, offering `options` (default:
        all of the question's)."""
        call = self.call
        return wire.ApprovalRequestParams(
            session_id=self.session_id,
            turn_id=self.turn_id,
            approval_id=self.approval_id,
            tool_call_id=call.tool_call_id,
            tool=call.name,
            input=call.input,
            options=list(self.options if options is None else options),
            timeout_ms=int(self.timeout_s * 1000),
            reason=self.reason,
            display=call.display,
        )


@attrs.frozen
class Verdict:
    allowed: bool
    reason: str = ""
    code: ErrorCode | None = None  # approval_denied / approval_timeout when refused


class ApprovalPort(abc.ABC):
    """How a front door asks a person. `ask` returns the decision, or None on timeout.

    The Authorizer bounds `ask` by the question's timeout and cancels it when the turn is
    cancelled; an answer that is not one of the question's options counts as a rejection.
    """

    @property
    @abc.abstractmethod
    def available(self) -> bool: ...

    @abc.abstractmethod
    async def ask(self, question: ApprovalQuestion) -> Decision | None: ...

    def unasked(self, call: ToolCall, reason: str) -> None:
        """A call needed a person's answer and this port (not `available`) could not ask;
        it is denied. Front doors that must report this (`parley run` exits 3) record it."""


class NoApprovals(ApprovalPort):
    """A front door that cannot ask anyone: `ask` means deny."""

    @property
    def available(self) -> bool:
        return False

    async def ask(self, question: ApprovalQuestion) -> Decision | None:
        return None


def mode_action(mode: str, kind: str) -> Action:
    """What a permission mode says about a kind of tool, before any rule or the host."""
    if kind == "read" or mode == "allow":
        return "allow"
    if mode == "deny":
        return "deny"
    if mode == "accept-edits" and kind == "edit":
        return "allow"
    return "ask"
