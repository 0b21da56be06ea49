"""MCP servers shared by the sessions of one process, and their lifecycle.

Sessions whose servers launch alike (same command, arguments, environment and directory, or
same URL and headers) share one running server. A server starts when a session first needs
its tools, restarts on the next call after it went away, stops when it has not been called
for its idle timeout, and stops when the last session using it closes. Stopping a stdio
server kills its whole process group.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import TYPE_CHECKING, Any

from parley.tools.mcp.config import Launch
from parley.tools.mcp.connection import Connection, ServerFailed

if TYPE_CHECKING:
    import mcp.types as mt

log = logging.getLogger(__name__)
# A server that failed to start is not tried again sooner than this: a turn's calls to it
# fail at once instead of each waiting for a start that will fail the same way.
RETRY_AFTER_S = 2.0


class Server:
    """One shared server: what launches it, who leases it, its current connection."""

    def __init__(self, launch: Launch, pool: Pool) -> None:
        self.launch = launch
        self.pool = pool
        self.leases = 0
        self.conn: Connection | None = None
        self.failure: str | None = None
        self.starts = 0
        self._failed_at = 0.0
        self._starting: asyncio.Task[Connection] | None = None
        self._in_flight = 0
        self._last_used = time.monotonic()
        self._idle: asyncio.TimerHandle | None = None

    @property
    def name(self) -> str:
        return self.launch.label

    @property
    def running(self) -> bool:
        return self.conn is not None and self.conn.alive

    async def connection(self) -> Connection:
        """The live connection, started (or restarted) if need be. Raises ServerFailed."""
        conn = self.conn
        if conn is not None and conn.alive:
            return conn
        if self._starting is None:
            if self.failure and time.monotonic() - self._failed_at < RETRY_AFTER_S:
                raise ServerFailed(self.failure)
            self._starting = asyncio.create_task(self._start(), name=f"mcp-start:{self.name}")
        return await asyncio.shield(self._starting)

    async def _start(self) -> Connection:
        try:
            old, self.conn = self.conn, None
            if old is not None:
                await old.stop()  # a server that went away: reap what is left of it
            conn = Connection(self.launch)
            try:
                await conn.start()
            except ServerFailed as exc:
                self.failure, self._failed_at = str(exc), time.monotonic()
                raise
            self.failure = None
            self.starts += 1
            if self.leases == 0:  # every session let go while it started
                await conn.stop()
                raise ServerFailed("stopped: no session uses it any more")
            self.conn = conn
            self._touch()
            return conn
        finally:
            self._starting = None

    async def tools(self) -> list[mt.Tool]:
        conn = await self.connection()
        if conn.tools_changed:
            await conn.refresh_tools()
        return conn.tools

    async def call(
        self, tool: str, arguments: dict[str, Any], timeout_s: float
    ) -> mt.CallToolResult:
        conn = await self.connection()
        self._in_flight += 1
        try:
            return await conn.call(tool, arguments, timeout_s)
        finally:
            self._in_flight -= 1
            self._touch()

    # --- stopping ---------------------------------------------------------------------------

    def _touch(self) -> None:
        self._last_used = time.monotonic()
        if self._idle is None:
            self._arm(self.launch.idle_timeout)

    def _arm(self, delay: float) -> None:
        self._idle = asyncio.get_running_loop().call_later(delay, self._idle_check)

    def _idle_check(self) -> None:
        self._idle = None
        conn = self.conn
        if conn is None or not conn.alive:
            return
        quiet = time.monotonic() - self._last_used
        if self._in_flight or quiet < self.launch.idle_timeout:
            self._arm(max(self.launch.idle_timeout - quiet, 0.05))
            return
        log.info("stopping MCP server %s: idle for %.0fs", self.name, quiet)
        self.conn = None
        self.pool.spawn(conn.stop())

    async def stop(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        starting = self._starting
        if starting is not None:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        conn, self.conn = self.conn, None
        if conn is not None:
            await conn.stop()


class Pool:
    """The servers of one event loop, by launch."""

    def __init__(self) -> None:
        self.servers: dict[Launch, Server] = {}
        self._background: set[asyncio.Task[Any]] = set()

    def lease(self, launch: Launch) -> Server:
        server = self.servers.get(launch)
        if server is None:
            server = self.servers[launch] = Server(launch, self)
        server.leases += 1
        return server

    async def release(self, server: Server) -> None:
        server.leases -= 1
        if server.leases <= 0 and self.servers.get(server.launch) is server:
            del self.servers[server.launch]
            await server.stop()

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Pool] = weakref.WeakKeyDictionary()


def pool() -> Pool:
    """The running event loop's pool."""
    loop = asyncio.get_running_loop()
    found = _POOLS.get(loop)
    if found is None:
        found = _POOLS[loop] = Pool()
    return found
