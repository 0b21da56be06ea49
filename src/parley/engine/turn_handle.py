"""A started turn, as a door holds it: its ids, its outcome to await, and cancel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any

from parley.engine.waiters import call_each
from parley.protocol import types as wire


class TurnHandle:
    def __init__(self, session_id: str, turn_id: str) -> None:
        self.session_id = session_id
        self.turn_id = turn_id
        self.outcome: asyncio.Future[wire.TurnResult] = asyncio.get_running_loop().create_future()
        self.task: asyncio.Task[wire.TurnResult] | None = None
        self.cancelling = False
        # The seq of the turn's last event once it has ended: a door that has delivered it has
        # delivered the whole turn. 0 for a turn answered from the store.
        self.final_seq = 0
        self.result: wire.TurnResult | None = None  # once the turn has ended
        self._ended: list[Callable[[], object]] = []
        # Tools that needed a person's approval when nobody could be asked (`parley run` exit 3).
        self.unasked: list[str] = []

    @classmethod
    def finished(cls, session_id: str, result: wire.TurnResult) -> TurnHandle:
        handle = cls(session_id, result.turn_id)
        handle.end(result, 0)
        handle.outcome.set_result(result)
        return handle

    def when_ended(self, callback: Callable[[], object]) -> None:
        """Call `callback` as soon as the turn's task is over and `result` and `final_seq` are
        known (at once if they are): before its last events are durable, so a door can act
        right after it delivers them, before any later event of the session."""
        if self.result is not None:
            callback()
        else:
            self._ended.append(callback)

    def end(self, result: wire.TurnResult, final_seq: int) -> None:
        self.result = result
        self.final_seq = final_seq
        callbacks, self._ended = self._ended, []
        call_each(callbacks, f"the end of turn {self.turn_id}")

    def cancel(self) -> bool:
        """Ask the turn to stop; it still ends with its one `error` event and a result."""
        if self.outcome.done() or self.task is None:
            return False
        self.cancelling = True
        self.task.cancel()
        return True

    def done(self) -> bool:
        return self.outcome.done()

    def __await__(self) -> Generator[Any, None, wire.TurnResult]:
        # Shielded: a door that stops waiting (its request was cancelled) must not cancel the
        # turn by accident; cancelling is explicit.
        return asyncio.shield(self.outcome).__await__()
