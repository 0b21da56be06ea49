"""Wire types of protocol v1: the single declaration that schemas/v1/ is generated from.

Field names are snake_case here and camelCase on the wire. A field with a default is optional
on the wire and omitted when it holds its default. `doc` metadata becomes the schema description;
`schema` metadata adds JSON Schema keywords (patterns, bounds).
"""

from __future__ import annotations

import functools
import operator
from typing import Any, ClassVar, Literal, NewType, TypeAlias, TypeVar, dataclass_transform

import attrs

from parley.core.errors import ErrorCode
from parley.core.usage import UsageLike
from parley.protocol import jsonbytes


def doc(text: str, **schema: Any) -> dict[str, Any]:
    return {"doc": text, "schema": schema}


_W = TypeVar("_W", bound=type)


@dataclass_transform(frozen_default=True, field_specifiers=(attrs.field,))
def wire_type(cls: _W) -> _W:
    """attrs.frozen, with one shared __eq__, __hash__ and __repr__ instead of code generated for
    each class: compiling those was two thirds of this module's import, which is on the path to
    the first `agent/initialize` answer."""
    made: _W = attrs.frozen(cls, repr=False, eq=False)
    names = [a.name for a in attrs.fields(made)]
    # One C-level getter per class: cattrs compares fields with their defaults on every answer.
    made._wire_values = operator.attrgetter(*names) if names else _no_values  # type: ignore[attr-defined]
    made.__eq__ = _eq  # type: ignore[assignment]
    made.__hash__ = _hash  # type: ignore[assignment]
    made.__repr__ = _repr  # type: ignore[assignment]
    return made


def _no_values(_: Any) -> tuple[()]:
    return ()


def _eq(self: Any, other: object) -> Any:
    values = type(self)._wire_values
    if type(other) is not type(self):
        return NotImplemented  # as attrs does: the other operand may know better
    return values(self) == values(other)


def _hash(self: Any) -> int:
    cls: Any = type(self)
    return hash((cls, cls._wire_values(self)))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{a.name}={getattr(self, a.name)!r}" for a in self.__attrs_attrs__)
    return f"{type(self).__name__}({shown})"


PermissionMode: TypeAlias = Literal["ask", "accept-edits", "allow", "deny"]
ToolSource: TypeAlias = Literal["builtin", "mcp"]
McpTransport: TypeAlias = Literal["stdio", "http"]
ApprovalDecision: TypeAlias = Literal["allow_once", "allow_always", "reject_once", "reject_always"]
StopReason: TypeAlias = Literal["end_turn", "max_turns", "cancelled", "refusal", "error"]
ToolKind: TypeAlias = Literal["read", "edit", "execute"]
MessageRole: TypeAlias = Literal["user", "assistant"]
# (?!\n): Python's `$` (so jsonschema's) also matches before a final newline; ECMA-262's does not.
SESSION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}(?!\n)$"

# Limits on what a host sends (docs/security.md): big enough for any real use, small enough that
# no field can stall the server or fill the store.
ID_MAX = 128  # session and turn ids
NAME_MAX = 256  # profile, provider, model and client names, cursors
TITLE_MAX = 1000
TAG_MAX, TAGS_MAX = 128, 64
PATH_MAX = 4096
DIRECTORIES_MAX = 32
PROMPT_MAX = 2_000_000  # characters of text: more than any model's context window
IMAGE_MAX = 30_000_000  # base64 characters (about 22 MB of image)


def _text(limit: int, text: str = "", **schema: Any) -> dict[str, Any]:
    return doc(text, maxLength=limit, **schema)


Tag = NewType("Tag", str)
DirectoryPath = NewType("DirectoryPath", str)
PromptText = NewType("PromptText", str)
# Strings with limits of their own, named so generated code has one type for each.
NAMED_STRINGS: dict[Any, tuple[str, dict[str, Any]]] = {
    Tag: ("A label for finding sessions.", {"maxLength": TAG_MAX}),
    DirectoryPath: ("An absolute directory path.", {"maxLength": PATH_MAX}),
    PromptText: ("A prompt's text.", {"maxLength": PROMPT_MAX}),
}


