"""What a display is: a consumer of the notifications a turn sends, as they are on the wire.

`notify(method, params)` gets every event (params carry sessionId, turnId and seq), approval
questions (`approval/requested`) among them; `finish(result)` gets the
turn's result (the wire's TurnResult). A display never asks how events were delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol


class Display(Protocol):
    def notify(self, method: str, params: Mapping[str, Any]) -> None: ...

    def finish(self, result: Mapping[str, Any]) -> None: ...

    def note(self, text: str) -> None:
        """A line from the front door itself (a hint, a warning), where activity goes."""

    def close(self) -> None: ...


class Pipe:
    """Writes to a stream that a reader may close (`parley run | head`): the first failed
    write calls `on_broken` once and later writes are dropped, so no traceback is printed."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.broken = False
        self.on_broken: Callable[[], None] = lambda: None

    def write(self, text: str) -> None:
        if self.broken or not text:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except BrokenPipeError:
            self.broken = True
            self.on_broken()


class Displays:
    """Several displays as one: each gets every call, in order."""

    def __init__(self, *displays: Display) -> None:
        self.displays = displays

    def notify(self, method: str, params: Mapping[str, Any]) -> None:
        for display in self.displays:
            display.notify(method, params)

    def finish(self, result: Mapping[str, Any]) -> None:
        for display in self.displays:
            display.finish(result)

    def note(self, text: str) -> None:
        for display in self.displays:
            display.note(text)

    def close(self) -> None:
        for display in self.displays:
            display.close()
