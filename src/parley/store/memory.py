"""A store that lives and dies with the process: for tests and `--ephemeral` use."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import attrs

from parley.core.messages import Message
from parley.core.usage import Usage
from parley.store.base import Store
from parley.store.errors import session_busy, session_exists, session_not_found, turn_exists
from parley.store.fork import fork_point, rehome
from parley.store.paging import decode_cursor, encode_cursor
from parley.store.records import (
    SessionRecord,
    StoredEvent,
    StoredMessage,
    TurnRecord,
    TurnStatus,
    utc_now,
)


class MemoryStore(Store):
    def __init__(self) -> None:
        self._sessions: dict[str, SessionRecord] = {}
        self._messages: dict[str, list[StoredMessage]] = {}
        self._events: dict[str, list[StoredEvent]] = {}
        self._turns: dict[str, dict[str, TurnRecord]] = {}

    def create_session(self, record: SessionRecord) -> None:
        if record.session_id in self._sessions:
            raise KeyError(record.session_id)
        self._sessions[record.session_id] = copy.deepcopy(record)
        self._messages[record.session_id] = []
        self._events[record.session_id] = []
        self._turns[record.session_id] = {}

    def load_session(self, session_id: str) -> SessionRecord | None:
        record = self._sessions.get(session_id)
        if record is None:
            return None
        events = self._events[session_id]
        return attrs.evolve(
            copy.deepcopy(record),
            last_seq=events[-1].seq if events else 0,
            turn_count=len(self._turns[session_id]),
        )

    def save_session(self, record: SessionRecord) -> None:
        stored = self._sessions.get(record.session_id)
        if stored is not None:
            self._sessions[record.session_id] = attrs.evolve(
                copy.deepcopy(record), created_at=stored.created_at
            )

    def list_sessions(
        self, *, limit: int, cursor: str | None, tags: Sequence[str], cwd: str | None
    ) -> tuple[list[SessionRecord], str | None]:
        after = decode_cursor(cursor) if cursor else None
        rows = sorted(
            (
                r
                for r in self._sessions.values()
                if set(tags) <= set(r.tags)
                and (cwd is None or r.cwd == cwd)
                and (after is None or (r.created_at, r.session_id) < after)
            ),
            key=lambda r: (r.created_at, r.session_id),
            reverse=True,
        )
        page = [self._load(r.session_id) for r in rows[:limit]]
        more = len(rows) > limit
        return page, encode_cursor(page[-1].created_at, page[-1].session_id) if more else None

    def count_sessions(self) -> int:
        return len(self._sessions)

    def _load(self, session_id: str) -> SessionRecord:
        record = self.load_session(session_id)
        if record is None:
            raise session_not_found(session_id)
        return record

    def delete_session(self, session_id: str) -> bool:
        for turn in self._turns.get(session_id, {}).values():
            if turn.status == "running":
                raise session_busy(session_id, turn.turn_id)
        self._messages.pop(session_id, None)
        self._events.pop(session_id, None)
        self._turns.pop(session_id, None)
        return self._sessions.pop(session_id, None) is not None

    def fork_session(self, source_id: str, new_id: str, at_turn: int | None) -> SessionRecord:
        source = self._load(source_id)
        turns = sorted(self._turns[source_id].values(), key=lambda t: t.number)
        last = fork_point(source_id, turns, at_turn)
        if new_id in self._sessions:
            raise session_exists(new_id)
        numbers = {t.turn_id: t.number for t in turns}
        kept: list[StoredMessage] = []
        for m in self._messages[source_id]:
            if m.turn_id is not None and numbers.get(m.turn_id, 0) > last:
                break
            kept.append(m)
        now = utc_now()
        self.create_session(
            attrs.evolve(
                source,
                session_id=new_id,
                created_at=now,
                updated_at=now,
                totals=Usage(),
                forked_from=source_id,
                agent_fork=source.agent_fork or source.agent_session is not None,
            )
        )
        self._messages[new_id] = kept
        self._turns[new_id] = {
            t.turn_id: TurnRecord(new_id, t.turn_id, t.number, t.status, rehome(t.result, new_id))
            for t in turns
            if t.number <= last
        }
        return self._load(new_id)

    def append_message(self, session_id: str, turn_id: str | None, message: Message) -> None:
        self._messages[session_id].append(StoredMessage(turn_id, message))

    def load_messages(
        self, session_id: str, *, offset: int = 0, limit: int | None = None
    ) -> list[StoredMessage]:
        messages = self._messages.get(session_id, [])
        return messages[offset : None if limit is None else offset + limit]

    def replace_messages(self, session_id: str, messages: Sequence[StoredMessage]) -> None:
        self._messages[session_id] = list(messages)

    def append_event(
        self, session_id: str, seq: int, turn_id: str, method: str, params: dict[str, Any]
    ) -> None:
        events = self._events[session_id]
        if events and events[-1].seq >= seq:
            raise ValueError(f"seq {seq} of session {session_id!r} is already stored")
        events.append(StoredEvent(seq, turn_id, method, copy.deepcopy(params)))

    def events_after(
        self,
        session_id: str,
        after_seq: int,
        *,
        limit: int | None = None,
        up_to: int | None = None,
    ) -> list[StoredEvent]:
        top = up_to if up_to is not None else float("inf")
        found = [e for e in self._events.get(session_id, ()) if after_seq < e.seq <= top]
        return found if limit is None else found[:limit]

    def begin_turn(self, session_id: str, turn_id: str) -> SessionRecord:
        turns = self._turns.get(session_id)
        if turns is None:
            raise session_not_found(session_id)
        for turn in turns.values():
            if turn.status == "running":
                raise session_busy(session_id, turn.turn_id)
        if turn_id in turns:
            raise turn_exists(session_id, turn_id)
        turns[turn_id] = TurnRecord(session_id, turn_id, len(turns) + 1, "running")
        return self._load(session_id)

    def finish_turn(
        self, session_id: str, turn_id: str, status: TurnStatus, result: dict[str, Any] | None
    ) -> None:
        turns = self._turns[session_id]
        turns[turn_id] = attrs.evolve(turns[turn_id], status=status, result=result)

    def load_turn(self, session_id: str, turn_id: str) -> TurnRecord | None:
        return self._turns.get(session_id, {}).get(turn_id)

    def recover_interrupted(self) -> list[TurnRecord]:
        return []  # every turn in it belongs to this live process
