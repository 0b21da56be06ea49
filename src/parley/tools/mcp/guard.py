"""Runs one stdio MCP server so that it cannot outlive Parley (Linux).

    python -I -S guard.py PARENT_PID COMMAND [ARG...]

Parley stops its servers itself, killing each one's process group. This covers the one case it
cannot: Parley killed outright (SIGKILL, the OOM killer). The guard asks the kernel for SIGTERM
when its parent dies (PR_SET_PDEATHSIG), starts the server as its child in the same process
group with the same stdin, stdout and stderr, and on SIGTERM kills the whole group. It exits
with the server's status. A standalone script on purpose: no Parley import, `-S` start-up.
"""

import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> int:
    parent, argv = int(sys.argv[1]), sys.argv[2:]
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: Parley's own stop still kills the group
        pass
    if os.getppid() != parent:  # the parent died before the kernel could be asked
        return 1

    def stop(signum: int, frame: object) -> None:
        os.killpg(os.getpgid(0), signal.SIGKILL)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        try:
            os.execvp(argv[0], argv)
        except OSError as exc:
            os.write(2, f"cannot start {argv[0]}: {exc.strerror}\n".encode())
        os._exit(127)
    # Only the server holds the pipes now: its exit is the end of the stream for Parley.
    os.close(0)
    os.close(1)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except InterruptedError:
            continue
        return os.waitstatus_to_exitcode(status) & 0xFF


if __name__ == "__main__":
    sys.exit(main())
