"""What the store keeps: provider-neutral, front-door-neutral records."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeAlias

import attrs

from parley.core.messages import Message
from parley.core.usage import Usage

TurnStatus: TypeAlias = Literal["running", "completed", "interrupted"]


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@attrs.define
class SessionRecord:
    session_id: str
    cwd: str
    profile: str
    provider: str
    model: str
    permission_mode: str
    created_at: str = attrs.field(factory=utc_now)
    updated_at: str = attrs.field(factory=utc_now)
    title: str | None = None
    tags: list[str] = attrs.field(factory=list)
    additional_directories: list[str] = attrs.field(factory=list)
    turn_count: int = 0
    last_seq: int = 0
    totals: Usage = attrs.field(factory=Usage)
    forked_from: str | None = None
    # Decisions the user made "always" for, by tool name: {"bash": "allow"}.
    remembered: dict[str, str] = attrs.field(factory=dict)
    # MCP servers the host gave this session (session/create `mcpServers`), as
    # {"name", "command", "args", "env"} or {"name", "url", "headers"} tables.
    mcp_servers: list[dict[str, Any]] = attrs.field(factory=list)
    # An external agent (claude-code, codex, ...) runs this session's turns instead of the engine;
    # agent_session is that agent's own session id, so a later process resumes it.
    agent: str | None = None
    agent_session: str | None = None
    # agent_session belongs to the session this one was forked from: branch off it, not into it.
    agent_fork: bool = False


@attrs.frozen
class StoredMessage:
    turn_id: str | None
    message: Message


@attrs.frozen
class StoredEvent:
    seq: int
    turn_id: str
    method: str
    params: dict[str, Any]


@attrs.frozen
class TurnRecord:
    session_id: str
    turn_id: str
    number: int
    status: TurnStatus
    result: dict[str, Any] | None = None
