"""How a tool call looks in an ACP client: its title, kind, locations and content, from the
tool's name and input (the same for a live call and one replayed from history)."""

from __future__ import annotations

import os
from typing import Any

# The built-in tools by name (also when replayed from history, where no kind is stored);
# any other tool by its Parley kind, which ACP's kinds include.
_TOOL_KINDS = {
    "read_file": "read",
    "grep": "search",
    "list_files": "search",
    "write_file": "edit",
    "edit_file": "edit",
    "bash": "execute",
}
_KINDS = ("read", "edit", "execute")


def _abs(cwd: str, path: Any) -> str | None:
    if not isinstance(path, str) or not path:
        return None
    return os.path.normpath(os.path.join(cwd, os.path.expanduser(path)))


def _title(name: str, input: dict[str, Any]) -> str:
    path = input.get("path")
    if name == "read_file" and isinstance(path, str):
        return f"Read {path}"
    if name == "write_file" and isinstance(path, str):
        return f"Write {path}"
    if name == "edit_file" and isinstance(path, str):
        return f"Edit {path}"
    if name == "bash" and isinstance(input.get("command"), str):
        return f"`{input['command']}`"
    if name == "grep" and isinstance(input.get("pattern"), str):
        return f"Search for `{input['pattern']}`" + (f" in {path}" if isinstance(path, str) else "")
    if name == "list_files" and isinstance(input.get("pattern"), str):
        return f"List `{input['pattern']}`"
    return name


def _diffs(name: str, input: dict[str, Any], path: str | None) -> list[dict[str, Any]]:
    """What an edit changes, as ACP diffs (the client renders them, also in permission
    dialogs). edit_file shows each replacement; write_file the whole new content."""
    if path is None:
        return []
    if name == "write_file" and isinstance(input.get("content"), str):
        return [{"type": "diff", "path": path, "oldText": None, "newText": input["content"]}]
    if name == "edit_file" and isinstance(input.get("edits"), list):
        return [
            {"type": "diff", "path": path, "oldText": e["old_string"], "newText": e["new_string"]}
            for e in input["edits"]
            if isinstance(e, dict)
            and isinstance(e.get("old_string"), str)
            and isinstance(e.get("new_string"), str)
        ]
    return []


def tool_call(
    call_id: str, name: str, input: dict[str, Any], kind: str | None, cwd: str
) -> dict[str, Any]:
    """The `tool_call` update that announces a call, before it runs or is asked about."""
    path = _abs(cwd, input.get("path"))
    update: dict[str, Any] = {
        "sessionUpdate": "tool_call",
        "toolCallId": call_id,
        "title": _title(name, input),
        "kind": _TOOL_KINDS.get(name) or (kind if kind in _KINDS else "other"),
        "status": "pending",
        "rawInput": input,
    }
    if path is not None:
        line = input.get("offset")
        update["locations"] = [{"path": path, **({"line": line} if type(line) is int else {})}]
    if diffs := _diffs(name, input, path):
        update["content"] = diffs
    return update


def tool_result(call_id: str, output: str, is_error: bool) -> dict[str, Any]:
    """The `tool_call_update` that ends a call."""
    return {
        "sessionUpdate": "tool_call_update",
        "toolCallId": call_id,
        "status": "failed" if is_error else "completed",
        "content": [{"type": "content", "content": {"type": "text", "text": output}}],
        "rawOutput": {"output": output, "isError": is_error},
    }
