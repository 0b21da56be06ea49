"""A session past a small context window keeps working: outputs trimmed, then summarised."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args

from parley.config import load_settings
from parley.core.messages import Message, TextBlock, ToolResultBlock, ToolUseBlock, user_text
from parley.engine.compaction import SUMMARY_PREFIX, SUMMARY_SYSTEM, choose_cut, removed_note
from parley.engine.service import Service
from parley.engine.session import Session
from parley.protocol import types as wire
from parley.protocol.codec import structure
from parley.providers.base import ModelRequest, StreamEvent
from parley.providers.scripted import ScriptedProvider, load_script
from parley.store.memory import MemoryStore
from tests.engine_turns import Events, submit

WINDOW = 10_000  # tokens: compaction starts past 32,000 characters and aims for 20,000
EVENT_TYPES: dict[str, type[Any]] = {cls.method: cls for cls in get_args(wire.Event)}


class RecordingScripted(ScriptedProvider):
    """The scripted provider, keeping every request it was sent."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.requests: list[ModelRequest] = []

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        self.requests.append(request)
        async for event in super().stream(request):
            yield event


class Harness:
    def __init__(self, tmp_path: Path, responses: list[list[dict[str, Any]]]) -> None:
        self.project = tmp_path / "project"
        self.project.mkdir()
        config = tmp_path / "config"
        (config / "profiles").mkdir(parents=True)
        # One tool keeps the fixed part of each request small and known.
        (config / "profiles" / "lean.toml").write_text('allowed_tools = ["read_file"]\n')
        script = tmp_path / "script.json"
        script.write_text(json.dumps({"responses": responses}))
        self.settings = load_settings(
            env={
                "PARLEY_CONFIG_DIR": str(config),
                "PARLEY_CONFIG": str(config / "config.toml"),
                "PARLEY_PROVIDER": "scripted",
                "PARLEY_SCRIPT": str(script),
                "PARLEY_PROFILE": "lean",
                "PARLEY_CONTEXT_WINDOW": str(WINDOW),
            }
        )
        self.store = MemoryStore()
        self.recorded = Events()
        self.service = Service(self.settings, self.store)
        session_id = self.service.create_session(
            wire.SessionCreateParams(cwd=str(self.project))
        ).session_id
        self.session: Session = self.service._session(session_id)
        self.provider = RecordingScripted(self.session.provider.config, load_script(script))
        self.session.provider = self.provider

    @property
    def events(self) -> list[wire.Event]:
        """Every event the session published, in order, as the engine's event types."""
        return [structure(params, EVENT_TYPES[m]) for m, params in self.recorded.items]

    async def turn(self, prompt: str) -> wire.TurnResult:
        result, _ = await submit(self.service, self.session.id, prompt, events=self.recorded)
        return result

    def progress(self, stage: str) -> list[wire.Progress]:
        return [e for e in self.events if isinstance(e, wire.Progress) and e.stage == stage]

    def stored(self) -> list[Message]:
        return [m.message for m in self.store.load_messages(self.session.id)]


