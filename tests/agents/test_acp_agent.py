"""A generic ACP agent named in the config file: Zed's Claude ACP adapter
(`claude-agent-acp`, driving the pinned Claude Code) against the fake Anthropic server. It offers
session/load and session/fork, so resume and fork are exercised through ACP end to end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.agents.conftest import BIN, Agents, base_env, cli
from tests.engine_turns import Events, Host, submit
from tests.providers.fake_server import FakeServer, Reply
from tests.providers.wire import Anthropic, Text, ToolCall

SECRET = "sk-ant-acp-5ecret"


def reply(*parts: Any) -> Reply:
    return Reply(events=tuple(Anthropic.reply(*parts)))


@pytest.fixture
async def agents(tmp_path: Path, server: FakeServer) -> AsyncIterator[Agents]:
    adapter = cli("claude-agent-acp")
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
    table = {
        "command": [str(adapter)],
        # The pinned Claude Code, not the adapter's bundled one; IS_SANDBOX: tests run as root.
        "env": {"CLAUDE_CODE_EXECUTABLE": str(BIN / "claude"), "IS_SANDBOX": "1"},
    }
    made = Agents(tmp_path, env, agents={"claude-acp": table})
    yield made
    await made.close()


def user_texts(server: FakeServer) -> list[str]:
    texts = []
    for message in server.requests[-1].body["messages"]:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if message["role"] == "user":
            texts += [b["text"] for b in blocks if b.get("type") == "text" and b["text"][:1] != "<"]
    return texts


async def test_an_acp_agent_from_the_config_file_resumes_and_forks(
    agents: Agents, server: FakeServer
) -> None:
    target = agents.cwd / "a.txt"
    server.script(
        reply(
            Text("Writing."),
            ToolCall("toolu_1", "Write", {"file_path": str(target), "content": "x"}),
        ),
        reply(Text("Done.")),
        reply(Text("Resumed.")),
        reply(Text("Forked.")),
    )
    session_id = agents.session("claude-acp")
    events, host = Events(), Host("allow_once")
    result, _ = await submit(agents.service, session_id, "write a.txt", port=host, events=events)
    assert result.stop_reason == "end_turn", result
    assert result.reply == "Writing.\n\nDone."
    assert target.read_text() == "x"
    (question,) = host.questions
    assert question.tool == "edit"
    assert question.input == {"file_path": str(target), "content": "x"}
    (done,) = events.of("tool/completed")
    assert done["toolCallId"] == "toolu_1"
    assert not done["isError"]
    assert result.usage.input_tokens == 200  # the prompt answer's usage
    first = agents.store.load_session(session_id).agent_session  # type: ignore[union-attr]

    await agents.restart()  # a new adapter process loads the session
    result, _ = await submit(agents.service, session_id, "and then?")
    assert result.reply == "Resumed.", result
    assert user_texts(server)[0] == "write a.txt"
    assert user_texts(server)[-1] == "and then?"
    assert agents.store.load_session(session_id).agent_session == first  # type: ignore[union-attr]

    fork = agents.service.fork_session(session_id, None, None)
    result, _ = await submit(agents.service, fork.session_id, "in the fork")
    assert result.reply == "Forked.", result
    # The fork branches off what the adapter had written of the source session by then (its
    # transcript of the latest turn may still be in flight in the source's process).
    assert user_texts(server)[0] == "write a.txt"
    assert user_texts(server)[-1] == "in the fork"
    forked = agents.store.load_session(fork.session_id)
    assert forked is not None
    assert forked.agent_session != first


async def test_additional_directories_reach_the_adapter(
    agents: Agents, server: FakeServer, tmp_path: Path
) -> None:
    """ACP's session/new has no field for them: Parley passes `_meta.additionalRoots`, which
    the adapter gives Claude Code, whose prompt then names the directory."""
    extra = tmp_path / "extra-root"
    extra.mkdir()
    server.script(reply(Text("ok")))
    session_id = agents.session("claude-acp", additional_directories=[str(extra)])
    result, _ = await submit(agents.service, session_id, "hi")
    assert result.reply == "ok", result
    turns = [r for r in server.requests if r.body and r.body.get("messages")]
    assert str(extra) in json.dumps(turns[-1].body)
