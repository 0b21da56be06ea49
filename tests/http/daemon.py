"""A real `parley daemon` in a subprocess on 127.0.0.1, port 0, for the HTTP tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

START_TIMEOUT_S = 30.0


class RunningDaemon:
    def __init__(self, process: asyncio.subprocess.Process, url: str, env: dict[str, str]) -> None:
        self.process = process
        self.url = url
        self.api = url + "/api/v1"
        self.env = env

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.api, timeout=30.0, **kwargs)  # type: ignore[arg-type]

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def stderr(self) -> str:
        assert self.process.stderr is not None
        return (await self.process.stderr.read()).decode("utf-8", "replace")


async def start_daemon(
    env: dict[str, str], tmp: Path, args: Sequence[str] = (), cwd: Path | None = None
) -> RunningDaemon:
    url_file = tmp / f"daemon-url-{os.urandom(4).hex()}"
    process = await _spawn(env, "--url-file", str(url_file), *args, cwd=cwd)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT_S
    while not url_file.exists() or not url_file.read_text().endswith("\n"):
        if process.returncode is not None or loop.time() > deadline:
            if process.returncode is None:
                process.kill()
            await process.wait()
            assert process.stderr is not None
            err = (await process.stderr.read()).decode()
            raise AssertionError(f"the daemon did not start (exit {process.returncode}): {err}")
        await asyncio.sleep(0.02)
    return RunningDaemon(process, url_file.read_text().strip(), env)


async def refused_start(env: dict[str, str], *args: str) -> tuple[int | None, str]:
    """`parley daemon --port 0 ARGS` that is expected to refuse to start: (exit code, stderr)."""
    process = await _spawn(env, *args)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode, err.decode()


async def _spawn(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "parley",
        "daemon",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
