"""Parley driving Parley: `parley acp` (on the scripted provider) as a session's ACP agent.
Its permission prompt comes back through this side's approval flow, its file write is served
by this side's confined `fs/write_text_file`, and a later process loads the session."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from parley.agents.acp_files import AgentFiles
from parley.agents.acp_terminals import AgentTerminals
from parley.engine import hub
from tests.agents.conftest import HEADER_TOKEN, MCP_TOKEN, Agents, McpServers, base_env
from tests.engine_turns import Events, Host, backlog_peak, submit


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


def bash_then(tmp_path: Path, name: str, command: str, after: str) -> str:
    return script(
        tmp_path / name,
        [{"type": "tool_call", "name": "bash", "input": {"command": command}}],
        [{"type": "text", "text": after}],
    )


async def test_commands_run_in_parleys_terminals_after_one_question(
    agents: Agents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inner Parley runs bash in its client's terminal: this side's terminal/*. The person
    allowed the command once, through the agent's own permission prompt, and is not asked
    again when it reaches the terminal."""
    created: list[dict[str, Any]] = []
    create = AgentTerminals.create

    async def spy(self: AgentTerminals, turn: Any, params: dict[str, Any]) -> dict[str, Any]:
        created.append(params)
        return await create(self, turn, params)

    monkeypatch.setattr(AgentTerminals, "create", spy)
    env = agents.settings.agents["parley"]["env"]
    env["PARLEY_SCRIPT"] = bash_then(
        tmp_path, "one.json", "echo made > made.txt; echo out; echo err >&2; exit 3", "Ran."
    )
    session_id = agents.session("parley")
    events, host = Events(), Host("allow_once")
    result, _ = await submit(agents.service, session_id, "run it", port=host, events=events)
    assert result.reply == "Ran.", result
    assert (agents.cwd / "made.txt").read_text() == "made\n"
    (question,) = host.questions
    assert "echo made" in json.dumps(question.input)
    (params,) = created
    assert params["args"][-1].startswith("echo made")
    (done,) = events.of("tool/completed")
    assert "out" in done["output"]
    assert "err" in done["output"]
    assert "exit code 3" in done["output"]


async def test_a_command_parley_does_not_allow_is_not_run(agents: Agents, tmp_path: Path) -> None:
    """The inner Parley allows everything itself; this side's rules still decide: the session's
    mode `deny` refuses the terminal, so the command never runs."""
    env = agents.settings.agents["parley"]["env"]
    env["PARLEY_PERMISSION_MODE"] = "allow"
    env["PARLEY_SCRIPT"] = bash_then(tmp_path, "one.json", "touch ran.txt", "Refused.")
    session_id = agents.session("parley", mode="deny")
    events = Events()
    result, _ = await submit(agents.service, session_id, "run it", events=events)
    assert result.reply == "Refused.", result
    assert not (agents.cwd / "ran.txt").exists()
    (done,) = events.of("tool/completed")
    assert done["isError"]
    assert "did not allow" in done["output"]


async def test_cancel_stops_the_agents_commands(agents: Agents, tmp_path: Path) -> None:
    env = agents.settings.agents["parley"]["env"]
    env["PARLEY_PERMISSION_MODE"] = "allow"
    env["PARLEY_SCRIPT"] = bash_then(
        tmp_path, "one.json", "sleep 300 & echo $! > pid.txt; wait", "never"
    )
    session_id = agents.session("parley", mode="allow")
    turn = asyncio.create_task(submit(agents.service, session_id, "wait"))
    pid_file = agents.cwd / "pid.txt"
    async with asyncio.timeout(60):
        while not pid_file.exists() or not pid_file.read_text().strip():
            await asyncio.sleep(0.05)
    pid = int(pid_file.read_text())
    assert agents.service.cancel_turn(session_id)
    result, _ = await asyncio.wait_for(turn, 30)
    assert result.stop_reason == "cancelled", result
    async with asyncio.timeout(10):  # the sleep, in the terminal's process group, is gone
        while _alive(pid):
            await asyncio.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie not yet reaped by its (dead) parent counts as gone.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return False


async def test_the_agents_reads_are_served_by_this_side(
    agents: Agents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[str] = []
    read = AgentFiles.read

    async def spy(self: AgentFiles, params: dict[str, Any]) -> dict[str, Any]:
        served.append(params["path"])
        return await read(self, params)

    monkeypatch.setattr(AgentFiles, "read", spy)
    (agents.cwd / "in.txt").write_text("inside\n")
    env = agents.settings.agents["parley"]["env"]
    env["PARLEY_SCRIPT"] = script(
        tmp_path / "one.json",
        [{"type": "tool_call", "name": "read_file", "input": {"path": "in.txt"}}],
        [{"type": "text", "text": "Read."}],
    )
    session_id = agents.session("parley")
    events = Events()
    result, _ = await submit(agents.service, session_id, "read it", events=events)
    assert result.reply == "Read.", result
    assert served == [str(agents.cwd / "in.txt")]
    (done,) = events.of("tool/completed")
    assert "inside" in done["output"]


async def test_an_acp_agent_faster_than_the_store_waits_for_it(
    agents: Agents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent's messages are read no faster than the store takes their events: the rest
    wait in its pipe, not in this process's memory."""
    env = agents.settings.agents["parley"]["env"]
    env["PARLEY_SCRIPT"] = script(tmp_path / "flood.json", [{"type": "text", "text": "w " * 3000}])
    monkeypatch.setattr(hub, "STORE_BACKLOG_LIMIT", 200)
    session_id = agents.session("parley")
    (result, _), peak = await backlog_peak(
        agents.service, monkeypatch, lambda: submit(agents.service, session_id, "go")
    )
    assert result.stop_reason == "end_turn", result
    assert result.reply == "w " * 3000
    assert 200 <= peak < 210
