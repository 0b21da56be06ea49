"""Delivery over the real stdio server: cancel-then-resubmit, approvals the server stops waiting
on, a host that stops reading, and sessions shared by processes on one store."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from parley.doors.jsonrpc.framing import Framing, encode
from tests.conftest import ScriptWriter, scripted_env
from tests.rawclient import RawServer

SLOW = [{"type": "text", "text": "slow", "delayMs": 10_000}]
WRITE = {"type": "tool_call", "name": "write_file", "input": {"path": "a.txt", "content": "hi"}}


def frame(server: RawServer, message: dict[str, Any]) -> bytes:
    return encode(json.dumps(message).encode(), server.framing)


async def started(server: RawServer, session_id: str) -> None:
    """Wait until the session's turn has begun (its first notification)."""
    while True:
        message = await server.read()
        if message.get("method") == "progress" and message["params"]["sessionId"] == session_id:
            return


def submit(msg_id: int | str, session_id: str) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": "turn/submit",
        "params": {"sessionId": session_id, "prompt": "go"},
    }


async def create(server: RawServer, msg_id: int, cwd: Path, **params: Any) -> str:
    answer = await server.request(msg_id, "session/create", {"cwd": str(cwd), **params})
    return str(answer["result"]["sessionId"])


@pytest.mark.parametrize("route", ["cancelRequest", "turn/cancel"])
async def test_cancel_then_submit_at_once_runs_the_new_turn_every_time(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path, route: str
) -> None:
    script = write_script(*([SLOW] * 100))
    server = await RawServer.start(scripted_env(isolated_env, script), Framing.NDJSON)
    try:
        await server.initialize()
        sid = await create(server, 1, workspace)
        await server.send(submit("t0", sid))
        await started(server, sid)
        for i in range(50):
            running, nxt = f"t{i}", f"t{i + 1}"
            cancel = (
                {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": running}}
                if route == "cancelRequest"
                else {
                    "jsonrpc": "2.0",
                    "id": f"c{i}",
                    "method": "turn/cancel",
                    "params": {"sessionId": sid},
                }
            )
            await server.write(frame(server, cancel) + frame(server, submit(nxt, sid)))  # at once
            before: list[dict[str, Any]] = []
            answer = await server.response(running, into=before)
            assert answer["result"]["stopReason"] == "cancelled", answer
            # The answer comes after the cancelled turn's events, before the next turn's.
            assert (
                len({m["params"]["turnId"] for m in before if "turnId" in m.get("params", {})}) <= 1
            )
            await started(server, sid)  # the next one runs instead of getting session_busy
        await server.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": "t50"}})
        last = await server.response("t50")
        assert last["result"]["stopReason"] == "cancelled"
    finally:
        await server.kill()


async def test_an_approval_the_server_stops_waiting_on_is_withdrawn(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script([WRITE], [{"type": "text", "text": "ok"}])
    env = {**scripted_env(isolated_env, script), "PARLEY_APPROVAL_TIMEOUT": "0.5"}
    server = await RawServer.start(env, Framing.HEADERS)
    try:
        await server.initialize(approvals={"options": ["allow_once", "reject_once"]})
        sid = await create(server, 1, workspace)
        seen: list[dict[str, Any]] = []
        await server.send(submit(2, sid))
        answer = await server.response(2, into=seen)

        methods = [m.get("method") for m in seen]
        request = next(m for m in seen if m.get("method") == "approval/request")
        approval_id = request["params"]["approvalId"]
        assert request["id"] == approval_id
        assert request["params"]["options"] == ["allow_once", "reject_once"]
        requested = next(m for m in seen if m.get("method") == "approval/requested")
        assert requested["params"]["approvalId"] == approval_id
        withdrawn = next(m for m in seen if m.get("method") == "$/cancelRequest")
        assert withdrawn["params"] == {"id": approval_id}
        assert methods.index("approval/timeout") < methods.index("$/cancelRequest")
        assert answer["result"]["stopReason"] == "end_turn"
        # A late answer is ignored; the server keeps serving.
        await server.send(
            {"jsonrpc": "2.0", "id": approval_id, "result": {"decision": "allow_once"}}
        )
        listed = await server.request(3, "session/list", {})
        assert listed["result"]["sessions"][0]["sessionId"] == sid
        assert not (workspace / "a.txt").exists()
    finally:
        await server.kill()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_a_host_that_stops_reading_loses_nothing_and_holds_no_memory(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    # 150,000 deltas (~20 MB on the wire), arriving in network-sized bursts: far more than
    # the pipe, the outbox and a subscriber's queue hold.
    burst = {"type": "text", "text": ("x" * 11 + " ") * 100, "delayMs": 0.01}
    script = write_script([burst] * 1500)
    server = await RawServer.start(scripted_env(isolated_env, script), Framing.NDJSON, args=())
    try:
        await server.initialize()
        sid = await create(server, 1, workspace)
        baseline = rss_kib(server.process.pid)
        await server.send(submit(2, sid))
        # Not reading: the turn still runs to its end (the store has every event).
        store = isolated_env["PARLEY_HOME"]
        peak = baseline
        for _ in range(600):
            await asyncio.sleep(0.1)
            peak = max(peak, rss_kib(server.process.pid))
            if _turn_finished(Path(store), sid):
                break
        else:
            raise AssertionError("the turn did not finish while the host was not reading")
        seen: list[dict[str, Any]] = []
        answer = await server.response(2, into=seen)

        seqs = [m["params"]["seq"] for m in seen if "method" in m]
        assert seqs == list(range(1, len(seqs) + 1))
        assert seen[-1]["method"] == "result/final"
        assert answer["result"]["stopReason"] == "end_turn"
        assert peak - baseline < 45_000, f"RSS grew {peak - baseline} KiB while the host slept"
    finally:
        await server.kill()


def _turn_finished(home: Path, session_id: str) -> bool:
    import sqlite3

    [db] = list(home.rglob("parley.db")) or [None]
    if db is None:
        return False
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT status FROM turns WHERE session_id = ?", (session_id,)
        ).fetchone()
    return row is not None and row[0] == "completed"


async def test_a_turn_run_by_another_process_shows_in_session_get(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(isolated_env, write_script([{"type": "text", "text": "hi"}]))
    first = await RawServer.start(env, Framing.HEADERS, args=())
    second = await RawServer.start(env, Framing.HEADERS, args=())
    try:
        await first.initialize()
        await second.initialize()
        sid = await create(first, 1, workspace)
        before = (await first.request(2, "session/get", {"sessionId": sid}))["result"]

        done = await second.request(
            3, "turn/submit", {"sessionId": sid, "prompt": "hello from the other process"}
        )
        after = (await first.request(4, "session/get", {"sessionId": sid}))["result"]

        assert done["result"]["stopReason"] == "end_turn"
        assert (before.get("turnCount", 0), before.get("lastSeq", 0)) == (0, 0)
        assert after["turnCount"] == 1
        assert after["lastSeq"] > 0
        assert [m["role"] for m in after["messages"]] == ["user", "assistant"]
    finally:
        await first.kill()
        await second.kill()


async def test_a_turn_is_answered_once_right_after_its_last_event(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script([{"type": "text", "text": "one two three"}])
    server = await RawServer.start(scripted_env(isolated_env, script), Framing.HEADERS)
    try:
        await server.initialize()
        sid = await create(server, 1, workspace)
        await server.send(submit(2, sid))
        before: list[dict[str, Any]] = []
        answer = await server.response(2, into=before)
        assert answer["result"]["stopReason"] == "end_turn"
        assert before[-1]["method"] == "result/final"  # the answer follows the last event
        await server.send(
            {"jsonrpc": "2.0", "id": 3, "method": "session/get", "params": {"sessionId": sid}}
        )
        assert (await server.read())["id"] == 3  # and was not sent twice
    finally:
        await server.kill()
