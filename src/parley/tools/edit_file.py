"""`edit_file`: exact-match replacements in one file, all applied or none."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from parley.tools.base import Tool, ToolContext, ToolError, ToolOutput, in_thread
from parley.tools.diff import unified_diff
from parley.tools.file_io import decode_text, read_existing, write_atomic
from parley.tools.paths import PATH_INPUT, display_path, resolve_inside


@attrs.frozen
class _Change:
    path: Path
    shown: str
    old: str
    new: str
    replacements: int

    def display(self, ctx: ToolContext) -> dict[str, Any]:
        diff = unified_diff(self.old, self.new, self.shown, limit=ctx.max_output_chars)
        return {"path": self.shown, "diff": diff, "replacements": self.replacements}


class EditFile(Tool):
    name = "edit_file"
    kind = "edit"
    description = (
        "Change an existing file by exact-match replacement. Each edit replaces old_string with "
        "new_string; old_string must match the file exactly (whitespace and indentation "
        "included) and occur exactly once, unless replace_all is true. Several edits are "
        "applied in order, each to the result of the previous one, and the file is written "
        "only if every edit succeeds. Read the file first. To create a file, use write_file."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "path": PATH_INPUT,
            "edits": {
                "type": "array",
                "minItems": 1,
                "description": "The replacements to make, in order.",
                "items": {
                    "type": "object",
                    "properties": {
                        "old_string": {
                            "type": "string",
                            "minLength": 1,
                            "description": "Exact text to replace.",
                        },
                        "new_string": {"type": "string", "description": "Text to put instead."},
                        "replace_all": {
                            "type": "boolean",
                            "description": "Replace every occurrence (default false).",
                        },
                    },
                    "required": ["old_string", "new_string"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["path", "edits"],
        "additionalProperties": False,
    }

    def preview(self, input: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        return _plan(input, ctx).display(ctx)

    async def run(self, input: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        return await in_thread(lambda _stop: self._edit(input, ctx))

    def _edit(self, input: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        change = _plan(input, ctx)
        write_atomic(ctx, change.path, change.new.encode("utf-8"), change.shown)
        count = len(input["edits"])
        edits = f"{count} edits, " if count > 1 else ""
        return ToolOutput(
            f"Edited {change.shown} ({edits}{change.replacements} replacement"
            f"{'s' if change.replacements != 1 else ''})",
            display=change.display(ctx),
        )


def _plan(input: dict[str, Any], ctx: ToolContext) -> _Change:
    """Read the file and apply every edit in memory; nothing is written here."""
    path = resolve_inside(ctx, input["path"])
    shown = display_path(ctx, path)
    data = read_existing(ctx, path, shown)
    if data is None:
        raise ToolError(f"{shown} does not exist; use write_file to create a file")
    old = decode_text(data, shown)
    new, replacements = apply_edits(old, input["edits"], shown)
    return _Change(path, shown, old, new, replacements)


def apply_edits(text: str, edits: Sequence[dict[str, Any]], shown: str) -> tuple[str, int]:
    """The text after every edit, and how many replacements were made; a ToolError names the
    edit that cannot be applied."""
    total = 0
    for number, edit in enumerate(edits, 1):
        old: str = edit["old_string"]
        new: str = edit["new_string"]
        where = f"edit {number} of {len(edits)}" if len(edits) > 1 else "edit"
        if old == new:
            raise ToolError(f"{where}: old_string and new_string are the same; nothing to change")
        if old not in text and "\r\n" in text and "\r" not in old:
            # The model writes "\n"; the file uses Windows line endings.
            old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
        found = _occurrences(text, old)
        after = f" (after applying edits 1-{number - 1})" if number > 1 else ""
        if found == 0:
            raise ToolError(
                f"{where}: old_string was not found in {shown}{after}. It must match the file "
                "exactly, including whitespace and indentation; read the file and try again. "
                "The file was not changed."
            )
        if found > 1 and not edit.get("replace_all", False):
            raise ToolError(
                f"{where}: old_string was found {found} times in {shown}{after}; include more "
                "of the surrounding lines to make it unique, or set replace_all to true to "
                "change every occurrence. The file was not changed."
            )
        if edit.get("replace_all", False):
            total += text.count(old)
            text = text.replace(old, new)
        else:
            total += 1
            text = text.replace(old, new, 1)
    return text, total


def _occurrences(text: str, sub: str) -> int:
    """How many places `sub` starts at, overlaps included: "aa" is ambiguous in "aaa"."""
    count, start = 0, text.find(sub)
    while start != -1:
        count += 1
        start = text.find(sub, start + 1)
    return count
