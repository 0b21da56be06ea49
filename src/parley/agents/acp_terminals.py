"""`terminal/*` served to an ACP agent: its commands run as Parley's `bash` tool runs them
(tools/process_group.py), after the same permission check.

`terminal/create` asks Parley's rules, the session's mode and remembered answers, then a person,
as a call of `bash` with the command line as `command` (a `bash -c X` or `sh -c X` is asked as
`X`): a rule about `bash` covers the agent's commands too. A command the person already allowed
in this turn through the agent's own `session/request_permission` (its `rawInput.command`) is
not asked about twice. The command runs in the session's directories, with Parley's environment
less its own credentials, in a process group of its own; when it ends, what it left running is
stopped too. Its output keeps the last `outputByteLimit` bytes. Every terminal is stopped when
the turn is cancelled and when the agent is closed, and after `MAX_RUN_S` at the latest.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shlex
from collections import Counter
from pathlib import Path
from typing import Any

from parley.agents.base import AgentTurn
from parley.core.redact import command_env
from parley.engine.permissions import ToolCall
from parley.tools.base import ToolContext, ToolError
from parley.tools.bash import MAX_TIMEOUT_S
from parley.tools.output import Tail
from parley.tools.paths import resolve_inside
from parley.tools.process_group import GroupCommand, signal_name

# Kept of a terminal's output when the agent names no limit, and at most.
DEFAULT_OUTPUT_BYTES = 1 << 20
MAX_OUTPUT_BYTES = 16 << 20
# A command still running this long after it started is stopped.
MAX_RUN_S = MAX_TIMEOUT_S
_SHELLS = {"bash", "sh", "zsh", "dash"}
_ids = itertools.count(1)


def shown_command(command: str, args: list[str]) -> str:
    """The command line as a person reads it and as rules match it."""
    if os.path.basename(command) in _SHELLS and len(args) == 2 and args[0] == "-c":
        return args[1]
    return shlex.join([command, *args])


class Terminal:
    def __init__(self, run: GroupCommand, output: Tail) -> None:
        self.run = run
        self.output = output
        self.ended = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        """Once the command ends (or runs too long), stop what it left behind and drain."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.run.proc.wait()), MAX_RUN_S)
        await self.run.stop()

    def exit_status(self) -> dict[str, Any] | None:
        code = self.run.proc.returncode
        if code is None or not self.ended.done():
            return None
        if code < 0:
            return {"exitCode": None, "signal": signal_name(-code)}
        return {"exitCode": code, "signal": None}

    async def kill(self) -> None:
        await asyncio.shield(self.run.stop())
        await asyncio.shield(self.ended)

    async def release(self) -> None:
        await self.kill()
        await self.run.close()


class AgentTerminals:
    def __init__(self, ctx: ToolContext) -> None:
        self.ctx = ctx
        self.terminals: dict[str, Terminal] = {}
        # Commands a person allowed this turn through the agent's own permission request.
        self.allowed: Counter[str] = Counter()

    def allowed_by_agent_prompt(self, raw_input: Any) -> None:
        command = raw_input.get("command") if isinstance(raw_input, dict) else None
        if isinstance(command, str):
            self.allowed[command] += 1

    async def create(self, turn: AgentTurn, params: dict[str, Any]) -> dict[str, Any]:
        command, args = params.get("command"), params.get("args") or []
        if not isinstance(command, str) or not command:
            raise ToolError("command must be a non-empty string")
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ToolError("args must be a list of strings")
        cwd_raw = params.get("cwd")
        cwd = resolve_inside(self.ctx, cwd_raw, must_exist=True) if cwd_raw else self.ctx.cwd
        env = command_env()
        for item in params.get("env") or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                env[item["name"]] = str(item.get("value", ""))
        limit = params.get("outputByteLimit")
        limit = DEFAULT_OUTPUT_BYTES if not isinstance(limit, int) else limit
        line = shown_command(command, args)
        await self._authorize(turn, line, cwd)
        output = Tail(min(max(limit, 0), MAX_OUTPUT_BYTES))
        run = await GroupCommand.start([command, *args], cwd, env, output)
        terminal_id = f"parley-term-{next(_ids)}"
        self.terminals[terminal_id] = Terminal(run, output)
        return {"terminalId": terminal_id}

    async def _authorize(self, turn: AgentTurn, line: str, cwd: Path) -> None:
        if self.allowed[line] > 0:
            self.allowed[line] -= 1
            return
        call_id = f"terminal-{next(_ids)}"
        display = {"command": line, "cwd": str(cwd)}
        call = ToolCall(call_id, "bash", {"command": line}, "execute", display)
        verdict = await turn.authorize_call(turn.session, turn.turn_id, call)
        if not verdict.allowed:
            raise ToolError(f"Parley did not allow the command: {verdict.reason or 'refused'}")

    def _get(self, params: dict[str, Any]) -> Terminal:
        terminal = self.terminals.get(str(params.get("terminalId")))
        if terminal is None:
            raise ToolError(f"no terminal {params.get('terminalId')!r}")
        return terminal

    async def output(self, params: dict[str, Any]) -> dict[str, Any]:
        terminal = self._get(params)
        answer: dict[str, Any] = {
            "output": terminal.output.text(),
            "truncated": terminal.output.truncated,
        }
        if (status := terminal.exit_status()) is not None:  # absent while it runs
            answer["exitStatus"] = status
        return answer

    async def wait_for_exit(self, params: dict[str, Any]) -> dict[str, Any]:
        terminal = self._get(params)
        await asyncio.shield(terminal.ended)
        status = terminal.exit_status()
        assert status is not None
        return status

    async def kill(self, params: dict[str, Any]) -> None:
        await self._get(params).kill()

    async def release(self, params: dict[str, Any]) -> None:
        terminal = self.terminals.pop(str(params.get("terminalId")), None)
        if terminal is None:
            raise ToolError(f"no terminal {params.get('terminalId')!r}")
        await terminal.release()

    async def kill_all(self) -> None:
        """Stop every command (the turn was cancelled); the agent may still read the output."""
        await asyncio.gather(*(t.kill() for t in self.terminals.values()))

    async def close(self) -> None:
        """Stop and forget every terminal: the agent is closing."""
        terminals, self.terminals = self.terminals, {}
        self.allowed.clear()
        await asyncio.gather(*(t.release() for t in terminals.values()))
