"""The persistent store: one SQLite file in WAL mode, shared safely by several processes.

Writes go into one open transaction that `commit()` ends. When an event loop is running, a
commit is also scheduled for the next tick, so the write lock is never held while the process
waits on a model or a tool. Events (most of what is written) are stored by `write_events` on a
thread of their own (event_writer.py); this connection and that thread take turns through one
lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from parley.core.messages import Message, message_from_dict, message_to_dict
from parley.core.usage import Usage
from parley.store import owner
from parley.store.base import Store
from parley.store.errors import (
    StoreError,
    session_busy,
    session_exists,
    session_not_found,
    turn_exists,
)
from parley.store.event_writer import INSERT_ROW, Batch, EventWriter
from parley.store.fork import fork_point, rehome
from parley.store.interrupted import close_interrupted
from parley.store.migrations import migrate
from parley.store.paging import decode_cursor, encode_cursor
from parley.store.records import (
    SessionRecord,
    StoredEvent,
    StoredMessage,
    TurnRecord,
    TurnStatus,
    utc_now,
)

log = logging.getLogger(__name__)


def _encode(value: Any) -> str:
    # orjson: a third of the stdlib's time to decode a long session, a fifth to encode an event.
    return orjson.dumps(value).decode()


_decode = orjson.loads

_SESSION_COLUMNS = """
    s.session_id, s.cwd, s.profile, s.provider, s.model, s.permission_mode, s.created_at,
    s.updated_at, s.title, s.tags, s.additional_directories, s.input_tokens, s.output_tokens,
    s.cache_read_tokens, s.cache_write_tokens, s.cost_usd, s.forked_from, s.remembered,
    s.mcp_servers, s.agent, s.agent_session, s.agent_fork,
    (SELECT COALESCE(MAX(e.seq), 0) FROM session_keys k JOIN events e ON e.session_key = k.key
     WHERE k.session_id = s.session_id),
    (SELECT COALESCE(MAX(number), 0) FROM turns t WHERE t.session_id = s.session_id)
