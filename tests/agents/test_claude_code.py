"""Claude Code as a session's agent: the real `claude` CLI against the fake Anthropic server,
driven through the engine service with approvals answered by a stand-in host."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from parley.core.errors import ErrorCode, ParleyError
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
from tests.providers.fake_server import FakeServer, Reply
from tests.providers.wire import Anthropic, Text, Thinking, ToolCall

SECRET = "sk-ant-test-5ecret"


def reply(*parts: Any) -> Reply:
    return Reply(events=tuple(Anthropic.reply(*parts)))


def claude_env(tmp_path: Path, server: FakeServer) -> dict[str, str]:
    cli("claude")
    env = base_env(tmp_path / "home")
    env.update(
        CLAUDE_CONFIG_DIR=str(tmp_path / "home" / ".claude"),
        ANTHROPIC_BASE_URL=server.url,
        ANTHROPIC_API_KEY=SECRET,
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
        DISABLE_AUTOUPDATER="1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
    )
    return env


@pytest.fixture
async def agents(tmp_path: Path, server: FakeServer) -> AsyncIterator[Agents]:
    made = Agents(tmp_path, claude_env(tmp_path, server))
    yield made
    await made.close()


def prompts(server: FakeServer) -> list[str]:
    """The user's prompts in the last request Claude Code sent the model (without the
    `<system-reminder>` texts it adds)."""
    texts = []
    for message in server.requests[-1].body["messages"]:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if message["role"] == "user":
            texts += [b["text"] for b in blocks if b.get("type") == "text" and b["text"][:1] != "<"]
    return texts


async def test_a_turn_with_a_tool_call_approved_through_parley(
    agents: Agents, server: FakeServer
) -> None:
    target = agents.cwd / "hello.txt"
    server.script(
        reply(
            Thinking("I should write the file."),
            Text("Writing it."),
            ToolCall("toolu_01", "Write", {"file_path": str(target), "content": "hi\n"}),
        ),
        reply(Text("Wrote hello.txt.")),
    )
    session_id = agents.session("claude-code")
    events, host = Events(), Host("allow_once")
    result, _ = await submit(
        agents.service, session_id, "write hello.txt", port=host, events=events
    )

    assert result.stop_reason == "end_turn", result
    assert result.reply == "Writing it.\n\nWrote hello.txt."
    assert target.read_text() == "hi\n"
    assert "".join(e["text"] for e in events.of("thinking/delta")) == "I should write the file."
    assert events.of("result/final") == [{"text": result.reply}]
    (started,) = events.of("tool/started")
    assert started["name"] == "Write"
    assert started["kind"] == "edit"
    (question,) = host.questions
    assert question.tool == "Write"
    assert question.tool_call_id == "toolu_01"
    assert question.input["file_path"] == str(target)
    assert events.of("approval/resolved")[0]["decision"] == "allow_once"
    (done,) = events.of("tool/completed")
    assert done["toolCallId"] == "toolu_01"
    assert not done["isError"]
    # Order: the call is shown, then asked about, then completed.
    order = [m for m in events.methods() if m.startswith(("tool/", "approval/"))]
    assert order == ["tool/started", "approval/requested", "approval/resolved", "tool/completed"]
    (usage,) = events.of("usage")
    assert usage["provider"] == "claude-code"
    assert usage["inputTokens"] == 200
    assert result.usage.cost_usd is not None
    assert result.usage.cost_usd > 0
    assert events.methods()[-1] == "result/final"
    info = agents.service.session_info(session_id)
    assert info.agent == "claude-code"
    assert info.usage.output_tokens == result.usage.output_tokens
    assert agents.store.load_session(session_id).agent_session  # type: ignore[union-attr]
    assert SECRET not in str(events.items)


async def test_parleys_mcp_servers_are_claude_codes_too(
    tmp_path: Path, server: FakeServer, mcp: McpServers
) -> None:
    """The config file's stdio server (env from Parley's environment, its own directory) and
    the HTTP server given at session/create (with a header) both serve Claude Code's calls."""
    agents = Agents(tmp_path, {**claude_env(tmp_path, server), **mcp.env}, **mcp.settings)
    server.script(
        reply(ToolCall("toolu_m1", "mcp__fake__env", {"name": "FAKE_TOKEN"})),
        reply(ToolCall("toolu_m2", "mcp__web__shout", {"text": "hi"})),
        reply(Text("Both ran.")),
    )
    try:
        session_id = agents.session("claude-code", mcp_servers=mcp.session)
        events, host = Events(), Host("allow_once", "allow_once")
        result, _ = await submit(agents.service, session_id, "use them", port=host, events=events)
    finally:
        await agents.close()

    assert result.reply == "Both ran.", result
    assert [q.tool for q in host.questions] == ["mcp__fake__env", "mcp__web__shout"]
    assert mcp.calls() == ["start env", "end env"]
    assert f"FAKE_TOKEN={MCP_TOKEN} in {mcp.directory}" in str(server.requests[1].body)
    assert "HI!" in str(server.requests[2].body)
    assert mcp.authorized()
    env_call, shout = events.of("tool/completed")
    assert (env_call["name"], shout["name"]) == ("mcp__fake__env", "mcp__web__shout")
    assert "FAKE_TOKEN=****" in env_call["output"]  # the secret went to the model, not to us
    assert MCP_TOKEN not in str(events.items)
    assert HEADER_TOKEN not in str(events.items)


