"""The front door: the ASGI app uvicorn serves from the moment the daemon listens.

Importing FastAPI, pydantic and the engine and building the routes takes most of a start-up
(about 250 ms on an idle machine, over a second on a loaded one), and none of it is needed to
say the daemon is up. So the daemon listens first, with this app in front, and builds the
full app in a thread meanwhile (server.py). `GET /api/v1/health` is always answered here
(`"ready": false` until the full app is); every other request waits for the full app, then
goes to it (nothing is refused for arriving early). Health answered here skips FastAPI's
routing and dependency solving, which cost more than all the rest of a health request; the
full app's health route answers the same (it is the one in the OpenAPI document, and the
one an app built without this door answers). The guard stands in front of this door, so
health is checked for Host, Origin and key like any other request.
"""

from __future__ import annotations

import asyncio
import logging
import time

import orjson

from parley import __version__
from parley.doors.http.raw import ASGIApp, Receive, Scope, Send, error_app, send_json

log = logging.getLogger(__name__)
HEALTH = "/api/v1/health"


def health(started: float, ready: bool) -> bytes:
    """The health answer: the daemon is up; `ready`: its whole API is loaded."""
    uptime = round(time.monotonic() - started, 3)
    return orjson.dumps(
        {"status": "ok", "version": __version__, "uptime_seconds": uptime, "ready": ready}
    )


class Front:
    def __init__(self, allowed_origins: tuple[str, ...] = ()) -> None:
        self.started = time.monotonic()
        self.app: ASGIApp | None = None
        self._origins = frozenset(allowed_origins)
        self._settled = asyncio.Event()
        self._failure: ASGIApp | None = None

    @property
    def ready(self) -> bool:
        return self.app is not None

    def open(self, app: ASGIApp) -> None:
        """The full app is built: send it everything from now on, the waiting requests first."""
        self.app = app
        self._settled.set()

    def fail(self, why: str) -> None:
        """The full app could not be built: answer the waiting requests, and those to come
        until the daemon has stopped, with 503."""
        self._failure = error_app(503, "SHUTTING_DOWN", f"the daemon could not start: {why}")
        self._settled.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == HEALTH and scope["method"] == "GET":
            await self._health(scope, send)
            return
        app = self.app
        if app is None:
            await self._settled.wait()
            app = self.app or self._failure
            assert app is not None
        await app(scope, receive, send)

    async def _health(self, scope: Scope, send: Send) -> None:
        body = health(self.started, self.ready)
        headers = []
        for name, value in scope["headers"]:
            # The guard let it through, so the origin is allowed (or the daemon's own).
            if name == b"origin" and value.decode("latin-1") in self._origins:
                headers += [(b"access-control-allow-origin", value), (b"vary", b"Origin")]
        await send_json(send, 200, body, headers)
