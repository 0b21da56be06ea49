"""A frame-level client for tests that must send what a well-behaved host never would."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from parley.doors.jsonrpc.framing import FrameError, FrameReader, Framing, encode


class RawServer:
    def __init__(self, process: asyncio.subprocess.Process, framing: Framing) -> None:
        self.process = process
        self.framing = framing
        assert process.stdout is not None
        self.frames = FrameReader(process.stdout, framing)

    @classmethod
    async def start(
        cls,
        env: dict[str, str],
        framing: Framing = Framing.HEADERS,
        args: tuple[str, ...] = ("--ephemeral",),
    ) -> RawServer:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "parley",
            "serve",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        return cls(process, framing)

    async def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        await self.process.stdin.drain()

    async def send(self, message: dict[str, Any] | bytes) -> None:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        await self.write(encode(body, self.framing))

    async def read(self, timeout: float = 10.0) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.frames.read(), timeout)
        assert frame is not None, "server closed its output"
        assert not isinstance(frame, FrameError), frame
        message: dict[str, Any] = json.loads(frame)
        return message

    async def request(self, msg_id: int | str, method: str, params: Any = None) -> dict[str, Any]:
        """Send a request and return its response, skipping notifications."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        return await self.response(msg_id)

    async def response(
        self, msg_id: int | str, into: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        while True:
            message = await self.read()
            if "method" not in message and message.get("id") == msg_id:
                return message
            if into is not None:
                into.append(message)

    async def initialize(self, **capabilities: Any) -> dict[str, Any]:
        return await self.request(
            0,
            "agent/initialize",
            {
                "protocolVersion": 1,
                "clientInfo": {"name": "raw-test"},
                "capabilities": capabilities,
            },
        )

    async def close_stdin(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    async def wait_exit(self, timeout: float) -> tuple[int, float]:
        """The exit code and how long the process took to exit."""
        started = time.monotonic()
        code = await asyncio.wait_for(self.process.wait(), timeout)
        return code, time.monotonic() - started

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def stderr(self) -> str:
        assert self.process.stderr is not None
        return (await self.process.stderr.read()).decode(errors="replace")
