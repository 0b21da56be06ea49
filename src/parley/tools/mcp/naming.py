"""The names MCP tools get: `mcp__<server>__<tool>`, in what every provider accepts.

Anthropic and OpenAI both take ^[a-zA-Z0-9_-]{1,64}$. Other characters become `_`; a name that
is too long keeps its start and ends in a short hash of the whole, so two long names that
share a beginning stay apart; a name already taken gets `_2`, `_3`, ...
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

VALID = re.compile(r"^[a-zA-Z0-9_-]{1,64}\Z")
MAX_LEN = 64
PREFIX = "mcp__"
_INVALID = re.compile(r"[^a-zA-Z0-9_-]")


def sanitize(text: str) -> str:
    return _INVALID.sub("_", text) or "_"


def _fit(name: str, original: str, limit: int = MAX_LEN) -> str:
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(original.encode()).hexdigest()[:8]
    return f"{name[: limit - len(digest) - 1]}_{digest}"


def tool_name(server: str, tool: str) -> str:
    """The name one server's tool is offered as, before making it unique."""
    full = f"{PREFIX}{sanitize(server)}__{sanitize(tool)}"
    return _fit(full, f"{server}\x00{tool}")


def unique_names(wanted: Iterable[tuple[str, str]], taken: Iterable[str]) -> list[str]:
    """One valid name for each (server, tool), unique among themselves and `taken`."""
    used = set(taken)
    out = []
    for server, tool in wanted:
        name = tool_name(server, tool)
        n = 1
        candidate = name
        while candidate in used:
            n += 1
            suffix = f"_{n}"
            candidate = name[: MAX_LEN - len(suffix)] + suffix
        used.add(candidate)
        out.append(candidate)
    return out
