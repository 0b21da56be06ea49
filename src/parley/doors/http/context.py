"""What every route reaches: the engine service, the open streams, the daemon's settings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from parley.doors.http.settings import DaemonSettings
from parley.doors.http.sse import Streams
from parley.engine.service import Service


class Daemon:
    def __init__(
        self,
        service: Service,
        settings: DaemonSettings,
        config_path: Path,
        started: float | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.config_path = config_path  # where PUT /config writes
        self.streams = Streams(settings.keepalive_interval)
        self.started = time.monotonic() if started is None else started

    def uptime(self) -> float:
        return round(time.monotonic() - self.started, 3)


def daemon(request: Request) -> Daemon:
    found: Daemon = request.app.state.daemon
    return found


def json(data: Any, status: int = 200) -> Response:
    """An answer encoded once with orjson; its shape is declared by the route's model."""
    return Response(orjson.dumps(data), status, media_type="application/json")
