"""Gemini CLI over ACP as a session's agent: the real `gemini --acp` against a fake Gemini API,
driven through the engine service with approvals answered by a stand-in host."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from parley.core.errors import ErrorCode
from tests.agents.conftest import Agents, base_env, cli
from tests.agents.fake_gemini import FakeGemini, call, reply, text, thought
from tests.engine_turns import Events, Host, submit
from tests.providers.fake_server import Reply

SECRET = "gemini-test-5ecret"


@pytest.fixture
def gemini() -> Iterator[FakeGemini]:
    fake = FakeGemini().start()
    yield fake
    fake.stop()


@pytest.fixture
async def agents(tmp_path: Path, gemini: FakeGemini) -> AsyncIterator[Agents]:
    cli("gemini")
    home = tmp_path / "home"
    env = base_env(home)
    (home / ".gemini").mkdir()
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}}
    }
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
    env.update(GOOGLE_GEMINI_BASE_URL=gemini.url, GEMINI_API_KEY=SECRET)
    made = Agents(tmp_path, env)
    yield made
    await made.close()


async def test_a_turn_with_an_edit_approved_through_parley(
    agents: Agents, gemini: FakeGemini
) -> None:
    target = agents.cwd / "g.txt"
    gemini.script(
        reply(
            thought("Plan the file."),
            text("Writing."),
            call("write_file", file_path=str(target), content="hi\n"),
        ),
        reply(text("Done.")),
    )
    session_id = agents.session("gemini")
    events, host = Events(), Host("allow_once")
    result, _ = await submit(agents.service, session_id, "write g.txt", port=host, events=events)

    assert result.stop_reason == "end_turn", result
    assert result.reply == "Writing.\n\nDone."
    assert target.read_text() == "hi\n"
    assert "Plan the file." in "".join(e["text"] for e in events.of("thinking/delta"))
    (question,) = host.questions
    assert question.tool == "edit"
    (started,) = events.of("tool/started")
    assert started["kind"] == "edit"
    assert started["toolCallId"] == question.tool_call_id
    (done,) = events.of("tool/completed")
    assert not done["isError"]
    assert result.usage.input_tokens > 0
    assert agents.store.load_session(session_id).agent_session  # type: ignore[union-attr]
    assert SECRET not in str(events.items)


async def test_a_rejected_edit_is_not_made_and_cancel_stops_the_turn(
    agents: Agents, gemini: FakeGemini
) -> None:
    target = agents.cwd / "no.txt"
    gemini.script(
        reply(call("write_file", file_path=str(target), content="x")),
        reply(text("Left alone.")),
        Reply(hang=True),
        reply(text("Still here.")),
    )
    session_id = agents.session("gemini")
    events = Events()
    result, _ = await submit(
        agents.service, session_id, "write it", port=Host("reject_once"), events=events
    )
    assert not target.exists()
    assert result.reply == "Left alone."
    (done,) = events.of("tool/completed")
    assert done["isError"]
    assert "rejected" in done["output"]

    asked = len(gemini.turns())
    turn = asyncio.create_task(submit(agents.service, session_id, "wait"))
    while len(gemini.turns()) <= asked:
        await asyncio.sleep(0.02)
    assert agents.service.cancel_turn(session_id)
    result, _ = await asyncio.wait_for(turn, 30)
    assert result.stop_reason == "cancelled"
    assert result.error is not None
    assert result.error.code == ErrorCode.CANCELLED
    result, _ = await submit(agents.service, session_id, "are you there")
    assert result.reply == "Still here."


async def test_resume_in_a_later_process_fails_clearly_and_a_fork_is_refused(
    agents: Agents, gemini: FakeGemini
) -> None:
    """Gemini CLI 0.61 advertises session/load, but loading overwrites the session's own file
    before reading it ("No previous sessions found"): the turn says so instead of going on
    without the conversation. An agent whose load works is resumed the same way."""
    gemini.script(reply(text("one")))
    session_id = agents.session("gemini")
    assert (await submit(agents.service, session_id, "first"))[0].reply == "one"
    await agents.restart()
    result, _ = await submit(agents.service, session_id, "second")
    assert result.stop_reason == "error"
    assert result.error is not None
    assert "session/load failed" in result.error.message
    assert result.error.recoverable

    fork = agents.service.fork_session(session_id, None, None)
    result, _ = await submit(agents.service, fork.session_id, "in the fork")
    assert result.error is not None
    assert "cannot fork" in result.error.message
