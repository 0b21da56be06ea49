"""Amp as a session's agent, against a stand-in `amp` that replays recorded stream-json
(tests/agents/amp_standin.py): Amp itself only talks to Amp's service."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from parley.core.errors import ErrorCode
from parley.engine import hub
from tests.agents.conftest import HEADER_TOKEN, MCP_TOKEN, Agents, McpServers, base_env
from tests.engine_turns import Events, backlog_peak, submit

STANDIN = Path(__file__).with_name("amp_standin.py")
SECRET = "amp-test-5ecret"


class Amp:
    def __init__(self, tmp_path: Path) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        executable = self.bin / "amp"
        executable.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN}" "$@"\n')
        executable.chmod(0o755)
        self.log = tmp_path / "amp-calls.jsonl"

    def calls(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def amp(tmp_path: Path) -> Amp:
    return Amp(tmp_path)


@pytest.fixture
async def agents(tmp_path: Path, amp: Amp) -> AsyncIterator[Agents]:
    home = tmp_path / "home"
    env = base_env(home)
    env.update(PATH=f"{amp.bin}:{env['PATH']}", AMP_API_KEY=SECRET, AMP_STANDIN_LOG=str(amp.log))
    (home / ".config" / "amp").mkdir(parents=True)
    user_settings = {"amp.mcpServers": {"docs": {"command": "docs-mcp"}}}
    (home / ".config" / "amp" / "settings.json").write_text(json.dumps(user_settings))
    made = Agents(
        tmp_path,
        env,
        rules=[{"tool": "Bash", "match": {"command": "git push*"}, "action": "deny"}],
    )
    yield made
    await made.close()


async def test_a_turn_from_amps_stream_then_the_thread_is_continued(
    agents: Agents, amp: Amp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "parley.agents")
    session_id = agents.session("amp", mode="accept-edits", model="high")
    events = Events()
    result, _ = await submit(agents.service, session_id, "edit the readme", events=events)

    assert result.stop_reason == "end_turn", result
    assert result.reply == "Adding a title.\n\nDone."
    assert "".join(e["text"] for e in events.of("thinking/delta")) == "The README needs a title."
    (started,) = events.of("tool/started")
    assert started["name"] == "edit_file"
    assert started["kind"] == "edit"
    (done,) = events.of("tool/completed")
    assert done["output"] == "Edited README.md"
    assert not done["isError"]
    assert result.usage.input_tokens == 3320
    assert result.usage.cache_read_tokens == 1600
    thread = agents.store.load_session(session_id).agent_session  # type: ignore[union-attr]
    assert thread is not None
    assert thread.startswith("T-")
    assert "stderr" not in json.dumps(events.items)  # its stderr is logged, never shown
    assert "amp stderr: amp: starting with key **** (stderr" in caplog.text
    assert "a stray line on stdout" in caplog.text
    assert SECRET not in caplog.text

    (call,) = amp.calls()
    assert call["argv"][:3] == ["-x", "--stream-json-thinking", "--stream-json-input"]
    assert "--mode=high" in call["argv"]
    assert call["settings_mode"] == "0o600"
    settings = call["settings"]
    assert settings["amp.mcpServers"] == {"docs": {"command": "docs-mcp"}}  # the user's kept
    assert settings["amp.dangerouslyAllowAll"] is False
    rules = settings["amp.permissions"]
    assert rules[0] == {"tool": "Bash", "action": "reject", "matches": {"cmd": "git push*"}}
    assert {"tool": "edit_file", "action": "allow"} in rules
    assert {"tool": "Bash", "action": "allow"} not in rules
    assert rules[-1] == {"tool": "*", "action": "reject"}

    await agents.restart()
    result, _ = await submit(agents.service, session_id, "and now?")
    assert result.reply == "Still here."
    assert amp.calls()[-1]["argv"][:3] == ["threads", "continue", thread]


async def test_modes_that_need_a_person_are_refused_before_amp_starts(
    agents: Agents, amp: Amp
) -> None:
    session_id = agents.session("amp", mode="ask")
    result, _ = await submit(agents.service, session_id, "edit the readme")
    assert result.stop_reason == "error"
    assert result.error is not None
    assert result.error.code == ErrorCode.INVALID_PARAMS
    assert "cannot ask for approval" in result.error.message
    assert not amp.log.exists()

    allowed = agents.session("amp", mode="allow")
    assert (await submit(agents.service, allowed, "edit the readme"))[0].stop_reason == "end_turn"
    assert amp.calls()[-1]["settings"]["amp.dangerouslyAllowAll"] is True


async def test_cancel_stops_amp_and_a_crash_ends_the_turn_with_an_error(
    agents: Agents, amp: Amp
) -> None:
    session_id = agents.session("amp", mode="deny")
    events = Events()
    turn = asyncio.create_task(
        submit(agents.service, session_id, "run something long", events=events)
    )
    while not events.of("tool/started"):
        await asyncio.sleep(0.02)
    assert agents.service.cancel_turn(session_id)
    result, _ = await asyncio.wait_for(turn, 15)
    assert result.stop_reason == "cancelled"
    assert events.of("tool/completed")[0]["isError"]  # closed, not left open

    events = Events()
    result, _ = await submit(agents.service, session_id, "crash", events=events)
    assert result.stop_reason == "error"
    assert result.reply == "Partial"  # what was shown is kept
    assert result.error is not None
    assert "exited with status 137" in result.error.message
    assert (await submit(agents.service, session_id, "and now?"))[0].reply == "Still here."


async def test_parleys_mcp_servers_join_the_users_in_amps_settings(
    tmp_path: Path, amp: Amp, mcp: McpServers
) -> None:
    home = tmp_path / "home"
    env = {**base_env(home), **mcp.env}
    env.update(PATH=f"{amp.bin}:{env['PATH']}", AMP_API_KEY=SECRET, AMP_STANDIN_LOG=str(amp.log))
    (home / ".config" / "amp").mkdir(parents=True)
    user_settings = {"amp.mcpServers": {"docs": {"command": "docs-mcp"}}}
    (home / ".config" / "amp" / "settings.json").write_text(json.dumps(user_settings))
    agents = Agents(tmp_path, env, **mcp.settings)
    try:
        session_id = agents.session("amp", mode="allow", mcp_servers=mcp.session)
        result, _ = await submit(agents.service, session_id, "edit the readme")
    finally:
        await agents.close()

    assert result.stop_reason == "end_turn", result
    (call,) = amp.calls()
    assert call["settings_mode"] == "0o600"
    servers = call["settings"]["amp.mcpServers"]
    assert servers["docs"] == {"command": "docs-mcp"}  # the user's own stays
    assert servers["web"] == {"url": mcp.url, "headers": {"Authorization": HEADER_TOKEN}}
    fake = servers["fake"]
    assert fake["env"] == {"FAKE_TOKEN": MCP_TOKEN}  # ${VAR} taken from Parley's environment
    # Amp starts it in the session's directory: it goes to its own first.
    assert fake["command"] == sys.executable
    assert fake["args"][2:4] == [str(mcp.directory), sys.executable]
    settings_file = next(a for a in call["argv"] if a.startswith("--settings-file="))
    assert not Path(settings_file.split("=", 1)[1]).exists()  # gone with the turn


async def test_an_agent_faster_than_the_store_waits_for_it_instead_of_filling_memory(
    agents: Agents, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub, "STORE_BACKLOG_LIMIT", 200)
    session_id = agents.session("amp", mode="accept-edits")
    (result, _), peak = await backlog_peak(
        agents.service, monkeypatch, lambda: submit(agents.service, session_id, "flood")
    )
    assert result.stop_reason == "end_turn", result
    assert result.reply == "word " * 3000
    assert 200 <= peak < 210  # one agent message's events past the limit at most
