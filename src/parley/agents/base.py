"""What every agent backend shares: the interface, and one turn's bookkeeping.

A backend carries out a whole turn in an external agent (Claude Code, Codex, an ACP agent,
Amp) and reports it through an `AgentTurn`, which publishes the same events the engine's own
turns do: `progress`, `result/delta`, `thinking/*`, `tool/*`, `usage`, approvals through the
session's Authorizer, and exactly one `result/final` or `error` at the end.
"""

from __future__ import annotations

import abc
import asyncio
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from parley.agents.process import AgentExited, AgentProcess
from parley.core import redact
from parley.core.errors import ErrorCode, ParleyError
from parley.core.messages import Message, TextBlock
from parley.engine.authorize import Authorizer
from parley.engine.permissions import ToolCall, Verdict
from parley.engine.session import Session
from parley.engine.turn import turn_result
from parley.protocol import types as wire

if TYPE_CHECKING:
    from parley.agents.mcp_servers import AgentServer

log = logging.getLogger(__name__)


@attrs.frozen
class AgentSpec:
    """How to start one agent: its argv prefix and the environment it runs in."""

    name: str
    command: tuple[str, ...]
    env: Mapping[str, str]


class AgentBackend(abc.ABC):
    """One Parley session's external agent. It keeps its process between turns; a process
    that died is started again (resuming the agent's own session) by the next turn."""

    def __init__(
        self, spec: AgentSpec, session: Session, servers: Sequence[AgentServer] = ()
    ) -> None:
        self.spec = spec
        self.session = session
        self.servers = list(servers)  # the session's MCP servers, for the agent to start
        self.process: AgentProcess | None = None
        self._private: str | None = None  # a directory for files with secrets in them

    async def run_turn(
        self, session: Session, turn_id: str, prompt: Message, authorize: Authorizer
    ) -> wire.TurnResult:
        """The service's seam: the same signature as the engine's own run_turn."""
        return await AgentTurn(self, session, turn_id, authorize).run(prompt)

    @abc.abstractmethod
    async def turn(self, turn: AgentTurn, prompt: Message) -> wire.StopReason:
        """Carry out one turn, reporting through `turn`; raise ParleyError or AgentExited
        to end it with an error. On cancellation, stop the agent's turn and re-raise."""

    async def restart(self, start: Callable[[], Awaitable[Any]]) -> None:
        """Close what runs and `start` afresh; a half-started agent is closed again, so the
        next turn starts from scratch too."""
        await self.aclose()
        try:
            await start()
        except BaseException:
            await self.aclose()
            raise

    async def start_process(self, argv: Sequence[str]) -> AgentProcess:
        self.process = await AgentProcess.start(
            self.spec.name, argv, self.spec.env, self.session.record.cwd
        )
        return self.process

    def private_file(self, name: str, data: Any) -> Path:
        """`data` as JSON in a file only this user can read, which lives until `aclose`: how
        configuration with secrets in it reaches an agent without its command line."""
        if self._private is None:
            self._private = tempfile.mkdtemp(prefix=f"parley-{self.spec.name}-")
        path = Path(self._private) / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
        return path

    async def aclose(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            await process.close()
        private, self._private = self._private, None
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)

    def remember_agent_session(self, agent_session: str) -> None:
        """Store the agent's own session id, so resume and fork work from any process."""
        record = self.session.record
        if record.agent_session == agent_session and not record.agent_fork:
            return
        record.agent_session = agent_session
        record.agent_fork = False
        self.session.store.save_session(record)


