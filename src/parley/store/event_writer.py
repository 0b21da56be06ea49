"""Storing batches of events on a thread of their own, so the event loop never waits on SQLite.

Events are most of what the store writes (every delta of every turn). Their inserts and
commits, checkpoints of the write-ahead log included, are the biggest cost of a streaming turn;
here they run on a thread with a connection of its own. SQLite does that work with Python's
lock released, so it uses a second core. A batch is one statement (the rows travel as one JSON
array), so the thread needs Python's lock a few times per batch rather than once per row: a
busy event loop does not stall it (SQLite's JSON functions, built in since 3.38 and in most
builds long before, are required). While a batch is being stored the next ones queue up and are
then committed together, so the cost per event falls as the load rises. Each batch's `done`
is called on the event loop, in order, as soon as the loop asks (`report`) or the callback the
thread schedules gets its turn, whichever comes first.

The thread and the store's own connection take turns writing through `lock`: SQLite allows
one writer at a time, and its busy handler would sleep in steps of milliseconds instead. A
second thread checkpoints the log (see _checkpoints).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from parley.store.records import StoredEvent

log = logging.getLogger(__name__)

Batch = Sequence[tuple[str, StoredEvent]]
Row = tuple[int, int, str, str, str]  # session key, seq, turn id, method, params
Chunk = str | Row  # many rows as one JSON array, or one row
SessionKey = Callable[[str], int | None]

INSERT_ROW = "INSERT INTO events (session_key, seq, turn_id, method, params) VALUES (?, ?, ?, ?, ?)"
INSERT_ROWS = (
    "INSERT INTO events (session_key, seq, turn_id, method, params)"
    " SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),"
    " json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]')"
    " FROM json_each(?)"
)
# The params (as JSON text) past which a row is stored on its own.
LARGE_PARAMS = 2048
CHECKPOINT_EVERY_S = 0.5
# How long a batch is retried while the database stays locked by another process or failing.
GIVE_UP_AFTER_S = 30.0


class EventWriter:
    def __init__(self, path: Path, lock: threading.Lock, busy_timeout_s: float) -> None:
        self._lock = lock
        self._conn = sqlite3.connect(
            path, isolation_level=None, timeout=busy_timeout_s, check_same_thread=False
        )
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute("PRAGMA wal_autocheckpoint = 0")  # see _checkpoints
        self._queue: list[tuple[list[Chunk], Callable[[], object], asyncio.AbstractEventLoop]] = []
        self._ready = threading.Condition()
        self._closing = False
        self.idle = True  # waiting for a batch (read by the event loop without the lock)
        # The `done` of batches stored, for the loop to call (report), in order.
        self._written_batches: deque[Callable[[], object]] = deque()
        self._reporting = False
        self._thread = threading.Thread(target=self._run, name="parley-events", daemon=True)
        self._thread.start()
        self._written = threading.Event()  # since the last checkpoint
        self._catch_up = False
        self._stopping = threading.Event()
        self._checkpointer = sqlite3.connect(
            path, isolation_level=None, timeout=busy_timeout_s, check_same_thread=False
        )
        self._checkpointing = threading.Thread(
            target=self._checkpoints, name="parley-checkpoints", daemon=True
        )
        self._checkpointing.start()

    def submit(self, batch: Batch, key: SessionKey, done: Callable[[], object]) -> None:
        """Store `batch`; `done` is then called on the caller's event loop. `key` gives a
        session's key (None: the session is gone, its events with it)."""
        # Encoded here: memory the event thread allocated would stay in its own malloc arena.
        chunks = encode(batch, key)
        loop = asyncio.get_running_loop()
        with self._ready:
            self.idle = False
            self._queue.append((chunks, done, loop))
            self._ready.notify()

    def report(self) -> None:
        """On the event loop: call the `done` of every batch stored so far. Scheduled by the
        thread after each write, and called sooner by whoever is on the loop (see
        SqliteStore.report_written): a busy loop's turn takes a millisecond or more."""
        if self._reporting:  # called again from a `done`: the outer call goes on, in order
            return
        self._reporting = True
        written = self._written_batches
        try:
            while written:
                done = written.popleft()
                try:
                    done()
                except Exception:  # as the loop would: log it, and go on with the others
                    log.exception("a callback for stored events failed")
        finally:
            self._reporting = False

    def close(self) -> None:
        """Store what was submitted, then stop."""
        with self._ready:
            self._closing = True
            self._ready.notify()
        self._thread.join()
        self._stopping.set()
        self._written.set()
        self._checkpointing.join()
        self._checkpointer.close()
        self._conn.close()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closing:
                    self.idle = True
                    self._ready.wait()
                taken, self._queue = self._queue, []
            if not taken:
                return  # closing, and nothing left
            self._store([rows for chunks, _, _ in taken for rows in chunks])
            self._written_batches.extend(done for _, done, _ in taken)
            for loop in {loop for _, _, loop in taken}:
                with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                    loop.call_soon_threadsafe(self.report)
            self._written.set()
            if self._catch_up:
                self._catch_up = False
                self._checkpoint(self._conn)

    def _store(self, batches: list[Chunk]) -> None:
        deadline = time.monotonic() + GIVE_UP_AFTER_S
        while True:
            try:
                self._insert(batches)
                return
            except sqlite3.IntegrityError:
                self._insert_one_by_one(batches)
                return
            except sqlite3.Error as exc:
                if time.monotonic() > deadline:
                    log.error("could not store events: %s", exc)
                    return
                log.warning("storing events failed (%s); trying again", exc)
                time.sleep(0.1)

    def _insert(self, batches: list[Chunk]) -> None:
        conn = self._conn
        with self._lock:
            if all(isinstance(chunk, str) for chunk in batches):
                # One statement is its own transaction: the thread gives up and takes back
                # Python's lock once, and waits for a busy event loop to hand it over once.
                conn.execute(INSERT_ROWS, (_join(batches),))
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                for chunk in batches:
                    if isinstance(chunk, str):
                        conn.execute(INSERT_ROWS, (chunk,))
                    else:
                        conn.execute(INSERT_ROW, chunk)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _insert_one_by_one(self, batches: list[Chunk]) -> None:
        """A row the database refuses (its session was deleted meanwhile, or another process
        stored that seq) must not cost the others theirs."""
        conn = self._conn
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            for chunk in batches:
                for row in orjson.loads(chunk) if isinstance(chunk, str) else [chunk]:
                    try:
                        conn.execute(INSERT_ROW, row)
                    except sqlite3.IntegrityError as exc:
                        log.warning("event %s of session #%s not stored: %s", row[1], row[0], exc)
            conn.execute("COMMIT")

    def _checkpoints(self) -> None:
        """Copy the log back into the database every CHECKPOINT_EVERY_S while events are
        written. The copy and its two fsyncs (of everything logged since the last one) took
        50-70 ms at 50,000 events/s; here, on a connection of its own, the event thread goes on
        writing meanwhile, then copies only what it wrote during that time (_run), so that the
        log starts again from its beginning instead of growing while writes never stop."""
        while not self._stopping.is_set():
            self._written.wait()
            if self._stopping.wait(CHECKPOINT_EVERY_S):
                return
            self._written.clear()
            self._checkpoint(self._checkpointer)
            self._catch_up = True

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        try:  # PASSIVE: never waits for, nor blocks, a writer
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            log.debug("checkpoint skipped: %s", exc)


def encode(batch: Batch, key: SessionKey) -> list[Chunk]:
    """The batch as statements' parameters, in order: each run of small rows as one JSON array
    (for INSERT_ROWS; as a str, since SQLite's JSON functions refuse, or from 3.45 misread, a
    blob), each large row on its own (for INSERT_ROW): SQLite would parse a large text inside
    an array several times over, in memory the allocator then keeps."""
    chunks: list[Chunk] = []
    small: list[Row] = []
    for session_id, event in batch:
        if (session_key := key(session_id)) is None:
            continue
        row = (session_key, event.seq, event.turn_id, event.method, event.json)
        if len(row[4]) > LARGE_PARAMS:
            if small:
                chunks.append(_dumps(small))
                small = []
            chunks.append(row)
        else:
            small.append(row)
    if small:
        chunks.append(_dumps(small))
    return chunks


def _join(arrays: list[Chunk]) -> str:
    """JSON arrays (as text) as one."""
    if len(arrays) == 1:
        return str(arrays[0])
    return "[" + ",".join(str(a)[1:-1] for a in arrays) + "]"


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
