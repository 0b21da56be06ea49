"""Every method and notification of protocol v1, with its types: the table schemas come from."""

from __future__ import annotations

from typing import Final

import attrs

from parley.protocol import types as t


@attrs.frozen
class Method:
    name: str
    params: type
    result: type
    doc: str


@attrs.frozen
class Event:
    params: type
    doc: str

    @property
    def name(self) -> str:
        name: str = self.params.method  # type: ignore[attr-defined]
        return name


INITIALIZE: Final = "agent/initialize"
SHUTDOWN: Final = "agent/shutdown"
SESSION_CREATE: Final = "session/create"
SESSION_RESUME: Final = "session/resume"
SESSION_LIST: Final = "session/list"
SESSION_GET: Final = "session/get"
SESSION_FORK: Final = "session/fork"
SESSION_DELETE: Final = "session/delete"
TURN_SUBMIT: Final = "turn/submit"
TURN_CANCEL: Final = "turn/cancel"
PROFILE_LIST: Final = "profile/list"
PROFILE_GET: Final = "profile/get"
PROVIDER_LIST: Final = "provider/list"
TOOL_LIST: Final = "tool/list"
APPROVAL_REQUEST: Final = "approval/request"
CANCEL_REQUEST: Final = "$/cancelRequest"

REQUESTS: Final[tuple[Method, ...]] = (
    Method(
        INITIALIZE,
        t.InitializeParams,
        t.InitializeResult,
        "Negotiate the protocol version and capabilities. Must come first.",
    ),
    Method(SHUTDOWN, t.Empty, t.Empty, "Cancel and persist in-flight turns, answer, then exit 0."),
    Method(SESSION_CREATE, t.SessionCreateParams, t.SessionInfo, "Create a session."),
    Method(
        SESSION_RESUME,
        t.SessionResumeParams,
        t.SessionInfo,
        "Load a stored session; with afterSeq, first re-send every stored notification after it.",
    ),
    Method(
        SESSION_LIST,
        t.SessionListParams,
        t.SessionListResult,
        "Sessions, newest first, paged by cursor.",
    ),
    Method(
        SESSION_GET,
        t.SessionGetParams,
        t.SessionDetail,
        "A session's info and a page of its messages (oldest first; nextCursor for more).",
    ),
    Method(
        SESSION_FORK,
        t.SessionForkParams,
        t.SessionInfo,
        "A new session with the history up to atTurn (default: all of it).",
    ),
    Method(SESSION_DELETE, t.SessionRef, t.Empty, "Delete a session and everything stored for it."),
    Method(
        TURN_SUBMIT,
        t.TurnSubmitParams,
        t.TurnResult,
        "Run one turn. Answers when the turn ends, after its result/final or error notification.",
    ),
    Method(
        TURN_CANCEL,
        t.TurnCancelParams,
        t.Empty,
        "Cancel the running turn; its turn/submit then answers with stopReason 'cancelled'.",
    ),
    Method(
        PROFILE_LIST,
        t.ProfileListParams,
        t.ProfileListResult,
        "Profiles available to new sessions in cwd: built-in, the user's, then the project's; "
        "a later one replaces an earlier one of the same name.",
    ),
    Method(PROFILE_GET, t.ProfileGetParams, t.ProfileInfo, "One profile."),
    Method(
        PROVIDER_LIST,
        t.Empty,
        t.ProviderListResult,
        "Providers, whether each is configured, and its default model.",
    ),
    Method(
        TOOL_LIST,
        t.SessionRef,
        t.ToolListResult,
        "The session's tools, built-in and from MCP servers, with where each comes from, and "
        "its MCP servers; starts the servers not yet started.",
    ),
)

SERVER_REQUESTS: Final[tuple[Method, ...]] = (
    Method(
        APPROVAL_REQUEST,
        t.ApprovalRequestParams,
        t.ApprovalResponse,
        "Ask the host whether a tool call may run. Sent only to hosts with the approvals "
        "capability; no answer within timeoutMs rejects the call.",
    ),
)

NOTIFICATIONS: Final[tuple[Event, ...]] = (
    Event(t.Progress, "What the turn is doing now."),
    Event(t.ResultDelta, "A piece of the reply text."),
    Event(t.ResultFinal, "The whole reply; ends a successful turn."),
    Event(t.ThinkingDelta, "A piece of the model's reasoning."),
    Event(t.ThinkingFinal, "A whole reasoning block."),
    Event(t.ToolStarted, "A tool call is about to run."),
    Event(t.ToolCompleted, "A tool call ended."),
    Event(t.UsageReport, "Tokens and cost of one model response."),
    Event(t.TurnError, "The turn failed; ends the turn instead of result/final."),
    Event(
        t.ApprovalRequested,
        "A tool call waits for approval. Stored like every event, so any viewer (and one that "
        "reconnects) sees the open question; any door may answer it by approvalId while it "
        "is open. Over stdio, hosts with the approvals capability are also sent "
        "approval/request for it.",
    ),
    Event(
        t.ApprovalTimedOut, "The host did not answer an approval in time; the call was rejected."
    ),
    Event(
        t.ApprovalResolved,
        "An approval was settled: the host's decision, or reject_once when the turn was "
        "cancelled or the answer was not one of the options. Every window showing the "
        "question can close it.",
    ),
)

REQUESTS_BY_NAME: Final = {m.name: m for m in REQUESTS}
NOTIFICATION_NAMES: Final = tuple(e.name for e in NOTIFICATIONS)
