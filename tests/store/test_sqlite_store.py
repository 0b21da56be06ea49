"""What only the SQLite store does: its file, schema versions, durability and query plans."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import time
from pathlib import Path

import orjson
import pytest

from parley.core.errors import ErrorCode
from parley.core.messages import user_text
from parley.store import event_writer
from parley.store.errors import StoreError
from parley.store.migrations import SCHEMA_VERSION
from parley.store.records import StoredEvent
from parley.store.sqlite import SqliteStore, open_store
from tests.store.store_fixtures import record

# The events with their sessions' ids (the table has the sessions' keys).
EVENTS = "(SELECT k.session_id, e.* FROM events e JOIN session_keys k ON k.key = e.session_key)"


def _peek(path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Read with a connection of its own: it sees only what was committed."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_an_empty_file_is_migrated_to_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    SqliteStore(path).close()
    assert _peek(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert _peek(path, "PRAGMA journal_mode") == [("wal",)]
    tables = {r[0] for r in _peek(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sessions", "session_tags", "messages", "turns", "events"} <= tables


def test_reopening_keeps_everything_and_migrates_nothing_again(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    first = SqliteStore(path)
    first.create_session(record("s1", tags=["x"]))
    first.append_message("s1", None, user_text("hello"))
    first.append_event("s1", 1, "t1", "progress", {"kind": "turn_started"})
    first.close()
    again = SqliteStore(path)
    loaded = again.load_session("s1")
    assert loaded is not None
    assert (loaded.tags, loaded.last_seq) == (["x"], 1)
    assert [m.message.text for m in again.load_messages("s1")] == ["hello"]
    again.close()


def test_a_store_from_a_newer_parley_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this Parley understands") as err:
        SqliteStore(path)
    assert err.value.code == ErrorCode.INTERNAL
    assert str(path) in err.value.message


def test_a_file_that_is_not_a_database_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the session store") as err:
        SqliteStore(path)
    assert str(path) in err.value.message


def test_writes_are_invisible_to_other_processes_until_commit(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    store = SqliteStore(path)
    store.create_session(record("s1"))
    store.append_event("s1", 1, "t1", "progress", {})
    assert _peek(path, "SELECT COUNT(*) FROM events") == [(0,)]
    store.commit()
    assert _peek(path, "SELECT COUNT(*) FROM events") == [(1,)]
    store.close()


async def test_under_an_event_loop_writes_are_committed_on_the_next_tick(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    store = SqliteStore(path)
    store.create_session(record("s1"))
    store.append_event("s1", 1, "t1", "progress", {})
    await asyncio.sleep(0)
    assert _peek(path, "SELECT COUNT(*) FROM events") == [(1,)]
    store.close()


def test_open_store_creates_a_private_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "deep" / "parley-home"
    store = open_store(data)
    store.close()
    assert (data / "parley.db").is_file()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("tags", "cwd", "cursor"),
    [
        ([], None, False),
        ([], None, True),
        ([], "/w", True),
        (["a"], None, True),
        (["a", "b"], "/w", True),
    ],
)
def test_listing_walks_an_index_in_list_order_without_sorting(
    tmp_path: Path, tags: list[str], cwd: str | None, cursor: bool
) -> None:
    """A page costs the same over 10 or 10,000 sessions only if SQLite never sorts them all."""
    store = SqliteStore(tmp_path / "parley.db")
    for i in range(3):
        store.create_session(record(f"s{i}", created_at=f"2025-01-0{i + 1}T00:00:00.000Z"))
    _, next_cursor = store.list_sessions(limit=1, cursor=None, tags=[], cwd=None)
    trace: list[str] = []
    store._conn.set_trace_callback(trace.append)
    store.list_sessions(limit=50, cursor=next_cursor if cursor else None, tags=tags, cwd=cwd)
    store._conn.set_trace_callback(None)
    (sql,) = [s for s in trace if s.lstrip().upper().startswith("SELECT")]
    plan = " | ".join(r[3] for r in store._conn.execute("EXPLAIN QUERY PLAN " + sql))
    assert "TEMP B-TREE" not in plan, plan
    assert "INDEX" in plan, plan
    store.close()


def test_a_version_1_store_gains_the_agent_columns_and_keeps_its_sessions(
    tmp_path: Path,
) -> None:
    from parley.store.migrations import MIGRATIONS, _statements

    path = tmp_path / "parley.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in _statements(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    old = SqliteStore(path)  # migrates from 1
    assert _peek(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    old.create_session(record("plain"))
    agent = record("on-claude")
    agent.agent, agent.agent_session = "claude-code", "6b1d-agent-session"
    old.create_session(agent)
    old.close()
    store = SqliteStore(path)
    plain, loaded = store.load_session("plain"), store.load_session("on-claude")
    assert plain is not None
    assert (plain.agent, plain.agent_session, plain.agent_fork) == (None, None, False)
    assert loaded is not None
    assert (loaded.agent, loaded.agent_session) == ("claude-code", "6b1d-agent-session")
    fork = store.fork_session("on-claude", "forked", None)
    assert (fork.agent, fork.agent_session, fork.agent_fork) == (
        "claude-code",
        "6b1d-agent-session",
        True,
    )
    store.close()


def test_a_version_3_store_keeps_its_events_in_the_arrival_ordered_table(tmp_path: Path) -> None:
    from parley.store.migrations import MIGRATIONS, _statements

    path = tmp_path / "parley.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:3]:
        for statement in _statements(migration):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.execute(
        "INSERT INTO sessions (session_id, cwd, profile, provider, model, permission_mode,"
        " created_at, updated_at, tags, additional_directories, remembered)"
        " VALUES ('s1', '/w', 'default', 'scripted', 'm', 'ask', 't', 't', '[]', '[]', '{}')"
    )
    for seq in (1, 2, 3):
        conn.execute(
            "INSERT INTO events VALUES ('s1', ?, 't1', 'result/delta', ?)",
            (seq, f'{{"text": "{seq}"}}'),
        )
    conn.close()
    store = SqliteStore(path)
    assert [(e.seq, e.params) for e in store.events_after("s1", 1)] == [
        (2, {"text": "2"}),
        (3, {"text": "3"}),
    ]
    with pytest.raises(ValueError, match="already stored"):
        store.append_event("s1", 3, "t1", "result/delta", {})  # (session, seq) stays unique
    store.close()


def _store_with(tmp_path: Path, *sessions: str) -> tuple[Path, SqliteStore]:
    path = tmp_path / "parley.db"
    store = SqliteStore(path)
    for session_id in sessions:
        store.create_session(record(session_id))
    store.commit()
    return path, store


async def _write(store: SqliteStore, batch: list[tuple[str, StoredEvent]]) -> None:
    stored = asyncio.get_running_loop().create_future()
    store.write_events(batch, lambda: stored.set_result(None))
    await asyncio.wait_for(stored, 10)


async def test_events_written_in_batches_are_durable_when_the_store_says_so(
    tmp_path: Path,
) -> None:
    path, store = _store_with(tmp_path, "s1")
    big = {"text": 'é\u2028"' * 5000, "n": 1.5}  # stored on its own, byte for byte
    batch = [
        ("s1", StoredEvent(seq, "t1", "result/delta", {"text": f"w{seq}"})) for seq in range(1, 600)
    ]
    batch.append(("s1", StoredEvent(600, "t1", "result/final", big)))
    await _write(store, batch)
    rows = _peek(path, f"SELECT seq, params FROM {EVENTS} WHERE session_id = 's1' ORDER BY seq")
    assert [r[0] for r in rows] == list(range(1, 601))
    assert rows[0][1] == '{"text":"w1"}'
    assert rows[-1][1] == orjson.dumps(big).decode()
    loaded = store.load_session("s1")
    assert loaded is not None
    assert loaded.last_seq == 600
    store.close()


async def test_an_event_the_database_refuses_costs_the_others_nothing(tmp_path: Path) -> None:
    _, store = _store_with(tmp_path, "kept", "gone")
    await _write(store, [("kept", StoredEvent(1, "t1", "progress", {}))])
    store.delete_session("gone")
    store.commit()
    await _write(
        store,
        [
            ("kept", StoredEvent(1, "t1", "progress", {})),  # already stored
            ("gone", StoredEvent(1, "t1", "progress", {})),  # its session was deleted
            ("kept", StoredEvent(2, "t1", "progress", {"x": 1})),
        ],
    )
    assert [(e.seq, e.params) for e in store.events_after("kept", 0)] == [(1, {}), (2, {"x": 1})]
    assert list(store.events_after("gone", 0)) == []
    store.close()


async def test_a_session_deleted_and_created_again_elsewhere_gets_its_own_events(
    tmp_path: Path,
) -> None:
    """Events are written under a session's key, which this process caches: another process
    deleting the session and creating one with the same id gives it a new key, and neither
    session ever gets the other's events."""
    path, here = _store_with(tmp_path, "s1")
    await _write(here, [("s1", StoredEvent(1, "t1", "progress", {"old": 1}))])
    elsewhere = SqliteStore(path)
    assert elsewhere.delete_session("s1")
    elsewhere.create_session(record("s1"))
    elsewhere.commit()
    # Still cached here: the old key names no session any more, so the row is refused.
    await _write(here, [("s1", StoredEvent(1, "t1", "progress", {"stale": 1}))])
    assert list(here.events_after("s1", 0)) == []
    here.begin_turn("s1", "t2")  # a turn looks the key up again
    await _write(here, [("s1", StoredEvent(1, "t2", "progress", {"new": 1}))])
    assert [e.params for e in elsewhere.events_after("s1", 0)] == [{"new": 1}]
    assert _peek(path, f"SELECT session_id, seq FROM {EVENTS}") == [("s1", 1)]
    elsewhere.close()
    here.close()


