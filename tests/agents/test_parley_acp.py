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

from tests.agents.conftest import Agents, base_env
from tests.engine_turns import Events, Host, submit


def script(path: Path, *responses: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"responses": list(responses)}))
    return str(path)


@pytest.fixture
async def agents(tmp_path: Path) -> AsyncIterator[Agents]:
    inner = tmp_path / "inner"
    inner.mkdir()
    table = {
        "command": [sys.executable, "-m", "parley", "acp"],
        "env": {
            "PARLEY_HOME": str(inner / "data"),
            "PARLEY_CONFIG_DIR": str(inner / "config"),
            "PARLEY_PROVIDER": "scripted",
        },
    }
    made = Agents(tmp_path, base_env(tmp_path / "home"), agents={"parley": table})
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
