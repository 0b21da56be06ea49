"""The HTTP bodies, as pydantic models: they validate requests (a new session's agent and MCP
servers are left to session/create's own check, new_session.py) and declare every answer in
the OpenAPI document. Answers are built as plain dicts (views.py) and declared here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from parley.protocol import types as wire
from parley.protocol.types import (
    NAME_MAX,
    PATH_MAX,
    PROMPT_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    ApprovalDecision,
    PermissionMode,
    StopReason,
)


def _no_lone_surrogates(text: str) -> str:
    # JSON may spell a lone surrogate (\ud800); no store or model can take it.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text holds a lone surrogate (not valid Unicode)") from None
    return text


Text = Annotated[str, AfterValidator(_no_lone_surrogates)]
# The same limits as the stdio door's (protocol/types.py, docs/security.md).
Name = Annotated[Text, Field(min_length=1, max_length=NAME_MAX)]
TagText = Annotated[Text, Field(min_length=1, max_length=TAG_MAX)]
Path = Annotated[Text, Field(max_length=PATH_MAX)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


@functools.cache
def _session_create_schema() -> dict[str, Any]:
    from parley.protocol.schemagen import standalone

    return standalone(wire.SessionCreateParams)


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """`schema` with its `#/$defs/` references replaced by what they name: OpenAPI has no
    `$defs` of session/create's to point at."""
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if (ref := schema.get("$ref")) is not None:
        return _inline(defs[ref.removeprefix("#/$defs/")], defs)
    return {key: _inline(value, defs) for key, value in schema.items()}


def _as_on_stdio(wire_name: str, *, nullable: bool = False) -> Callable[[dict[str, Any]], None]:
    """Declares a field in the OpenAPI document as session/create's schema declares it. Such a
    field is checked where session/create's params are, on every door (new_session.py), and
    not by its model here."""

    def declare(schema: dict[str, Any]) -> None:
        root = _session_create_schema()
        declared = _inline(root["properties"][wire_name], root.get("$defs", {}))
        kept = {"default": schema["default"]} if "default" in schema else {}
        schema.clear()
        schema.update({"anyOf": [declared, {"type": "null"}]} if nullable else declared, **kept)

    return declare


# --- requests ----------------------------------------------------------------------------------


class SessionSettings(_Body):
    """What a new session runs with: POST /sessions and the single-shot POST /execute."""

    cwd: Path | None = Field(None, description="Absolute directory; default: the daemon's.")
    profile: Name | None = None
    provider: Name | None = None
    model: Name | None = None
    permission_mode: PermissionMode | None = None
    agent: str | None = Field(None, json_schema_extra=_as_on_stdio("agent", nullable=True))
    mcp_servers: list[dict[str, Any]] = Field(
        default_factory=list, json_schema_extra=_as_on_stdio("mcpServers")
    )


class SessionCreate(SessionSettings):
    name: Text | None = Field(None, max_length=TITLE_MAX, description="A title for the session.")
    tags: list[TagText] = Field(default_factory=list, max_length=TAGS_MAX)


class Execute(_Body):
    prompt: Text = Field(min_length=1, max_length=PROMPT_MAX)
    stream: bool = Field(False, description="true: answer with the turn's events as SSE.")


class SingleShot(Execute, SessionSettings):
    """A turn in a new session that is deleted once the turn ends."""


class ApprovalAnswer(_Body):
    decision: ApprovalDecision


class CurrentProfile(_Body):
    profile_name: Name


class DaemonUpdate(_Body):
    """[daemon] keys (the API key only as a file: it is never sent or shown)."""

    host: Name | None = None
    port: int | None = Field(None, ge=0, le=65535)
    default_working_dir: Path | None = None
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    api_key_file: Path | None = None
    allowed_origins: list[Name] | None = Field(None, max_length=64)
    max_body_bytes: int | None = Field(None, gt=0)
    header_timeout: float | None = Field(None, gt=0, le=3600)
    body_timeout: float | None = Field(None, gt=0, le=3600)


