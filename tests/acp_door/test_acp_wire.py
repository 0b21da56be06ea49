"""`parley acp` on a raw pipe: bad input gets ACP errors and the door keeps serving; a client
that disappears loses no session. Every line it writes is checked against ACP's schema."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from tests.acp_door.client import Editor, acp_agent
from tests.acp_door.conformance import Conformance
from tests.conftest import ScriptWriter, scripted_env


class Pipe:
    def __init__(self, process: asyncio.subprocess.Process, conformance: Conformance) -> None:
        self.process = process
        self.conformance = conformance

    @classmethod
    async def start(cls, env: dict[str, str], conformance: Conformance, *args: str) -> Pipe:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "parley",
            "acp",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE if args else None,
            env=env,
        )
        return cls(process, conformance)

    async def finish(self) -> str:
        """Close the agent's input; its exit status must be 0. Returns its stderr, if read."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        _, err = await asyncio.wait_for(self.process.communicate(), 30)
        assert self.process.returncode == 0
        return (err or b"").decode()

    def send(self, line: bytes | dict[str, Any]) -> None:
        assert self.process.stdin is not None
        if isinstance(line, dict):
            self.conformance.sent_by_client(line)
            line = json.dumps(line).encode()
        self.process.stdin.write(line + b"\n")

    async def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        message: dict[str, Any] = json.loads(line)
        self.conformance.sent_by_agent(message)
        return message


