"""Glob patterns as used by tools and permission rules: `*`, `?`, `[...]` and `**`."""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=512)
def compile_glob(pattern: str, *, path: bool = True) -> re.Pattern[str]:
    """Compile a glob. With `path`, `*` stops at `/` and `**` crosses directories;
    without it (command lines, tool names) `*` matches anything."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if path and pattern.startswith("**", i):
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                    out.append("(?:.*/)?")  # zero or more whole directories
                else:
                    out.append(".*")
                continue
            out.append("[^/]*" if path else ".*")
        elif c == "?":
            out.append("[^/]" if path else ".")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def glob_match(pattern: str, value: str, *, path: bool = True) -> bool:
    return compile_glob(pattern, path=path).match(value) is not None
