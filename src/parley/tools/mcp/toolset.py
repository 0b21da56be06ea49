"""A session's MCP servers as a tool source: started on first need, named, filtered, reported.

Nothing here runs when a session opens: the first `load` (at the start of the session's first
turn, or a `tool/list`) leases the servers from the pool and starts the ones not running.
Names are given once and kept: a server that starts later never renames another's tools.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from parley.config import ConfigError
from parley.core.globs import glob_match
from parley.tools.base import Tool
from parley.tools.mcp import naming
from parley.tools.mcp.config import Launch, ServerConfig, launch
from parley.tools.mcp.connection import ServerFailed
from parley.tools.mcp.pool import Server, pool
from parley.tools.mcp.tool import McpTool
from parley.tools.registry import Report


@attrs.define
class ServerState:
    """One of the session's servers, as `tool/list` and `parley mcp list` show it."""

    config: ServerConfig
    launch: Launch | None = None
    problem: str | None = None  # why it has no tools now
    handle: Server | None = None
    tools: list[McpTool] = attrs.field(factory=list)

    @property
    def status(self) -> str:
        if self.problem is not None:
            return "failed"
        if self.handle is None:
            return "not_started"
        return "running" if self.handle.running else "stopped"


class McpToolset:
    def __init__(
        self,
        servers: Sequence[ServerConfig],
        cwd: Path,
        env: Mapping[str, str],
        default_timeout_s: float,
        allowed: Sequence[str] | None = None,
        disallowed: Sequence[str] = (),
    ) -> None:
        self.states = [ServerState(c) for c in servers]
        for state in self.states:
            try:
                state.launch = launch(state.config, cwd, env)
            except ConfigError as exc:
                state.problem = str(exc)
        self._default_timeout_s = default_timeout_s
        self._allowed = allowed
        self._disallowed = disallowed
        self._names: dict[tuple[str, str], str] = {}
        self._lock = asyncio.Lock()
        self._closed = False

    async def load(self, taken: set[str], report: Report | None) -> list[Tool]:
        async with self._lock:
            if self._closed:
                return []
            want = [s for s in self.states if s.launch is not None and self._stale(s)]
            starting = [s.config.name for s in want if s.handle is None or not s.handle.running]
            if starting and report is not None:
                report(
                    "mcp_starting",
                    f"starting MCP server{'s' if len(starting) > 1 else ''} {', '.join(starting)}",
                    {"servers": starting},
                )
            await asyncio.gather(*(self._discover(s) for s in want))
            if report is not None:
                for s in want:
                    if s.problem is not None:
                        report(
                            "mcp_failed",
                            f"MCP server {s.config.name} is not available: {s.problem}",
                            {"server": s.config.name, "error": s.problem},
                        )
            return self._named(taken)

    def _stale(self, state: ServerState) -> bool:
        """Whether the server's tools must be (re)discovered."""
        if state.handle is None or state.problem is not None:
            return True
        conn = state.handle.conn
        return conn is not None and conn.alive and conn.tools_changed

    async def _discover(self, state: ServerState) -> None:
        assert state.launch is not None
        if state.handle is None:
            state.handle = pool().lease(state.launch)
        try:
            remote = await state.handle.tools()
        except ServerFailed as exc:
            state.problem = str(exc)
            return
        except Exception as exc:  # a broken listing costs this server only
            state.problem = f"its tool list could not be read: {type(exc).__name__}: {exc}"
            return
        state.problem = None
        state.tools = [
            McpTool("", r, state.config, state.handle, self._default_timeout_s) for r in remote
        ]

    def _named(self, taken: set[str]) -> list[Tool]:
        """Every discovered tool under its name; new names avoid every name given so far."""
        used = taken | set(self._names.values())
        out: list[Tool] = []
        for state in self.states:
            for tool in state.tools:
                key = (state.config.name, tool.remote_name)
                name = self._names.get(key)
                if name is None:
                    (name,) = naming.unique_names([key], used)
                    self._names[key] = name
                    used.add(name)
                tool.name = name
                if self._offered(name):
                    out.append(tool)
        return out

    def _offered(self, name: str) -> bool:
        if any(glob_match(p, name, path=False) for p in self._disallowed):
            return False
        return self._allowed is None or any(glob_match(p, name, path=False) for p in self._allowed)

    async def aclose(self) -> None:
        async with self._lock:
            self._closed = True
            handles = [s.handle for s in self.states if s.handle is not None]
            for state in self.states:
                state.handle = None
        shared = pool()
        await asyncio.gather(*(shared.release(h) for h in handles))
