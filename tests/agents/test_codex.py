"""Codex as a session's agent: the real `codex app-server` against the fake OpenAI Responses
server, driven through the engine service with approvals answered by a stand-in host."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from parley.client import ParleyClient
from parley.core.errors import ErrorCode
from parley.protocol import types as wire
from tests.agents.conftest import (
    HEADER_TOKEN,
    MCP_TOKEN,
    Agents,
    McpServers,
    base_env,
    cli,
)
from tests.engine_turns import Events, Host, submit
from tests.mcp_tools.fake_server import PNG
from tests.providers.fake_server import FakeServer, Reply
from tests.providers.wire import Responses, Text, Thinking, ToolCall

SECRET = "sk-codex-test-5ecret"


def reply(*parts: Any) -> Reply:
    return Reply(events=tuple(Responses.reply(*parts)))


def codex_home(home: Path, server: FakeServer) -> Path:
    """A CODEX_HOME whose model provider is the fake server, with every online extra off."""
    path = home / "codex"
    path.mkdir(parents=True)
    (path / "config.toml").write_text(
        f"""
model = "gpt-test"
model_provider = "fake"

[model_providers.fake]
name = "fake"
base_url = "{server.url}/v1"
wire_api = "responses"
env_key = "FAKE_OPENAI_KEY"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

# The tests' directories are all under /tmp: without this, the sandbox lets every one be written.
[sandbox_workspace_write]
exclude_slash_tmp = true
exclude_tmpdir_env_var = true

[features]
plugins = false
apps = false
remote_plugin = false
tool_suggest = false
"""
    )
    return path


def codex_env(tmp_path: Path, server: FakeServer) -> dict[str, str]:
    cli("codex")
    env = base_env(tmp_path / "home")
    env.update(
        CODEX_HOME=str(codex_home(tmp_path / "home", server)),
        FAKE_OPENAI_KEY=SECRET,
    )
    return env


@pytest.fixture
async def agents(tmp_path: Path, server: FakeServer) -> AsyncIterator[Agents]:
    made = Agents(tmp_path, codex_env(tmp_path, server))
    yield made
    await made.close()


def user_texts(server: FakeServer) -> list[str]:
    """The user's prompts in the last request Codex sent the model."""
    texts = []
    for item in server.requests[-1].body["input"]:
        if item.get("type") == "message" and item.get("role") == "user":
            texts += [
                c["text"]
                for c in item["content"]
                if c.get("type") == "input_text" and c["text"][:1] != "<"
            ]
    return texts


async def test_a_turn_with_a_command_approved_through_parley_then_resumed(
    agents: Agents, server: FakeServer
) -> None:
    target = agents.cwd / "made.txt"
    server.script(
        reply(
            Thinking("A file is needed."),
            Text("Running."),
            ToolCall("call_1", "exec_command", {"cmd": f"touch {target}"}),
        ),
        reply(Text("Done.")),
        reply(Text("Again.")),
    )
    session_id = agents.session("codex")
    events, host = Events(), Host("allow_once")
    result, _ = await submit(agents.service, session_id, "make a file", port=host, events=events)

    assert result.stop_reason == "end_turn", result
    assert result.reply == "Running.\n\nDone."
    assert target.exists()
    assert "".join(e["text"] for e in events.of("thinking/delta")) == "A file is needed."
    (question,) = host.questions
    assert question.tool == "commandExecution"
    assert str(target) in question.input["command"]
    (started,) = events.of("tool/started")
    assert started["kind"] == "execute"
    assert started["toolCallId"] == question.tool_call_id
    (done,) = events.of("tool/completed")
    assert not done["isError"]
    assert [e["inputTokens"] for e in events.of("usage")] == [100, 100]
    assert result.usage.output_tokens == 40
    thread = agents.store.load_session(session_id).agent_session  # type: ignore[union-attr]
    assert thread
    assert SECRET not in str(events.items)

    await agents.restart()  # a new app-server resumes the thread
    result, _ = await submit(agents.service, session_id, "once more")
    assert result.reply == "Again."
    assert user_texts(server)[-2:] == ["make a file", "once more"]
    assert agents.store.load_session(session_id).agent_session == thread  # type: ignore[union-attr]


