"""Running the daemon: bind, serve with uvicorn, and stop cleanly on SIGTERM / SIGINT.

Starting: listen first, with the front door (front.py) answering health, then import and
build the engine and the FastAPI app in a thread, so the loop answers meanwhile, and open
the front door onto it.

Stopping: stop accepting connections, refuse new turns and streams, cancel the running turns
and wait until each has ended and been stored (their last events reach the streams), end
every stream with a final `shutdown` event, let the answers in flight finish, close the
store, exit 0. A second signal stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from parley.config import Settings
from parley.core.loop import engine_built, runner
from parley.doors.http.front import Front
from parley.doors.http.guard import Guard
from parley.doors.http.protocol import limited_protocol
from parley.doors.http.settings import DaemonSettings
from parley.store.base import Store

if TYPE_CHECKING:  # not imported at start: the front door answers before they are loaded
    from fastapi import FastAPI

    from parley.doors.http.context import Daemon

log = logging.getLogger(__name__)
GRACE_S = 5.0


class _Server(uvicorn.Server):
    """uvicorn's server with our signal handling, and a line saying where it listens once it
    does."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce
        self.daemon: Daemon | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # serve() installs handlers that stop at once; ours stop in order

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._announce()


def serve(
    settings: Settings,
    daemon_settings: DaemonSettings,
    open_store: Callable[[], Store],
    config_path: Path,
    url_file: Path | None,
) -> int:
    sock = _bind(daemon_settings.host, daemon_settings.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"{daemon_settings.scheme}://{shown}:{port}"

    def announce() -> None:
        if url_file is not None:
            url_file.write_text(url + "\n", encoding="utf-8")
        print(f"parley daemon listening on {url}", flush=True)

    async def main() -> None:
        # Before listening: a store that cannot be opened stops the daemon before it says it
        # is up (it costs ~20 ms of the start-up).
        store = open_store()
        front = Front(daemon_settings.allowed_origins)
        guarded = Guard(front, daemon_settings)
        loop = asyncio.get_running_loop()
        building: list[asyncio.Task[None]] = []

        def started() -> None:
            announce()
            building.append(loop.create_task(build()))

        server = _Server(_config(guarded, daemon_settings), started)
        stopping: list[asyncio.Task[None]] = []

        async def build() -> None:
            try:
                # The imports are most of it; in a thread, the loop answers health meanwhile.
                await asyncio.to_thread(_load)
                from parley.doors.http.context import Daemon
                from parley.engine.service import Service

                daemon = Daemon(
                    Service(settings, store), daemon_settings, config_path, front.started
                )
                app = await asyncio.to_thread(_build, daemon)
            except Exception as exc:  # a bug or a broken install: say so, and stop
                front.fail(str(exc) or type(exc).__name__)
                log.error("the daemon could not start", exc_info=exc)
                server.should_exit = True
                return
            server.daemon = daemon
            front.open(app)
            engine_built()

        def on_signal() -> None:
            if stopping:
                server.force_exit = True
                return
            stopping.append(loop.create_task(_stop(server, building)))

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal)
        try:
            await server.serve(sockets=[sock])
        finally:
            daemon = server.daemon
            if daemon is not None and not stopping:  # uvicorn stopped by itself
                await daemon.service.shutdown()
            store.close()
        if server.daemon is None and building:
            return_code.append(1)

    return_code: list[int] = []
    with runner() as running:
        running.run(main())
    return return_code[0] if return_code else 0


def _load() -> None:
    import parley.doors.http.app
    import parley.engine.service  # noqa: F401


def _build(daemon: Daemon) -> FastAPI:
    from parley.doors.http.app import create_app

    return create_app(daemon)


async def _stop(server: _Server, building: list[asyncio.Task[None]]) -> None:
    log.info("stopping")
    for listener in server.servers:
        listener.close()
    if building:  # a signal during start-up: let the build end, then stop what it built
        with contextlib.suppress(BaseException):
            await building[0]
    daemon = server.daemon
    if daemon is not None:
        daemon.streams.closing = True
        await daemon.service.shutdown()
        daemon.streams.close_all()
    server.should_exit = True


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"parley: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _config(app: object, daemon: DaemonSettings) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        http=limited_protocol(daemon.header_timeout, daemon.body_timeout),
        loop="none",
        lifespan="off",
        log_level=daemon.log_level,
        access_log=False,  # a query string may hold the API key (?access_token=)
        server_header=False,
        ssl_certfile=daemon.tls_certfile,
        ssl_keyfile=daemon.tls_keyfile,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=int(GRACE_S),
        backlog=2048,
    )
