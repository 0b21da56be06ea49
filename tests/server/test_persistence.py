"""Sessions that outlive `parley serve`: restarts, SIGKILL mid-turn, two servers on one store."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from parley.client import Notification, ParleyClient, ParleyRpcError
from parley.store.interrupted import SERVER_STOPPED
from tests.conftest import ScriptWriter

PERSISTENT = ()  # `parley serve` with no --ephemeral: sessions go to PARLEY_HOME
SLOW = [
    {"type": "text", "text": "The first part of the answer."},
    {"type": "text", "text": " This part is never sent.", "delayMs": 60_000},
]


@pytest.fixture
def db(isolated_env: dict[str, str]) -> Path:
    return Path(isolated_env["PARLEY_HOME"]) / "parley.db"


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read by a connection of our own (committed data only)."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {
            "sessions": conn.execute(
                "SELECT session_id, title, tags, forked_from FROM sessions ORDER BY created_at"
            ).fetchall(),
            "messages": conn.execute(
                "SELECT session_id, turn_id, body FROM messages ORDER BY id"
            ).fetchall(),
            "turns": conn.execute(
                "SELECT session_id, turn_id, number, status, owner, result FROM turns"
                " ORDER BY session_id, number"
            ).fetchall(),
            "events": conn.execute(
                "SELECT session_id, seq, turn_id, method, params FROM events"
                " JOIN session_keys ON key = session_key"
                " ORDER BY session_id, seq"
            ).fetchall(),
        }
    finally:
        conn.close()


def _wire(n: Notification) -> tuple[int, str, str, dict[str, Any]]:
    """A notification as the store keeps it: seq, turn, method, params without the header."""
    params = {k: v for k, v in n.params.items() if k not in ("sessionId", "turnId", "seq")}
    return n.seq, n.turn_id, n.method, params


async def _until(seen: list[Notification], done: Callable[[list[Notification]], bool]) -> None:
    for _ in range(1000):
        if done(seen):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not seen in time: {[n.method for n in seen]}")


async def test_a_restarted_server_resumes_a_session_and_replays_what_the_host_missed(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    first = await spawn(write_script([{"type": "text", "text": "Hello there."}]), args=PERSISTENT)
    session = await first.create_session(cwd=str(workspace), title="greeting", tags=["demo"])
    sent: list[Notification] = []
    await first.submit_turn(session.session_id, "hi", on_event=sent.append)
    assert await first.shutdown() == 0

    second = await spawn(write_script([{"type": "text", "text": "Again."}]), args=PERSISTENT)
    listed = await second.list_sessions(tags=["demo"])
    assert [s.session_id for s in listed.sessions] == [session.session_id]
    replayed: list[Notification] = []
    second.on_notification(replayed.append)
    info = await second.resume_session(session.session_id, after_seq=2)

    assert [_wire(n) for n in replayed] == [_wire(n) for n in sent if n.seq > 2]
    assert (info.title, info.turn_count, info.last_seq) == ("greeting", 1, len(sent))
    later: list[Notification] = []
    result = await second.submit_turn(session.session_id, "again", on_event=later.append)
    assert result.reply == "Again."
    assert [n.seq for n in later] == list(range(len(sent) + 1, len(sent) + 1 + len(later)))
    detail = await second.get_session(session.session_id)
    assert [m.role for m in detail.messages] == ["user", "assistant", "user", "assistant"]


async def test_sigkill_mid_turn_loses_nothing_sent_and_the_session_goes_on(
    spawn, write_script: ScriptWriter, workspace: Path, db: Path
) -> None:
    agent: ParleyClient = await spawn(write_script(SLOW), args=PERSISTENT)
    session = await agent.create_session(cwd=str(workspace))
    sid = session.session_id
    sent: list[Notification] = []
    turn = asyncio.create_task(
        agent.submit_turn(sid, "answer slowly", turn_id="t-1", on_event=sent.append)
    )
    await _until(
        sent,
        lambda s: (
            "".join(n.params.get("text", "") for n in s if n.method == "result/delta")
            == SLOW[0]["text"]
        ),
    )
    agent.process.kill()
    await agent.process.wait()
    with contextlib.suppress(Exception):
        await turn

    # Every row: what the host was sent is stored, and the turn is still marked running.
    rows = _rows(db)
    assert [r[0] for r in rows["sessions"]] == [sid]
    assert [(s, seq, t, m, json.loads(p)) for s, seq, t, m, p in rows["events"]] == [
        (sid, *_wire(n)) for n in sent
    ]
    assert [(s, t, json.loads(b)) for s, t, b in rows["messages"]] == [
        (sid, "t-1", {"role": "user", "content": [{"type": "text", "text": "answer slowly"}]})
    ]
    ((_, turn_id, number, status, owner, result),) = rows["turns"]
    assert (turn_id, number, status, result) == ("t-1", 1, "running", None)
    assert owner.startswith(f"{agent.process.pid}:")

    # Next start: the turn is closed, a host catching up sees it end, and the session goes on.
    again = await spawn(write_script([{"type": "text", "text": "Back again."}]), args=PERSISTENT)
    replayed: list[Notification] = []
    again.on_notification(replayed.append)
    info = await again.resume_session(sid, after_seq=sent[-1].seq)
    assert [_wire(n) for n in replayed] == [
        (
            sent[-1].seq + 1,
            "t-1",
            "error",
            {"code": "internal", "message": SERVER_STOPPED, "recoverable": True},
        )
    ]
    assert (info.turn_count, info.last_seq, info.running_turn_id) == (1, sent[-1].seq + 1, None)
    stored = await again.submit_turn(sid, "answer slowly", turn_id="t-1")
    assert (stored.stop_reason, stored.reply) == ("error", SLOW[0]["text"])
    assert stored.error is not None
    assert stored.error.code == "internal"
    after: list[Notification] = []
    new = await again.submit_turn(sid, "and now?", turn_id="t-2", on_event=after.append)
    assert (new.stop_reason, new.reply) == ("end_turn", "Back again.")
    assert after[0].seq == sent[-1].seq + 2
    await again.shutdown()

    rows = _rows(db)
    turns = [(t, n, s, o) for _, t, n, s, o, _ in rows["turns"]]
    assert turns == [("t-1", 1, "interrupted", None), ("t-2", 2, "completed", None)]
    seqs = [seq for _, seq, *_ in rows["events"]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [json.loads(b)["role"] for _, _, b in rows["messages"]] == ["user", "user", "assistant"]


async def test_two_servers_on_one_data_dir_never_run_two_turns_on_one_session(
    spawn, write_script: ScriptWriter, workspace: Path, db: Path
) -> None:
    a: ParleyClient = await spawn(write_script(SLOW), args=PERSISTENT)
    b: ParleyClient = await spawn(
        write_script([{"type": "text", "text": "From b."}]), args=PERSISTENT
    )
    shared = await a.create_session(cwd=str(workspace))
    sid = shared.session_id
    sent: list[Notification] = []
    turn = asyncio.create_task(a.submit_turn(sid, "slow one", on_event=sent.append))
    await _until(sent, lambda s: any(n.method == "result/delta" for n in s))

    with pytest.raises(ParleyRpcError) as busy:
        await b.submit_turn(sid, "me too")
    assert busy.value.code == "session_busy"
    with pytest.raises(ParleyRpcError) as busy_delete:
        await b.delete_session(sid)
    assert busy_delete.value.code == "session_busy"
    # b works on its own sessions meanwhile.
    own = await b.create_session(cwd=str(workspace))
    assert (await b.submit_turn(own.session_id, "hi")).reply == "From b."

    await a.cancel(sid)
    assert (await turn).stop_reason == "cancelled"
    later: list[Notification] = []
    result = await b.submit_turn(sid, "now me", on_event=later.append)
    assert result.stop_reason == "end_turn"
    # b numbered its notifications after a's, and its model saw a's turn.
    assert later[0].seq == sent[-1].seq + 1
    detail = await b.get_session(sid)
    assert [m.role for m in detail.messages] == ["user", "assistant", "user", "assistant"]
    assert detail.turn_count == 2
    seqs = [seq for s, seq, *_ in _rows(db)["events"] if s == sid]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_fork_over_the_wire_keeps_history_up_to_the_turn_and_survives_a_restart(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script(
        [{"type": "text", "text": "One."}],
        [{"type": "text", "text": "Two."}],
        [{"type": "text", "text": "Three."}],
    )
    agent = await spawn(script, args=PERSISTENT)
    source = await agent.create_session(cwd=str(workspace), tags=["x"])
    sid = source.session_id
    await agent.submit_turn(sid, "first", turn_id="t-1")
    await agent.submit_turn(sid, "second", turn_id="t-2")

    fork = await agent.fork_session(sid, at_turn=1, new_session_id="my-fork")

    assert (fork.session_id, fork.forked_from, fork.turn_count, fork.last_seq) == (
        "my-fork",
        sid,
        1,
        0,
    )
    assert fork.tags == ["x"]
    await agent.shutdown()
    again = await spawn(write_script([{"type": "text", "text": "Forked on."}]), args=PERSISTENT)
    detail = await again.get_session("my-fork")
    assert [(m.role, m.turn_id) for m in detail.messages] == [("user", "t-1"), ("assistant", "t-1")]
    events: list[Notification] = []
    result = await again.submit_turn("my-fork", "go on", on_event=events.append)
    assert result.reply == "Forked on."
    assert events[0].seq == 1
    assert (await again.get_session("my-fork")).turn_count == 2
    assert (await again.get_session(sid)).turn_count == 2
    with pytest.raises(ParleyRpcError) as bad:
        await again.fork_session(sid, at_turn=9)
    assert bad.value.code == "invalid_params"


async def test_a_finished_turn_id_returns_the_stored_result_after_a_restart(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    agent = await spawn(write_script([{"type": "text", "text": "Only once."}]), args=PERSISTENT)
    session = await agent.create_session(cwd=str(workspace))
    first = await agent.submit_turn(session.session_id, "go", turn_id="t-1")
    await agent.shutdown()

    again = await spawn(write_script([{"type": "text", "text": "Ran twice!"}]), args=PERSISTENT)
    events: list[Notification] = []
    repeat = await again.submit_turn(
        session.session_id, "go", turn_id="t-1", on_event=events.append
    )

    assert repeat == first
    assert events == []
    assert (await again.get_session(session.session_id)).turn_count == 1


async def test_additional_directories_are_reported_everywhere_a_session_is(
    spawn, write_script: ScriptWriter, workspace: Path, tmp_path: Path
) -> None:
    extra = tmp_path / "shared-lib"
    extra.mkdir()
    agent = await spawn(write_script([{"type": "text", "text": "ok"}]), args=PERSISTENT)
    created = await agent.create_session(cwd=str(workspace), additional_directories=[str(extra)])
    plain = await agent.create_session(cwd=str(workspace))
    fork = await agent.fork_session(created.session_id)
    await agent.shutdown()

    again = await spawn(args=PERSISTENT)  # a restart reads them back from the store
    listed = {s.session_id: s for s in (await again.list_sessions()).sessions}
    resumed = await again.resume_session(created.session_id)
    detail = await again.get_session(created.session_id)
    for info in (created, fork, listed[created.session_id], resumed, detail):
        assert info.additional_directories == [str(extra.resolve())]
    assert plain.additional_directories == []
    assert listed[plain.session_id].additional_directories == []
