"""The permission layer: rules first, then the mode, then remembered answers, then a person."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence

from parley.core.errors import ErrorCode
from parley.engine.permissions import (
    ALL_DECISIONS,
    Action,
    ApprovalPort,
    ApprovalQuestion,
    ToolCall,
    Verdict,
    mode_action,
)
from parley.engine.rules import Rule, first_match
from parley.engine.session import Session
from parley.protocol import types as wire

log = logging.getLogger(__name__)


class Authorizer:
    def __init__(self, port: ApprovalPort, rules: Sequence[Rule], timeout_s: float) -> None:
        self.port = port
        self.rules = rules
        self.timeout_s = timeout_s

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
        if not self.port.available:
            reason = f"{call.name} needs approval ({why}) and there is no one to ask"
            self.port.unasked(call, reason)
            return Verdict(
                False,
                f"{reason}; it can be allowed by a rule or a permission mode",
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
            answer: object = await asyncio.wait_for(self.port.ask(question), self.timeout_s)
        except TimeoutError:
            answer = None
        except asyncio.CancelledError:  # the turn was cancelled while waiting
            session.publish(turn_id, wire.ApprovalResolved(approval_id, "reject_once"))
            raise
        except Exception:  # e.g. the host went away: a failed question is a "no"
            log.exception("approval request %s failed", approval_id)
            answer = "failed"
        if answer is None:
            session.publish(turn_id, wire.ApprovalTimedOut(approval_id))
            return Verdict(
                False,
                f"no answer to the approval request within {self.timeout_s:g}s",
                ErrorCode.APPROVAL_TIMEOUT,
            )
        decision = next((d for d in question.options if d == answer), None)
        session.publish(turn_id, wire.ApprovalResolved(approval_id, decision or "reject_once"))
        if decision is None:
            return Verdict(
                False,
                "the approval request got no valid answer, so it counts as rejected",
                ErrorCode.APPROVAL_DENIED,
            )
        if decision in ("allow_always", "reject_always"):
            session.record.remembered[call.name] = "allow" if decision == "allow_always" else "deny"
            session.store.save_session(session.record)
        if decision in ("allow_once", "allow_always"):
            return Verdict(True, "the user allowed it")
        return Verdict(False, "the user rejected this tool call", ErrorCode.APPROVAL_DENIED)