class ConfigUpdate(_Body):
    """Settings to change; each is validated, applied and written to the config file."""

    provider: Name | None = None
    model: Name | None = None
    profile: Name | None = None
    permission_mode: PermissionMode | None = None
    approval_timeout: float | None = Field(None, gt=0)
    max_turns: int | None = Field(None, gt=0)
    log_level: Literal["debug", "info", "warning", "error", "critical"] | None = None
    daemon: DaemonUpdate | None = Field(
        None, description="[daemon] keys: written to the file, used after a restart."
    )


# --- answers -----------------------------------------------------------------------------------


class Health(BaseModel):
    status: str
    version: str
    uptime_seconds: float
    ready: bool = Field(
        description="The whole API is loaded. Right after start-up health answers before it "
        "is; other requests made then wait for it, and are answered."
    )


class Status(Health):
    active_sessions: int = Field(description="Sessions running a turn in this daemon.")
    total_sessions: int = Field(description="Sessions in the store.")
    memory_mb: float


class Usage(BaseModel):
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None


class SessionMetadata(BaseModel):
    session_id: str
    name: str | None
    created_at: str
    updated_at: str
    tags: list[str]
    turns: int
    total_tokens: int
    cost_usd: float | None
    usage: Usage
    last_seq: int = Field(description="The seq of the session's last stored event.")
    running_turn_id: str | None
    forked_from: str | None


class SessionContext(BaseModel):
    cwd: str
    additional_directories: list[str]


class SessionConfig(BaseModel):
    profile: str
    provider: str = Field(description="The model provider; on an agent, the agent's name.")
    model: str
    permission_mode: PermissionMode
    agent: str | None = Field(description="The external agent that runs its turns, if any.")


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: list[dict[str, Any]]
    turn_id: str | None


class SessionSummary(BaseModel):
    metadata: SessionMetadata
    context: SessionContext
    config: SessionConfig


class Session(SessionSummary):
    messages: list[Message]
    next_cursor: str | None = Field(description="More messages: pass it as ?cursor=.")


class SessionList(BaseModel):
    sessions: list[SessionSummary]
    next_cursor: str | None


class TurnMetadata(BaseModel):
    tokens: int
    input_tokens: int
    output_tokens: int
    duration_ms: int
    cost_usd: float | None


class ErrorInfo(BaseModel):
    code: str
    message: str


class ExecuteResult(BaseModel):
    content: str
    session_id: str
    turn_id: str
    stop_reason: StopReason
    metadata: TurnMetadata
    error: ErrorInfo | None


class Cancelled(BaseModel):
    cancelled: bool
    turn_id: str | None


class Approval(BaseModel):
    approval_id: str
    session_id: str
    turn_id: str
    tool_call_id: str
    tool: str
    input: dict[str, Any]
    options: list[ApprovalDecision]
    timeout_ms: int
    reason: str
    display: dict[str, Any] | None


class Approvals(BaseModel):
    approvals: list[Approval]


class Answered(BaseModel):
    approval_id: str
    decision: ApprovalDecision


class Profile(BaseModel):
    name: str
    description: str
    source: str
    provider: str | None
    model: str | None
    permission_mode: PermissionMode | None
    max_turns: int | None
    system_prompt: str | None
    allowed_tools: list[str] | None
    disallowed_tools: list[str]
    context_files: list[str]
    rules: list[dict[str, Any]]


class Profiles(BaseModel):
    profiles: list[Profile]
    current: str


class ConfigView(BaseModel):
    settings: dict[str, Any] = Field(description="Effective values; secrets masked.")
    sources: dict[str, str] = Field(description="Where each value came from.")
    config_file: str


class ConfigUpdated(ConfigView):
    applied: list[str] = Field(description="Settings in effect now.")
    restart_required: list[str] = Field(description="Written, in effect after a restart.")
    overridden: list[str] = Field(description="Written, but a flag or variable overrides it.")


class Tool(BaseModel):
    name: str
    kind: str
    description: str


class McpServer(BaseModel):
    name: str
    transport: Literal["stdio", "http"]
    enabled: bool
    trusted: bool


class Modules(BaseModel):
    tools: list[Tool]
    mcp_servers: list[McpServer]


class Provider(BaseModel):
    name: str
    type: str
    available: bool
    default_model: str
    detail: str


class Providers(BaseModel):
    providers: list[Provider]
    default: str | None
