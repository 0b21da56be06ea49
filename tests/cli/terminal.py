"""Driving `parley` in a real pseudo-terminal (pexpect), reading what the screen shows."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pexpect

# Escape sequences (colour, cursor movement, terminal modes) and carriage returns: what is
# left is the text a person reads.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[()][0-9A-Za-z]"  # character sets
    r"|\x1b[=>78]"
    r"|\r"
)


def terminal_env(env: dict[str, str]) -> dict[str, str]:
    # No cursor-position requests: nobody answers them here, and prompt_toolkit would wait.
    return {**env, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}


class Terminal:
    """`parley ARGS` in a pseudo-terminal of 120 x 50."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "parley", *args],
            env=terminal_env(env),
            cwd=str(cwd),
            encoding="utf-8",
            dimensions=(50, 120),
            timeout=30,
        )
        self.raw = ""  # everything written to the terminal
        self.shown = ""  # the same, as text
        self._mark = 0

    def _read(self, wait: float) -> bool:
        """Read what is there; False once the program has closed the terminal."""
        try:
            chunk = self.child.read_nonblocking(65536, timeout=wait)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        self.raw += chunk
        self.shown = _CONTROL.sub("", self.raw)
        return True

    def expect(self, text: str, timeout: float = 30) -> str:
        """Wait until `text` is shown after what earlier calls matched; returns what was shown
        up to and including it."""
        deadline = time.monotonic() + timeout
        while (found := self.shown.find(text, self._mark)) < 0:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.2)):
                raise AssertionError(
                    f"{text!r} was not shown; the terminal shows:\n{self.shown[self._mark :]}"
                )
        start, self._mark = self._mark, found + len(text)
        return self.shown[start : self._mark]

    def send(self, keys: str) -> None:
        self.child.send(keys)

    def line(self, text: str) -> None:
        """Type `text` and press Enter."""
        self.send(text + "\r")

    def exit_status(self, timeout: float = 30) -> int | None:
        deadline = time.monotonic() + timeout
        while self._read(0.2):
            if time.monotonic() > deadline:
                raise AssertionError(f"still running; the terminal shows:\n{self.shown[-2000:]}")
        self.child.close()
        status: int | None = self.child.exitstatus
        return status

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
