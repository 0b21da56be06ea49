"""Glob patterns as used by tools and permission rules: `*`, `?`, `[...]` and `**`.

`[abc]`, `[a-z]` and `[!abc]` (or `[^abc]`) are character classes whose members are taken
literally: `[a-z\\d]` is a-z, a backslash or "d", never "any digit". A `]` right after the
opening `[` (or `[!`) is a member. Outside a class every character other than `*`, `?` and `[`
stands for itself, a backslash included. A pattern that cannot be read (a `[` never closed, a
range whose ends are reversed) raises GlobError.
"""

from __future__ import annotations

import functools
import re


class GlobError(ValueError):
    """A glob pattern that cannot be read."""


@functools.lru_cache(maxsize=512)
def compile_glob(pattern: str, *, path: bool = True) -> re.Pattern[str]:
    """Compile a glob. With `path`, `*`, `?` and classes stop at `/` and `**` crosses
    directories; without it (command lines, tool names) `*` matches anything."""
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
            regex, i = _char_class(pattern, i, path)
            out.append(regex)
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def _char_class(pattern: str, start: int, path: bool) -> tuple[str, int]:
    """The regex for the class opening at `start`, and the index after its `]`."""
    i = start + 1
    negated = i < len(pattern) and pattern[i] in "!^"
    if negated:
        i += 1
    members: list[str] = []
    first = True
    while True:
        if i >= len(pattern):
            raise GlobError(f"'[' at position {start + 1} is never closed with ']'")
        c = pattern[i]
        if c == "]" and not first:
            break
        first = False
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            low, high = c, pattern[i + 2]
            if low > high:
                raise GlobError(f"range {low}-{high} at position {i + 1} is reversed")
            members.append(f"{re.escape(low)}-{re.escape(high)}")
            i += 3
        else:
            members.append(re.escape(c) if c not in "-" else r"\-")
            i += 1
    body = "".join(members)
    if negated:
        return f"[^{body}{'/' if path else ''}]", i + 1
    return (f"(?!/)[{body}]" if path else f"[{body}]"), i + 1


def glob_match(pattern: str, value: str, *, path: bool = True) -> bool:
    return compile_glob(pattern, path=path).match(value) is not None
