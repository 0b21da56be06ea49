"""An asyncio client for `parley serve`, for Python hosts.

async with await ParleyClient.spawn(env={"PARLEY_PROVIDER": "scripted", ...}) as agent:
    session = await agent.create_session(cwd="/path/to/project")
    result = await agent.submit_turn(session.session_id, "Summarise README.md",
                                     on_event=lambda n: print(n.method, n.params))

Everything a host handles is importable from here: the client, its errors, the wire types it
returns and receives (`SessionInfo`, `TurnResult`, `ApprovalRequestParams`, ...) and the typed
events that `Notification.event()` gives (`ResultDelta`, `ToolStarted`, ..., their union `Event`).
`ParleyHttpClient` (parley.client.http) talks to `parley daemon` instead.
"""

from parley.client.agent import EVENT_TYPES, ApprovalHandler, Notification, ParleyClient
from parley.client.errors import ParleyClientError, ParleyHttpError, ParleyRpcError
from parley.core.errors import ErrorCode
from parley.protocol.types import (
    ApprovalDecision,
    ApprovalRequested,
    ApprovalRequestParams,
    ApprovalResolved,
    ApprovalResponse,
    ApprovalTimedOut,
    ContentBlock,
    ErrorInfo,
    Event,
    ImageContent,
    InitializeResult,
    MessageView,
    PermissionMode,
    ProfileInfo,
    Progress,
    ProgressStage,
    ProviderInfo,
    ProviderListResult,
    ResultDelta,
    ResultFinal,
    ServerCapabilities,
    SessionDetail,
    SessionInfo,
    SessionListResult,
    StopReason,
    TextContent,
    ThinkingDelta,
    ThinkingFinal,
    ToolCompleted,
    ToolKind,
    ToolStarted,
    TurnError,
    TurnResult,
    Usage,
    UsageReport,
)

__all__ = [
    "EVENT_TYPES",
    "ApprovalDecision",
    "ApprovalHandler",
    "ApprovalRequestParams",
    "ApprovalRequested",
    "ApprovalResolved",
    "ApprovalResponse",
    "ApprovalTimedOut",
    "ContentBlock",
    "ErrorCode",
    "ErrorInfo",
    "Event",
    "ImageContent",
    "InitializeResult",
    "MessageView",
    "Notification",
    "ParleyClient",
    "ParleyClientError",
    "ParleyHttpClient",
    "ParleyHttpError",
    "ParleyRpcError",
    "PermissionMode",
    "ProfileInfo",
    "Progress",
    "ProgressStage",
    "ProviderInfo",
    "ProviderListResult",
    "ResultDelta",
    "ResultFinal",
    "ServerCapabilities",
    "SessionDetail",
    "SessionInfo",
    "SessionListResult",
    "StopReason",
    "TextContent",
    "ThinkingDelta",
    "ThinkingFinal",
    "ToolCompleted",
    "ToolKind",
    "ToolStarted",
    "TurnError",
    "TurnResult",
    "Usage",
    "UsageReport",
]


def __dir__() -> list[str]:
    return sorted([*globals(), "ParleyHttpClient"])


def __getattr__(name: str) -> object:
    # The HTTP client loads httpx: only for hosts that use it.
    if name == "ParleyHttpClient":
        from parley.client.http import ParleyHttpClient

        return ParleyHttpClient
    raise AttributeError(name)
