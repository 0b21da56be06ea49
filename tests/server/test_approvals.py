"""Approvals over the real stdio server: the host is asked with `approval/request`, and every
way that can end (each decision, no answer, cancel, garbage) ends the call cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from parley.client import Notification
from parley.protocol import types as wire
from tests.conftest import ScriptWriter, scripted_env
from tests.rawclient import RawServer

WRITE = {
    "type": "tool_call",
    "id": "call_w",
    "name": "write_file",
    "input": {"path": "out.txt", "content": "hi\n"},
}
DONE = [{"type": "text", "text": "done"}]


def completed(events: list[Notification]) -> list[dict[str, Any]]:
    return [e.params for e in events if e.method == "tool/completed"]


class Answers:
    """A host's approval handler: answers from a list, keeps every request."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[wire.ApprovalRequestParams] = []
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, request: wire.ApprovalRequestParams) -> Any:
        self.requests.append(request)
        self.arrived.set()
        answer = self.answers.pop(0)
        if answer == "wait":
            await self.release.wait()
            return "allow_once"  # too late, if it comes at all
        return answer


@pytest.mark.parametrize(
    ("decision", "written"),
    [
        ("allow_once", True),
        ("allow_always", True),
        ("reject_once", False),
        ("reject_always", False),
    ],
)
async def test_each_decision_round_trips_over_stdio(
    spawn, write_script: ScriptWriter, workspace: Path, decision: str, written: bool
) -> None:
    host = Answers(decision)
    agent = await spawn(write_script([WRITE], DONE), approval_handler=host)
    session = await agent.create_session(cwd=str(workspace))
    events: list[Notification] = []

    result = await agent.submit_turn(session.session_id, "write", on_event=events.append)

    [request] = host.requests
    assert request.session_id == session.session_id
    assert request.turn_id == result.turn_id
    assert request.tool_call_id == "call_w"
    assert request.tool == "write_file"
    assert request.input == {"path": "out.txt", "content": "hi\n"}
    assert request.options == ["allow_once", "allow_always", "reject_once", "reject_always"]
    assert request.timeout_ms == 300_000
    assert request.display == {
        "path": "out.txt",
        "created": True,
        "diff": "--- /dev/null\n+++ b/out.txt\n@@ -0,0 +1 @@\n+hi\n",
    }
    resolved = [e.params for e in events if e.method == "approval/resolved"]
    assert [(r["approvalId"], r["decision"]) for r in resolved] == [(request.approval_id, decision)]
    [done] = completed(events)
    assert done["isError"] is not written
    assert result.stop_reason == "end_turn"
    assert (workspace / "out.txt").exists() == written


