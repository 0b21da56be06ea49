"""A new session from an HTTP body, for POST /sessions and the single-shot POST /execute.

The body is checked as session/create's params are on stdio (the same schema, the same
conversion to the engine's types), so the doors cannot drift apart; errors then name fields as
the HTTP API does (`mcp_servers`, not `mcpServers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parley.core.errors import ParleyError
from parley.doors.http import models
from parley.doors.http.context import Daemon
from parley.protocol import types as wire
from parley.protocol.methods import SESSION_CREATE
from parley.protocol.params import parse_params

# session/create's names for fields the HTTP API names otherwise.
_HTTP_NAMES = {"title": "name", "permissionMode": "permission_mode", "mcpServers": "mcp_servers"}


def create_session(
    d: Daemon,
    body: models.SessionSettings,
    *,
    title: str | None = None,
    tags: Sequence[str] = (),
) -> wire.SessionInfo:
    params: dict[str, Any] = {
        "cwd": body.cwd or d.settings.default_working_dir,
        "profile": body.profile,
        "provider": body.provider,
        "model": body.model,
        "permissionMode": body.permission_mode,
        "title": title,
        "tags": list(tags),
        "agent": body.agent,
        "mcpServers": body.mcp_servers,
    }
    try:
        create = parse_params(SESSION_CREATE, {k: v for k, v in params.items() if v is not None})
        return d.service.create_session(create)
    except ParleyError as error:
        raise _named_for_http(error) from None


def _named_for_http(error: ParleyError) -> ParleyError:
    pointer = error.data.get("pointer")
    if not isinstance(pointer, str):
        return error
    field, *rest = pointer.removeprefix("/").split("/")
    if field not in _HTTP_NAMES:
        return error
    ours = "/".join(["", _HTTP_NAMES[field], *rest])
    message = error.message.replace(pointer, ours, 1)
    return ParleyError(error.code, message, data={**error.data, "pointer": ours})
