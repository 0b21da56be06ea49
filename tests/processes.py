"""Telling whether a process is still running, for tests that kill them."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


def running(pid: int) -> bool:
    """Alive and not a zombie. Orphans are reparented to PID 1, which in some containers
    never reaps them: a killed orphan then stays a zombie, dead but still listed."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def dead(pid: int) -> bool:
    """Whether `pid` is gone. A process that was sent SIGKILL dies when next scheduled, which
    on a busy machine can be a moment after the signal: allow it that moment (the processes
    in these tests would otherwise live for 30 s)."""
    for _ in range(200):
        if not running(pid):
            return True
        await asyncio.sleep(0.01)
    return False
