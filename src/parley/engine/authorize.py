"""The permission layer: rules first, then remembered decisions, then the mode, then a person."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from parley.engine.permissions import (
    ALL_DECISIONS,
    ApprovalPort,
    ApprovalQuestion,
    ToolCall,
    Verdict,
    mode_action,
)
from parley.engine.rules import Rule, first_match
from parley.engine.session import Session
from parley.protocol import types as wire
from parley.protocol.errors import ErrorCode


class Authorizer:
    def __init__(self, port: ApprovalPort, rules: Sequence[Rule], timeout_s: float) -> None:
        self.port = port
        self.rules = rules
        self.timeout_s = timeout_s

    async def __call__(self, session: Session, turn_id: str, call: ToolCall) -> Verdict:
        rule = first_match(self.rules, call.name, call.input)
        if rule is not None:
            action = rule.action
            why = f"rule {{tool: {rule.tool!r}, action: {rule.action!r}}} from {rule.source}"
        elif (remembered := session.record.remembered.get(call.name)) is not None:
            action = "allow" if remembered == "allow" else "deny"
            why = f"you chose to {remembered} {call.name} for this session"
        else:
            action = mode_action(session.record.permission_mode, call.kind)
            why = f"permission mode {session.record.permission_mode!r}"
        if action == "allow":
            return Verdict(True)
        if action == "deny":
            return Verdict(False, f"{call.name} is not allowed ({why})", ErrorCode.APPROVAL_DENIED)
        return await self.ask(session, turn_id, call, why)

    async def ask(self, session: Session, turn_id: str, call: ToolCall, why: str) -> Verdict:
        if not self.port.available:
            return Verdict(
                False,
                f"{call.name} needs approval ({why}) and there is no one to ask; "
                "allow it with a rule or a permission mode",
                ErrorCode.APPROVAL_DENIED,
            )
        approval_id = f"appr_{os.urandom(8).hex()}"
        question = ApprovalQuestion(
            session.id,
            turn_id,
            approval_id,
            call,
            ALL_DECISIONS,
            self.timeout_s,
            f"{call.name} needs approval ({why})",
        )
        try:
            decision = await asyncio.wait_for(self.port.ask(question), self.timeout_s)
        except TimeoutError:
            decision = None
        except asyncio.CancelledError:
            session.publish(turn_id, wire.ApprovalResolved(approval_id, "reject_once"))
            raise
        if decision is None:
            session.publish(turn_id, wire.ApprovalTimedOut(approval_id))
            return Verdict(
                False,
                f"no answer to the approval request within {self.timeout_s:g}s",
                ErrorCode.APPROVAL_TIMEOUT,
            )
        if decision in ("allow_always", "reject_always"):
            session.record.remembered[call.name] = "allow" if decision == "allow_always" else "deny"
            session.store.save_session(session.record)
        if decision.startswith("allow"):
            return Verdict(True)
        return Verdict(False, "the user rejected this tool call", ErrorCode.APPROVAL_DENIED)
