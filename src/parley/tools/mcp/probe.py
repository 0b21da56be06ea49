"""Trying configured MCP servers: start each, count its tools, stop it (`parley mcp list`,
`parley doctor`). Every server is tried at once, each within its startup timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from parley.config import ConfigError
from parley.tools.mcp.config import ServerConfig, launch
from parley.tools.mcp.connection import Connection, ServerFailed


@attrs.frozen
class Probe:
    config: ServerConfig
    started: bool
    tools: tuple[str, ...] = ()
    error: str | None = None
    seconds: float = 0.0


async def probe(servers: Sequence[ServerConfig], cwd: Path, env: Mapping[str, str]) -> list[Probe]:
    return list(await asyncio.gather(*(_one(c, cwd, env) for c in servers)))


async def _one(config: ServerConfig, cwd: Path, env: Mapping[str, str]) -> Probe:
    started = time.monotonic()
    try:
        conn = Connection(launch(config, cwd, env))
        await conn.start()
    except (ConfigError, ServerFailed) as exc:
        text = exc.message if isinstance(exc, ConfigError) else str(exc)
        return Probe(config, False, error=text, seconds=time.monotonic() - started)
    try:
        return Probe(
            config,
            True,
            tuple(t.name for t in conn.tools),
            seconds=time.monotonic() - started,
        )
    finally:
        await conn.stop()
