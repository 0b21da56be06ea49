"""Taking the process's stdio for the protocol.

Protocol bytes use private copies of fds 0 and 1; the real fds are pointed at /dev/null and
stderr, so a stray print() or a child process can neither corrupt the stream nor steal input.
"""

from __future__ import annotations

import os
import sys


def claim_stdio() -> tuple[int, int]:
    """Take fds 0/1 for the protocol; leave /dev/null on 0 and stderr on 1 for everyone else."""
    sys.stdout.flush()
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return proto_in, proto_out
