"""Running one tool call the model asked for: validate, authorize, run, report."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from parley.engine.messages import ToolResultBlock, ToolUseBlock
from parley.engine.permissions import ToolCall, Verdict
from parley.engine.session import Session
from parley.protocol import types as wire
from parley.protocol.errors import ErrorCode
from parley.tools.base import ToolError, ToolOutput

log = logging.getLogger(__name__)

Authorizer = Callable[[Session, str, ToolCall], Awaitable[Verdict]]


async def run_tool_call(
    session: Session, turn_id: str, use: ToolUseBlock, authorize: Authorizer
) -> ToolResultBlock:
    """Never raises for tool trouble: every failure becomes a result the model can read."""
    tool = session.tools.get(use.name)
    kind = tool.kind if tool else None
    display = tool.preview(use.input, session.tool_context) if tool else None
    session.publish(turn_id, wire.ToolStarted(use.id, use.name, use.input, kind, display))
    started = time.monotonic()
    output = await _execute(session, turn_id, use, authorize, display)
    duration_ms = int((time.monotonic() - started) * 1000)
    session.publish(
        turn_id,
        wire.ToolCompleted(
            use.id, use.name, output.text, output.is_error, duration_ms, output.display
        ),
    )
    return ToolResultBlock(use.id, output.text, output.is_error)


async def _execute(
    session: Session,
    turn_id: str,
    use: ToolUseBlock,
    authorize: Authorizer,
    display: dict[str, object] | None,
) -> ToolOutput:
    tool = session.tools.get(use.name)
    if tool is None:
        names = ", ".join(session.tools.names()) or "none"
        return ToolOutput(f"unknown tool {use.name!r}; available tools: {names}", is_error=True)
    if problem := session.tools.validate_input(tool, use.input):
        return ToolOutput(f"invalid input for {use.name}: {problem}", is_error=True)
    verdict = await authorize(
        session, turn_id, ToolCall(use.id, use.name, use.input, tool.kind, display)
    )
    if not verdict.allowed:
        return ToolOutput(
            f"Permission denied: {verdict.reason}. The tool did not run.",
            is_error=True,
            display={"denied": True, "code": str(verdict.code or ErrorCode.APPROVAL_DENIED)},
        )
    timeout = session.tool_context.timeout_s
    try:
        return await asyncio.wait_for(tool.run(use.input, session.tool_context), timeout)
    except ToolError as exc:
        return ToolOutput(str(exc), is_error=True)
    except TimeoutError:
        return ToolOutput(f"{use.name} timed out after {timeout:g}s and was stopped", is_error=True)
    except Exception as exc:  # a bug in a tool must not end the turn
        log.exception("tool %s failed", use.name)
        return ToolOutput(f"{use.name} failed: {type(exc).__name__}: {exc}", is_error=True)