async def test_a_declined_command_is_not_run(agents: Agents, server: FakeServer) -> None:
    target = agents.cwd / "nope.txt"
    server.script(
        reply(ToolCall("call_2", "exec_command", {"cmd": f"touch {target}"})),
        reply(Text("Not done.")),
    )
    session_id = agents.session("codex")
    events = Events()
    result, _ = await submit(
        agents.service, session_id, "touch it", port=Host("reject_once"), events=events
    )
    assert result.reply == "Not done."
    assert not target.exists()
    (done,) = events.of("tool/completed")
    assert done["isError"]


async def test_cancel_interrupts_codex_and_a_fork_branches_off(
    agents: Agents, server: FakeServer
) -> None:
    server.script(reply(Text("first")), Reply(hang=True), reply(Text("back")), reply(Text("fork")))
    session_id = agents.session("codex")
    assert (await submit(agents.service, session_id, "one"))[0].reply == "first"
    events = Events()
    turn = asyncio.create_task(submit(agents.service, session_id, "wait", events=events))
    while len(server.requests) < 2:
        await asyncio.sleep(0.02)
    assert agents.service.cancel_turn(session_id)
    result, _ = await asyncio.wait_for(turn, 30)
    assert result.stop_reason == "cancelled"
    assert result.error is not None
    assert result.error.code == ErrorCode.CANCELLED
    assert (await submit(agents.service, session_id, "two"))[0].reply == "back"

    fork = agents.service.fork_session(session_id, None, None)
    assert (await submit(agents.service, fork.session_id, "in the fork"))[0].reply == "fork"
    assert user_texts(server)[0] == "one"
    assert user_texts(server)[-1] == "in the fork"
    source = agents.store.load_session(session_id)
    forked = agents.store.load_session(fork.session_id)
    assert source is not None
    assert forked is not None
    assert forked.agent_session != source.agent_session


async def test_through_the_stdio_door_with_the_hosts_approval(
    tmp_path: Path, server: FakeServer, mcp: McpServers
) -> None:
    """A host speaking Parley's protocol to `parley serve` gets Codex's turn as Parley events
    and answers its approvals like any other, for the MCP server it gave the session too."""
    cli("codex")
    target = tmp_path / "project" / "door.txt"
    target.parent.mkdir()
    server.script(
        reply(ToolCall("call_9", "exec_command", {"cmd": f"touch {target}"})),
        reply(ToolCall("call_10", "shout", {"text": "door"}, "mcp__web")),
        reply(Text("Touched.")),
    )
    env = base_env(tmp_path / "home")
    env.update(
        CODEX_HOME=str(codex_home(tmp_path / "home", server)),
        FAKE_OPENAI_KEY=SECRET,
        PARLEY_HOME=str(tmp_path / "data"),
        PARLEY_CONFIG_DIR=str(tmp_path / "config"),
    )
    asked: list[str] = []

    async def approve(request: Any) -> str:
        asked.append(request.tool)
        return "allow_once"

    client = await ParleyClient.spawn(env=env, approval_handler=approve)
    try:
        info = await client.create_session(
            cwd=str(target.parent), agent="codex", mcp_servers=mcp.session
        )
        assert info.agent == "codex"
        seen: list[str] = []
        result = await client.submit_turn(
            info.session_id, "touch it", on_event=lambda n: seen.append(n.method)
        )
        assert result.reply == "Touched."
        assert asked == ["commandExecution", "mcp__web__shout"]
        assert target.exists()
        assert "DOOR!" in str(server.requests[2].body)
        assert mcp.authorized()
        assert "approval/requested" in seen
        assert seen[-1] == "result/final"
        detail = await client.get_session(info.session_id)
        assert [m.role for m in detail.messages] == ["user", "assistant"]
    finally:
        await client.close()


