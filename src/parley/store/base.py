"""The storage interface the engine depends on; implementations live beside it."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from parley.core.messages import Message
from parley.store.records import SessionRecord, StoredEvent, StoredMessage, TurnRecord, TurnStatus


class Store(abc.ABC):
    """Sessions, their messages, their turns and every notification sent for them.

    Writes become durable at the next `commit()`, events once `write_events` says so; the event
    hub hands events to subscribers only then, so nothing a host has seen can be lost.
    `begin_turn` and `recover_interrupted` commit by themselves: they are how processes sharing
    a store agree on who runs a turn.
    """

    @abc.abstractmethod
    def create_session(self, record: SessionRecord) -> None:
        """Raise KeyError if the id is taken."""

    @abc.abstractmethod
    def load_session(self, session_id: str) -> SessionRecord | None:
        """`last_seq` and `turn_count` come from the stored events and turns, whoever wrote them."""

    @abc.abstractmethod
    def save_session(self, record: SessionRecord) -> None:
        """Update a stored session (not `created_at`, `last_seq`, `turn_count`); no-op if gone."""

    @abc.abstractmethod
    def list_sessions(
        self, *, limit: int, cursor: str | None, tags: Sequence[str], cwd: str | None
    ) -> tuple[list[SessionRecord], str | None]:
        """Newest first; the cursor is opaque to callers. A bad cursor is invalid_params."""

    @abc.abstractmethod
    def count_sessions(self) -> int: ...

    @abc.abstractmethod
    def delete_session(self, session_id: str) -> bool: ...

    @abc.abstractmethod
    def fork_session(self, source_id: str, new_id: str, at_turn: int | None) -> SessionRecord:
        """A new session with the source's messages and turns up to and including `at_turn`.

        None means every finished turn. The fork has no events (its seq starts at 0), zero
        totals, and `forked_from` set; the rest of the record is copied. Raises ParleyError:
        session_not_found, session_exists, or invalid_params for a turn that does not exist or
        is still running.
        """

    @abc.abstractmethod
    def append_message(self, session_id: str, turn_id: str | None, message: Message) -> None: ...

    @abc.abstractmethod
    def load_messages(
        self, session_id: str, *, offset: int = 0, limit: int | None = None
    ) -> list[StoredMessage]:
        """The session's messages in order, from position `offset`, at most `limit`."""

    def read_messages(self, session_id: str) -> list[StoredMessage]:
        """The session's whole history as committed, read on a worker thread (a long one takes
        hundreds of milliseconds to build): a store whose connection belongs to the event
        loop's thread reads with one of its own."""
        return self.load_messages(session_id)

    async def read_history(self, session_id: str) -> list[StoredMessage]:
        """read_messages on a worker thread, what this process wrote committed first so that
        the reading connection sees it."""
        self.commit()
        return await asyncio.to_thread(self.read_messages, session_id)

    @abc.abstractmethod
    def replace_messages(self, session_id: str, messages: Sequence[StoredMessage]) -> None:
        """Make `messages` the session's whole history (compaction rewrites it)."""

    @abc.abstractmethod
    def append_event(
        self, session_id: str, seq: int, turn_id: str, method: str, params: dict[str, Any]
    ) -> None: ...

    def write_events(
        self, batch: Sequence[tuple[str, StoredEvent]], done: Callable[[], object]
    ) -> None:
        """Store a batch of (session id, event) and make it durable, then call `done` on the
        running event loop. Here, at once; a store whose writes are slow or remote does them
        elsewhere so that the loop never waits for them, and calls `done` from there."""
        for session_id, event in batch:
            self.append_event(session_id, event.seq, event.turn_id, event.method, event.params)
        self.commit()
        done()

    def report_written(self) -> None:
        """Call now, on the event loop, the `done` of event batches written since last asked
        (a store that writes elsewhere also schedules them; this makes them sooner)."""

    def takes_events_now(self) -> bool:
        """Whether events given to `write_events` now would be written at once, by a writer
        of their own that is idle; the hub then gives them now rather than a batch later."""
        return False

    @abc.abstractmethod
    def events_after(
        self,
        session_id: str,
        after_seq: int,
        *,
        limit: int | None = None,
        up_to: int | None = None,
    ) -> Iterable[StoredEvent]:
        """Stored events with `after_seq` < seq <= `up_to`, in seq order, at most `limit`."""

    @abc.abstractmethod
    def begin_turn(self, session_id: str, turn_id: str) -> SessionRecord:
        """Take the session's turn lease: record the turn as running, numbered after the last.

        Commits. Returns the session as stored now; a last_seq other than the caller's copy
        means another process ran turns on it since, so the caller reloads its history.
        A turn left running by a process that died is closed first (see recover_interrupted).
        Raises ParleyError: session_not_found; session_busy while a live process runs a turn on
        the session; invalid_params if the session already has a turn with this id.
        """

    @abc.abstractmethod
    def finish_turn(
        self, session_id: str, turn_id: str, status: TurnStatus, result: dict[str, Any] | None
    ) -> None: ...

    @abc.abstractmethod
    def load_turn(self, session_id: str, turn_id: str) -> TurnRecord | None: ...

    @abc.abstractmethod
    def recover_interrupted(self) -> list[TurnRecord]:
        """Close every turn left running by a process that has died; commits.

        Each becomes `interrupted` with a stored result (stopReason "error", code "internal",
        the reply and usage it had sent) and an `error` notification with the next seq.
        """

    def commit(self) -> None:
        """Make everything written so far durable."""

    def close(self) -> None:
        """Release the store."""
