"""What the store keeps: provider-neutral, front-door-neutral records."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeAlias

import attrs

from parley.core.messages import Message
from parley.core.usage import Usage
from parley.protocol import jsonbytes

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


class StoredEvent:
    """A notification of a session: its seq, turn, method and params (the event's own fields,
    without the header). The params are held as a dict, as JSON text, or both: an event read
    back from the store and sent on as it is never becomes a dict, and one published is
    encoded once for the store and every wire."""

    __slots__ = ("_json", "_params", "method", "seq", "turn_id")

    def __init__(
        self,
        seq: int,
        turn_id: str,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        json: str | None = None,
    ) -> None:
        assert params is not None or json is not None
        self.seq = seq
        self.turn_id = turn_id
        self.method = method
        self._params = params
        self._json = json

    @property
    def params(self) -> dict[str, Any]:
        if self._params is None:
            assert self._json is not None
            self._params = jsonbytes.loads(self._json.encode())
        return self._params

    @property
    def json(self) -> str:
        """The params as JSON text (a str: orjson's bytes keep a buffer of ~4 KiB each, and
        events are kept in queues by the thousand)."""
        if self._json is None:
            self._json = jsonbytes.dumps(self._params).decode()
        return self._json

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StoredEvent):
            return NotImplemented
        return (self.seq, self.turn_id, self.method, self.params) == (
            other.seq,
            other.turn_id,
            other.method,
            other.params,
        )

    __hash__ = None  # type: ignore[assignment]  # equal events may hold their params differently

    def __repr__(self) -> str:
        return f"StoredEvent({self.seq!r}, {self.turn_id!r}, {self.method!r}, {self.params!r})"


@attrs.frozen
class TurnRecord:
    session_id: str
    turn_id: str
    number: int
    status: TurnStatus
    result: dict[str, Any] | None = None