async def test_a_crash_of_the_app_server_ends_the_turn_and_the_next_resumes(
    agents: Agents, server: FakeServer
) -> None:
    server.script(reply(Text("one")), Reply(hang=True), reply(Text("three")))
    session_id = agents.session("codex")
    assert (await submit(agents.service, session_id, "first"))[0].reply == "one"
    turn = asyncio.create_task(submit(agents.service, session_id, "second"))
    while len(server.requests) < 2:
        await asyncio.sleep(0.02)
    process = agents.service._loaded[session_id].agent.process  # type: ignore[union-attr]
    assert process is not None
    os.killpg(process.proc.pid, signal.SIGKILL)
    result, _ = await asyncio.wait_for(turn, 30)
    assert result.stop_reason == "error"
    assert result.error is not None
    assert "exited" in result.error.message
    assert result.error.recoverable
    result, _ = await submit(agents.service, session_id, "third")
    assert result.reply == "three"
    assert user_texts(server)[0] == "first"
    assert user_texts(server)[-1] == "third"


async def test_parleys_mcp_servers_are_codexs_too(
    tmp_path: Path, server: FakeServer, mcp: McpServers
) -> None:
    agents = Agents(tmp_path, {**codex_env(tmp_path, server), **mcp.env}, **mcp.settings)
    server.script(
        reply(ToolCall("call_m1", "env", {"name": "FAKE_TOKEN"}, "mcp__fake")),
        reply(ToolCall("call_m2", "shout", {"text": "hi"}, "mcp__web")),
        reply(ToolCall("call_m3", "echo", {"text": "no"}, "mcp__fake")),
        reply(Text("Both ran.")),
    )
    try:
        session_id = agents.session("codex", mcp_servers=mcp.session)
        events, host = Events(), Host("allow_once", "allow_once", "reject_once")
        result, _ = await submit(agents.service, session_id, "use them", port=host, events=events)
    finally:
        await agents.close()

    assert result.reply == "Both ran.", result
    # Codex asks before each call (never by readOnlyHint: the servers are not trusted), and
    # Parley's approval flow answers, under the names Parley gives MCP tools.
    asked = [q.tool for q in host.questions]
    assert asked == ["mcp__fake__env", "mcp__web__shout", "mcp__fake__echo"]
    assert mcp.calls() == ["start env", "end env"]  # the declined echo never reached it
    assert f"FAKE_TOKEN={MCP_TOKEN} in {mcp.directory}" in str(server.requests[1].body)
    assert "HI!" in str(server.requests[2].body)
    assert mcp.authorized()
    env_call, shout, echo = events.of("tool/completed")
    assert echo["isError"]
    assert env_call["toolCallId"] == "call_m1"
    assert env_call["output"].startswith("FAKE_TOKEN=****")
    assert shout["output"] == "HI!"
    assert MCP_TOKEN not in str(events.items)
    assert HEADER_TOKEN not in str(events.items)


def patch(path: Path) -> str:
    return f"apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: {path}\n+hi\n*** End Patch\nEOF\n"


async def test_an_image_reaches_codex_and_its_sandbox_takes_the_other_directories(
    agents: Agents, server: FakeServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "parley.agents.codex")
    extra = tmp_path / "extra"
    extra.mkdir()
    server.script(
        reply(ToolCall("call_w", "exec_command", {"cmd": patch(extra / "made.txt")})),
        reply(Text("Done.")),
    )
    session_id = agents.session("codex", additional_directories=[str(extra)])
    prompt: list[wire.ContentBlock] = [
        wire.TextContent("text", "look, then write"),
        wire.ImageContent("image", "image/png", PNG),
    ]
    result, _ = await submit(agents.service, session_id, prompt, port=Host("allow_once"))

    assert result.reply == "Done.", result
    (message,) = [i for i in server.requests[0].body["input"] if i.get("role") == "user"][-1:]
    assert message["content"][0] == {"type": "input_text", "text": "look, then write"}
    assert message["content"][1]["image_url"] == f"data:image/png;base64,{PNG}"
    assert (extra / "made.txt").read_text() == "hi\n"
    # The sandbox as Codex reports it: the directory joins the user's own sandbox settings.
    (sandbox,) = [r.args[1] for r in caplog.records if "runs in the sandbox" in r.msg]
    assert sandbox["type"] == "workspaceWrite"
    assert sandbox["writableRoots"] == [str(extra)]
    assert sandbox["excludeSlashTmp"] is True
