"""Callbacks waiting for a session to reach a seq: the hub's (events durable), a pump's
(events delivered). One that raises is logged and costs the others nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, KeysView

log = logging.getLogger(__name__)

Callback = Callable[[], object]


class Waiters:
    def __init__(self, what: str) -> None:
        self._what = what  # what they wait for, for the log
        self._by_session: dict[str, list[tuple[int, Callback]]] = {}

    def add(self, session_id: str, seq: int, callback: Callback) -> None:
        self._by_session.setdefault(session_id, []).append((seq, callback))

    def sessions(self) -> KeysView[str]:
        return self._by_session.keys()

    def due_at(self, session_id: str, seq: int) -> bool:
        """Whether something waits for the session to reach `seq` or less."""
        return any(wanted <= seq for wanted, _ in self._by_session.get(session_id, ()))

    def reached(self, session_id: str, seq: int) -> None:
        """The session reached `seq`: call what waited for it, in the order it was added."""
        waiting = self._by_session.get(session_id)
        if not waiting:
            return
        due = [callback for wanted, callback in waiting if wanted <= seq]
        if not due:
            return
        later = [(wanted, callback) for wanted, callback in waiting if wanted > seq]
        if later:
            self._by_session[session_id] = later
        else:
            del self._by_session[session_id]
        call_each(due, self._what)

    def release_all(self) -> None:
        """Call everything still waiting (nothing more will come)."""
        waiting, self._by_session = self._by_session, {}
        call_each((c for callbacks in waiting.values() for _, c in callbacks), self._what)


def call_each(callbacks: Iterable[Callback], what: str) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one waiter's failure must not keep the others waiting
            log.exception("a callback waiting for %s failed", what)
