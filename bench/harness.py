"""A minimal framed JSON-RPC host for the benchmarks: spawn `parley serve`, send, read."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from parley.doors.jsonrpc.framing import FrameReader, Framing, encode

ROOT = Path(__file__).resolve().parent.parent


def compile_sources() -> None:
    """Measure what an installed package does: bytecode compiled once, not on every start."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True)


def bench_env(script: dict[str, Any] | None = None) -> dict[str, str]:
    home = tempfile.mkdtemp(prefix="parley-bench-")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PARLEY_", "ANTHROPIC_", "OPENAI_")) or k.startswith("PARLEY_BENCH_")
    }
    env.update(PARLEY_HOME=home, PARLEY_CONFIG_DIR=home)
    if script is not None:
        path = Path(home) / "script.json"
        path.write_text(json.dumps(script))
        env.update(PARLEY_PROVIDER="scripted", PARLEY_SCRIPT=str(path))
    return env


class Host:
    def __init__(self, proc: asyncio.subprocess.Process, framing: Framing) -> None:
        self.proc = proc
        self.framing = framing
        assert proc.stdout is not None
        self.frames = FrameReader(proc.stdout, framing)

    @classmethod
    async def start(
        cls,
        env: dict[str, str],
        *args: str,
        framing: Framing = Framing.HEADERS,
        entry: tuple[str, ...] = ("-m", "parley"),
        command: str = "serve",
    ) -> Host:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *entry,
            command,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            limit=1 << 26,
        )
        return cls(proc, framing)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(encode(json.dumps(message).encode(), self.framing))

    async def read(self) -> dict[str, Any]:
        frame = await self.frames.read()
        assert isinstance(frame, bytes), frame
        message: dict[str, Any] = orjson.loads(frame)  # the host should cost little
        return message

    async def call(self, msg_id: int | str, method: str, params: dict[str, Any]) -> Any:
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        while True:
            message = await self.read()
            if message.get("id") == msg_id and "method" not in message:
                assert "result" in message, message
                return message["result"]

    async def initialize(self) -> Any:
        return await self.call(
            0, "agent/initialize", {"protocolVersion": 1, "clientInfo": {"name": "bench"}}
        )

    async def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        await self.proc.wait()


def report(name: str, values: list[float], unit: str, target: str) -> None:
    med = statistics.median(values)
    print(
        f"{name}: median {med:,.1f} {unit} (min {min(values):,.1f}, max {max(values):,.1f}, "
        f"n={len(values)}); target {target}"
    )
