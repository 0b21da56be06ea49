"""parley.client against the real `parley serve`: what a Python host relies on."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from parley.client import Notification, ParleyClient, ParleyClientError, ParleyRpcError
from parley.protocol import types as wire
from tests.conftest import ScriptWriter, scripted_env

REPLY = [[{"type": "thinking", "text": "Think first."}, {"type": "text", "text": "Hello there."}]]


async def test_initialize_reports_versions_and_negotiated_events(
    spawn, write_script: ScriptWriter
) -> None:
    agent = await spawn(write_script(*REPLY), events=["result/final", "not/a-real-event"])
    assert agent.server is not None
    assert (agent.server.protocol_version, agent.server.schema_version) == (1, "1.2.0")
    assert agent.server.capabilities.events == ["result/final"]
    assert agent.server.capabilities.approvals is None


async def test_version_mismatch_is_a_clear_error(isolated_env: dict[str, str]) -> None:
    with pytest.raises(ParleyRpcError) as mismatch:
        await ParleyClient.spawn(
            command=(sys.executable, "-m", "parley"),
            args=("--ephemeral",),
            env=isolated_env,
            protocol_version=2,
        )
    assert mismatch.value.code == "protocol_version_mismatch"
    assert mismatch.value.data["supported"] == [1]


async def test_only_negotiated_events_are_delivered(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    agent = await spawn(write_script(*REPLY), events=["result/final", "error"])
    session = await agent.create_session(cwd=str(workspace))
    seen: list[Notification] = []
    await agent.submit_turn(session.session_id, "hi", on_event=seen.append)
    assert [n.method for n in seen] == ["result/final"]
    # Numbering counts every event stored, sent or not, so replay stays gap-free per session.
    assert seen[0].seq > 1


async def test_events_iterator_yields_typed_events_in_order(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    agent = await spawn(write_script(*REPLY))
    session = await agent.create_session(cwd=str(workspace))
    collected: list[Notification] = []

    async def collect() -> None:
        async for note in agent.events(session.session_id):
            collected.append(note)
            if note.method == "result/final":
                return

    collector = asyncio.create_task(collect())
    await asyncio.sleep(0)
    result = await agent.submit_turn(session.session_id, "hi")
    await asyncio.wait_for(collector, 5)

    assert [n.seq for n in collected] == list(range(1, len(collected) + 1))
    final = collected[-1].event()
    assert isinstance(final, wire.ResultFinal)
    assert final.text == result.reply == "Hello there."
    thinking = [n.event() for n in collected if n.method == "thinking/final"]
    assert thinking == [wire.ThinkingFinal("Think first.")]


async def test_resume_with_after_seq_replays_what_was_missed(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    agent = await spawn(write_script(*REPLY))
    session = await agent.create_session(cwd=str(workspace))
    live: list[Notification] = []
    await agent.submit_turn(session.session_id, "hi", on_event=live.append)
    replayed: list[Notification] = []
    stop = agent.on_notification(replayed.append)

    info = await agent.resume_session(session.session_id, after_seq=3)
    stop()

    assert [(n.method, n.seq, n.params) for n in replayed] == [
        (n.method, n.seq, n.params) for n in live if n.seq > 3
    ]
    assert info.last_seq == live[-1].seq


async def test_errors_carry_the_wire_code(spawn, write_script: ScriptWriter) -> None:
    agent = await spawn(write_script(*REPLY))
    with pytest.raises(ParleyRpcError) as missing:
        await agent.get_session("no-such-session")
    assert missing.value.code == "session_not_found"
    with pytest.raises(ParleyRpcError) as bad:
        await agent.create_session(cwd="relative/path")
    assert bad.value.code == "invalid_params"


async def test_cancel_answers_the_turn_with_cancelled(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    agent = await spawn(write_script([{"type": "text", "text": "slow", "delayMs": 10_000}]))
    session = await agent.create_session(cwd=str(workspace))
    turn = asyncio.create_task(agent.submit_turn(session.session_id, "go"))
    await asyncio.sleep(0.3)
    await agent.cancel(session.session_id)
    assert (await asyncio.wait_for(turn, 5)).stop_reason == "cancelled"


async def test_shutdown_ends_the_process_and_leaves_nothing_behind(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(
        isolated_env, write_script([{"type": "text", "text": "x", "delayMs": 10_000}])
    )
    agent = await ParleyClient.spawn(
        command=(sys.executable, "-m", "parley"), args=("--ephemeral",), env=env
    )
    session = await agent.create_session(cwd=str(workspace))
    turn = asyncio.create_task(agent.submit_turn(session.session_id, "go"))
    await asyncio.sleep(0.3)

    code = await agent.shutdown()

    assert code == 0
    assert (await turn).stop_reason == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.kill(agent.process.pid, 0)
    with pytest.raises(ParleyClientError):
        await agent.list_sessions()


STUBBORN_SERVER = """
import json, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
out = sys.stdout.buffer
def reply(msg_id, result):
    body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "result": result}).encode()
    out.write(b"Content-Length: %d\\r\\n\\r\\n" % len(body) + body); out.flush()
header = sys.stdin.buffer.readline(); sys.stdin.buffer.readline()
request = json.loads(sys.stdin.buffer.read(int(header.split(b":")[1])))
reply(request["id"], {"protocolVersion": 1, "schemaVersion": "1.2.0",
                      "serverInfo": {"name": "stubborn", "version": "0"}, "capabilities": {}})
time.sleep(60)  # ignores agent/shutdown, end of input and SIGTERM
"""


async def test_shutdown_kills_a_server_that_ignores_it(tmp_path: Path) -> None:
    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN_SERVER)
    agent = await ParleyClient.spawn(command=(sys.executable, str(script)))

    await agent.shutdown(timeout_s=0.5)

    with pytest.raises(ProcessLookupError):
        os.kill(agent.process.pid, 0)


async def test_an_approval_the_server_withdraws_cancels_the_hosts_handler(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    asked, withdrawn = asyncio.Event(), asyncio.Event()

    async def never_answers(request: wire.ApprovalRequestParams) -> str:
        asked.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            withdrawn.set()
            raise
        return "allow_once"

    write = {"type": "tool_call", "name": "write_file", "input": {"path": "x.txt", "content": "x"}}
    agent = await spawn(
        write_script([write], [{"type": "text", "text": "ok"}]),
        approval_handler=never_answers,
        env={"PARLEY_APPROVAL_TIMEOUT": "0.3"},
    )
    session = await agent.create_session(cwd=str(workspace))

    result = await agent.submit_turn(session.session_id, "write")

    assert asked.is_set()
    await asyncio.wait_for(withdrawn.wait(), 5)
    assert result.stop_reason == "end_turn"
    assert not (workspace / "x.txt").exists()
