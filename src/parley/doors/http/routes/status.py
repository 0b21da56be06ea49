"""GET /health and GET /status."""

from __future__ import annotations

import resource
import sys

from fastapi import APIRouter, Request
from starlette.responses import Response

from parley import __version__
from parley.doors.http import front, models
from parley.doors.http.context import daemon, json
from parley.doors.http.errors import responses

router = APIRouter(tags=["status"])


@router.get("/health", response_model=models.Health, responses=responses())
async def health(request: Request) -> Response:
    """Whether the daemon answers; needs no API key. `ready`: the whole API is loaded (right
    after start-up health answers before it is; other requests made then wait for it)."""
    body = front.health(daemon(request).started, ready=True)
    return Response(body, media_type="application/json")


@router.get("/status", response_model=models.Status, responses=responses())
async def status(request: Request) -> Response:
    d = daemon(request)
    return json(
        {
            "status": "stopping" if d.streams.closing else "ok",
            "active_sessions": d.service.running_turn_count(),
            "total_sessions": d.service.session_count(),
            "version": __version__,
            "uptime_seconds": d.uptime(),
            "ready": True,
            "memory_mb": _rss_mb(),
        }
    )


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[1])
        return round(pages * resource.getpagesize() / 2**20, 1)
    except (OSError, IndexError, ValueError):  # not Linux: the peak is what there is
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)
