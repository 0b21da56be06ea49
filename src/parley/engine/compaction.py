"""Keeping a long session inside the model's context window.

Before each model request the engine estimates the request's size (engine/estimate.py).
Past COMPACT_AT of the window the history is compacted, in two stages:

1. The oldest tool outputs are replaced by a short note, until the request is under TARGET of
   the window; the latest KEEP_TOOL_OUTPUTS outputs stay whole.
2. If the request is still past COMPACT_AT, the session's model summarises the older part of
   the conversation in a separate request without tools, and one user message holding that
   summary replaces it. The turn's prompt and the recent messages stay word for word; a tool
   call is never separated from its result.

The compacted history replaces the stored one, and the host sees `progress` events with stage
`compacting`, then `compacted` (with what was done in `data`), which are stored like any other.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

import attrs

from parley.core.errors import ErrorCode, ParleyError
from parley.core.estimate import CHARS_PER_TOKEN, message_chars, request_overhead_chars
from parley.core.messages import (
    ImageBlock,
    Message,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    user_text,
)
from parley.engine.session import Session
from parley.protocol import types as wire
from parley.providers.base import Completion, ModelRequest, Usage
from parley.store.records import StoredMessage

log = logging.getLogger(__name__)

DEFAULT_CONTEXT_WINDOW = 128_000  # when the provider config does not say
COMPACT_AT = 0.8
TARGET = 0.5
KEEP_TOOL_OUTPUTS = 3
MIN_TRIM_CHARS = 200  # shorter outputs are not worth replacing with a note
RECENT_SHARE = 0.25  # of the window, kept word for word after a summary
SUMMARY_MAX_TOKENS = 2_048
TRANSCRIPT_BLOCK_CHARS = 2_000  # of one block, in the text the summariser reads
SUMMARY_PREFIX = "Summary of the earlier conversation: "
SUMMARY_SYSTEM = (
    "You write summaries of conversations between a user and a software engineering agent. "
    "The agent will continue the work with your summary in place of the conversation, so it "
    "must hold everything needed to carry on."
)
SUMMARY_INSTRUCTION = (
    "Summarise the conversation below for the agent that will continue it. Keep the user's "
    "requests and constraints, decisions made, files read or changed (with paths), commands "
    "run and their outcomes, errors met, and what remains to be done. Be specific and brief, "
    "and add nothing that is not in the conversation."
)


def removed_note(chars: int) -> str:
    return f"[output removed to save context: {chars} chars]"


@attrs.define
class _Plan:
    """The history being compacted, and what has been done to it."""

    messages: list[StoredMessage]
    limit_chars: int  # past this, compact
    target_chars: int  # compact down to this
    overhead_chars: int
    trimmed_outputs: int = 0
    summarized_messages: int = 0

    @property
    def chars(self) -> int:
        return self.overhead_chars + sum(message_chars(m.message) for m in self.messages)


async def compact_if_needed(
    session: Session, turn_id: str, account: Callable[[Usage], None]
) -> None:
    """Compact the session's history if the next request would be too close to the window.

    `account` receives the usage of the summary request, if one is made.
    """
    window = session.provider.config.context_window or DEFAULT_CONTEXT_WINDOW
    overhead = request_overhead_chars(session.system_prompt, [t.spec() for t in session.tools])
    before = overhead + sum(message_chars(m) for m in session.history)
    limit = int(window * COMPACT_AT) * CHARS_PER_TOKEN
    if before <= limit:
        return
    session.publish(
        turn_id,
        wire.Progress(
            "compacting",
            f"the conversation is near the model's context window "
            f"(about {before // CHARS_PER_TOKEN} of {window} tokens); compacting it",
            {"tokens": before // CHARS_PER_TOKEN, "contextWindow": window},
        ),
    )
    target = int(window * TARGET) * CHARS_PER_TOKEN
    plan = _Plan(await _stored_history(session, turn_id), limit, target, overhead)
    trim_tool_outputs(plan)
    error: str | None = None
    if plan.chars > plan.limit_chars:
        try:
            await summarize(session, turn_id, plan, window, account)
        except ParleyError as exc:  # the turn goes on; the request may still fit
            log.warning("summarising session %s failed: %s", session.id, exc.message)
            error = exc.message
    after = plan.chars
    if plan.trimmed_outputs or plan.summarized_messages:
        session.store.replace_messages(session.id, plan.messages)
        session.history[:] = [m.message for m in plan.messages]
    method = (
        "summary"
        if plan.summarized_messages
        else "tool_outputs"
        if plan.trimmed_outputs
        else "none"
    )
    data: dict[str, object] = {
        "method": method,
        "removedChars": before - after,
        "removedMessages": plan.summarized_messages,
        "trimmedOutputs": plan.trimmed_outputs,
        "tokensBefore": before // CHARS_PER_TOKEN,
        "tokensAfter": after // CHARS_PER_TOKEN,
        "contextWindow": window,
    }
    if error is not None:
        data["error"] = error
    session.publish(turn_id, wire.Progress("compacted", _describe(plan, error), data))


async def _stored_history(session: Session, turn_id: str) -> list[StoredMessage]:
    """The history with each message's turn id, as the store has it (read on a worker
    thread: a history long enough to compact takes a while to build)."""
    stored = await session.store.read_history(session.id)
    if [m.message for m in stored] == session.history:
        return stored
    log.warning("session %s: stored history differs from memory; compacting memory's", session.id)
    return [StoredMessage(turn_id, m) for m in session.history]


def _describe(plan: _Plan, error: str | None) -> str:
    done = []
    if plan.trimmed_outputs:
        done.append(f"removed {plan.trimmed_outputs} old tool outputs")
    if plan.summarized_messages:
        done.append(f"summarised {plan.summarized_messages} earlier messages")
    text = "; ".join(done) or "nothing could be compacted"
    return f"{text} (summary failed: {error})" if error else text


def trim_tool_outputs(plan: _Plan) -> None:
    """Replace the oldest tool outputs by a note until the history is under the target."""
    results = [
        (i, j, block)
        for i, stored in enumerate(plan.messages)
        for j, block in enumerate(stored.message.content)
        if isinstance(block, ToolResultBlock)
    ]
    chars = plan.chars
    for i, j, block in results[: max(0, len(results) - KEEP_TOOL_OUTPUTS)]:
        if chars <= plan.target_chars:
            return
        if len(block.content) < MIN_TRIM_CHARS:
            continue
        note = removed_note(len(block.content))
        stored = plan.messages[i]
        content = list(stored.message.content)
        content[j] = attrs.evolve(block, content=note)
        plan.messages[i] = StoredMessage(stored.turn_id, Message("user", tuple(content)))
        plan.trimmed_outputs += 1
        chars -= len(block.content) - len(note)


def choose_cut(messages: Sequence[Message], keep_chars: int) -> int | None:
    """Where the part to summarise ends: messages[cut:] stay word for word.

    The cut never falls between an assistant's tool calls and their results. The kept part is
    at most `keep_chars` long, but always holds the latest exchange. None: no valid cut.
    """
    cut = None
    kept = 0
    for i in range(len(messages) - 1, 0, -1):
        kept += message_chars(messages[i])
        if kept > keep_chars and cut is not None:
            break
        if not messages[i - 1].tool_uses():
            cut = i
    return cut


def _is_prompt(message: Message) -> bool:
    return message.role == "user" and any(
        isinstance(b, TextBlock | ImageBlock) for b in message.content
    )


async def summarize(
    session: Session,
    turn_id: str,
    plan: _Plan,
    window: int,
    account: Callable[[Usage], None],
) -> None:
    """Replace the older part of the history with the model's summary of it."""
    messages = [m.message for m in plan.messages]
    cut = choose_cut(messages, int(window * RECENT_SHARE) * CHARS_PER_TOKEN)
    if cut is None:
        return
    prompt = next((i for i in range(len(messages) - 1, -1, -1) if _is_prompt(messages[i])), None)
    # The turn's prompt stays word for word; when it falls in the older part it follows the summary.
    moved = [plan.messages[prompt]] if prompt is not None and prompt < cut else []
    older = [m for i, m in enumerate(messages[:cut]) if i != prompt]
    if not older:
        return
    max_tokens = min(SUMMARY_MAX_TOKENS, max(256, window // 8))
    room = max(4_000, (int(window * COMPACT_AT) - max_tokens) * CHARS_PER_TOKEN)
    summary = await ask_for_summary(session, transcript(messages[:cut], room), max_tokens, account)
    plan.messages = [
        StoredMessage(turn_id, user_text(SUMMARY_PREFIX + summary)),
        *moved,
        *plan.messages[cut:],
    ]
    plan.summarized_messages = len(older)


def transcript(messages: Sequence[Message], max_chars: int) -> str:
    """The conversation as plain text for the summariser: tool calls named, long blocks cut."""
    names: dict[str, str] = {}
    lines: list[str] = []
    for message in messages:
        for block in message.content:
            if isinstance(block, TextBlock):
                lines.append(f"[{message.role}] {_cut(block.text)}")
            elif isinstance(block, ToolUseBlock):
                names[block.id] = block.name
                lines.append(f"[tool call {block.name}] {_cut(json.dumps(block.input))}")
            elif isinstance(block, ToolResultBlock):
                name = names.get(block.tool_use_id, "tool")
                status = "error" if block.is_error else "result"
                lines.append(f"[tool {status} {name}] {_cut(block.content)}")
            elif isinstance(block, ImageBlock):
                lines.append(f"[{message.role} image]")
            # Thinking is left out: long, and the visible messages carry its conclusions.
    text = "\n\n".join(lines)
    if len(text) <= max_chars:
        return text
    head = max_chars // 4  # the start holds the task (or an earlier summary)
    tail = max_chars - head
    omitted = len(text) - head - tail
    return f"{text[:head]}\n\n[... {omitted} characters omitted ...]\n\n{text[-tail:]}"


def _cut(text: str) -> str:
    if len(text) <= TRANSCRIPT_BLOCK_CHARS:
        return text
    return text[:TRANSCRIPT_BLOCK_CHARS] + f" [... {len(text) - TRANSCRIPT_BLOCK_CHARS} more chars]"


async def ask_for_summary(
    session: Session, conversation: str, max_tokens: int, account: Callable[[Usage], None]
) -> str:
    """One request to the session's model, without tools; its text is the summary."""
    request = ModelRequest(
        model=session.provider.model,
        system=SUMMARY_SYSTEM,
        messages=[
            user_text(f"{SUMMARY_INSTRUCTION}\n\n<conversation>\n{conversation}\n</conversation>")
        ],
        max_tokens=max_tokens,
    )
    async for event in session.provider.stream(request):
        if isinstance(event, Completion):
            account(event.usage)
            if text := event.message.text.strip():
                return text
            break
    raise ParleyError(ErrorCode.PROVIDER_ERROR, "the model returned no summary", recoverable=True)
