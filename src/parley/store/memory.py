"""A store that lives and dies with the process: for tests and `--ephemeral` use."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from parley.engine.messages import Message
from parley.store.base import Store
from parley.store.records import SessionRecord, StoredEvent, StoredMessage, TurnRecord, TurnStatus


class MemoryStore(Store):
    def __init__(self) -> None:
        self._sessions: dict[str, SessionRecord] = {}
        self._messages: dict[str, list[StoredMessage]] = {}
        self._events: dict[str, list[StoredEvent]] = {}
        self._turns: dict[tuple[str, str], TurnRecord] = {}

    def create_session(self, record: SessionRecord) -> None:
        if record.session_id in self._sessions:
            raise KeyError(record.session_id)
        self._sessions[record.session_id] = copy.deepcopy(record)
        self._messages[record.session_id] = []
        self._events[record.session_id] = []

    def load_session(self, session_id: str) -> SessionRecord | None:
        record = self._sessions.get(session_id)
        return copy.deepcopy(record) if record else None

    def save_session(self, record: SessionRecord) -> None:
        self._sessions[record.session_id] = copy.deepcopy(record)

    def list_sessions(
        self, *, limit: int, cursor: str | None, tags: Sequence[str], cwd: str | None
    ) -> tuple[list[SessionRecord], str | None]:
        rows = sorted(
            (
                r
                for r in self._sessions.values()
                if set(tags) <= set(r.tags) and (cwd is None or r.cwd == cwd)
            ),
            key=lambda r: (r.created_at, r.session_id),
            reverse=True,
        )
        start = int(cursor) if cursor and cursor.isdigit() else 0
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        return [copy.deepcopy(r) for r in page], str(start + limit) if more else None

    def delete_session(self, session_id: str) -> bool:
        self._messages.pop(session_id, None)
        self._events.pop(session_id, None)
        for key in [k for k in self._turns if k[0] == session_id]:
            del self._turns[key]
        return self._sessions.pop(session_id, None) is not None

    def append_message(self, session_id: str, turn_id: str | None, message: Message) -> None:
        self._messages[session_id].append(StoredMessage(turn_id, message))

    def load_messages(self, session_id: str) -> list[StoredMessage]:
        return list(self._messages.get(session_id, ()))

    def replace_messages(self, session_id: str, messages: Sequence[StoredMessage]) -> None:
        self._messages[session_id] = list(messages)

    def append_event(
        self, session_id: str, seq: int, turn_id: str, method: str, params: dict[str, Any]
    ) -> None:
        self._events[session_id].append(StoredEvent(seq, turn_id, method, params))

    def events_after(self, session_id: str, after_seq: int) -> Iterable[StoredEvent]:
        return [e for e in self._events.get(session_id, ()) if e.seq > after_seq]

    def begin_turn(self, session_id: str, turn_id: str, number: int) -> None:
        self._turns[(session_id, turn_id)] = TurnRecord(session_id, turn_id, number, "running")

    def finish_turn(
        self, session_id: str, turn_id: str, status: TurnStatus, result: dict[str, Any] | None
    ) -> None:
        turn = self._turns[(session_id, turn_id)]
        self._turns[(session_id, turn_id)] = TurnRecord(
            session_id, turn_id, turn.number, status, result
        )

    def load_turn(self, session_id: str, turn_id: str) -> TurnRecord | None:
        return self._turns.get((session_id, turn_id))
