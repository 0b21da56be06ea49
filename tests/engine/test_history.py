"""History repair keeps every provider's conversation rules, whatever interrupted a turn."""

from __future__ import annotations

from parley.core.messages import Message, TextBlock, ToolResultBlock, ToolUseBlock
from parley.engine.history import INTERRUPTED, repair


def test_tool_calls_without_results_get_interrupted_results_before_the_next_prompt() -> None:
    history = [
        Message("user", (TextBlock("fix it"),)),
        Message("assistant", (ToolUseBlock("c1", "bash", {"command": "make"}),)),
        Message("user", (TextBlock("still there?"),)),
    ]
    fixed = repair(history)
    assert [m.role for m in fixed] == ["user", "assistant", "user"]
    assert fixed[2].content == (ToolResultBlock("c1", INTERRUPTED, True), TextBlock("still there?"))


def test_answered_calls_and_alternating_roles_are_left_alone() -> None:
    history = [
        Message("user", (TextBlock("a"),)),
        Message("assistant", (ToolUseBlock("c1", "read_file", {"path": "x"}),)),
        Message("user", (ToolResultBlock("c1", "ok"),)),
        Message("assistant", (TextBlock("done"),)),
    ]
    assert repair(history) == history


def test_neighbours_with_the_same_role_are_merged_and_trailing_calls_answered() -> None:
    history = [
        Message("user", (TextBlock("a"),)),
        Message("user", (TextBlock("b"),)),
        Message("assistant", (TextBlock("partial"),)),
        Message("assistant", (ToolUseBlock("c2", "grep", {"pattern": "x"}),)),
    ]
    fixed = repair(history)
    assert fixed[0] == Message("user", (TextBlock("a"), TextBlock("b")))
    assert fixed[1].role == "assistant"
    assert len(fixed[1].content) == 2
    assert fixed[2] == Message("user", (ToolResultBlock("c2", INTERRUPTED, True),))
