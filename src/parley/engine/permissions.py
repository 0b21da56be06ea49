"""Deciding whether a tool call may run: rules, then the session's mode, then the host."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import attrs

from parley.core.errors import ErrorCode

Decision: TypeAlias = Literal["allow_once", "allow_always", "reject_once", "reject_always"]
Action: TypeAlias = Literal["allow", "deny", "ask"]
ALL_DECISIONS: tuple[Decision, ...] = ("allow_once", "allow_always", "reject_once", "reject_always")


@attrs.frozen
class ToolCall:
    tool_call_id: str
    name: str
    input: dict[str, Any]
    kind: str  # "read" | "edit" | "execute"
    display: dict[str, Any] | None = None


@attrs.frozen
class Verdict:
    allowed: bool
    reason: str = ""
    code: ErrorCode | None = None  # approval_denied / approval_timeout when refused


def mode_action(mode: str, kind: str) -> Action:
    """What a permission mode says about a kind of tool, before any rule or the host."""
    if kind == "read" or mode == "allow":
        return "allow"
    if mode == "deny":
        return "deny"
    if mode == "accept-edits" and kind == "edit":
        return "allow"
    return "ask"