SESSION_ID = _text(ID_MAX, minLength=1)


# --- shared objects ---------------------------------------------------------------------------


@wire_type
class ClientInfo:
    """Who the host is; used in logs only."""

    name: str = attrs.field(metadata=_text(NAME_MAX, "Host name, e.g. 'my-editor'.", minLength=1))
    version: str | None = attrs.field(default=None, metadata=_text(NAME_MAX))


@wire_type
class ServerInfo:
    name: str
    version: str


@wire_type
class ApprovalsCapability:
    """The host can answer `approval/request`; `options` are the decisions it can offer."""

    options: list[ApprovalDecision] = attrs.field(
        factory=lambda: ["allow_once", "allow_always", "reject_once", "reject_always"],
        metadata=doc("Decisions the host can render. Omitted: all four.", minItems=1),
    )


@wire_type
class ClientCapabilities:
    approvals: ApprovalsCapability | None = attrs.field(
        default=None,
        metadata=doc("Present when the host answers approval/request. Absent: never asked."),
    )
    events: list[str] | None = attrs.field(
        default=None,
        metadata=doc("Notification methods the host wants. Omitted: all of them."),
    )


@wire_type
class ServerCapabilities:
    """What the server will do on this connection, after negotiation."""

    approvals: ApprovalsCapability | None = attrs.field(
        default=None, metadata=doc("Present when the server will send approval/request.")
    )
    events: list[str] = attrs.field(factory=list, metadata=doc("Notifications that will be sent."))
    permission_modes: list[PermissionMode] = attrs.field(factory=list)
    prompt_content: list[str] = attrs.field(
        factory=list, metadata=doc("Content block types accepted in turn/submit prompts.")
    )
    session_persistence: bool = attrs.field(
        default=False, metadata=doc("Sessions survive a restart and can be resumed.")
    )


@wire_type
class TextContent:
    type: Literal["text"]
    text: str = attrs.field(metadata=_text(PROMPT_MAX))


@wire_type
class ImageContent:
    type: Literal["image"]
    mime_type: str = attrs.field(metadata=_text(NAME_MAX, "e.g. image/png", pattern=r"^image/"))
    data: str = attrs.field(metadata=_text(IMAGE_MAX, "Base64-encoded image bytes."))


ContentBlock: TypeAlias = TextContent | ImageContent