class AgentTurn:
    """One turn's events, reply and usage, as the agent reports them."""

    def __init__(
        self, backend: AgentBackend, session: Session, turn_id: str, authorize: Authorizer
    ) -> None:
        self.backend = backend
        self.session = session
        self.turn_id = turn_id
        self.authorize_call = authorize
        self.reply: list[str] = []
        self.usage = wire.Usage()
        self._thinking: list[str] = []
        self._tools: dict[str, tuple[str, float]] = {}  # started, not completed: name, start
        self._gap = False  # a tool ran since the last text: the next text is a new paragraph

    # --- what a backend reports ----------------------------------------------------------------

    def emit(self, event: wire.Event) -> None:
        self.session.publish(self.turn_id, event)

    async def room(self) -> None:
        """Call before taking the agent's next message: an agent that streams faster than
        the disk takes its events waits for the store, as the engine's own turns do."""
        await self.session.hub.room()

    def text(self, text: str) -> None:
        if not text:
            return
        self.end_thinking()
        if self._gap and self.reply and not (self.reply[-1].endswith("\n") or text[0] == "\n"):
            text = "\n\n" + text  # unless the agent separates its paragraphs itself
        self._gap = False
        self.reply.append(text)
        self.emit(wire.ResultDelta(text))

    def thinking(self, text: str) -> None:
        if text:
            self._thinking.append(text)
            self.emit(wire.ThinkingDelta(text))

    def end_thinking(self) -> None:
        if self._thinking:
            self.emit(wire.ThinkingFinal("".join(self._thinking)))
            self._thinking = []

    def tool_started(
        self, call_id: str, name: str, input: dict[str, Any], kind: wire.ToolKind | None
    ) -> None:
        if call_id in self._tools:
            return
        self.end_thinking()
        self._gap = True
        self._tools[call_id] = (name, time.monotonic())
        self.emit(wire.ToolStarted(call_id, name, input, kind))

    def tool_completed(self, call_id: str, output: str, is_error: bool, name: str = "") -> None:
        started = self._tools.pop(call_id, None)
        if started is None:
            if not name:
                return  # a result for a call this turn never showed: nothing to close
            started = (name, time.monotonic())
        duration_ms = int((time.monotonic() - started[1]) * 1000)
        # As for Parley's own tools: a credential in a tool's output (an MCP server's, say)
        # stays out of the events; the agent's model saw it, the host does not.
        output = redact.redact(output)
        self.emit(wire.ToolCompleted(call_id, started[0], output, is_error, duration_ms))

    def account(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cache_read: int = 0,
        cache_write: int = 0,
        cost_usd: float | None = None,
    ) -> None:
        u = self.usage
        cost = cost_usd if u.cost_usd is None else (u.cost_usd + (cost_usd or 0.0))
        self.usage = wire.Usage(
            u.input_tokens + input_tokens,
            u.output_tokens + output_tokens,
            u.cache_read_tokens + cache_read,
            u.cache_write_tokens + cache_write,
            cost,
        )
        self.emit(
            wire.UsageReport(
                input_tokens,
                output_tokens,
                self.backend.spec.name,
                model,
                cache_read or None,
                cache_write or None,
                cost_usd,
            )
        )

    async def authorize(
        self,
        call_id: str,
        name: str,
        input: dict[str, Any],
        kind: wire.ToolKind,
        display: dict[str, Any] | None = None,
    ) -> Verdict:
        """The agent asks to run a tool: Parley's rules, mode, remembered answers, then a
        person through `approval/requested`, exactly as for the engine's own tools."""
        self.tool_started(call_id, name, input, kind)
        return await self.authorize_call(
            self.session, self.turn_id, ToolCall(call_id, name, input, kind, display)
        )

    # --- the turn --------------------------------------------------------------------------------

    async def run(self, prompt: Message) -> wire.TurnResult:
        self.emit(wire.Progress("turn_started", "turn started"))
        self.session.add_message(self.turn_id, prompt)
        try:
            stop = await self.backend.turn(self, prompt)
        except asyncio.CancelledError:
            return self.fail(
                ParleyError(ErrorCode.CANCELLED, "the turn was cancelled", recoverable=True)
            )
        except TimeoutError:
            await self.backend.aclose()
            name = self.backend.spec.name
            return self.fail(
                ParleyError(
                    ErrorCode.PROVIDER_ERROR,
                    f"{name} did not answer in time; the next turn restarts it",
                    recoverable=True,
                )
            )
        except AgentExited as exc:
            # The next turn starts the agent again and resumes its session.
            await self.backend.aclose()
            return self.fail(
                ParleyError(
                    ErrorCode.PROVIDER_ERROR, f"{exc}; the next turn restarts it", recoverable=True
                )
            )
        except ParleyError as exc:
            return self.fail(exc)
        except Exception as exc:  # a bug must still end the turn with its one terminal event
            log.exception("agent turn %s failed", self.turn_id)
            await self.backend.aclose()
            return self.fail(
                ParleyError(ErrorCode.INTERNAL, f"internal error: {type(exc).__name__}: {exc}")
            )
        self.finish_open_calls()
        self.keep_reply()
        self.emit(wire.ResultFinal("".join(self.reply)))
        return self.result(stop)

    def fail(self, error: ParleyError) -> wire.TurnResult:
        """End with the one `error` event; whatever was already shown stays in the history."""
        self.finish_open_calls()
        self.keep_reply()
        self.emit(wire.TurnError(error.code, redact.redact(error.message), error.recoverable))
        return self.result(None, error)

    def finish_open_calls(self) -> None:
        self.end_thinking()
        for call_id in list(self._tools):
            self.tool_completed(call_id, "the turn ended before this call finished", True)

    def keep_reply(self) -> None:
        if self.reply:
            reply = "".join(self.reply)
            self.session.add_message(self.turn_id, Message("assistant", (TextBlock(reply),)))

    def result(
        self, stop: wire.StopReason | None, error: ParleyError | None = None
    ) -> wire.TurnResult:
        reply = "".join(self.reply)
        return turn_result(self.session.id, self.turn_id, reply, self.usage, stop, error)