def text(chars: int, word: str = "word") -> str:
    return (f"{word} " * (chars // (len(word) + 1) + 1))[:chars]


def read(path: str) -> dict[str, Any]:
    return {"type": "tool_call", "name": "read_file", "input": {"path": path}}


def results(messages: list[Message]) -> list[ToolResultBlock]:
    return [b for m in messages for b in m.content if isinstance(b, ToolResultBlock)]


async def test_old_tool_outputs_are_trimmed_first_and_the_latest_kept(tmp_path: Path) -> None:
    files = [f"f{i}.txt" for i in range(5)]
    h = Harness(tmp_path, [[read(f)] for f in files] + [[{"type": "text", "text": "Done."}]])
    for i, name in enumerate(files):  # about 7,000 characters of read_file output each
        (h.project / name).write_text("".join(f"{i}{text(98)}\n" for _ in range(70)))

    result = await h.turn("Read all five files.")

    assert (result.stop_reason, result.reply) == ("end_turn", "Done.")
    [compacting] = h.progress("compacting")
    [compacted] = h.progress("compacted")
    assert compacting.data is not None
    assert compacting.data["contextWindow"] == WINDOW
    assert compacted.data is not None
    assert compacted.data["method"] == "tool_outputs"
    assert compacted.data["trimmedOutputs"] == 2
    assert compacted.data["removedMessages"] == 0
    assert compacted.data["tokensAfter"] < compacted.data["tokensBefore"]
    # It happened before the last request, and no summary was asked for.
    assert len(h.provider.requests) == 6
    assert h.events.index(compacted) < h.events.index(h.progress("model_request")[-1])

    outputs = results(h.stored())
    assert [o.content.startswith("[output removed to save context: ") for o in outputs] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert outputs[0].content == removed_note(
        len(results(h.provider.requests[1].messages)[0].content)
    )
    # What the model got last is the compacted history, and the store holds the same.
    assert results(h.provider.requests[-1].messages) == outputs
    assert h.stored() == h.session.history


async def test_past_the_window_without_tool_outputs_the_model_summarises(tmp_path: Path) -> None:
    h = Harness(
        tmp_path,
        [
            [{"type": "text", "text": text(20_000, "alpha")}],
            [{"type": "text", "text": text(20_000, "beta")}],
            [{"type": "text", "text": "SUMMARY: asked twice, answered at length."}],
            [{"type": "text", "text": "Third answer."}],
        ],
    )
    await h.turn("first question")
    await h.turn("second question")
    assert h.progress("compacting") == []

    third = await h.turn("third question")

    assert third.reply == "Third answer."
    [compacted] = h.progress("compacted")
    assert compacted.data is not None
    assert compacted.data["method"] == "summary"
    assert compacted.data["removedMessages"] == 4
    assert compacted.data["removedChars"] > 35_000

    summary_request = h.provider.requests[2]
    assert summary_request.system == SUMMARY_SYSTEM
    assert summary_request.tools == ()
    [ask] = summary_request.messages
    assert "[user] first question" in ask.text
    assert "[assistant] alpha alpha" in ask.text
    assert "[user] second question" in ask.text
    assert "third question" not in ask.text  # the current prompt stays word for word

    summary = SUMMARY_PREFIX + "SUMMARY: asked twice, answered at length."
    assert h.provider.requests[3].messages == [
        Message("user", (TextBlock(summary), TextBlock("third question")))
    ]
    turn_id = third.turn_id
    assert [(m.turn_id, m.message) for m in h.store.load_messages(h.session.id)] == [
        (turn_id, user_text(summary)),
        (turn_id, user_text("third question")),
        (turn_id, Message("assistant", (TextBlock("Third answer."),))),
    ]
    # The host never sees the summary as reply text; it pays for it in usage.
    deltas = "".join(e.text for e in h.events if isinstance(e, wire.ResultDelta))
    assert "SUMMARY:" not in deltas
    usage_reports = [e for e in h.events if isinstance(e, wire.UsageReport)]
    assert len(usage_reports) == 4  # three replies and the summary
    assert third.usage.input_tokens == sum(u.input_tokens for u in usage_reports[-2:])

    # session/get shows the summary, and a restarted engine resumes from the compacted history.
    detail = h.service.session_detail(h.session.id, limit=None)
    assert detail.messages[0].content[0]["text"] == summary
    reloaded = Service(h.settings, h.store)._session(h.session.id)
    assert reloaded.history == h.session.history


async def test_in_one_long_turn_the_prompt_follows_the_summary_and_tool_pairs_stay_whole(
    tmp_path: Path,
) -> None:
    steps = [
        [{"type": "text", "text": text(8_000, f"step{i}")}, read("small.txt")] for i in range(4)
    ]
    h = Harness(
        tmp_path,
        [
            *steps,
            [{"type": "text", "text": "Summary of steps 0 to 2."}],
            [{"type": "text", "text": "All done."}],
        ],
    )
    (h.project / "small.txt").write_text("tiny\n")

    result = await h.turn("Do the long job.")

    assert result.reply.endswith("All done.")
    [compacted] = h.progress("compacted")
    assert compacted.data is not None
    assert compacted.data["method"] == "summary"
    history = h.session.history
    assert history[0] == user_text(SUMMARY_PREFIX + "Summary of steps 0 to 2.")
    assert history[1] == user_text("Do the long job.")
    last_call = history[2]
    assert last_call.role == "assistant"
    assert last_call.text.startswith("step3")
    [use] = last_call.tool_uses()
    assert history[3] == Message("user", (ToolResultBlock(use.id, "1\ttiny"),))
    assert history[4] == Message("assistant", (TextBlock("All done."),))
    assert h.stored() == history


async def test_a_failed_summary_is_reported_and_the_turn_goes_on(tmp_path: Path) -> None:
    h = Harness(
        tmp_path,
        [
            [{"type": "text", "text": text(40_000)}],
            [{"type": "error", "message": "overloaded"}],
            [{"type": "text", "text": "Still here."}],
        ],
    )
    await h.turn("one")
    result = await h.turn("two")

    assert (result.stop_reason, result.reply) == ("end_turn", "Still here.")
    [compacted] = h.progress("compacted")
    assert compacted.data is not None
    assert (compacted.data["method"], compacted.data["error"]) == ("none", "overloaded")
    assert compacted.message == "nothing could be compacted (summary failed: overloaded)"
    assert h.stored() == h.session.history
    assert len(h.session.history) == 4


def test_the_cut_never_separates_a_tool_call_from_its_result() -> None:
    big = "x" * 1_000
    call = Message("assistant", (TextBlock(big), ToolUseBlock("c1", "grep", {})))
    answer = Message("user", (ToolResultBlock("c1", big),))
    history = [user_text("go"), call, answer, call, answer]
    # Keeping 1,500 chars would cut between the last call and its result: the pair stays whole.
    assert choose_cut(history, 1_500) == 3
    assert choose_cut(history, 10_000) == 1
    assert choose_cut([user_text("only")], 10) is None
    assert choose_cut([user_text("go"), call, answer], 10) == 1
