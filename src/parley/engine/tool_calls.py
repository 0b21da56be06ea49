"""Running one tool call the model asked for: validate, preview, authorize, run, report."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from parley.core.errors import ErrorCode
from parley.core.messages import ImageBlock, ToolResultBlock, ToolUseBlock
from parley.core.redact import redact
from parley.engine.history import INTERRUPTED
from parley.engine.permissions import ToolCall, Verdict
from parley.engine.session import Session
from parley.protocol import types as wire
from parley.tools.base import Tool, ToolContext, ToolError, ToolOutput, in_thread

log = logging.getLogger(__name__)

Authorizer = Callable[[Session, str, ToolCall], Awaitable[Verdict]]


async def run_tool_call(
    session: Session,
    turn_id: str,
    use: ToolUseBlock,
    authorize: Authorizer,
    *,
    ctx: ToolContext | None = None,
    refuse: str | None = None,
) -> list[ToolResultBlock | ImageBlock]:
    """The call's result, then any images it returned.

    Never raises for tool trouble: every failure becomes a result the model can read.

    Every call the host saw start (`tool/started`) is also seen to end (`tool/completed`),
    even when the turn is cancelled while it runs or waits for approval. With `refuse`, the
    call is reported but not run, and the model reads why. `ctx`: where the tool acts, when
    the turn's differs from the session's (a door gave the turn the host's files).
    """
    ctx = attrs.evolve(ctx or session.tool_context, tool_call_id=use.id)
    tool = session.tools.get(use.name)
    display, failure = await _prepare(session, tool, use, ctx)
    display = _redacted(display)
    if refuse is not None:
        failure = ToolOutput(refuse, is_error=True)
    session.publish(
        turn_id,
        wire.ToolStarted(
            use.id,
            use.name,
            use.input,
            tool.kind if tool else None,
            display,
            tool.server if tool else None,
        ),
    )
    started = time.monotonic()
    output = ToolOutput(INTERRUPTED, is_error=True)  # what the host sees if the turn is cancelled
    try:
        if failure is not None:
            output = failure
        elif tool is not None:
            output = await _execute(session, turn_id, tool, use, authorize, display, ctx)
    finally:
        # A credential a tool met (`cat ~/.netrc`, a URL in a log) goes no further.
        output = ToolOutput(
            redact(output.text), output.is_error, _redacted(output.display), output.images
        )
        duration_ms = int((time.monotonic() - started) * 1000)
        session.publish(
            turn_id,
            wire.ToolCompleted(
                use.id, use.name, output.text, output.is_error, duration_ms, output.display
            ),
        )
    return [ToolResultBlock(use.id, output.text, output.is_error), *output.images]


async def _prepare(
    session: Session, tool: Tool | None, use: ToolUseBlock, ctx: ToolContext
) -> tuple[dict[str, Any] | None, ToolOutput | None]:
    """The call's render hints, or the failure that ends it before anyone is asked."""
    if tool is None:
        names = ", ".join(session.tools.names()) or "none"
        return None, ToolOutput(
            f"unknown tool {use.name!r}; available tools: {names}", is_error=True
        )
    if problem := session.tools.validate_input(tool, use.input):
        return None, ToolOutput(f"invalid input for {use.name}: {problem}", is_error=True)
    try:
        # Previews read files (to diff them): off the event loop, and bounded in time.
        preview = in_thread(lambda _stop: tool.preview(use.input, ctx))
        return await asyncio.wait_for(preview, ctx.timeout_s), None
    except ToolError as exc:
        return None, ToolOutput(str(exc), is_error=True)
    except TimeoutError:
        return None, ToolOutput(
            f"{use.name} could not prepare the call within {ctx.timeout_s:g}s", is_error=True
        )
    except Exception as exc:
        return None, _crashed(use.name, exc)


async def _execute(
    session: Session,
    turn_id: str,
    tool: Tool,
    use: ToolUseBlock,
    authorize: Authorizer,
    display: dict[str, Any] | None,
    ctx: ToolContext,
) -> ToolOutput:
    verdict = await authorize(
        session, turn_id, ToolCall(use.id, use.name, use.input, tool.kind, display)
    )
    if not verdict.allowed:
        return ToolOutput(
            f"Permission denied: {verdict.reason}. The tool did not run.",
            is_error=True,
            display={"denied": True, "code": str(verdict.code or ErrorCode.APPROVAL_DENIED)},
        )
    limit = tool.time_limit(use.input, ctx)
    try:
        return await asyncio.wait_for(tool.run(use.input, ctx), limit)
    except ToolError as exc:
        return ToolOutput(str(exc), is_error=True)
    except TimeoutError:
        return ToolOutput(f"{use.name} timed out after {limit:g}s and was stopped", is_error=True)
    except Exception as exc:  # a bug in a tool must not end the turn
        return _crashed(use.name, exc)


def _redacted(value: Any) -> Any:
    """`value` (a display dict) with every string in it redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _crashed(name: str, exc: Exception) -> ToolOutput:
    log.exception("tool %s failed", name)
    return ToolOutput(f"{name} failed: {type(exc).__name__}: {exc}", is_error=True)
