"""Gemini CLI over ACP as a session's agent: the real `gemini --acp` against a fake Gemini API,
driven through the engine service with approvals answered by a stand-in host."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from parley.agents.acp_files import AgentFiles
from parley.core.errors import ErrorCode
from tests.agents.conftest import Agents, base_env, cli
from tests.agents.fake_gemini import FakeGemini, call, reply, text, thought
from tests.engine_turns import Events, Host, submit
from tests.providers.fake_server import Received, Reply

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


def said(request: Received) -> str:
    """Every text part the request's conversation holds."""
    contents = request.body.get("contents") or []
    return "\n".join(p.get("text", "") for c in contents for p in c.get("parts") or [])


async def test_resume_in_a_later_process_and_a_fork_remember_the_conversation(
    agents: Agents, gemini: FakeGemini
) -> None:
    """Gemini CLI 0.61's session/load fails within the minute its session started (its new
    record lands in the same file and hides the old one), and it has no session/fork: either
    way the agent gets a new session whose first prompt carries the conversation so far."""
    gemini.script(reply(text("one")), reply(text("two")), reply(text("three")), reply(text("f")))
    session_id = agents.session("gemini")
    assert (await submit(agents.service, session_id, "first question"))[0].reply == "one"
    first_agent_session = agents.store.load_session(session_id).agent_session  # type: ignore[union-attr]

    await agents.restart()  # a new Parley process
    result, _ = await submit(agents.service, session_id, "second question")
    assert result.reply == "two", result
    resumed = said(gemini.turns()[-1])
    assert "first question" in resumed
    assert "one" in resumed
    assert "second question" in resumed
    record = agents.store.load_session(session_id)
    assert record is not None
    assert record.agent_session
    if record.agent_session != first_agent_session:  # not loaded: told the conversation, once
        assert resumed.count("<earlier_conversation>") == 1

    # The next turn goes on in the same agent session: the conversation is not told again.
    assert (await submit(agents.service, session_id, "third question"))[0].reply == "three"
    later = said(gemini.turns()[-1])
    assert "third question" in later
    assert later.count("first question") == 1

    fork = agents.service.fork_session(session_id, None, None)
    result, _ = await submit(agents.service, fork.session_id, "in the fork")
    assert result.reply == "f", result
    forked = said(gemini.turns()[-1])
    assert "third question" in forked
    assert "three" in forked
    assert "in the fork" in forked
    assert agents.store.load_session(session_id).agent_session == record.agent_session  # type: ignore[union-attr]
    assert agents.store.load_session(fork.session_id).agent_session not in (  # type: ignore[union-attr]
        None,
        record.agent_session,
    )


async def test_files_are_read_and_written_through_parley(
    agents: Agents, gemini: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gemini reads a file before it overwrites it (to show the diff): that read is Parley's
    fs/read_text_file. A file that does not exist yet is created: Gemini understood the answer."""
    served: list[tuple[str, dict[str, Any]]] = []
    read = AgentFiles.read

    async def spy(self: AgentFiles, params: dict[str, Any]) -> dict[str, Any]:
        answer = await read(self, params)
        served.append((params["path"], answer))
        return answer

    monkeypatch.setattr(AgentFiles, "read", spy)
    existing = agents.cwd / "old.txt"
    existing.write_text("before\n")
    fresh = agents.cwd / "sub" / "new.txt"
    gemini.script(
        reply(call("write_file", file_path=str(existing), content="after\n")),
        reply(call("write_file", file_path=str(fresh), content="new\n")),
        reply(text("Both written.")),
    )
    session_id = agents.session("gemini", mode="allow")
    events = Events()
    result, _ = await submit(agents.service, session_id, "write both", events=events)
    assert result.reply == "Both written.", result
    assert existing.read_text() == "after\n"
    assert fresh.read_text() == "new\n"
    done = events.of("tool/completed")
    assert len(done) == 2
    assert not any(d["isError"] for d in done), done
    assert (str(existing), {"content": "before\n"}) in served
    assert (str(fresh), {"content": ""}) in served  # what Gemini CLI takes for "no such file"


async def test_additional_directories_reach_gemini(
    agents: Agents, gemini: FakeGemini, tmp_path: Path
) -> None:
    """Gemini CLI refuses paths outside its workspace; the session's additional directories
    are in it (`--include-directories`)."""
    extra = tmp_path / "extra"
    extra.mkdir()
    target = extra / "x.txt"
    gemini.script(
        reply(call("write_file", file_path=str(target), content="x\n")), reply(text("Done."))
    )
    session_id = agents.session("gemini", mode="allow", additional_directories=[str(extra)])
    events = Events()
    result, _ = await submit(agents.service, session_id, "write there", events=events)
    assert result.reply == "Done.", result
    assert target.read_text() == "x\n"
    (done,) = events.of("tool/completed")
    assert not done["isError"], done