async def test_written_batches_are_reported_in_order_whenever_the_loop_asks(
    tmp_path: Path,
) -> None:
    """The loop need not finish its turn to learn what is durable (report_written, called as
    turns publish); a `done` that asks again does not run a later batch's before its own end."""
    path, store = _store_with(tmp_path, "s1")
    reported: list[int] = []

    def first() -> None:
        store.report_written()  # from inside a report: must not overtake this one
        reported.append(1)

    store.write_events([("s1", StoredEvent(1, "t1", "progress", {}))], first)
    store.write_events([("s1", StoredEvent(2, "t1", "progress", {}))], lambda: reported.append(2))
    deadline = time.monotonic() + 10
    while not reported and time.monotonic() < deadline:  # blocking: the loop never turns
        time.sleep(0.01)  # noqa: ASYNC251  # on purpose: no turn of the loop
        if _peek(path, "SELECT COUNT(*) FROM events") == [(2,)]:
            time.sleep(0.05)  # noqa: ASYNC251  # both written; the thread reports next
            store.report_written()
    assert reported == [1, 2]
    await asyncio.sleep(0.05)  # what the thread scheduled finds nothing left to report
    assert reported == [1, 2]
    store.close()


async def test_events_wait_for_the_store_s_own_open_transaction_not_a_busy_timeout(
    tmp_path: Path,
) -> None:
    path, store = _store_with(tmp_path, "s1")
    await _write(store, [("s1", StoredEvent(1, "t1", "progress", {}))])  # the thread is up
    store._begin()  # a write transaction of this connection, held across the awaits below
    stored = asyncio.get_running_loop().create_future()
    store.write_events(
        [("s1", StoredEvent(2, "t1", "progress", {}))], lambda: stored.set_result(None)
    )
    await asyncio.sleep(0.2)
    assert not stored.done()  # SQLite has one writer: it waits for this connection's commit
    store._end()
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(stored, 5)
    assert asyncio.get_running_loop().time() - started < 0.5  # woken, not polling in steps
    assert _peek(path, "SELECT MAX(seq) FROM events") == [(2,)]
    store.close()