def request(id: int, method: str, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": params}


async def test_bad_input_gets_acp_errors_and_the_door_keeps_serving(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    pipe = await Pipe.start(scripted_env(isolated_env, write_script()), conformance)
    pipe.send(request(0, "session/new", {"cwd": str(workspace), "mcpServers": []}))
    assert (await pipe.read())["error"]["code"] == -32600  # before initialize
    pipe.send(request(1, "initialize", {"protocolVersion": 1}))
    assert (await pipe.read())["result"]["protocolVersion"] == 1
    pipe.send(b"{not json")
    assert (await pipe.read())["error"]["code"] == -32700
    pipe.send(request(2, "session/fly", {}))
    assert (await pipe.read())["error"]["code"] == -32601
    pipe.send(request(3, "session/new", {"mcpServers": []}))
    bad = await pipe.read()
    assert bad["error"]["code"] == -32602
    assert "cwd" in bad["error"]["message"]
    pipe.send(request(4, "session/new", {"cwd": "relative/dir", "mcpServers": []}))
    assert (await pipe.read())["error"]["code"] == -32602
    pipe.send(request(5, "session/prompt", {"sessionId": "ses_gone", "prompt": []}))
    assert (await pipe.read())["error"]["code"] == -32002
    pipe.send({"jsonrpc": "2.0", "method": "session/cancel", "params": {"nope": 1}})
    pipe.send(request(6, "session/new", {"cwd": str(workspace), "mcpServers": []}))
    assert (await pipe.read())["result"]["sessionId"]
    assert pipe.process.stdin is not None
    pipe.process.stdin.close()
    assert await asyncio.wait_for(pipe.process.wait(), 30) == 0


async def test_a_client_that_disappears_mid_turn_loses_no_session(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    script = write_script(
        [{"type": "text", "text": "Working"}, {"type": "text", "text": "...", "delayMs": 30_000}]
    )
    env = scripted_env(isolated_env, script)
    pipe = await Pipe.start(env, conformance)
    pipe.send(request(1, "initialize", {"protocolVersion": 1}))
    await pipe.read()
    pipe.send(request(2, "session/new", {"cwd": str(workspace), "mcpServers": []}))
    session_id = (await pipe.read())["result"]["sessionId"]
    pipe.send(
        request(
            3,
            "session/prompt",
            {"sessionId": session_id, "prompt": [{"type": "text", "text": "keep this"}]},
        )
    )
    while (await pipe.read()).get("method") != "session/update":
        pass
    assert pipe.process.stdin is not None
    pipe.process.stdin.close()  # the editor is gone: the agent's input ends mid-turn
    assert await asyncio.wait_for(pipe.process.wait(), 30) == 0

    editor = Editor()
    async with acp_agent(env, editor, conformance) as (conn, _):
        listed = await conn.list_sessions()
        assert [s.session_id for s in listed.sessions] == [session_id]
        await conn.load_session(cwd=str(workspace), session_id=session_id, mcp_servers=[])
    assert editor.text("user_message_chunk") == "keep this"
    assert editor.text().startswith("Working")


def test_the_checker_catches_what_acp_does_not_allow() -> None:
    checker = Conformance()
    checker.sent_by_client(request(1, "session/prompt", {}))
    checker.sent_by_agent({"jsonrpc": "2.0", "id": 1, "result": {"stopReason": "done_ish"}})
    checker.sent_by_agent(
        {
            "jsonrpc": "2.0",
            "method": "session/update",
            "params": {"sessionId": "s", "update": {"sessionUpdate": "mood"}},
        }
    )
    checker.sent_by_agent({"jsonrpc": "2.0", "method": "turn/started", "params": {}})
    assert len(checker.problems) == 3


async def test_initialize_is_answered_before_the_server_loads_and_the_same_after(
    isolated_env: dict[str, str], conformance: Conformance
) -> None:
    init = request(
        0, "initialize", {"protocolVersion": 1, "clientCapabilities": {"terminal": True}}
    )
    early = await Pipe.start(isolated_env, conformance, "--log-level", "debug")
    early.send(init)
    early_answer = await early.read()
    late = await Pipe.start(isolated_env, conformance, "--log-level", "debug")
    await asyncio.sleep(1.0)  # well past the handshake's wait: the loaded server answers
    late.send(init)
    late_answer = await late.read()
    assert early_answer == late_answer
    assert "answered initialize before loading the server" in await early.finish()
    assert "answered initialize before loading the server" not in await late.finish()


async def test_text_that_is_not_unicode_is_refused_with_a_pointer(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    pipe = await Pipe.start(scripted_env(isolated_env, write_script()), conformance)
    pipe.send(request(1, "initialize", {"protocolVersion": 1}))
    await pipe.read()
    pipe.send(request(2, "session/new", {"cwd": str(workspace), "mcpServers": []}))
    session_id = (await pipe.read())["result"]["sessionId"]
    prompt = (
        b'{"jsonrpc":"2.0","id":3,"method":"session/prompt","params":{"sessionId":"%s",'
        % (session_id.encode())
        + b'"prompt":[{"type":"text","text":"half \\ud800 a pair"}]}}'
    )
    pipe.send(prompt)
    refused = await pipe.read()
    assert refused["error"]["code"] == -32602
    assert refused["error"]["data"]["pointer"] == "/prompt/0/text"
    await pipe.finish()


async def test_cancel_then_prompt_at_once_answers_before_the_next_turn_s_updates(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    """An editor that cancels and prompts again at once gets the cancelled prompt's answer
    before any update of the new one, every time."""
    turn = [{"type": "text", "text": "go"}, {"type": "text", "text": "slow", "delayMs": 10_000}]
    pipe = await Pipe.start(scripted_env(isolated_env, write_script(*[turn] * 40)), conformance)
    pipe.send(request(1, "initialize", {"protocolVersion": 1}))
    await pipe.read()
    pipe.send(request(2, "session/new", {"cwd": str(workspace), "mcpServers": []}))
    session_id = (await pipe.read())["result"]["sessionId"]
    prompt = {"sessionId": session_id, "prompt": [{"type": "text", "text": "again"}]}

    async def started() -> None:
        while (await pipe.read()).get("params", {}).get("update", {}).get(
            "sessionUpdate"
        ) != "agent_message_chunk":
            pass

    pipe.send(request(10, "session/prompt", prompt))
    await started()
    for running in range(10, 40):
        pipe.send(
            {"jsonrpc": "2.0", "method": "session/cancel", "params": {"sessionId": session_id}}
        )
        pipe.send(request(running + 1, "session/prompt", prompt))
        while "method" in (answer := await pipe.read()):
            assert answer["params"]["update"]["sessionUpdate"] != "agent_message_chunk", answer
        assert answer == {"jsonrpc": "2.0", "id": running, "result": {"stopReason": "cancelled"}}
        await started()
    pipe.send({"jsonrpc": "2.0", "method": "session/cancel", "params": {"sessionId": session_id}})
    while "method" in (answer := await pipe.read()):
        pass
    assert answer["result"] == {"stopReason": "cancelled"}
    await pipe.finish()


async def test_a_prompt_whose_turn_fails_is_answered_once_with_its_error(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    failing = [
        {"type": "text", "text": "partial"},
        {"type": "error", "code": "provider_error", "message": "boom", "recoverable": False},
    ]
    pipe = await Pipe.start(scripted_env(isolated_env, write_script(failing)), conformance)
    pipe.send(request(1, "initialize", {"protocolVersion": 1}))
    await pipe.read()
    pipe.send(request(2, "session/new", {"cwd": str(workspace), "mcpServers": []}))
    session_id = (await pipe.read())["result"]["sessionId"]
    prompt = {"sessionId": session_id, "prompt": [{"type": "text", "text": "go"}]}
    pipe.send(request(3, "session/prompt", prompt))
    while "method" in (answer := await pipe.read()):
        pass
    assert answer["id"] == 3
    assert "boom" in answer["error"]["message"]
    pipe.send(request(4, "session/list", {}))
    assert (await pipe.read())["id"] == 4  # nothing more was sent for the prompt
    await pipe.finish()
