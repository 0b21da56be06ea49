"""`bash` in the editor's terminal, when the client offered `terminal`: the command runs there
(the user watches it live in the tool call), and its output and exit status come back here.

Every terminal created is released, also when the command times out or the turn is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from parley.doors.jsonrpc.peer import JsonRpcPeer, RemoteError
from parley.tools.base import CommandRun, HostCommands, ToolError

_ids = itertools.count(1)


class EditorTerminal(HostCommands):
    def __init__(
        self, peer: JsonRpcPeer, session_id: str, shown: Callable[[str, str], None]
    ) -> None:
        self.peer = peer
        self.session_id = session_id
        self.shown = shown  # (tool call id, terminal id): the door shows the terminal in the call

    async def run(
        self,
        command: str,
        *,
        cwd: Path,
        env: dict[str, str],
        timeout_s: float,
        output_limit: int,
        tool_call_id: str | None,
    ) -> CommandRun:
        try:
            created = await self._call(
                "terminal/create",
                {
                    "command": "bash",
                    "args": ["-c", command],
                    "cwd": str(cwd),
                    "env": [{"name": k, "value": v} for k, v in env.items()],
                    "outputByteLimit": output_limit,
                },
            )
        except RemoteError as exc:
            raise ToolError(f"the editor could not start the command: {exc.message}") from None
        terminal = {"terminalId": created["terminalId"]}
        if tool_call_id is not None:
            self.shown(tool_call_id, terminal["terminalId"])
        try:
            timed_out = False
            try:
                await asyncio.wait_for(self._call("terminal/wait_for_exit", terminal), timeout_s)
            except TimeoutError:
                timed_out = True
                await self._call("terminal/kill", terminal)
            output = await self._call("terminal/output", terminal)
        except asyncio.CancelledError:
            await asyncio.shield(self._quietly("terminal/kill", terminal))
            raise
        except RemoteError as exc:
            raise ToolError(f"the editor's terminal failed: {exc.message}") from None
        finally:
            await asyncio.shield(self._quietly("terminal/release", terminal))
        status = output.get("exitStatus") or {}
        return CommandRun(
            output=output.get("output", ""),
            exit_code=status.get("exitCode"),
            signal=status.get("signal"),
            timed_out=timed_out,
        )

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        msg_id = f"parley-{method}-{next(_ids)}"
        answer = self.peer.request(method, {"sessionId": self.session_id, **params}, msg_id)
        try:
            return await answer
        except asyncio.CancelledError:
            self.peer.withdraw(msg_id)
            raise

    async def _quietly(self, method: str, params: dict[str, Any]) -> None:
        with contextlib.suppress(RemoteError, TimeoutError):  # the editor or terminal is gone
            await asyncio.wait_for(self._call(method, params), 5)
