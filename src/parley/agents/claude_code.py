"""Claude Code (`claude`) as a backend, over its stream-json stdin/stdout protocol.

One long-lived `claude -p --input-format stream-json --output-format stream-json` process per
session; each prompt is a `user` line, each turn ends with a `result` line. Permission prompts
arrive as `control_request` `can_use_tool` (we pass `--permission-prompt-tool stdio`) and are
answered by Parley's Authorizer; cancel is the control protocol's `interrupt`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from parley.agents import stream_json
from parley.agents.base import AgentBackend, AgentTurn
from parley.agents.mcp_servers import claude_code_config
from parley.agents.process import AgentExited, AgentProcess
from parley.core.errors import ErrorCode, ParleyError
from parley.core.ids import new_id
from parley.core.messages import Message
from parley.protocol import types as wire

log = logging.getLogger(__name__)

# Claude Code's own tools and what kind of thing each does; anything else counts as execute.
TOOL_KINDS: dict[str, wire.ToolKind] = {
    "Read": "read",
    "Glob": "read",
    "Grep": "read",
    "LS": "read",
    "WebFetch": "read",
    "WebSearch": "read",
    "TodoWrite": "read",
    "ToolSearch": "read",
    "Edit": "edit",
    "MultiEdit": "edit",
    "Write": "edit",
    "NotebookEdit": "edit",
}
# How long an interrupted turn may take to send its `result` before the process is replaced.
INTERRUPT_GRACE_S = 10.0
START_TIMEOUT_S = 60.0


class ClaudeCode(AgentBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._model = ""
        self._cost_seen = 0.0  # total_cost_usd counts from the process's start

    async def _ensure(self) -> AgentProcess:
        if not (self.process is not None and self.process.alive):
            await self.restart(self._start)
        assert self.process is not None
        return self.process

    async def _start(self) -> AgentProcess:
        record = self.session.record
        argv = [
            *self.spec.command,
            "-p",
            "--input-format",
            "stream-json",
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-prompt-tool",
            "stdio",
        ]
        if record.model and record.model != "default":
            argv.append(f"--model={record.model}")
        for directory in record.additional_directories:
            argv += ["--add-dir", directory]
        if self.servers:  # beside the user's own servers (no --strict-mcp-config)
            config = self.private_file("mcp.json", claude_code_config(self.servers))
            argv.append(f"--mcp-config={config}")
        if record.agent_session:
            argv.append(f"--resume={record.agent_session}")
            if record.agent_fork:
                argv.append("--fork-session")
        process = await self.start_process(argv)
        self._cost_seen = 0.0
        request_id = new_id("req")
        process.send(
            {
                "type": "control_request",
                "request_id": request_id,
                "request": {"subtype": "initialize"},
            }
        )
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                message = await process.receive()
                if message.get("type") == "control_response":
                    response = message.get("response") or {}
                    if response.get("request_id") != request_id:
                        continue
                    if response.get("subtype") == "error":
                        raise AgentExited(f"claude refused to start: {response.get('error')}")
                    return process

    async def turn(self, turn: AgentTurn, prompt: Message) -> wire.StopReason:
        process = await self._ensure()
        process.send(stream_json.user_line(prompt))
        asks: dict[str, asyncio.Task[None]] = {}
        try:
            return await self._read(turn, process, asks)
        except asyncio.CancelledError:
            await self._interrupt(turn, process, asks)
            raise
        finally:
            for task in asks.values():
                task.cancel()

    async def _read(
        self, turn: AgentTurn, process: AgentProcess, asks: dict[str, asyncio.Task[None]]
    ) -> wire.StopReason:
        while True:
            await turn.room()
            message = await process.receive()
            kind = message.get("type")
            if kind == "result":
                return self._result(turn, message)
            if kind == "control_request":
                self._control(turn, process, message, asks)
            elif kind == "control_cancel_request":
                if (task := asks.pop(str(message.get("request_id")), None)) is not None:
                    task.cancel()
            else:
                self._show(turn, message)

    def _show(self, turn: AgentTurn, message: dict[str, Any]) -> None:
        session_id, model = stream_json.init_of(message)
        if session_id is not None:
            self._model = model
            self.remember_agent_session(session_id)
        stream_json.show(turn, message, TOOL_KINDS)

    def _control(
        self,
        turn: AgentTurn,
        process: AgentProcess,
        message: dict[str, Any],
        asks: dict[str, asyncio.Task[None]],
    ) -> None:
        request_id = str(message.get("request_id"))
        request = message.get("request") or {}
        if request.get("subtype") != "can_use_tool":
            # Hooks and SDK MCP servers are never registered, so nothing else is expected.
            process.send(
                _control_error(request_id, f"unsupported request {request.get('subtype')!r}")
            )
            return

        async def ask() -> None:
            name = str(request.get("tool_name", ""))
            tool_input = request.get("input")
            tool_input = tool_input if isinstance(tool_input, dict) else {}
            call_id = str(request.get("tool_use_id") or request_id)
            verdict = await turn.authorize(
                call_id, name, tool_input, TOOL_KINDS.get(name, "execute")
            )
            answer: dict[str, Any] = (
                {"behavior": "allow", "updatedInput": tool_input}
                if verdict.allowed
                else {"behavior": "deny", "message": verdict.reason}
            )
            asks.pop(request_id, None)
            with contextlib.suppress(AgentExited):
                process.send(
                    {
                        "type": "control_response",
                        "response": {
                            "subtype": "success",
                            "request_id": request_id,
                            "response": answer,
                        },
                    }
                )

        asks[request_id] = asyncio.create_task(ask())

    def _result(self, turn: AgentTurn, message: dict[str, Any]) -> wire.StopReason:
        if isinstance(session_id := message.get("session_id"), str):
            self.remember_agent_session(session_id)
        total = message.get("total_cost_usd")
        cost = None
        if isinstance(total, int | float):
            cost, self._cost_seen = max(0.0, total - self._cost_seen), float(total)
        turn.account(self._model or self.session.record.model, *stream_json.usage_of(message), cost)
        subtype = message.get("subtype")
        if subtype == "error_max_turns":
            return "max_turns"
        if subtype != "success" or message.get("is_error"):
            detail = message.get("result") or "; ".join(map(str, message.get("errors") or []))
            raise ParleyError(
                ErrorCode.PROVIDER_ERROR,
                f"claude ended the turn with an error ({subtype}): {detail or 'no detail'}",
                recoverable=True,
            )
        return "end_turn"

    async def _interrupt(
        self, turn: AgentTurn, process: AgentProcess, asks: dict[str, asyncio.Task[None]]
    ) -> None:
        """Stop Claude's turn and read it to its `result`, so the next turn starts clean; a
        process that does not stop in time is closed (the next turn resumes its session)."""
        for task in asks.values():
            task.cancel()
        try:
            process.send(
                {
                    "type": "control_request",
                    "request_id": new_id("req"),
                    "request": {"subtype": "interrupt"},
                }
            )
            async with asyncio.timeout(INTERRUPT_GRACE_S):
                while (message := await process.receive()).get("type") != "result":
                    if message.get("type") != "control_request":
                        self._show(turn, message)
                    else:
                        process.send(_control_error(str(message.get("request_id")), "interrupted"))
        except (TimeoutError, AgentExited):
            await self.aclose()


def _control_error(request_id: str, error: str) -> dict[str, Any]:
    return {
        "type": "control_response",
        "response": {"subtype": "error", "request_id": request_id, "error": error},
    }
