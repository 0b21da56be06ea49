"""One running MCP server: started, listed, called and stopped through the official SDK.

The SDK's transports and ClientSession are async context managers whose task groups must be
entered and left by one task, so each connection lives in a task of its own; calls come from
the turns' tasks. The connection notices when its server goes away (the read stream ends) and
says so through `closed`; it is never restarted: the pool makes a new one.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import shutil
import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from parley.tools.mcp.config import Launch

if TYPE_CHECKING:
    import mcp.types as mt
    from mcp import ClientSession

log = logging.getLogger(__name__)
GUARD = Path(__file__).with_name("guard.py")
STDERR_TAIL_LINES = 20
# Pages of tools/list read at most: a server cannot keep Parley listing forever.
MAX_TOOL_PAGES = 100


def _not_parse_noise(record: logging.LogRecord) -> bool:
    """The SDK logs each line a server writes that is not JSON-RPC, with a traceback; the
    connection says it once per server instead (see Connection._on_message)."""
    return not record.getMessage().startswith("Failed to parse JSONRPC message")


logging.getLogger("mcp.client.stdio").addFilter(_not_parse_noise)


class ServerFailed(Exception):
    """The server could not be started, went away, or broke the protocol."""


class Connection:
    def __init__(self, launch: Launch) -> None:
        self.launch = launch
        self.name = launch.label
        self.tools: list[mt.Tool] = []
        self.closed = asyncio.Event()  # the server went away, or stop() was called
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self.bad_lines = 0
        self.tools_changed = False
        self._session: ClientSession | None = None
        self._stop = asyncio.Event()
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task: asyncio.Task[None] | None = None

    # --- life -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, initialize and list the tools, within the startup timeout."""
        self._task = asyncio.create_task(self._run(), name=f"mcp:{self.name}")
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), self.launch.startup_timeout)
        except TimeoutError:
            await self.stop()
            raise ServerFailed(
                f"did not finish starting within {self.launch.startup_timeout:g}s"
                + self._stderr_hint()
            ) from None
        except asyncio.CancelledError:
            await self.stop()
            raise
        except ServerFailed:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop the server (its whole process group, for stdio) and wait until it is gone."""
        self._stop.set()
        self.closed.set()
        task = self._task
        if task is None or task.done():
            return
        # The SDK's own shutdown closes stdin, waits, then kills the process group; it is
        # bounded (a few seconds at most) and shielded from our cancellation.
        try:
            await asyncio.wait_for(asyncio.shield(task), 10.0)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    @property
    def alive(self) -> bool:
        return self._session is not None and not self.closed.is_set()

    async def _run(self) -> None:
        from mcp import ClientSession

        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport())
                watched = _Watched(read, self.closed)
                session = await stack.enter_async_context(
                    ClientSession(
                        watched,
                        write,
                        message_handler=self._on_message,
                        client_info=_client_info(),
                    )
                )
                await session.initialize()
                self.tools = await _list_tools(session)
                self._session = session
                self._ready.set_result(None)
                stop = asyncio.create_task(self._stop.wait())
                gone = asyncio.create_task(self.closed.wait())
                try:
                    await asyncio.wait({stop, gone}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stop.cancel()
                    gone.cancel()
                if not self._stop.is_set():
                    log.warning("MCP server %s went away%s", self.name, self._stderr_hint())
        except BaseException as exc:
            if not self._ready.done():  # failed to start: start() says why
                self._ready.set_exception(self._failure(exc))
                self._ready.exception()  # retrieved: a start that timed out never reads it
            elif isinstance(exc, Exception) and not self._stop.is_set():
                log.warning("MCP server %s stopped: %s", self.name, _describe(exc))
            if not isinstance(exc, Exception):
                raise
        finally:
            self._session = None
            self.closed.set()
            if not self._ready.done():
                self._ready.set_exception(ServerFailed("stopped before it was ready"))
                self._ready.exception()

    def _failure(self, exc: BaseException) -> ServerFailed:
        if isinstance(exc, ServerFailed):
            return exc
        if isinstance(exc, asyncio.CancelledError):
            return ServerFailed("stopped while starting")
        return ServerFailed(_describe(exc) + self._stderr_hint())

    def _stderr_hint(self) -> str:
        if not self.stderr_tail:
            return ""
        return "; its last words on stderr: " + " | ".join(self.stderr_tail)

    @contextlib.asynccontextmanager
    async def _transport(self) -> Any:
        launch = self.launch
        if launch.transport == "http":
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            assert launch.url is not None
            async with (
                create_mcp_http_client(headers=dict(launch.headers)) as http,
                streamable_http_client(launch.url, http_client=http) as streams,
            ):
                yield streams
            return
        from mcp import StdioServerParameters, stdio_client

        assert launch.command is not None
        env = dict(launch.env)
        path = env.get("PATH", os.environ.get("PATH"))
        executable = shutil.which(launch.command, path=path)
        if executable is None:
            if launch.cwd and (Path(launch.cwd) / launch.command).is_file():
                executable = str(Path(launch.cwd) / launch.command)
            else:
                raise ServerFailed(f"command {launch.command!r} not found")
        command, args = executable, list(launch.args)
        if sys.platform.startswith("linux"):
            guard = ["-I", "-S", str(GUARD), str(os.getpid())]
            command, args = sys.executable, [*guard, command, *args]
        params = StdioServerParameters(command=command, args=args, env=env, cwd=launch.cwd)
        errlog, reader = await self._stderr_pipe()
        try:
            async with stdio_client(params, errlog=errlog) as streams:
                errlog.close()  # the server holds the write end now
                yield streams
        finally:
            errlog.close()
            await asyncio.wait({reader}, timeout=1.0)
            reader.cancel()

    async def _stderr_pipe(self) -> tuple[Any, asyncio.Task[None]]:
        """The server's stderr: logged at INFO, its last lines kept for error messages."""
        read_fd, write_fd = os.pipe()
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader()
        read_file = os.fdopen(read_fd, "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(stream), read_file
        )

        async def pump() -> None:
            try:
                while line := await stream.readline():
                    text = line.decode("utf-8", errors="replace").rstrip()
                    if text:
                        self.stderr_tail.append(text[:300])
                        log.info("mcp[%s] %s", self.name, text)
            finally:
                transport.close()

        return os.fdopen(write_fd, "w"), asyncio.create_task(pump())

    async def _on_message(self, message: Any) -> None:
        import mcp.types as mt

        if isinstance(message, Exception):
            self.bad_lines += 1
            if self.bad_lines == 1:
                log.warning(
                    "MCP server %s wrote something that is not JSON-RPC to stdout; ignored",
                    self.name,
                )
        elif isinstance(message, mt.ToolListChangedNotification):
            self.tools_changed = True

    # --- calls ----------------------------------------------------------------------------

    async def call(
        self, tool: str, arguments: dict[str, Any], timeout_s: float
    ) -> mt.CallToolResult:
        """The server's result. Raises ServerFailed when the connection ends during the call,
        TimeoutError after `timeout_s` (the server is told to cancel), and the SDK's MCPError
        for a JSON-RPC error answer."""
        from mcp import MCPError
        from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        session = self._session
        if session is None or self.closed.is_set():
            raise ServerFailed("is not running")
        try:
            return await session.call_tool(tool, arguments, read_timeout_seconds=timeout_s)
        except MCPError as exc:
            if exc.error.code == REQUEST_TIMEOUT:
                raise TimeoutError from None
            if exc.error.code == CONNECTION_CLOSED or self.closed.is_set():
                self.closed.set()
                gone = "exited" if self.launch.transport == "stdio" else "closed the connection"
                raise ServerFailed(f"{gone} during the call" + self._stderr_hint()) from None
            raise

    async def refresh_tools(self) -> None:
        if self._session is not None:
            self.tools = await asyncio.wait_for(
                _list_tools(self._session), self.launch.startup_timeout
            )
            self.tools_changed = False