@wire_type
class Usage:
    """Token use and cost; on a turn result it is the turn's total."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = attrs.field(
        default=None, metadata=doc("Omitted when the model's price is unknown.")
    )


def usage_of(totals: UsageLike) -> Usage:
    """The wire view of usage counted anywhere (a turn, a session's totals)."""
    return Usage(
        totals.input_tokens,
        totals.output_tokens,
        totals.cache_read_tokens or 0,
        totals.cache_write_tokens or 0,
        totals.cost_usd,
    )


@wire_type
class ErrorInfo:
    code: ErrorCode
    message: str
    recoverable: bool = False


@wire_type
class SessionInfo:
    session_id: str
    cwd: str
    profile: str
    provider: str
    model: str
    permission_mode: PermissionMode
    created_at: str = attrs.field(metadata=doc("RFC 3339 UTC timestamp."))
    updated_at: str = attrs.field(metadata=doc("RFC 3339 UTC timestamp."))
    title: str | None = None
    tags: list[str] = attrs.field(factory=list)
    turn_count: int = 0
    last_seq: int = attrs.field(default=0, metadata=doc("Highest notification seq stored."))
    usage: Usage = attrs.field(factory=Usage, metadata=doc("Totals over the session's life."))
    running_turn_id: str | None = attrs.field(
        default=None, metadata=doc("The turn in flight, if any.")
    )
    forked_from: str | None = None
    additional_directories: list[str] = attrs.field(
        factory=list, metadata=doc("More directories the session's tools may use.")
    )
    agent: str | None = attrs.field(
        default=None, metadata=doc("The external agent that runs this session's turns, if any.")
    )


@wire_type
class MessageView:
    """A stored conversation message. Blocks: text, thinking, tool_use, tool_result, image."""

    role: MessageRole
    content: list[dict[str, Any]]
    turn_id: str | None = None


@wire_type
class ProviderInfo:
    name: str
    configured: bool
    default_model: str
    detail: str = attrs.field(
        default="", metadata=doc("What is configured, or what to set to configure it.")
    )


@wire_type
class ProfileInfo:
    name: str
    description: str = ""
    source: str = attrs.field(
        default="builtin", metadata=doc("'builtin' or the file it came from.")
    )
    provider: str | None = None
    model: str | None = None
    permission_mode: PermissionMode | None = None
    max_turns: int | None = None
    system_prompt: str | None = attrs.field(
        default=None,
        metadata=doc("The prompt as written; '{cwd}' stands for the session's directory."),
    )
    allowed_tools: list[str] | None = attrs.field(
        default=None, metadata=doc("Only these tools. Omitted: every tool.")
    )
    disallowed_tools: list[str] = attrs.field(factory=list)
    context_files: list[str] = attrs.field(
        factory=list,
        metadata=doc("Files (relative to the session's cwd) added to the system prompt."),
    )
    rules: list[dict[str, Any]] = attrs.field(
        factory=list, metadata=doc("Permission rules {tool, action, match?}, first match wins.")
    )


@wire_type
class Empty:
    """An object with no fields: the params or result of a method that needs none."""


# --- host -> server requests ------------------------------------------------------------------


@wire_type
class InitializeParams:
    protocol_version: int = attrs.field(
        metadata=doc("The protocol major the host speaks.", minimum=1)
    )
    client_info: ClientInfo
    capabilities: ClientCapabilities = attrs.field(factory=ClientCapabilities)


@wire_type
class InitializeResult:
    protocol_version: int
    schema_version: str
    server_info: ServerInfo
    capabilities: ServerCapabilities


@wire_type
class NameValue:
    """An environment variable or an HTTP header."""

    name: str
    value: str


@wire_type
class McpServerStdio:
    """An MCP server Parley runs as a subprocess, speaking MCP on its stdin and stdout."""

    name: str = attrs.field(metadata=doc("Names its tools: mcp__<name>__<tool>.", minLength=1))
    command: str = attrs.field(metadata=doc("The program; looked up on PATH.", minLength=1))
    args: list[str] = attrs.field(factory=list)
    env: list[NameValue] = attrs.field(
        factory=list, metadata=doc("Set for the server, besides HOME, PATH, USER and the like.")
    )
    type: Literal["stdio"] | None = attrs.field(
        default=None, metadata=doc("Optional: a server without a type is a stdio one.")
    )


@wire_type
class McpServerHttp:
    """An MCP server Parley reaches over streamable HTTP."""

    type: Literal["http"]
    name: str = attrs.field(metadata=doc("Names its tools: mcp__<name>__<tool>.", minLength=1))
    url: str = attrs.field(metadata=doc("", pattern=r"^https?://"))
    headers: list[NameValue] = attrs.field(factory=list)


McpServer: TypeAlias = McpServerStdio | McpServerHttp


@wire_type
class SessionCreateParams:
    session_id: str | None = attrs.field(
        default=None,
        metadata=doc("Host-chosen id; generated when omitted.", pattern=SESSION_ID_PATTERN),
    )
    cwd: str | None = attrs.field(
        default=None,
        metadata=_text(PATH_MAX, "Working directory; tools stay inside it. Default: the server's."),
    )
    profile: str | None = attrs.field(default=None, metadata=_text(NAME_MAX))
    provider: str | None = attrs.field(default=None, metadata=_text(NAME_MAX))
    model: str | None = attrs.field(default=None, metadata=_text(NAME_MAX))
    permission_mode: PermissionMode | None = None
    title: str | None = attrs.field(default=None, metadata=_text(TITLE_MAX))
    tags: list[Tag] = attrs.field(factory=list, metadata=doc("", maxItems=TAGS_MAX))
    additional_directories: list[DirectoryPath] = attrs.field(
        factory=list,
        metadata=doc("More directories the session's tools may use.", maxItems=DIRECTORIES_MAX),
    )
    mcp_servers: list[McpServer] = attrs.field(
        factory=list,
        metadata=doc(
            "MCP servers for this session, in ACP's session/new shape; they join (and by name "
            "replace) the config file's and the profile's, start on first need, and are "
            "never trusted."
        ),
    )
    agent: str | None = attrs.field(
        default=None,
        metadata=_text(
            64,
            "An external coding agent that runs the turns instead of a model: claude-code, "
            "codex, gemini, amp, or an ACP agent named in the config file. `model` is then "
            "the agent's model (or Amp's mode); `provider` is ignored.",
            pattern=r"^[a-z][a-z0-9-]{0,63}$",
        ),
    )


@wire_type
class SessionRef:
    session_id: str = attrs.field(metadata=SESSION_ID)


@wire_type
class SessionResumeParams:
    session_id: str = attrs.field(metadata=SESSION_ID)
    after_seq: int | None = attrs.field(
        default=None,
        metadata=doc(
            "Send every stored notification with a larger seq before answering.", minimum=0
        ),
    )


@wire_type
class SessionListParams:
    limit: int = attrs.field(default=50, metadata=doc("", minimum=1, maximum=1000))
    cursor: str | None = attrs.field(default=None, metadata=_text(NAME_MAX))
    tags: list[Tag] = attrs.field(
        factory=list, metadata=doc("Only sessions with all these tags.", maxItems=TAGS_MAX)
    )
    cwd: str | None = attrs.field(
        default=None, metadata=_text(PATH_MAX, "Only sessions in this directory.")
    )


@wire_type
class SessionListResult:
    sessions: list[SessionInfo]
    next_cursor: str | None = None


@wire_type
class SessionGetParams:
    session_id: str = attrs.field(metadata=SESSION_ID)
    limit: int = attrs.field(
        default=1000,
        metadata=doc("At most this many messages, oldest first.", minimum=1, maximum=10000),
    )
    cursor: str | None = attrs.field(
        default=None,
        metadata=_text(NAME_MAX, "From a previous answer's nextCursor: the next page."),
    )


@wire_type
class SessionDetail(SessionInfo):
    messages: list[MessageView] = attrs.field(factory=list)
    next_cursor: str | None = attrs.field(
        default=None,
        metadata=doc("More messages follow: pass it as cursor to session/get for the next page."),
    )


@wire_type
class SessionForkParams:
    session_id: str = attrs.field(metadata=SESSION_ID)
    at_turn: int | None = attrs.field(
        default=None,
        metadata=doc("Keep history up to and including this turn (1-based).", minimum=0),
    )
    new_session_id: str | None = attrs.field(
        default=None, metadata=doc("", pattern=SESSION_ID_PATTERN)
    )


@wire_type
class TurnSubmitParams:
    session_id: str = attrs.field(metadata=SESSION_ID)
    prompt: PromptText | list[ContentBlock] = attrs.field(metadata=doc("Text, or content blocks."))
    turn_id: str | None = attrs.field(
        default=None,
        metadata=doc(
            "Host-chosen id; submitting a finished turn's id again returns its stored result.",
            pattern=SESSION_ID_PATTERN,
        ),
    )


@wire_type
class TurnResult:
    session_id: str
    turn_id: str
    reply: str
    stop_reason: StopReason
    usage: Usage
    error: ErrorInfo | None = None


@wire_type
class TurnCancelParams:
    session_id: str = attrs.field(metadata=SESSION_ID)
    turn_id: str | None = attrs.field(
        default=None, metadata=_text(ID_MAX, "Omitted: the running turn.")
    )


@wire_type
class ProfileListParams:
    cwd: str | None = attrs.field(
        default=None,
        metadata=_text(
            PATH_MAX, "Include this project's .parley/profiles/. Default: the server's cwd."
        ),
    )


@wire_type
class ProfileGetParams:
    name: str = attrs.field(metadata=_text(NAME_MAX, minLength=1))
    cwd: str | None = attrs.field(
        default=None,
        metadata=_text(
            PATH_MAX, "Look in this project's .parley/profiles/ too. Default: the server's cwd."
        ),
    )


@wire_type
class ProfileListResult:
    profiles: list[ProfileInfo]


@wire_type
class ToolInfo:
    name: str = attrs.field(metadata=doc("The name the model calls it by."))
    description: str
    kind: ToolKind = attrs.field(
        metadata=doc("How permissions treat it: read, edit, or execute (asks by default).")
    )
    source: ToolSource
    input_schema: dict[str, Any]
    server: str | None = attrs.field(default=None, metadata=doc("The MCP server, for mcp tools."))
    original_name: str | None = attrs.field(
        default=None, metadata=doc("The tool's own name on its MCP server.")
    )


McpServerStatus: TypeAlias = Literal["not_started", "running", "stopped", "failed"]


@wire_type
class McpServerInfo:
    name: str
    transport: McpTransport
    status: McpServerStatus = attrs.field(
        metadata=doc("stopped: idle, or went away; it starts again on the next call.")
    )
    tool_count: int = 0
    trusted: bool = attrs.field(
        default=False, metadata=doc("Its tools' readOnlyHint makes them read tools.")
    )
    error: str | None = attrs.field(default=None, metadata=doc("Why it has no tools now."))


@wire_type
class ToolListResult:
    tools: list[ToolInfo]
    mcp_servers: list[McpServerInfo] = attrs.field(factory=list)


@wire_type
class ProviderListResult:
    providers: list[ProviderInfo]
    default: str | None = attrs.field(
        default=None,
        metadata=doc("The provider new sessions get; omitted when none is configured."),
    )


# --- server -> host request -------------------------------------------------------------------


@wire_type
class ApprovalRequestParams:
    session_id: str
    turn_id: str
    approval_id: str
    tool_call_id: str
    tool: str
    input: dict[str, Any]
    options: list[ApprovalDecision]
    timeout_ms: int
    reason: str = attrs.field(default="", metadata=doc("Why the server is asking."))
    display: dict[str, Any] | None = attrs.field(
        default=None,
        metadata=doc("Render hints: path and unified diff for edits, command for bash."),
    )


@wire_type
class ApprovalResponse:
    decision: ApprovalDecision


# --- server -> host notifications -------------------------------------------------------------
# The engine emits these bodies as events; on the wire every notification also carries the
# NotificationHeader fields. `method` names the notification.


@wire_type
class NotificationHeader:
    session_id: str
    turn_id: str
    seq: int = attrs.field(metadata=doc("Per session, strictly increasing, persisted.", minimum=1))


def notification_params(
    session_id: str, turn_id: str, seq: int, body: dict[str, Any]
) -> dict[str, Any]:
    """A notification's params on the wire: the header fields, then the event's own."""
    return {"sessionId": session_id, "turnId": turn_id, "seq": seq, **body}


def notification_params_json(session_id: str, turn_id: str, seq: int, body: str) -> str:
    """notification_params as JSON text, from the event's own params as JSON text (an object):
    the same text orjson would write for the dict, without building it."""
    header = _header_json(session_id, turn_id) + str(seq)
    return header + "}" if body == "{}" else header + "," + body[1:]


@functools.lru_cache(maxsize=4096)
def _header_json(session_id: str, turn_id: str) -> str:
    # A turn's events share it: encoded once per turn, not once per delta.
    sid, tid = jsonbytes.dumps(session_id).decode(), jsonbytes.dumps(turn_id).decode()
    return f'{{"sessionId":{sid},"turnId":{tid},"seq":'


ProgressStage: TypeAlias = Literal[
    "turn_started",
    "model_request",
    "tool_running",
    "retrying",
    "compacting",
    "compacted",
    "interrupted",
    "mcp_starting",
    "mcp_failed",
]


@wire_type
class Progress:
    method: ClassVar[str] = "progress"
    stage: ProgressStage
    message: str
    data: dict[str, Any] | None = None


@wire_type
class ResultDelta:
    method: ClassVar[str] = "result/delta"
    text: str


@wire_type
class ResultFinal:
    method: ClassVar[str] = "result/final"
    text: str


@wire_type
class ThinkingDelta:
    method: ClassVar[str] = "thinking/delta"
    text: str


@wire_type
class ThinkingFinal:
    method: ClassVar[str] = "thinking/final"
    text: str


@wire_type
class ToolStarted:
    method: ClassVar[str] = "tool/started"
    tool_call_id: str
    name: str
    input: dict[str, Any]
    kind: ToolKind | None = None
    display: dict[str, Any] | None = attrs.field(
        default=None,
        metadata=doc("Render hints: path and unified diff for edits, command for bash."),
    )
    server: str | None = attrs.field(
        default=None, metadata=doc("The MCP server the tool belongs to; omitted for built-ins.")
    )


@wire_type
class ToolCompleted:
    method: ClassVar[str] = "tool/completed"
    tool_call_id: str
    name: str
    output: str
    is_error: bool
    duration_ms: int
    display: dict[str, Any] | None = attrs.field(
        default=None, metadata=doc("For edits: path and unified diff; for bash: exitCode.")
    )


@wire_type
class UsageReport:
    method: ClassVar[str] = "usage"
    input_tokens: int
    output_tokens: int
    provider: str
    model: str
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost_usd: float | None = None


@wire_type
class TurnError:
    method: ClassVar[str] = "error"
    code: ErrorCode
    message: str
    recoverable: bool


@wire_type
class ApprovalRequested:
    method: ClassVar[str] = "approval/requested"
    approval_id: str
    tool_call_id: str
    tool: str
    input: dict[str, Any]
    options: list[ApprovalDecision]
    timeout_ms: int
    reason: str = attrs.field(default="", metadata=doc("Why the server is asking."))
    display: dict[str, Any] | None = attrs.field(
        default=None,
        metadata=doc("Render hints: path and unified diff for edits, command for bash."),
    )


@wire_type
class ApprovalTimedOut:
    method: ClassVar[str] = "approval/timeout"
    approval_id: str


@wire_type
class ApprovalResolved:
    method: ClassVar[str] = "approval/resolved"
    approval_id: str
    decision: ApprovalDecision


Event: TypeAlias = (
    Progress
    | ResultDelta
    | ResultFinal
    | ThinkingDelta
    | ThinkingFinal
    | ToolStarted
    | ToolCompleted
    | UsageReport
    | TurnError
    | ApprovalRequested
    | ApprovalTimedOut
    | ApprovalResolved
)

# The unions the schemas name ($defs), so types generated from them can name them too.
NAMED_UNIONS: dict[Any, str] = {
    ContentBlock: "ContentBlock",
    MessageRole: "MessageRole",
    PermissionMode: "PermissionMode",
    ApprovalDecision: "ApprovalDecision",
    StopReason: "StopReason",
    ToolKind: "ToolKind",
    ProgressStage: "ProgressStage",
    McpServerStatus: "McpServerStatus",
    ToolSource: "ToolSource",
    McpTransport: "McpTransport",
    McpServer: "McpServer",
}
