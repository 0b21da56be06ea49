"""The daemon's ASGI app: routes under /api/v1, one error shape, offline API docs. The guard
and the front door stand in front of it (server.py)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from parley import __version__
from parley.doors.http import errors
from parley.doors.http.context import Daemon
from parley.doors.http.routes import approvals, config, execute, profiles, sessions, status, stream

API = "/api/v1"
DESCRIPTION = """Parley's HTTP door: the same engine and store as `parley serve`.

Errors are always `{"error": {"code", "message", "details"}}`. With an API key, send
`Authorization: Bearer <key>` (or `?access_token=` where headers cannot be set, as with
EventSource). See docs/http.md."""


def create_app(daemon: Daemon) -> FastAPI:
    app = FastAPIOffline(
        title="Parley daemon",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
    )
    app.state.daemon = daemon
    for area in (status, sessions, execute, stream, approvals, profiles, config):
        app.include_router(area.router, prefix=API)
    errors.install(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    if daemon.settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(daemon.settings.allowed_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        )
    return app  # behind the guard and the front door (server.py)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with our 400 in place of its own 422 (which the daemon never sends)
    and the bearer scheme declared."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    components = schema.setdefault("components", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(name, None)
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    schema["security"] = [{"bearer": []}, {}]
    app.openapi_schema = schema
    return schema
