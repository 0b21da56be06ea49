"""An agent CLI as a child process: NDJSON on its pipes, stderr to the log, a group to kill.

The child runs in its own process group so that everything it starts (shells, servers, its
own helpers) goes when Parley closes it. Stdout lines may be large (a tool result with a whole
file in it), so the reader's limit is far above asyncio's 64 KiB default.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from typing import Any

from parley.config.secrets import is_secret
from parley.core import redact

log = logging.getLogger(__name__)

LINE_LIMIT = 64 * 1024 * 1024
# Time the CLI gets to flush its transcript after stdin closes, then after SIGTERM.
CLOSE_GRACE_S = 3.0


class AgentExited(Exception):
    """The agent's process ended (or closed its stdout) while Parley still needed it."""


class AgentProcess:
    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.proc = proc
        self._stderr = asyncio.create_task(self._log_stderr())

    @classmethod
    async def start(
        cls, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: str
    ) -> AgentProcess:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=dict(env),
                cwd=cwd,
                limit=LINE_LIMIT,
                start_new_session=True,
            )
        except OSError as exc:
            raise AgentExited(f"could not start {argv[0]}: {exc.strerror or exc}") from None
        log.info("started %s (pid %d): %s", name, proc.pid, argv[0])
        # The credentials the agent was given: a CLI that prints one does not get it logged.
        for var, value in env.items():
            if is_secret(var):
                redact.remember(value)
        return cls(name, proc)

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    async def _log_stderr(self) -> None:
        """The agent's stderr is diagnostics for the log, never text for the host."""
        assert self.proc.stderr is not None
        with contextlib.suppress(Exception):
            async for raw in self.proc.stderr:
                line = raw.decode(errors="replace").rstrip()
                if line:
                    log.info("%s stderr: %s", self.name, redact.redact(line)[:2000])

    def send(self, message: Mapping[str, Any]) -> None:
        assert self.proc.stdin is not None
        if not self.alive or self.proc.stdin.is_closing():
            raise AgentExited(f"{self.name} is not running")
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")

    async def receive(self) -> dict[str, Any]:
        """The next JSON object the agent wrote; lines that are not one are logged and skipped."""
        assert self.proc.stdout is not None
        while True:
            try:
                raw = await self.proc.stdout.readline()
            except (ValueError, asyncio.LimitOverrunError):
                raise AgentExited(f"{self.name} wrote a line over {LINE_LIMIT} bytes") from None
            if not raw:
                code = await self.proc.wait()
                raise AgentExited(f"{self.name} exited with status {code}")
            try:
                message = json.loads(raw)
            except ValueError:
                text = redact.redact(raw.decode(errors="replace"))
                log.info("%s stdout (not JSON): %s", self.name, text[:500])
                continue
            if isinstance(message, dict):
                return message

    def end_input(self) -> None:
        """Close the agent's stdin: for a CLI that reads one prompt and runs it."""
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()

    async def close(self, *, gentle: bool = True) -> None:
        """EOF first so the CLI can save its session, then SIGTERM, then SIGKILL the group;
        not `gentle`: SIGTERM at once (a turn being cancelled)."""
        proc = self.proc
        self.end_input()
        for sig in ((None,) if gentle else ()) + (signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, sig)
            try:
                await asyncio.wait_for(asyncio.shield(proc.wait()), CLOSE_GRACE_S)
                break
            except TimeoutError:
                continue
        # Whatever the CLI left behind in its group (a shell still running a command).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._stderr, CLOSE_GRACE_S)
        log.info("%s (pid %d) ended with status %s", self.name, proc.pid, proc.returncode)