"""
_MAX_SEQ = 2**63 - 1


class SqliteStore(Store):
    def __init__(self, path: Path, *, busy_timeout_s: float = 5.0) -> None:
        self.path = path
        self._busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()  # held by whichever of us has a write transaction open
        self._writer: EventWriter | None = None
        # Sessions' keys in the events table, for the hot path: every event is written by key.
        self._keys: dict[str, int] = {}
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_s)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("SELECT json_extract('[]', '$')")  # events need SQLite's JSON
            migrate(self._conn, str(path))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the session store {path}: {exc}") from None

    # --- transactions ------------------------------------------------------------------------

    def _write(self) -> sqlite3.Connection:
        conn = self._conn
        if not conn.in_transaction:
            self._begin()
            with contextlib.suppress(RuntimeError):  # no loop: the caller commits
                asyncio.get_running_loop().call_soon(self.commit)
        return conn

    def _begin(self) -> None:
        self._lock.acquire()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def _end(self, statement: str = "COMMIT") -> None:
        """End the open write transaction (COMMIT or ROLLBACK) and let the event thread write."""
        try:
            self._conn.execute(statement)
        finally:
            self._lock.release()

    def commit(self) -> None:
        if self._conn.in_transaction:
            self._end()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.commit()
        self._conn.close()

    def _exclusive(self) -> sqlite3.Connection:
        """A transaction of its own, holding the write lock from its first read."""
        self.commit()
        self._begin()
        return self._conn

    # --- sessions ----------------------------------------------------------------------------

    def create_session(self, record: SessionRecord) -> None:
        conn = self._write()
        columns = ", ".join(("session_id", "created_at", *_MUTABLE_COLUMNS))
        marks = ", ".join("?" * (len(_MUTABLE_COLUMNS) + 2))
        try:
            conn.execute(
                f"INSERT INTO sessions ({columns}) VALUES ({marks})",
                (record.session_id, record.created_at, *_mutable_values(record)),
            )
        except sqlite3.IntegrityError:
            raise KeyError(record.session_id) from None
        key = conn.execute(
            "INSERT INTO session_keys (session_id) VALUES (?)", (record.session_id,)
        ).lastrowid
        assert key is not None
        self._keys[record.session_id] = key
        self._write_tags(record.session_id, record.created_at, record.tags)

    def _key(self, session_id: str) -> int | None:
        """The session's key in the events table (None: no such session). Cached: a key is
        never given twice, and begin_turn looks it up again, so a session another process
        deleted and created again under the same id is written under its new key."""
        key = self._keys.get(session_id)
        if key is None:
            row = self._conn.execute(
                "SELECT key FROM session_keys WHERE session_id = ?", (session_id,)
            ).fetchone()
            if row is None:
                return None
            key = self._keys[session_id] = row[0]
        return key

    def _write_tags(self, session_id: str, created_at: str, tags: Sequence[str]) -> None:
        conn = self._conn
        conn.execute("DELETE FROM session_tags WHERE session_id = ?", (session_id,))
        conn.executemany(
            "INSERT OR IGNORE INTO session_tags (tag, created_at, session_id) VALUES (?, ?, ?)",
            [(tag, created_at, session_id) for tag in tags],
        )

    def load_session(self, session_id: str) -> SessionRecord | None:
        row = self._conn.execute(
            f"SELECT {_SESSION_COLUMNS} FROM sessions s WHERE s.session_id = ?", (session_id,)
        ).fetchone()
        return _session(row) if row else None

    def save_session(self, record: SessionRecord) -> None:
        conn = self._write()
        stored = conn.execute(
            "SELECT created_at FROM sessions WHERE session_id = ?", (record.session_id,)
        ).fetchone()
        if stored is None:
            return
        assignments = ", ".join(f"{column} = ?" for column in _MUTABLE_COLUMNS)
        conn.execute(
            f"UPDATE sessions SET {assignments} WHERE session_id = ?",
            (*_mutable_values(record), record.session_id),
        )
        self._write_tags(record.session_id, stored[0], record.tags)

    def list_sessions(
        self, *, limit: int, cursor: str | None, tags: Sequence[str], cwd: str | None
    ) -> tuple[list[SessionRecord], str | None]:
        after = decode_cursor(cursor) if cursor else None
        where: list[str] = []
        args: list[Any] = []
        if tags:
            # Walk the first tag's index in list order; check the other tags per row.
            source = "session_tags g JOIN sessions s ON s.session_id = g.session_id"
            key = "g"
            where.append("g.tag = ?")
            args.append(tags[0])
            for tag in tags[1:]:
                where.append(
                    "EXISTS (SELECT 1 FROM session_tags h"
                    " WHERE h.session_id = s.session_id AND h.tag = ?)"
                )
                args.append(tag)
        else:
            source, key = "sessions s", "s"
        if cwd is not None:
            where.append("s.cwd = ?")
            args.append(cwd)
        if after is not None:
            where.append(f"({key}.created_at, {key}.session_id) < (?, ?)")
            args.extend(after)
        sql = (
            f"SELECT {_SESSION_COLUMNS} FROM {source}"
            f"{' WHERE ' + ' AND '.join(where) if where else ''}"
            f" ORDER BY {key}.created_at DESC, {key}.session_id DESC LIMIT ?"
        )
        rows = self._conn.execute(sql, (*args, limit + 1)).fetchall()
        page = [_session(r) for r in rows[:limit]]
        more = len(rows) > limit
        return page, encode_cursor(page[-1].created_at, page[-1].session_id) if more else None

    def count_sessions(self) -> int:
        count: int = self._conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
        return count

    def delete_session(self, session_id: str) -> bool:
        conn = self._write()
        running = conn.execute(
            "SELECT turn_id, owner FROM turns WHERE session_id = ? AND status = 'running'",
            (session_id,),
        ).fetchone()
        if running is not None and owner.is_alive(running[1] or ""):
            raise session_busy(session_id, running[0])
        self._keys.pop(session_id, None)
        return conn.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,)).rowcount > 0

    def fork_session(self, source_id: str, new_id: str, at_turn: int | None) -> SessionRecord:
        conn = self._write()
        source = self.load_session(source_id)
        if source is None:
            raise session_not_found(source_id)
        turns = [
            _turn(source_id, row)
            for row in conn.execute(
                "SELECT turn_id, number, status, result FROM turns WHERE session_id = ?"
                " ORDER BY number",
                (source_id,),
            )
        ]
        last = fork_point(source_id, turns, at_turn)
        cut = conn.execute(
            "SELECT MIN(m.id) FROM messages m JOIN turns t"
            " ON t.session_id = m.session_id AND t.turn_id = m.turn_id"
            " WHERE m.session_id = ? AND t.number > ?",
            (source_id, last),
        ).fetchone()[0]
        now = utc_now()
        fork = SessionRecord(
            session_id=new_id,
            cwd=source.cwd,
            profile=source.profile,
            provider=source.provider,
            model=source.model,
            permission_mode=source.permission_mode,
            created_at=now,
            updated_at=now,
            title=source.title,
            tags=source.tags,
            additional_directories=source.additional_directories,
            forked_from=source_id,
            remembered=source.remembered,
            mcp_servers=source.mcp_servers,
            agent=source.agent,
            agent_session=source.agent_session,
            agent_fork=source.agent_fork or source.agent_session is not None,
        )
        try:
            self.create_session(fork)
        except KeyError:
            raise session_exists(new_id) from None
        conn.execute(
            "INSERT INTO messages (session_id, turn_id, body)"
            " SELECT ?, turn_id, body FROM messages"
            " WHERE session_id = ? AND (? IS NULL OR id < ?) ORDER BY id",
            (new_id, source_id, cut, cut),
        )
        conn.executemany(
            "INSERT INTO turns (session_id, turn_id, number, status, result)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (new_id, t.turn_id, t.number, t.status, _encode(rehome(t.result, new_id)))
                for t in turns
                if t.number <= last
            ],
        )
        loaded = self.load_session(new_id)
        assert loaded is not None
        return loaded

    # --- messages and events -----------------------------------------------------------------

    def append_message(self, session_id: str, turn_id: str | None, message: Message) -> None:
        self._write().execute(
            "INSERT INTO messages (session_id, turn_id, body) VALUES (?, ?, ?)",
            (session_id, turn_id, _encode(message_to_dict(message))),
        )

    def load_messages(
        self, session_id: str, *, offset: int = 0, limit: int | None = None
    ) -> list[StoredMessage]:
        return _messages(self._conn, session_id, offset, limit)

    def read_messages(self, session_id: str) -> list[StoredMessage]:
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout_s)
        try:
            return _messages(conn, session_id, 0, None)
        finally:
            conn.close()

    def replace_messages(self, session_id: str, messages: Sequence[StoredMessage]) -> None:
        conn = self._write()
        conn.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
        conn.executemany(
            "INSERT INTO messages (session_id, turn_id, body) VALUES (?, ?, ?)",
            [(session_id, m.turn_id, _encode(message_to_dict(m.message))) for m in messages],
        )

    def append_event(
        self, session_id: str, seq: int, turn_id: str, method: str, params: dict[str, Any]
    ) -> None:
        conn = self._conn
        if not conn.in_transaction:
            self._write()
        key = self._key(session_id)
        if key is None:
            raise session_not_found(session_id)
        try:
            conn.execute(INSERT_ROW, (key, seq, turn_id, method, _encode(params)))
        except sqlite3.IntegrityError:
            raise ValueError(f"seq {seq} of session {session_id!r} is already stored") from None

    def write_events(self, batch: Batch, done: Callable[[], object]) -> None:
        if self._writer is None:
            self._writer = EventWriter(self.path, self._lock, self._busy_timeout_s)
            # The event writer checkpoints the log now, beside its writes, off the loop.
            self._conn.execute("PRAGMA wal_autocheckpoint = 0")
        self._writer.submit(batch, self._key, done)

    def report_written(self) -> None:
        if self._writer is not None:
            self._writer.report()

    def takes_events_now(self) -> bool:
        return self._writer is not None and self._writer.idle

    def events_after(
        self,
        session_id: str,
        after_seq: int,
        *,
        limit: int | None = None,
        up_to: int | None = None,
    ) -> list[StoredEvent]:
        # The params stay JSON text until someone needs them as a dict: a replay
        # sent on as it is never decodes them.
        rows = self._conn.execute(
            "SELECT seq, turn_id, method, params FROM events"
            " WHERE session_key = (SELECT key FROM session_keys WHERE session_id = ?)"
            " AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            (session_id, after_seq, _MAX_SEQ if up_to is None else up_to, limit or -1),
        )
        return [StoredEvent(seq, t, method, json=params) for seq, t, method, params in rows]

    # --- turns -------------------------------------------------------------------------------

    def begin_turn(self, session_id: str, turn_id: str) -> SessionRecord:
        conn = self._exclusive()
        try:
            self._keys.pop(session_id, None)
            if self._key(session_id) is None:
                raise session_not_found(session_id)
            running = conn.execute(
                "SELECT turn_id, owner FROM turns WHERE session_id = ? AND status = 'running'",
                (session_id,),
            ).fetchone()
            if running is not None:
                if owner.is_alive(running[1] or ""):
                    raise session_busy(session_id, running[0])
                self._close_interrupted(session_id, running[0])
            if self.load_turn(session_id, turn_id) is not None:
                raise turn_exists(session_id, turn_id)
            conn.execute(
                "INSERT INTO turns (session_id, turn_id, number, status, owner)"
                " SELECT ?, ?, COALESCE(MAX(number), 0) + 1, 'running', ?"
                " FROM turns WHERE session_id = ?",
                (session_id, turn_id, owner.this_process(), session_id),
            )
            record = self.load_session(session_id)
            self._end()
        except BaseException:
            self._end("ROLLBACK")
            raise
        assert record is not None
        return record

    def finish_turn(
        self, session_id: str, turn_id: str, status: TurnStatus, result: dict[str, Any] | None
    ) -> None:
        self._write().execute(
            "UPDATE turns SET status = ?, result = ?, owner = NULL"
            " WHERE session_id = ? AND turn_id = ?",
            (status, None if result is None else _encode(result), session_id, turn_id),
        )

    def load_turn(self, session_id: str, turn_id: str) -> TurnRecord | None:
        row = self._conn.execute(
            "SELECT turn_id, number, status, result FROM turns"
            " WHERE session_id = ? AND turn_id = ?",
            (session_id, turn_id),
        ).fetchone()
        return _turn(session_id, row) if row else None

    def recover_interrupted(self) -> list[TurnRecord]:
        self.commit()
        running = self._conn.execute(
            "SELECT session_id, turn_id, owner FROM turns WHERE status = 'running'"
        ).fetchall()
        dead = [(s, t, o) for s, t, o in running if not owner.is_alive(o or "")]
        if not dead:
            return []
        conn = self._exclusive()
        closed: list[TurnRecord] = []
        try:
            for session_id, turn_id, was_owner in dead:
                still = conn.execute(
                    "SELECT owner FROM turns"
                    " WHERE session_id = ? AND turn_id = ? AND status = 'running'",
                    (session_id, turn_id),
                ).fetchone()
                if still is not None and still[0] == was_owner:  # nobody closed it meanwhile
                    closed.append(self._close_interrupted(session_id, turn_id))
            self._end()
        except BaseException:
            self._end("ROLLBACK")
            raise
        for turn in closed:
            log.info("turn %s of session %s was interrupted", turn.turn_id, turn.session_id)
        return closed

    def _close_interrupted(self, session_id: str, turn_id: str) -> TurnRecord:
        """Inside a write transaction: close a turn whose process died (see interrupted.py)."""
        conn = self._conn
        tail: list[StoredEvent] = []
        last_seq = 0
        # A session runs one turn at a time, so the running turn's events are the newest.
        key = self._key(session_id)
        for seq, tid, method, params in conn.execute(
            "SELECT seq, turn_id, method, params FROM events WHERE session_key = ?"
            " ORDER BY seq DESC",
            (key,),
        ):
            last_seq = max(last_seq, seq)
            if tid != turn_id:
                break
            tail.append(StoredEvent(seq, tid, method, _decode(params)))
        tail.reverse()
        closing = close_interrupted(session_id, turn_id, tail)
        if closing.event is not None:
            method, params = closing.event
            conn.execute(INSERT_ROW, (key, last_seq + 1, turn_id, method, _encode(params)))
        conn.execute(
            "UPDATE turns SET status = ?, result = ?, owner = NULL"
            " WHERE session_id = ? AND turn_id = ?",
            (closing.status, _encode(closing.result), session_id, turn_id),
        )
        usage = closing.result.get("usage", {})
        conn.execute(
            "UPDATE sessions SET input_tokens = input_tokens + ?,"
            " output_tokens = output_tokens + ?, cache_read_tokens = cache_read_tokens + ?,"
            " cache_write_tokens = cache_write_tokens + ?,"
            " cost_usd = CASE WHEN ? IS NULL THEN cost_usd ELSE COALESCE(cost_usd, 0) + ? END,"
            " updated_at = ? WHERE session_id = ?",
            (
                usage.get("inputTokens", 0),
                usage.get("outputTokens", 0),
                usage.get("cacheReadTokens", 0),
                usage.get("cacheWriteTokens", 0),
                usage.get("costUsd"),
                usage.get("costUsd"),
                utc_now(),
                session_id,
            ),
        )
        turn = self.load_turn(session_id, turn_id)
        assert turn is not None
        return turn


def database_path(data_dir: Path) -> Path:
    return data_dir / "parley.db"


def open_store(data_dir: Path) -> SqliteStore:
    """The store in `data_dir` (created, private to the user), with dead processes' turns closed."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = SqliteStore(database_path(data_dir))
    store.recover_interrupted()
    return store


