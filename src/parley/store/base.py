"""The storage interface the engine depends on; implementations live beside it."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from typing import Any

from parley.engine.messages import Message
from parley.store.records import SessionRecord, StoredEvent, StoredMessage, TurnRecord, TurnStatus


class Store(abc.ABC):
    """Sessions, their messages, their turns and every notification sent for them.

    Writes become durable at the next `commit()`; front doors commit before they send what was
    written, so nothing a host has seen can be lost.
    """

    @abc.abstractmethod
    def create_session(self, record: SessionRecord) -> None:
        """Raise KeyError if the id is taken."""

    @abc.abstractmethod
    def load_session(self, session_id: str) -> SessionRecord | None: ...

    @abc.abstractmethod
    def save_session(self, record: SessionRecord) -> None: ...

    @abc.abstractmethod
    def list_sessions(
        self, *, limit: int, cursor: str | None, tags: Sequence[str], cwd: str | None
    ) -> tuple[list[SessionRecord], str | None]:
        """Newest first; the cursor is opaque to callers."""

    @abc.abstractmethod
    def delete_session(self, session_id: str) -> bool: ...

    @abc.abstractmethod
    def append_message(self, session_id: str, turn_id: str | None, message: Message) -> None: ...

    @abc.abstractmethod
    def load_messages(self, session_id: str) -> list[StoredMessage]: ...

    @abc.abstractmethod
    def replace_messages(self, session_id: str, messages: Sequence[StoredMessage]) -> None:
        """Make `messages` the session's whole history (compaction rewrites it)."""

    @abc.abstractmethod
    def append_event(
        self, session_id: str, seq: int, turn_id: str, method: str, params: dict[str, Any]
    ) -> None: ...

    @abc.abstractmethod
    def events_after(self, session_id: str, after_seq: int) -> Iterable[StoredEvent]: ...

    @abc.abstractmethod
    def begin_turn(self, session_id: str, turn_id: str, number: int) -> None: ...

    @abc.abstractmethod
    def finish_turn(
        self, session_id: str, turn_id: str, status: TurnStatus, result: dict[str, Any] | None
    ) -> None: ...

    @abc.abstractmethod
    def load_turn(self, session_id: str, turn_id: str) -> TurnRecord | None: ...

    def commit(self) -> None:
        """Make everything written so far durable."""

    def close(self) -> None:
        """Release the store."""
