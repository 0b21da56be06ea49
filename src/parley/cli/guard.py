"""Keeping Parley's own credentials out of reach of the commands its tools run.

Commands get an environment without Parley's credentials (core/redact.command_env). Two more
doors lead to them, and both are closed here, on Linux, for `parley serve` and `parley run`:

- `/proc/<parley pid>/environ` shows the environment Parley was started with. Its copy of each
  credential is overwritten with NUL bytes (Python keeps its own copy in `os.environ`).
- `/proc/<parley pid>/mem` (and `environ`, `ptrace`) are open to any process of the same user.
  Parley marks itself not dumpable (`prctl(PR_SET_DUMPABLE, 0)`), which closes them to processes
  without CAP_SYS_PTRACE. Root keeps that capability: against a command run as root, which can
  read any process's memory, nothing here is a promise (docs/security.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys

from parley.core.redact import carries_own_secret

log = logging.getLogger(__name__)
_PR_SET_DUMPABLE = 4
# Fields of /proc/self/stat after the command name: env_start and env_end are fields 50 and 51.
_ENV_START = 50 - 3


def guard_process() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            log.debug("prctl(PR_SET_DUMPABLE) failed: errno %d", ctypes.get_errno())
        scrub_environ_block()
    except (OSError, ValueError, AttributeError, IndexError) as exc:
        log.debug("cannot guard the process environment: %s", exc)


def scrub_environ_block() -> list[str]:
    """Overwrite, in the memory /proc/self/environ shows, the value of every variable that
    carries one of Parley's credentials. Returns the names of the variables scrubbed."""
    with open("/proc/self/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    start, end = int(fields[_ENV_START]), int(fields[_ENV_START + 1])
    if not 0 < start < end:
        return []
    block = ctypes.string_at(start, end - start)
    scrubbed = []
    offset = 0
    for entry in block.split(b"\0"):
        name, sep, value = entry.partition(b"=")
        if sep and value:
            text_name, text_value = os.fsdecode(name), os.fsdecode(value)
            if carries_own_secret(text_name, text_value):
                with contextlib.suppress(OSError):
                    ctypes.memset(start + offset + len(name) + 1, 0, len(value))
                    scrubbed.append(text_name)
        offset += len(entry) + 1
    return scrubbed