async def test_a_rejected_call_is_not_run_and_the_agent_is_told(
    agents: Agents, server: FakeServer
) -> None:
    target = agents.cwd / "nope.txt"
    server.script(
        reply(ToolCall("toolu_02", "Bash", {"command": f"touch {target}", "description": "x"})),
        reply(Text("Understood, I did not.")),
    )
    session_id = agents.session("claude-code")
    events = Events()
    result, _ = await submit(
        agents.service, session_id, "touch it", port=Host("reject_once"), events=events
    )
    assert result.stop_reason == "end_turn"
    assert result.reply == "Understood, I did not."
    assert not target.exists()
    (done,) = events.of("tool/completed")
    assert done["isError"]
    assert done["name"] == "Bash"
    told = server.requests[-1].body["messages"][-1]["content"]
    assert any(b.get("type") == "tool_result" and b.get("is_error") for b in told)


async def test_turns_resume_in_a_later_process_and_forks_branch_off(
    agents: Agents, server: FakeServer
) -> None:
    server.script(reply(Text("one")), reply(Text("two")), reply(Text("three")), reply(Text("f")))
    session_id = agents.session("claude-code")
    assert (await submit(agents.service, session_id, "first"))[0].reply == "one"
    assert (await submit(agents.service, session_id, "second"))[0].reply == "two"
    first_agent_session = agents.store.load_session(session_id).agent_session  # type: ignore[union-attr]

    await agents.restart()  # the claude process is gone; the next turn resumes its session
    assert (await submit(agents.service, session_id, "third"))[0].reply == "three"
    assert prompts(server)[-3:] == ["first", "second", "third"]

    fork = agents.service.fork_session(session_id, None, None)
    assert fork.agent == "claude-code"
    assert (await submit(agents.service, fork.session_id, "in the fork"))[0].reply == "f"
    assert prompts(server)[-4:] == ["first", "second", "third", "in the fork"]
    forked = agents.store.load_session(fork.session_id)
    source = agents.store.load_session(session_id)
    assert forked is not None
    assert source is not None
    assert forked.agent_session != source.agent_session
    assert not forked.agent_fork
    assert source.agent_session == first_agent_session
    with pytest.raises(ParleyError) as refused:
        agents.service.fork_session(session_id, 1, None)
    assert refused.value.code == ErrorCode.INVALID_PARAMS


async def _waiting_for_model(server: FakeServer, count: int) -> None:
    while len(server.requests) < count:
        await asyncio.sleep(0.02)


async def test_cancel_reaches_claude_and_the_session_stays_usable(
    agents: Agents, server: FakeServer
) -> None:
    server.script(Reply(hang=True), reply(Text("back")))
    session_id = agents.session("claude-code")
    events = Events()
    turn = asyncio.create_task(submit(agents.service, session_id, "wait", events=events))
    await asyncio.wait_for(_waiting_for_model(server, 1), 30)
    process = agents.service._loaded[session_id].agent.process  # type: ignore[union-attr]
    assert agents.service.cancel_turn(session_id)
    result, _ = await asyncio.wait_for(turn, 30)
    assert result.stop_reason == "cancelled"
    assert events.of("error")[-1]["code"] == "cancelled"
    assert process is not None
    assert process.alive
    result, _ = await submit(agents.service, session_id, "again")
    assert result.reply == "back"
    assert result.stop_reason == "end_turn"


async def test_a_crash_mid_turn_ends_it_with_an_error_and_the_next_turn_restarts(
    agents: Agents, server: FakeServer
) -> None:
    server.script(reply(Text("before")), Reply(hang=True), reply(Text("after")))
    session_id = agents.session("claude-code")
    assert (await submit(agents.service, session_id, "one"))[0].reply == "before"
    events = Events()
    turn = asyncio.create_task(submit(agents.service, session_id, "two", events=events))
    await asyncio.wait_for(_waiting_for_model(server, 2), 30)
    process = agents.service._loaded[session_id].agent.process  # type: ignore[union-attr]
    assert process is not None
    os.killpg(process.proc.pid, signal.SIGKILL)
    result, _ = await asyncio.wait_for(turn, 30)
    assert result.stop_reason == "error"
    assert result.error is not None
    assert result.error.code == ErrorCode.PROVIDER_ERROR
    assert "restarts" in result.error.message
    (error,) = events.of("error")
    assert error["recoverable"]
    result, _ = await submit(agents.service, session_id, "three")
    assert result.reply == "after"
    assert prompts(server)[-2:] == ["one", "three"] or prompts(server)[-3:] == [
        "one",
        "two",
        "three",
    ]


async def test_an_unknown_or_missing_agent_is_refused_before_anything_is_stored(
    agents: Agents,
) -> None:
    with pytest.raises(ParleyError) as unknown:
        agents.session("no-such-agent")
    assert unknown.value.code == ErrorCode.INVALID_PARAMS
    assert "claude-code" in unknown.value.message
    agents.settings.env = {**agents.settings.env, "PATH": "/nonexistent"}
    with pytest.raises(ParleyError) as missing:
        agents.session("claude-code")
    assert missing.value.code == ErrorCode.PROVIDER_NOT_CONFIGURED
    assert "@anthropic-ai/claude-code" in missing.value.message
    assert agents.service.list_sessions(wire.SessionListParams()).sessions == []