async def test_batches_that_queue_up_are_stored_together_in_the_order_they_came(
    tmp_path: Path,
) -> None:
    path, store = _store_with(tmp_path, "a", "b")
    await _write(store, [("a", StoredEvent(1, "t1", "progress", {}))])  # the thread is up
    store._begin()  # hold the writer back so that the batches below queue up behind it
    loop = asyncio.get_running_loop()
    done: list[asyncio.Future[None]] = []
    large = {"text": "x" * 5000}  # a row stored on its own, between arrays of small ones
    batches = [
        [("a", StoredEvent(2, "t1", "result/delta", {"text": "2"}))],
        [("b", StoredEvent(1, "t2", "result/delta", {"text": "1"}))],
        [("a", StoredEvent(3, "t1", "result/delta", large))],
        [("b", StoredEvent(2, "t2", "result/delta", {"text": "2"}))],
        [("a", StoredEvent(4, "t1", "result/delta", {"text": "4"}))],
    ]
    for batch in batches:
        done.append(loop.create_future())
        store.write_events(batch, lambda f=done[-1]: f.set_result(None))
    await asyncio.sleep(0.1)
    store._end()
    await asyncio.wait_for(asyncio.gather(*done), 5)
    order = _peek(path, f"SELECT session_id, seq FROM {EVENTS} ORDER BY id")
    assert order == [("a", 1), ("a", 2), ("b", 1), ("a", 3), ("b", 2), ("a", 4)]
    assert [e.params for e in store.events_after("a", 2)] == [large, {"text": "4"}]
    # Without a large row, the queued arrays become one statement: still in order.
    store._begin()
    done.clear()
    for seq in range(3, 8):
        done.append(loop.create_future())
        batch = [("b", StoredEvent(seq, "t2", "result/delta", {"text": str(seq)}))]
        store.write_events(batch, lambda f=done[-1]: f.set_result(None))
    await asyncio.sleep(0.1)
    store._end()
    await asyncio.wait_for(asyncio.gather(*done), 5)
    assert [e.seq for e in store.events_after("b", 0)] == list(range(1, 8))
    store.close()


