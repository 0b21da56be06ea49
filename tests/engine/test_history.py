"""History repair keeps every provider's conversation rules, whatever interrupted a turn."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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


def _one_at_a_time(messages: list[Message]) -> list[Message]:
    """The reference: merge each message into the one before as it comes (quadratic)."""
    out: list[Message] = []
    pending: list[ToolUseBlock] = []

    def add(message: Message) -> None:
        if not message.content:
            return
        if out and out[-1].role == message.role:
            merged = out[-1].content + message.content
            if message.role == "user":
                merged = tuple(sorted(merged, key=lambda b: not isinstance(b, ToolResultBlock)))
            out[-1] = Message(message.role, merged)
        else:
            out.append(message)

    for message in messages:
        if pending:
            ids = {b.tool_use_id for b in message.content if isinstance(b, ToolResultBlock)}
            missing = [c for c in pending if message.role != "user" or c.id not in ids]
            if missing:
                add(
                    Message(
                        "user", tuple(ToolResultBlock(c.id, INTERRUPTED, True) for c in missing)
                    )
                )
            pending = []
        add(message)
        if message.role == "assistant":
            pending = message.tool_uses()
    if pending:
        add(Message("user", tuple(ToolResultBlock(c.id, INTERRUPTED, True) for c in pending)))
    return out


_blocks = st.one_of(
    st.builds(TextBlock, st.sampled_from(["a", "b", "c"])),
    st.builds(lambda i: ToolUseBlock(f"c{i}", "bash", {}), st.integers(0, 5)),
    st.builds(lambda i: ToolResultBlock(f"c{i}", "ok"), st.integers(0, 5)),
)
_messages = st.lists(
    st.builds(
        Message, st.sampled_from(["user", "assistant"]), st.lists(_blocks, max_size=4).map(tuple)
    ),
    max_size=30,
)


@given(_messages)
def test_repair_merges_as_if_one_message_at_a_time(messages: list[Message]) -> None:
    assert repair(messages) == _one_at_a_time(messages)


def test_a_long_run_of_one_role_is_merged_in_order() -> None:
    prompts = [Message("user", (TextBlock(str(i)),)) for i in range(20_000)]
    (merged,) = repair(prompts)
    assert [b.text for b in merged.content] == [str(i) for i in range(20_000)]  # type: ignore[union-attr]
