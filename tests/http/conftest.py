"""Fixtures for the HTTP door: a running daemon on a scripted provider, and scripts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ScriptWriter, scripted_env
from tests.http.daemon import RunningDaemon, start_daemon

HELLO = [{"type": "text", "text": "Hello from the daemon."}]

StartDaemon = Callable[..., Awaitable[RunningDaemon]]


@pytest.fixture
async def start(
    isolated_env: dict[str, str], tmp_path: Path, write_script: ScriptWriter
) -> AsyncIterator[StartDaemon]:
    """start(*responses, args=(), env={}) -> a running daemon; all are stopped after."""
    running: list[RunningDaemon] = []

    async def launch(
        *responses: list[dict[str, Any]],
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> RunningDaemon:
        script = write_script(*(responses or (HELLO,)))
        daemon = await start_daemon(
            {**scripted_env(isolated_env, script), **(env or {})}, tmp_path, args
        )
        running.append(daemon)
        return daemon

    yield launch
    for daemon in running:
        await daemon.stop()


@pytest.fixture
async def daemon(start: StartDaemon) -> RunningDaemon:
    return await start()