@pytest.mark.parametrize("every_s", [0.05, 1000.0])
async def test_the_log_starts_again_while_events_never_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, every_s: float
) -> None:
    """Checkpoints run beside the writes; the event thread then copies what it wrote
    meanwhile, so the log is restarted instead of growing for as long as writes go on."""
    monkeypatch.setattr(event_writer, "CHECKPOINT_EVERY_S", every_s)
    sessions = [f"s{i}" for i in range(100)]
    path, store = _store_with(tmp_path, *sessions)
    loop = asyncio.get_running_loop()
    seq = 0
    until = loop.time() + 0.6
    while loop.time() < until:  # a commit every few ms, each touching 100 sessions' pages
        seq += 1
        await _write(store, [(s, StoredEvent(seq, "t", "result/delta", {})) for s in sessions])
    frames = _peek(path, "PRAGMA wal_checkpoint(PASSIVE)")[0][1]
    store.close()
    assert isinstance(frames, int)
    if every_s < 1:
        assert frames < seq * 20  # about what the last few commits wrote
    else:
        assert frames >= seq * 20  # without checkpoints: every commit's pages


async def test_closing_the_store_stores_what_was_submitted_first(tmp_path: Path) -> None:
    path, store = _store_with(tmp_path, "s1")
    for seq in range(1, 51):
        store.write_events([("s1", StoredEvent(seq, "t1", "progress", {}))], lambda: None)
    store.close()
    assert _peek(path, "SELECT COUNT(*) FROM events") == [(50,)]
