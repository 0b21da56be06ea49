"""Which process owns a running turn, and whether that process is still alive.

An owner is "pid:start" where start is the process's start time in clock ticks since boot
(Linux /proc), so a pid reused by a later process is not mistaken for the owner. Where /proc is
missing the start is empty and only the pid is checked.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path


def _start_token(pid: int) -> str | None:
    """The process's start time, "" where it cannot be known, None if the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None if Path("/proc/self/stat").exists() else ""
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses, so split after it.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent: dead all the same
        return None
    return fields[19]  # field 22, starttime


def this_process() -> str:
    return _owner(os.getpid())  # by pid, so a forked child is not taken for its parent


@functools.cache
def _owner(pid: int) -> str:
    return f"{pid}:{_start_token(pid) or ''}"


def is_alive(owner: str) -> bool:
    pid_text, _, start = owner.partition(":")
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if owner == this_process():
        return True
    token = _start_token(pid)
    if token is None:
        return False
    if token and start:
        return token == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