async def test_allow_always_is_not_asked_again_in_the_session(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    second = {**WRITE, "id": "call_2", "input": {"path": "two.txt", "content": "2\n"}}
    host = Answers("allow_always")
    agent = await spawn(write_script([WRITE], [second], DONE), approval_handler=host)
    session = await agent.create_session(cwd=str(workspace))

    await agent.submit_turn(session.session_id, "write twice")

    assert len(host.requests) == 1
    assert (workspace / "two.txt").exists()


async def test_no_answer_in_time_rejects_the_call_and_sends_approval_timeout(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    host = Answers("wait")
    agent = await spawn(
        write_script([WRITE], DONE),
        approval_handler=host,
        approval_timeout_s=60,
        env={"PARLEY_APPROVAL_TIMEOUT": "0.3"},
    )
    session = await agent.create_session(cwd=str(workspace))
    events: list[Notification] = []

    result = await agent.submit_turn(session.session_id, "write", on_event=events.append)
    host.release.set()  # the host answers after all, too late
    listed = await agent.list_sessions()

    assert host.requests[0].timeout_ms == 300
    assert [e.params["approvalId"] for e in events if e.method == "approval/timeout"] == [
        host.requests[0].approval_id
    ]
    [done] = completed(events)
    assert done["display"] == {"denied": True, "code": "approval_timeout"}
    assert "no answer to the approval request within 0.3s" in done["output"]
    assert result.stop_reason == "end_turn"
    assert not (workspace / "out.txt").exists()
    assert [s.session_id for s in listed.sessions] == [session.session_id]


async def test_cancel_while_waiting_resolves_the_request(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    host = Answers("wait")
    agent = await spawn(write_script([WRITE], DONE), approval_handler=host)
    session = await agent.create_session(cwd=str(workspace))
    events: list[Notification] = []
    turn = asyncio.create_task(
        agent.submit_turn(session.session_id, "write", on_event=events.append)
    )
    await host.arrived.wait()

    await agent.cancel(session.session_id)
    result = await turn

    assert result.stop_reason == "cancelled"
    resolved = [e.params for e in events if e.method == "approval/resolved"]
    assert [(r["approvalId"], r["decision"]) for r in resolved] == [
        (host.requests[0].approval_id, "reject_once")
    ]
    assert [e.method for e in events][-3:] == ["approval/resolved", "tool/completed", "error"]
    assert not (workspace / "out.txt").exists()


async def test_two_sessions_wait_for_approval_at_once(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    requests: dict[str, asyncio.Future[str]] = {}
    both_asked = asyncio.Event()

    async def host(request: wire.ApprovalRequestParams) -> str:
        requests[request.session_id] = asyncio.get_running_loop().create_future()
        if len(requests) == 2:
            both_asked.set()
        return await requests[request.session_id]

    agent = await spawn(write_script([WRITE], DONE), approval_handler=host)
    dir_a, dir_b = workspace / "a", workspace / "b"
    dir_a.mkdir()
    dir_b.mkdir()
    a = await agent.create_session(cwd=str(dir_a))
    b = await agent.create_session(cwd=str(dir_b))
    turns = asyncio.gather(
        agent.submit_turn(a.session_id, "write"), agent.submit_turn(b.session_id, "write")
    )

    await both_asked.wait()  # both questions are out before either is answered
    requests[b.session_id].set_result("reject_once")
    requests[a.session_id].set_result("allow_once")
    ra, rb = await turns

    assert (ra.stop_reason, rb.stop_reason) == ("end_turn", "end_turn")
    assert (dir_a / "out.txt").exists()
    assert not (dir_b / "out.txt").exists()


GARBAGE = ["maybe", 42, None, {"decision": "allow_once"}, "", "ALLOW_ONCE"]


async def test_garbage_answers_are_rejections_and_the_server_keeps_serving(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    calls = [
        [{**WRITE, "id": f"call_{i}", "input": {"path": f"f{i}.txt", "content": "x"}}]
        for i in range(len(GARBAGE) + 1)
    ]
    host = Answers(*GARBAGE, "allow_once")
    agent = await spawn(write_script(*calls, DONE), approval_handler=host)
    session = await agent.create_session(cwd=str(workspace))
    events: list[Notification] = []

    result = await agent.submit_turn(session.session_id, "write", on_event=events.append)

    assert result.stop_reason == "end_turn"
    assert [d["isError"] for d in completed(events)] == [True] * len(GARBAGE) + [False]
    assert [e.params["decision"] for e in events if e.method == "approval/resolved"] == [
        "reject_once"
    ] * len(GARBAGE) + ["allow_once"]
    assert sorted(p.name for p in workspace.glob("f*.txt")) == [f"f{len(GARBAGE)}.txt"]


async def test_a_host_that_answers_with_an_error_or_a_malformed_response_is_a_rejection(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    second = {**WRITE, "id": "call_2", "input": {"path": "two.txt", "content": "2\n"}}
    third = {**WRITE, "id": "call_3", "input": {"path": "three.txt", "content": "3\n"}}
    server = await RawServer.start(
        scripted_env(isolated_env, write_script([WRITE], [second], [third], DONE))
    )
    try:
        await server.initialize(approvals={})
        created = await server.request(1, "session/create", {"cwd": str(workspace)})
        session_id = created["result"]["sessionId"]
        await server.send(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "turn/submit",
                "params": {"sessionId": session_id, "prompt": "write"},
            }
        )
        replies = [
            {"error": {"code": -32603, "message": "the host broke"}},
            {"result": "yes please"},
            {"result": {"decision": "allow_once"}},
        ]
        seen: list[dict[str, Any]] = []
        for reply in replies:
            request = await _next_request(server, seen)
            await server.send({"jsonrpc": "2.0", "id": request["id"], **reply})
        response = await server.response(2, into=seen)
        listed = await server.request(3, "session/list", {})
    finally:
        await server.kill()

    assert response["result"]["stopReason"] == "end_turn"
    decisions = [m["params"]["decision"] for m in seen if m.get("method") == "approval/resolved"]
    assert decisions == ["reject_once", "reject_once", "allow_once"]
    assert not (workspace / "out.txt").exists()
    assert not (workspace / "two.txt").exists()
    assert (workspace / "three.txt").exists()
    assert len(listed["result"]["sessions"]) == 1


async def _next_request(server: RawServer, seen: list[dict[str, Any]]) -> dict[str, Any]:
    while True:
        message = await server.read()
        if message.get("method") == "approval/request" and "id" in message:
            return message
        seen.append(message)


async def test_a_host_without_the_capability_is_never_asked(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    agent = await spawn(write_script([WRITE], DONE))
    session = await agent.create_session(cwd=str(workspace))
    events: list[Notification] = []

    result = await agent.submit_turn(session.session_id, "write", on_event=events.append)

    [done] = completed(events)
    assert done["isError"] is True
    assert done["display"] == {"denied": True, "code": "approval_denied"}
    assert "there is no one to ask" in done["output"]
    assert not any(e.method.startswith("approval/") for e in events)
    assert result.stop_reason == "end_turn"
    assert not (workspace / "out.txt").exists()


async def test_permission_mode_set_at_session_create_is_used(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    host = Answers()
    agent = await spawn(write_script([WRITE], DONE), approval_handler=host)
    session = await agent.create_session(cwd=str(workspace), permission_mode="accept-edits")

    await agent.submit_turn(session.session_id, "write")

    assert session.permission_mode == "accept-edits"
    assert host.requests == []
    assert (workspace / "out.txt").exists()