async def _list_tools(session: ClientSession) -> list[mt.Tool]:
    import mcp.types as mt

    tools: list[mt.Tool] = []
    cursor: str | None = None
    for _ in range(MAX_TOOL_PAGES):
        params = mt.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def _client_info() -> Any:
    import mcp.types as mt

    from parley import __version__

    return mt.Implementation(name="parley", version=__version__)


def _describe(exc: BaseException) -> str:
    """One line for a failure, whatever the SDK or the OS raised."""
    if isinstance(exc, BaseExceptionGroup):
        inner = [e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)]
        if inner:
            return _describe(inner[0])
    if isinstance(exc, ServerFailed):
        return str(exc)
    from mcp import MCPError

    if isinstance(exc, MCPError) and "closed" in str(exc).lower():
        return "exited before it answered"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot be reached: {exc.strerror}"
    if type(exc).__module__.startswith("httpx") and "Connect" in type(exc).__name__:
        return f"cannot be reached: {exc}"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


class _Watched:
    """The transport's read stream, setting `closed` when it ends (the server went away)."""

    def __init__(self, stream: Any, closed: asyncio.Event) -> None:
        self._stream = stream
        self._closed = closed

    async def receive(self) -> Any:
        try:
            return await self._stream.receive()
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self._closed.set()
            raise

    def __aiter__(self) -> _Watched:
        return self

    async def __anext__(self) -> Any:
        import anyio

        try:
            return await self.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def __aenter__(self) -> _Watched:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed.set()
        await self.aclose()
