"""Asking the host: the `approval/request` server -> host request."""

from __future__ import annotations

import logging
from typing import Any

from pygls.exceptions import JsonRpcException

from parley.engine.permissions import ApprovalPort, ApprovalQuestion, Decision
from parley.protocol import types as wire
from parley.protocol.codec import unstructure
from parley.protocol.methods import APPROVAL_REQUEST

log = logging.getLogger(__name__)


class HostApprovals(ApprovalPort):
    def __init__(self, protocol: Any, options: tuple[Decision, ...]) -> None:
        self.protocol = protocol
        self.options = options

    @property
    def available(self) -> bool:
        return True

    async def ask(self, question: ApprovalQuestion) -> Decision | None:
        offered: list[Decision] = [o for o in question.options if o in self.options]
        call = question.call
        params = unstructure(
            wire.ApprovalRequestParams(
                session_id=question.session_id,
                turn_id=question.turn_id,
                approval_id=question.approval_id,
                tool_call_id=call.tool_call_id,
                tool=call.name,
                input=call.input,
                options=offered,
                timeout_ms=int(question.timeout_s * 1000),
                reason=question.reason,
                display=call.display,
            )
        )
        # The approval id doubles as the request id, so a host can correlate either way.
        request_id = question.approval_id
        try:
            answer = await self.protocol.send_request_async(
                APPROVAL_REQUEST, params, msg_id=request_id
            )
        except JsonRpcException as exc:
            log.warning("host answered approval %s with an error: %s", request_id, exc.message)
            return "reject_once"
        finally:
            # pygls never forgets a request it sent; a timed-out one must not leak.
            self.protocol._request_futures.pop(request_id, None)
        decision = answer.get("decision") if isinstance(answer, dict) else None
        if decision not in offered:
            log.warning(
                "host answered approval %s with %r; treating it as reject", request_id, answer
            )
            return "reject_once"
        result: Decision = decision
        return result
