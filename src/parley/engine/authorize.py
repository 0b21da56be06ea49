"""The permission layer: rules first, then the mode, then remembered answers, then a person."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from parley.core.errors import ErrorCode
from parley.core.ids import new_id
from parley.engine.approvals import Approvals
from parley.engine.permissions import (
    ALL_DECISIONS,
    Action,
    Decision,
    ToolCall,
    Verdict,
    mode_action,
)
from parley.engine.rules import Rule, first_match
from parley.engine.session import Session
from parley.protocol import types as wire

log = logging.getLogger(__name__)


class Authorizer:
    """One turn's permission checks. A question nobody can answer (no subscriber of the
    session answers approvals) is denied at once and noted in `unasked`."""

    def __init__(
        self,
        approvals: Approvals,
        can_ask: Callable[[str], bool],
        rules: Sequence[Rule],
        timeout_s: float,
    ) -> None:
        self.approvals = approvals
        self.can_ask = can_ask
        self.rules = rules
        self.timeout_s = timeout_s
        self.unasked: list[str] = []

    async def __call__(self, session: Session, turn_id: str, call: ToolCall) -> Verdict:
        action, why = self.decide(session, call)
        if action == "allow":
            return Verdict(True, why)
        if action == "deny":
            return Verdict(False, f"{call.name} is not allowed ({why})", ErrorCode.APPROVAL_DENIED)
        return await self.ask(session, turn_id, call, why)

    def decide(self, session: Session, call: ToolCall) -> tuple[Action, str]:
        """What the configuration says, and why. The first matching rule decides; otherwise
        the mode. An `ask` is answered by an earlier "always" for the same tool if there is one.
        """
        rule = first_match(self.rules, call.name, call.input, session.tool_context.cwd)
        action: Action
        if rule is not None:
            action, why = rule.action, rule.describe()
        else:
            mode = session.permission_mode
            action, why = mode_action(mode, call.kind), f"permission mode {mode!r}"
        remembered = session.record.remembered.get(call.name)
        if action == "ask" and remembered is not None:
            action = "allow" if remembered == "allow" else "deny"
            why = f"the user chose to always {remembered} {call.name} in this session"
        return action, why

    async def ask(self, session: Session, turn_id: str, call: ToolCall, why: str) -> Verdict:
        if not self.can_ask(session.id):
            reason = f"{call.name} needs approval ({why}) and there is no one to ask"
            self.unasked.append(call.name)
            return Verdict(
                False,
                f"{reason}; it can be allowed by a rule or a permission mode",
                ErrorCode.APPROVAL_DENIED,
            )
        approval_id = new_id("appr")
        fields: dict[str, Any] = dict(
            approval_id=approval_id,
            tool_call_id=call.tool_call_id,
            tool=call.name,
            input=call.input,
            options=list(ALL_DECISIONS),
            timeout_ms=int(self.timeout_s * 1000),
            reason=f"{call.name} needs approval ({why})",
            display=call.display,
        )
        question = wire.ApprovalRequested(**fields)
        answer = self.approvals.open(wire.ApprovalRequestParams(session.id, turn_id, **fields))
        session.publish(turn_id, question)
        try:
            decision: Decision = await asyncio.wait_for(answer, self.timeout_s)
        except TimeoutError:
            session.publish(turn_id, wire.ApprovalTimedOut(approval_id))
            return Verdict(
                False,
                f"no answer to the approval request within {self.timeout_s:g}s",
                ErrorCode.APPROVAL_TIMEOUT,
            )
        except asyncio.CancelledError:  # the turn was cancelled while waiting
            session.publish(turn_id, wire.ApprovalResolved(approval_id, "reject_once"))
            raise
        finally:
            self.approvals.close(approval_id)
        session.publish(turn_id, wire.ApprovalResolved(approval_id, decision))
        if decision in ("allow_always", "reject_always"):
            session.record.remembered[call.name] = "allow" if decision == "allow_always" else "deny"
            session.store.save_session(session.record)
        if decision in ("allow_once", "allow_always"):
            return Verdict(True, "the user allowed it")
        return Verdict(False, "the user rejected this tool call", ErrorCode.APPROVAL_DENIED)