def _messages(
    conn: sqlite3.Connection, session_id: str, offset: int, limit: int | None
) -> list[StoredMessage]:
    rows = conn.execute(
        "SELECT turn_id, body FROM messages WHERE session_id = ? ORDER BY id LIMIT ? OFFSET ?",
        (session_id, -1 if limit is None else limit, offset),
    ).fetchall()
    if not rows:
        return []
    with _no_cycle_collection():
        return [StoredMessage(turn_id, message_from_dict(_decode(body))) for turn_id, body in rows]


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Building a long history makes tens of thousands of objects, none in a cycle: without
    this the cycle collector runs over and over for nothing (a quarter of a resume's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _turn(session_id: str, row: tuple[Any, ...]) -> TurnRecord:
    turn_id, number, status, result = row
    return TurnRecord(session_id, turn_id, number, status, _decode(result) if result else None)


def _session(row: tuple[Any, ...]) -> SessionRecord:
    return SessionRecord(
        session_id=row[0],
        cwd=row[1],
        profile=row[2],
        provider=row[3],
        model=row[4],
        permission_mode=row[5],
        created_at=row[6],
        updated_at=row[7],
        title=row[8],
        tags=_decode(row[9]),
        additional_directories=_decode(row[10]),
        totals=Usage(row[11], row[12], row[13], row[14], row[15]),
        forked_from=row[16],
        remembered=_decode(row[17]),
        mcp_servers=_decode(row[18]),
        agent=row[19],
        agent_session=row[20],
        agent_fork=bool(row[21]),
        last_seq=row[22],
        turn_count=row[23],
    )


# The session columns a record can change after creation, in _mutable_values' order.
_MUTABLE_COLUMNS = (
    "cwd",
    "profile",
    "provider",
    "model",
    "permission_mode",
    "updated_at",
    "title",
    "tags",
    "additional_directories",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "forked_from",
    "remembered",
    "mcp_servers",
    "agent",
    "agent_session",
    "agent_fork",
)


def _mutable_values(record: SessionRecord) -> tuple[object, ...]:
    t = record.totals
    return (
        record.cwd,
        record.profile,
        record.provider,
        record.model,
        record.permission_mode,
        record.updated_at,
        record.title,
        _encode(record.tags),
        _encode(record.additional_directories),
        t.input_tokens,
        t.output_tokens,
        t.cache_read_tokens,
        t.cache_write_tokens,
        t.cost_usd,
        record.forked_from,
        _encode(record.remembered),
        _encode(record.mcp_servers),
        record.agent,
        record.agent_session,
        int(record.agent_fork),
    )
