"""Turns over the real stdio server, in both framings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from parley.client import Notification, ParleyRpcError
from parley.doors.jsonrpc.framing import Framing
from tests.conftest import ScriptWriter

FULL_TURN = [
    [
        {"type": "thinking", "text": "The user wants the readme. I should read it."},
        {"type": "text", "text": "Let me look at the README."},
        {"type": "tool_call", "id": "call_1", "name": "read_file", "input": {"path": "README.md"}},
    ],
    [{"type": "text", "text": "It says héllo ☃ world."}],
]


def methods(events: list[Notification]) -> list[str]:
    return [e.method for e in events]


async def test_full_turn_streams_thinking_text_and_tool_call_in_order(
    spawn, write_script: ScriptWriter, workspace: Path, framing: Framing
) -> None:
    agent = await spawn(write_script(*FULL_TURN), framing=framing)
    session = await agent.create_session(cwd=str(workspace))
    events: list[Notification] = []

    result = await agent.submit_turn(
        session.session_id, "What is in the README?", on_event=events.append
    )

    seen = methods(events)
    assert seen[0] == "progress"
    assert seen.index("thinking/delta") < seen.index("thinking/final") < seen.index("result/delta")
    assert seen.index("result/delta") < seen.index("tool/started") < seen.index("tool/completed")
    assert seen[-1] == "result/final"
    assert seen.count("result/final") == 1
    assert "error" not in seen
    thinking = "".join(e.params["text"] for e in events if e.method == "thinking/delta")
    assert thinking == FULL_TURN[0][0]["text"]
    completed = next(e for e in events if e.method == "tool/completed")
    assert completed.params["toolCallId"] == "call_1"
    assert completed.params["isError"] is False
    assert "hello world" in completed.params["output"]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(e.session_id == session.session_id and e.turn_id == result.turn_id for e in events)
    deltas = "".join(e.params["text"] for e in events if e.method == "result/delta")
    assert deltas == events[-1].params["text"] == result.reply
    assert result.reply == "Let me look at the README.\n\nIt says héllo ☃ world."
    assert result.stop_reason == "end_turn"
    assert result.usage.output_tokens > 0


async def test_two_sessions_run_turns_concurrently_on_one_connection(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    slow = [
        [
            {"type": "text", "text": "one two three four", "delayMs": 50},
            {"type": "text", "text": " five six seven", "delayMs": 150},
            {"type": "text", "text": " eight", "delayMs": 150},
        ]
    ]
    agent = await spawn(write_script(*slow))
    a = await agent.create_session(cwd=str(workspace))
    b = await agent.create_session(cwd=str(workspace))
    arrivals: list[str] = []
    agent.on_notification(lambda n: arrivals.append(n.session_id))

    ra, rb = await asyncio.gather(
        agent.submit_turn(a.session_id, "go"), agent.submit_turn(b.session_id, "go")
    )

    assert ra.reply == rb.reply == "one two three four five six seven eight"
    # Interleaved: b's events arrive before a's last one, not after a has finished.
    last_a = max(i for i, s in enumerate(arrivals) if s == a.session_id)
    first_b = arrivals.index(b.session_id)
    assert first_b < last_a


async def test_second_turn_on_a_busy_session_is_refused(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    agent = await spawn(write_script([{"type": "text", "text": "slow", "delayMs": 800}]))
    session = await agent.create_session(cwd=str(workspace))
    first = asyncio.create_task(agent.submit_turn(session.session_id, "one"))
    await asyncio.sleep(0.3)

    with pytest.raises(ParleyRpcError) as busy:
        await agent.submit_turn(session.session_id, "two")

    assert busy.value.code == "session_busy"
    assert (await first).stop_reason == "end_turn"


async def test_turn_cancel_mid_turn_answers_with_cancelled(
    spawn, write_script: ScriptWriter, workspace: Path, framing: Framing
) -> None:
    script = write_script(
        [
            {"type": "text", "text": "Starting"},
            {"type": "text", "text": " never", "delayMs": 10_000},
        ],
        [{"type": "text", "text": "Fresh turn."}],
    )
    agent = await spawn(script, framing=framing)
    session = await agent.create_session(cwd=str(workspace))
    events: list[Notification] = []
    turn = asyncio.create_task(agent.submit_turn(session.session_id, "go", on_event=events.append))
    while "result/delta" not in methods(events):
        await asyncio.sleep(0.02)

    await agent.cancel(session.session_id)
    result = await asyncio.wait_for(turn, 5)

    assert result.stop_reason == "cancelled"
    assert result.reply == "Starting"
    assert events[-1].method == "error"
    assert events[-1].params["code"] == "cancelled"
    assert "result/final" not in methods(events)
    again = await agent.submit_turn(session.session_id, "again")
    assert again.reply == "Fresh turn."
    history = await agent.get_session(session.session_id)
    assert [m.role for m in history.messages] == ["user", "assistant", "user", "assistant"]


async def test_cancel_request_on_turn_submit_cancels_the_turn(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script([{"type": "text", "text": "wait", "delayMs": 10_000}])
    agent = await spawn(script)
    session = await agent.create_session(cwd=str(workspace))
    pending = asyncio.create_task(
        agent.connection.request(
            "turn/submit", {"sessionId": session.session_id, "prompt": "go"}, msg_id="submit-1"
        )
    )
    await asyncio.sleep(0.3)

    await agent.connection.notify("$/cancelRequest", {"id": "submit-1"})
    result = await asyncio.wait_for(pending, 5)

    assert result["stopReason"] == "cancelled"
    assert result["error"]["code"] == "cancelled"


async def test_turn_with_the_id_of_a_finished_turn_returns_its_result_without_running_again(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    agent = await spawn(write_script([{"type": "text", "text": "only once"}]))
    session = await agent.create_session(cwd=str(workspace))
    first = await agent.submit_turn(session.session_id, "go", turn_id="t-1")
    events: list[Notification] = []

    again = await agent.submit_turn(session.session_id, "go", turn_id="t-1", on_event=events.append)

    assert again == first
    assert events == []


async def test_exhausted_script_ends_the_turn_with_provider_error(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    agent = await spawn(write_script([{"type": "text", "text": "one"}]))
    session = await agent.create_session(cwd=str(workspace))
    await agent.submit_turn(session.session_id, "first")
    events: list[Notification] = []

    result = await agent.submit_turn(session.session_id, "second", on_event=events.append)

    assert result.stop_reason == "error"
    assert result.error is not None
    assert result.error.code == "provider_error"
    assert events[-1].method == "error"
