"""Parley driving Parley: `parley acp` (on the scripted provider) as a session's ACP agent.
Its permission prompt comes back through this side's approval flow, its file write is served
by this side's confined `fs/write_text_file`, and a later process loads the session."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.agents.conftest import HEADER_TOKEN, MCP_TOKEN, Agents, McpServers, base_env
from tests.engine_turns import Events, Host, submit


def script(path: Path, *responses: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"responses": list(responses)}))
    return str(path)


def inner_parley(tmp_path: Path) -> dict[str, Any]:
    """The config file's [agents.parley] table: `parley acp` on the scripted provider."""
    inner = tmp_path / "inner"
    inner.mkdir()
    return {
        "command": [sys.executable, "-m", "parley", "acp"],
        "env": {
            "PARLEY_HOME": str(inner / "data"),
            "PARLEY_CONFIG_DIR": str(inner / "config"),
            "PARLEY_PROVIDER": "scripted",
        },
    }


@pytest.fixture
async def agents(tmp_path: Path) -> AsyncIterator[Agents]:
    made = Agents(tmp_path, base_env(tmp_path / "home"), agents={"parley": inner_parley(tmp_path)})
    yield made
    await made.close()


async def test_parley_acp_as_an_agent(agents: Agents, tmp_path: Path) -> None:
    env = agents.settings.agents["parley"]["env"]
    env["PARLEY_SCRIPT"] = script(
        tmp_path / "one.json",
        [
            {"type": "text", "text": "Writing."},
            {
                "type": "tool_call",
                "name": "write_file",
                "input": {"path": "out.txt", "content": "hi"},
            },
        ],
        [{"type": "text", "text": "Done."}],
    )
    session_id = agents.session("parley")
    events, host = Events(), Host("allow_once")
    result, _ = await submit(agents.service, session_id, "write out.txt", port=host, events=events)
    assert result.stop_reason == "end_turn", result
    assert result.reply == "Writing.\n\nDone."
    assert (agents.cwd / "out.txt").read_text() == "hi"
    (question,) = host.questions
    assert question.tool == "edit"
    (done,) = events.of("tool/completed")
    assert not done["isError"]
    stored = agents.store.load_session(session_id)
    assert stored is not None
    assert stored.agent_session is not None

    env["PARLEY_SCRIPT"] = script(tmp_path / "two.json", [{"type": "text", "text": "Loaded."}])
    await agents.restart()  # a new `parley acp` loads the session from its store
    result, _ = await submit(agents.service, session_id, "still there?")
    assert result.reply == "Loaded.", result


async def test_the_sessions_mcp_servers_go_to_the_agent_on_session_new(
    tmp_path: Path, mcp: McpServers
) -> None:
    """Both of this side's servers reach `parley acp` in ACP's shape on session/new (its
    HTTP one too: it says it takes HTTP), and its calls to them are approved here."""
    table = inner_parley(tmp_path)
    table["env"]["PARLEY_SCRIPT"] = script(
        tmp_path / "mcp.json",
        [{"type": "tool_call", "name": "mcp__fake__env", "input": {"name": "FAKE_TOKEN"}}],
        [{"type": "tool_call", "name": "mcp__web__shout", "input": {"text": "hi"}}],
        [{"type": "text", "text": "Both ran."}],
    )
    env = {**base_env(tmp_path / "home"), **mcp.env}
    agents = Agents(tmp_path, env, agents={"parley": table}, **mcp.settings)
    try:
        session_id = agents.session("parley", mcp_servers=mcp.session)
        events, host = Events(), Host("allow_once", "allow_once")
        result, _ = await submit(agents.service, session_id, "use them", port=host, events=events)
    finally:
        await agents.close()

    assert result.reply == "Both ran.", result
    assert len(host.questions) == 2
    assert mcp.calls() == ["start env", "end env"]
    assert mcp.authorized()
    env_call, shout = events.of("tool/completed")
    # The value reached the server (its last characters show) and stayed out of the events.
    assert env_call["output"] == f"FAKE_TOKEN=****{MCP_TOKEN[-4:]} in {mcp.directory}"
    assert shout["output"] == "HI!"
    assert MCP_TOKEN not in str(events.items)
    assert HEADER_TOKEN not in str(events.items)
