"""Several processes on one store, and processes killed with SIGKILL in the middle of writing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.core.errors import ErrorCode, ParleyError
from parley.store.interrupted import SERVER_STOPPED
from parley.store.sqlite import SqliteStore
from tests.store.store_fixtures import record

CHILD = Path(__file__).with_name("store_child.py")


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def _spawn(procs: list[subprocess.Popen[str]], *args: str | Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    procs.append(proc)
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait()


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "parley.db"
    store = SqliteStore(path)
    store.create_session(record("s1"))
    store.create_session(record("s2"))
    store.commit()
    store.close()
    return path


def test_a_turn_running_in_another_live_process_keeps_the_session_busy(
    db: Path, children: list[subprocess.Popen[str]]
) -> None:
    child = _spawn(children, "lease", db, "s1", "t1")
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    store = SqliteStore(db)
    with pytest.raises(ParleyError) as err:
        store.begin_turn("s1", "t2")
    assert err.value.code == ErrorCode.SESSION_BUSY
    assert err.value.data == {"runningTurnId": "t1"}
    with pytest.raises(ParleyError):
        store.delete_session("s1")
    assert store.recover_interrupted() == []
    # Other sessions are free.
    assert store.begin_turn("s2", "t1").turn_count == 1
    store.close()


def test_a_turn_whose_process_was_killed_is_closed_with_what_it_had_sent(
    db: Path, children: list[subprocess.Popen[str]]
) -> None:
    child = _spawn(children, "lease", db, "s1", "t1")
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    _kill(child)
    store = SqliteStore(db)
    (turn,) = store.recover_interrupted()
    assert (turn.session_id, turn.turn_id, turn.number, turn.status) == (
        "s1",
        "t1",
        1,
        "interrupted",
    )
    assert turn.result == {
        "sessionId": "s1",
        "turnId": "t1",
        "reply": "Hello, wor",
        "stopReason": "error",
        "usage": {"inputTokens": 7, "outputTokens": 3},
        "error": {"code": "internal", "message": SERVER_STOPPED, "recoverable": True},
    }
    events = list(store.events_after("s1", 0))
    assert [(e.seq, e.method) for e in events] == [
        (1, "progress"),
        (2, "result/delta"),
        (3, "usage"),
        (4, "result/delta"),
        (5, "error"),
    ]
    assert events[-1].params == {"code": "internal", "message": SERVER_STOPPED, "recoverable": True}
    session = store.load_session("s1")
    assert session is not None
    assert (session.totals.input_tokens, session.totals.output_tokens) == (7, 3)
    assert [m.message.text for m in store.load_messages("s1")] == ["say hello"]
    # Recovering twice changes nothing; the session goes on with a new turn.
    assert store.recover_interrupted() == []
    stored = store.begin_turn("s1", "t2")
    assert (stored.turn_count, stored.last_seq) == (2, 5)
    store.close()
    assert _integrity(db) == "ok"


def test_a_dead_processs_lease_is_taken_over_by_the_next_turn(
    db: Path, children: list[subprocess.Popen[str]]
) -> None:
    child = _spawn(children, "lease", db, "s1", "t1")
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    _kill(child)
    store = SqliteStore(db)
    stored = store.begin_turn("s1", "t2")
    assert (stored.turn_count, stored.last_seq) == (2, 5)
    old = store.load_turn("s1", "t1")
    assert old is not None
    assert old.status == "interrupted"
    store.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_killed_owner_its_parent_has_not_reaped_counts_as_dead(
    db: Path, children: list[subprocess.Popen[str]]
) -> None:
    child = _spawn(children, "lease", db, "s1", "t1")
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    child.kill()
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, and still a zombie
    store = SqliteStore(db)
    assert [t.turn_id for t in store.recover_interrupted()] == ["t1"]
    store.close()


@pytest.mark.parametrize("pending", [0, 25])
def test_sigkill_keeps_every_committed_row_and_nothing_half_written(
    db: Path, children: list[subprocess.Popen[str]], pending: int
) -> None:
    child = _spawn(children, "write", db, "s1", 40, pending)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    _kill(child)
    assert _integrity(db) == "ok"
    store = SqliteStore(db)
    events = list(store.events_after("s1", 0))
    assert [e.seq for e in events] == list(range(1, 41))
    assert [e.params["text"] for e in events] == [f"{n} " for n in range(1, 41)]
    messages = [m.message.text for m in store.load_messages("s1")]
    assert messages == [f"message {n}" for n in range(1, 41)]
    store.close()


def test_two_processes_racing_for_one_session_never_both_run_a_turn(
    db: Path, tmp_path: Path, children: list[subprocess.Popen[str]]
) -> None:
    go = tmp_path / "go"
    racers = [_spawn(children, "race", db, "s1", f"t{n}", go) for n in range(3)]
    go.touch()
    answers = sorted(r.stdout.readline().strip() for r in racers if r.stdout)
    assert answers == ["session_busy", "session_busy", "won"]
    conn = sqlite3.connect(db)
    running = conn.execute("SELECT COUNT(*) FROM turns WHERE status = 'running'").fetchone()
    conn.close()
    assert running == (1,)


def test_two_processes_writing_at_once_lose_nothing(
    db: Path, children: list[subprocess.Popen[str]]
) -> None:
    writers = [_spawn(children, "append", db, session, 300) for session in ("s1", "s2")]
    for writer in writers:
        assert writer.wait() == 0
    assert _integrity(db) == "ok"
    store = SqliteStore(db)
    for session in ("s1", "s2"):
        assert [e.seq for e in store.events_after(session, 0)] == list(range(1, 301))
    store.close()
