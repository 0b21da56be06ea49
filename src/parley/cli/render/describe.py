"""The words the terminal uses for a turn's events, shared by both displays (no colour here).

Everything is read from notification params as they are on the wire (camelCase keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

_KEY_INPUT = {
    "bash": "command",
    "read_file": "path",
    "write_file": "path",
    "edit_file": "path",
    "list_files": "pattern",
    "grep": "pattern",
}
_ARGUMENT_CHARS = 120
_SUMMARY_CHARS = 160
DECISIONS = {
    "allow_once": "allowed once",
    "allow_always": "allowed for the rest of this session",
    "reject_once": "rejected",
    "reject_always": "rejected for the rest of this session",
}
STOPS = {
    "cancelled": "cancelled",
    "max_turns": "stopped: the turn reached its profile's max_turns",
    "refusal": "the model declined to answer",
}


def one_line(text: str, limit: int) -> str:
    """The first line of `text`, at most `limit` characters, marked when anything was cut."""
    lines = text.strip().splitlines() or [""]
    first = lines[0].strip()
    if len(first) > limit:
        return first[: limit - 1] + "…"
    return first + (" …" if len(lines) > 1 else "")


def key_argument(params: Mapping[str, Any]) -> str:
    """What a tool call is about, in a few words: the command, the path, the pattern."""
    name = params.get("name") or params.get("tool") or ""
    tool_input: Mapping[str, Any] = params.get("input") or {}
    display: Mapping[str, Any] = params.get("display") or {}
    key = _KEY_INPUT.get(name)
    value: Any = display.get(key) if key else None
    if not isinstance(value, str):
        value = tool_input.get(key) if key else None
    if not isinstance(value, str):  # another tool: its first text argument
        value = next((v for v in tool_input.values() if isinstance(v, str)), "")
    if name == "grep" and isinstance(where := tool_input.get("path"), str) and where:
        value = f"{value}  in {where}"
    return one_line(value, _ARGUMENT_CHARS)


Status = Literal["ok", "error", "refused"]


@attrs.frozen
class Outcome:
    status: Status
    summary: str


def outcome(params: Mapping[str, Any]) -> Outcome:
    """How a tool call ended (`tool/completed` params), in a few words."""
    display: Mapping[str, Any] = params.get("display") or {}
    output: str = params.get("output") or ""
    if display.get("denied"):
        reason = output.removeprefix("Permission denied: ").removesuffix(" The tool did not run.")
        return Outcome("refused", "refused: " + one_line(reason.rstrip("."), _SUMMARY_CHARS))
    seconds = (params.get("durationMs") or 0) / 1000
    took = f" · {seconds:.1f}s" if seconds >= 1 else ""
    if "exitCode" in display:
        if display.get("timedOut"):
            return Outcome("error", f"timed out{took}")
        code = display["exitCode"]
        status: Status = "error" if params.get("isError") else "ok"
        return Outcome(status, (f"exit {code}" if code >= 0 else "killed") + took)
    if params.get("isError"):
        return Outcome("error", one_line(output, _SUMMARY_CHARS) + took)
    return Outcome("ok", _success(display, output) + took)


def _success(display: Mapping[str, Any], output: str) -> str:
    if isinstance(diff := display.get("diff"), str):
        added, removed = diff_stats(diff)
        verb = "created" if display.get("created") else "changed"
        return f"{verb}, +{added} -{removed}"
    if "totalLines" in display:
        total = display["totalLines"]
        start, end = display.get("startLine", 1), display.get("endLine", 0)
        shown = max(0, end - start + 1)
        return _count(total, "line") if shown >= total else f"lines {start}-{end} of {total}"
    if "matches" in display:
        return _count(display["matches"], "match", "matches")
    if "count" in display:
        return _count(display["count"], "file")
    return _count(len(output.splitlines()), "line")


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def diff_stats(diff: str) -> tuple[int, int]:
    """Lines added and removed by a unified diff."""
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def diff_body(diff: str, limit: int) -> tuple[list[str], int]:
    """The diff's hunks without the file header (the tool line names the file), at most
    `limit` lines, and how many lines were left out."""
    lines = [
        line for line in diff.splitlines() if not line.startswith(("--- ", "+++ ", "/dev/null"))
    ]
    return lines[:limit], max(0, len(lines) - limit)


def usage_line(usage: Mapping[str, Any]) -> str:
    """A turn's (or session's) tokens and cost: `1,234 in · 56 out · $0.0012`."""
    parts = [f"{usage.get('inputTokens', 0):,} in", f"{usage.get('outputTokens', 0):,} out"]
    if cached := usage.get("cacheReadTokens"):
        parts.append(f"{cached:,} cached")
    if (cost := usage.get("costUsd")) is not None:
        parts.append(f"${cost:.4f}")
    return " · ".join(parts)


def footer(result: Mapping[str, Any], *, show_session: bool) -> str:
    """The line after a turn: its tokens and cost (when it used any), maybe its session."""
    usage = result.get("usage") or {}
    parts = [usage_line(usage)] if usage.get("inputTokens") or usage.get("outputTokens") else []
    if show_session:
        parts.append(f"session {result['sessionId']}")
    return " · ".join(parts)


def ending(result: Mapping[str, Any]) -> tuple[Status, str] | None:
    """What to say about how a turn ended, when it did not simply end: (status, words)."""
    stop = result.get("stopReason")
    error = result.get("error")
    if stop == "error" and error:
        return "error", f"error ({error.get('code')}): {error.get('message')}"
    if stop in STOPS:
        return "refused", STOPS[stop]
    return None


def question(params: Mapping[str, Any]) -> str:
    """The headline of an approval question (`approval/requested` params)."""
    reason = params.get("reason") or f"{params.get('tool')} needs approval"
    return f"{reason}: {key_argument(params)}"


def allow_prompt(tool: str) -> str:
    return f"Allow? [y]es once, [n]o, [a]lways allow {tool} in this session: "
