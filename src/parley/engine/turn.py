"""One turn: stream the model, run the tools it calls, loop until it ends its turn.

Every turn ends with exactly one `result/final` or `error` event, and its result.
`result/final` text is exactly the concatenation of the turn's `result/delta` texts.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import attrs

from parley.core.errors import ErrorCode, ParleyError
from parley.core.messages import Message, TextBlock, ToolResultBlock
from parley.engine.compaction import compact_if_needed
from parley.engine.history import repair
from parley.engine.hub import STORE_BACKLOG_LIMIT
from parley.engine.session import Session
from parley.engine.tool_calls import Authorizer, run_tool_call
from parley.protocol import types as wire
from parley.providers import base as model
from parley.tools.base import HostCommands, HostFiles

log = logging.getLogger(__name__)

TRUNCATED_CALL = (
    "Not run: your response reached the output token limit, so this call's input may be cut "
    "off. Send the call again; split large content into several smaller calls."
)


def turn_result(
    session_id: str,
    turn_id: str,
    reply: str,
    usage: wire.Usage,
    stop: wire.StopReason | None,
    error: ParleyError | None = None,
) -> wire.TurnResult:
    """How a turn ended, for its host and the store. `stop` None: the turn failed with `error`,
    so it was cancelled or ended in error."""
    if stop is None:
        assert error is not None
        stop = "cancelled" if error.code == ErrorCode.CANCELLED else "error"
    return wire.TurnResult(
        session_id=session_id,
        turn_id=turn_id,
        reply=reply,
        stop_reason=stop,
        usage=usage,
        error=wire.ErrorInfo(error.code, error.message, error.recoverable) if error else None,
    )


class _Turn:
    def __init__(
        self,
        session: Session,
        turn_id: str,
        authorize: Authorizer,
        files: HostFiles | None,
        commands: HostCommands | None,
    ) -> None:
        self.session = session
        self.tool_context = attrs.evolve(session.tool_context, files=files, commands=commands)
        self.turn_id = turn_id
        self.authorize = authorize
        self.reply: list[str] = []
        self.usage = model.Usage()

    def emit(self, event: wire.Event) -> None:
        self.session.publish(self.turn_id, event)

    def progress(self, stage: Any, message: str, data: dict[str, Any]) -> None:
        self.emit(wire.Progress(stage, message, data))

    def result(
        self, stop: wire.StopReason | None, error: ParleyError | None = None
    ) -> wire.TurnResult:
        usage = wire.usage_of(self.usage)
        return turn_result(self.session.id, self.turn_id, "".join(self.reply), usage, stop, error)

    def fail(self, error: ParleyError) -> wire.TurnResult:
        self.emit(wire.TurnError(error.code, error.message, error.recoverable))
        return self.result(None, error)

    async def run(self, prompt: Message) -> wire.TurnResult:
        session = self.session
        self.emit(wire.Progress("turn_started", "turn started"))
        session.add_message(self.turn_id, prompt)
        try:
            # Tools that must be discovered (MCP servers) are brought up to date, and started
            # on first need, before the model is asked.
            await session.tools.load(self.progress)
            for step in range(1, session.profile.max_turns + 1):
                response = await self.model_step(step)
                if isinstance(response, wire.TurnResult):  # failed; partial reply kept
                    return response
                session.add_message(self.turn_id, response.message)
                if response.stop_reason == "refusal":
                    self.emit(wire.ResultFinal("".join(self.reply)))
                    return self.result("refusal")
                calls = response.message.tool_uses()
                if not calls:
                    self.emit(wire.ResultFinal("".join(self.reply)))
                    return self.result("end_turn")
                # A response cut off by the output limit may have cut off its last call's input.
                cut = calls[-1] if response.stop_reason == "max_tokens" else None
                results = [
                    block
                    for c in calls
                    for block in await run_tool_call(
                        session,
                        self.turn_id,
                        c,
                        self.authorize,
                        ctx=self.tool_context,
                        refuse=TRUNCATED_CALL if c is cut else None,
                    )
                ]
                # Images a tool returned go after every tool result, as providers require.
                results.sort(key=lambda b: not isinstance(b, ToolResultBlock))
                session.add_message(self.turn_id, Message("user", tuple(results)))
            self.emit(wire.ResultFinal("".join(self.reply)))
            return self.result("max_turns")
        except asyncio.CancelledError:
            return self.fail(
                ParleyError(ErrorCode.CANCELLED, "the turn was cancelled", recoverable=True)
            )
        except ParleyError as exc:  # e.g. the session's provider is no longer configured
            return self.fail(exc)
        except Exception as exc:  # a bug must still end the turn with its one terminal event
            log.exception("turn %s failed", self.turn_id)
            return self.fail(
                ParleyError(ErrorCode.INTERNAL, f"internal error: {type(exc).__name__}: {exc}")
            )

    async def model_step(self, step: int) -> model.Completion | wire.TurnResult:
        session = self.session
        await compact_if_needed(session, self.turn_id, self.account)
        request = model.ModelRequest(
            model=session.provider.model,
            system=session.system_prompt,
            messages=repair(session.history),
            tools=[t.spec() for t in session.tools],
        )
        self.emit(wire.Progress("model_request", f"asking {session.provider.name}", {"step": step}))
        text: list[str] = []
        thinking: list[str] = []
        separator = "\n\n" if self.reply else ""
        try:
            async for event in session.provider.stream(request):
                # Whatever the model streams; room() checks too, but this is every delta's
                # path and a coroutine per delta costs more than the comparison.
                if session.hub.backlog >= STORE_BACKLOG_LIMIT:
                    await session.hub.room()
                if isinstance(event, model.ThinkingDelta):
                    thinking.append(event.text)
                    self.emit(wire.ThinkingDelta(event.text))
                    continue
                if thinking:
                    self.emit(wire.ThinkingFinal("".join(thinking)))
                    thinking = []
                if isinstance(event, model.TextDelta):
                    if separator and not text:
                        self.reply.append(separator)
                        self.emit(wire.ResultDelta(separator))
                    text.append(event.text)
                    self.reply.append(event.text)
                    self.emit(wire.ResultDelta(event.text))
                elif isinstance(event, model.Retrying):
                    self.emit(
                        wire.Progress(
                            "retrying",
                            f"{event.reason}; retrying in {event.delay_s:.1f}s",
                            {"attempt": event.attempt, "delayMs": int(event.delay_s * 1000)},
                        )
                    )
                else:
                    self.account(event.usage)
                    return event
        except ParleyError as exc:
            self.keep_partial(text, thinking)
            return self.fail(exc)
        except (asyncio.CancelledError, Exception):
            self.keep_partial(text, thinking)
            raise
        self.keep_partial(text, thinking)
        return self.fail(
            ParleyError(
                ErrorCode.PROVIDER_ERROR,
                "the model's stream ended without a response",
                recoverable=True,
            )
        )

    def keep_partial(self, text: list[str], thinking: list[str]) -> None:
        """Whatever the host was already shown stays in the conversation."""
        if thinking:
            self.emit(wire.ThinkingFinal("".join(thinking)))
        if text:
            self.session.add_message(
                self.turn_id, Message("assistant", (TextBlock("".join(text)),))
            )

    def account(self, usage: model.Usage) -> None:
        self.usage.add(usage)
        provider = self.session.provider
        self.emit(
            wire.UsageReport(
                usage.input_tokens,
                usage.output_tokens,
                provider.name,
                provider.model,
                usage.cache_read_tokens or None,
                usage.cache_write_tokens or None,
                usage.cost_usd,
            )
        )


async def run_turn(
    session: Session,
    turn_id: str,
    prompt: Message,
    authorize: Authorizer,
    files: HostFiles | None = None,
    commands: HostCommands | None = None,
) -> wire.TurnResult:
    """`files`, `commands`: the host's files and terminals, which the turn's tools use instead
    of the disk and processes of Parley's own (see tools/base.py)."""
    return await _Turn(session, turn_id, authorize, files, commands).run(prompt)
