"""Tool use for models whose chat template has no tools: every reply is one JSON object,
constrained by a JSON schema built from the offered tools.

    {"tool": "read_file", "arguments": {"path": "README.md"}}   calls a tool
    {"answer": "It is a small web server."}                     answers the user

The server decodes under that schema (llama.cpp turns it into a grammar), so each reply is
well formed and names a real tool with arguments of the right shape. The tools are described in
the system prompt, with a few worked examples as earlier turns: a 135M model picks the right tool
far more often with them (see docs/performance.md). The answer's text is streamed while it is
generated, decoded from inside the JSON string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from parley.core.ids import new_id
from parley.core.messages import Block, Message, TextBlock, ToolResultBlock, ToolUseBlock
from parley.core.tools import ToolSpec
from parley.providers.openai_chat import tool_result_text

SCHEMA_NAME = "reply"
# Strings the model writes as arguments stay within this: a small model that starts repeating
# itself stops at the cap instead of at max_tokens.
MAX_ARGUMENT_CHARS = 4000

# Worked examples, shown as earlier turns, for the built-in tools that are offered. A small
# model leans on the last one most: it is the question people ask first (see bench/local.py).
_EXAMPLES: tuple[tuple[str, str | None, dict[str, Any] | str], ...] = (
    ("Show me config.yaml", "read_file", {"path": "config.yaml"}),
    ("Which Markdown files are there?", "list_files", {"pattern": "**/*.md"}),
    ("List the files in src", "list_files", {"pattern": "src/*"}),
    ("Where is parse_args used?", "grep", {"pattern": "parse_args"}),
    ("Search for FIXME comments", "grep", {"pattern": "FIXME"}),
    ("Run make", "bash", {"command": "make"}),
    ("Run ls -la", "bash", {"command": "ls -la"}),
    ("Write ok to status.txt", "write_file", {"path": "status.txt", "content": "ok"}),
    ("What is the capital of France?", None, "Paris."),
    ("What is 3 + 4?", None, "7"),
    ("What is this project about?", "read_file", {"path": "README.md"}),
)


def tool_rounds(messages: Sequence[Message]) -> tuple[int, bool]:
    """Rounds of tool calls since the user's last prompt, and whether one of them repeated an
    earlier call of those rounds (same tool, same arguments): a model going in circles."""
    rounds, repeated, seen = 0, False, set()
    for message in reversed(messages):
        if message.role == "user" and any(isinstance(b, TextBlock) for b in message.content):
            break
        calls = message.tool_uses() if message.role == "assistant" else []
        rounds += bool(calls)
        for call in calls:
            key = (call.name, json.dumps(call.input, sort_keys=True))
            repeated = repeated or key in seen
            seen.add(key)
    return rounds, repeated


def reply_schema(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """One object: a tool's name with its arguments, or an answer (only that, without tools)."""
    choices: list[dict[str, Any]] = [
        _object({"tool": {"const": tool.name}, "arguments": _arguments(tool.input_schema)})
        for tool in tools
    ]
    choices.append(_object({"answer": {"type": "string"}}))
    return {"anyOf": choices}


def response_format(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The Chat Completions `response_format` that constrains replies to `reply_schema`."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": reply_schema(tools)},
    }


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """The tool's input schema with only its required properties (optional ones invite a small
    model to fill them with noise), descriptions dropped (the prompt has them) and strings
    capped."""
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        capped: dict[str, Any] = _capped(schema)
        return capped
    required = [name for name in schema.get("required", []) if name in schema["properties"]]
    return _object({name: _capped(schema["properties"][name]) for name in required})


def _capped(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_capped(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _capped(v) for k, v in schema.items() if k not in ("description", "title")}
    if out.get("type") == "string":
        out["maxLength"] = min(int(out.get("maxLength", MAX_ARGUMENT_CHARS)), MAX_ARGUMENT_CHARS)
    return out


def system_prompt(system: str, tools: Sequence[ToolSpec]) -> str:
    """The session's system prompt, then the tools and the reply format."""
    lines = [system, "", "Tools you can use:"] if system else ["Tools you can use:"]
    for tool in tools:
        arguments = ", ".join(_arguments(tool.input_schema).get("properties", {}))
        lines.append(f"- {tool.name}({arguments}): {_first_sentence(tool.description)}")
    lines += [
        "",
        'Reply with one JSON object: {"tool": NAME, "arguments": {...}} to use a tool, or '
        '{"answer": TEXT} to answer the user.',
    ]
    return "\n".join(lines)


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip(), re.DOTALL)
    return (match.group(1) if match else text.strip()).replace("\n", " ")


def examples(tools: Sequence[ToolSpec]) -> list[dict[str, str]]:
    """Worked examples as earlier turns, for the built-in tools among `tools`."""
    offered = {tool.name for tool in tools}
    turns: list[dict[str, str]] = []
    for question, tool, reply in _EXAMPLES:
        if tool is not None and tool not in offered:
            continue
        content = encode_answer(reply) if isinstance(reply, str) else encode_call(tool, reply)
        turns += [{"role": "user", "content": question}, {"role": "assistant", "content": content}]
    return turns


def encode_call(name: str | None, arguments: dict[str, Any]) -> str:
    return json.dumps({"tool": name, "arguments": arguments}, ensure_ascii=False)


def encode_answer(text: str) -> str:
    return json.dumps({"answer": text}, ensure_ascii=False)


def chat_messages(
    system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
) -> list[dict[str, Any]]:
    """The conversation as the model sees it: with tools, its own turns are the JSON it wrote
    and tool results come back as user turns (the chat template has no tool role)."""
    out: list[dict[str, Any]] = []
    prompt = system_prompt(system, tools) if tools else system
    if prompt:
        out.append({"role": "system", "content": prompt})
    if tools:
        out += examples(tools)
    names: dict[str, str] = {}
    for message in messages:
        for block in message.content:
            if isinstance(block, TextBlock) and block.text:
                text = block.text
                if message.role == "assistant" and tools:
                    text = encode_answer(text)
                out.append({"role": message.role, "content": text})
            elif isinstance(block, ToolUseBlock):
                names[block.id] = block.name
                out.append({"role": "assistant", "content": encode_call(block.name, block.input)})
            elif isinstance(block, ToolResultBlock):
                name = names.get(block.tool_use_id, "the tool")
                out.append({"role": "user", "content": f"{name} says:\n{tool_result_text(block)}"})
    return _merge(out)


def _merge(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adjacent user turns become one (several tool results, or results and a new prompt)."""
    merged: list[dict[str, Any]] = []
    for message in messages:
        if merged and message["role"] == "user" == merged[-1]["role"]:
            merged[-1] = {
                "role": "user",
                "content": f"{merged[-1]['content']}\n\n{message['content']}",
            }
        else:
            merged.append(message)
    return merged


def decode(raw: str, answer: AnswerStream) -> list[Block]:
    """The blocks of a finished reply; `answer` is what was streamed of it, which is all there
    is of an answer cut short by the token limit."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict) and isinstance(value.get("tool"), str):
        arguments = value.get("arguments")
        if not isinstance(arguments, dict):
            arguments = {"invalid_json_arguments": json.dumps(arguments)}
        return [ToolUseBlock(new_id("call"), value["tool"], arguments)]
    if isinstance(value, dict) and isinstance(value.get("answer"), str):
        return [TextBlock(value["answer"])] if value["answer"] else []
    if answer.in_answer:
        return [TextBlock(answer.text)] if answer.text else []
    if value is None and (name := _partial_tool(raw)):
        # Cut off inside the arguments: a call the engine reports as truncated, not runs.
        return [ToolUseBlock(new_id("call"), name, {"invalid_json_arguments": raw})]
    return [TextBlock(raw)] if raw.strip() else []


def _partial_tool(raw: str) -> str | None:
    match = re.match(r'\s*\{\s*"tool"\s*:\s*"([^"\\]*)"', raw)
    return match.group(1) if match else None


_ANSWER_START = re.compile(r'\s*\{\s*"answer"\s*:\s*"')
_NOT_ANSWER = re.compile(r'\s*\{\s*"(?!answer")[^"]*"|\s*[^\s{]')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class AnswerStream:
    """Decodes the answer's text while the reply's JSON is still arriving.

    Fed the raw chunks, it returns the newly decoded text of the "answer" string, and nothing
    for a tool call.
    """

    def __init__(self) -> None:
        self.text = ""  # the answer decoded so far
        self.in_answer = False
        self._head = ""  # raw text before the answer's string starts
        self._pending = ""  # raw text of an escape sequence not yet complete
        self._done = False

    def feed(self, chunk: str) -> str:
        if self._done:
            return ""
        if not self.in_answer:
            self._head += chunk
            if (start := _ANSWER_START.match(self._head)) is None:
                if _NOT_ANSWER.match(self._head):
                    self._done = True  # a tool call, or not JSON at all
                return ""
            self.in_answer = True
            chunk, self._head = self._head[start.end() :], ""
        decoded = self._decode(self._pending + chunk)
        self.text += decoded
        return decoded

    def _decode(self, raw: str) -> str:
        out: list[str] = []
        i = 0
        self._pending = ""
        while i < len(raw):
            char = raw[i]
            if char == '"':
                self._done = True
                break
            if char != "\\":
                out.append(char)
                i += 1
                continue
            escape = _escape(raw, i)
            if escape is None:  # incomplete: wait for the next chunk
                self._pending = raw[i:]
                break
            text, i = escape
            out.append(text)
        return "".join(out)


def _escape(raw: str, i: int) -> tuple[str, int] | None:
    """The escape at raw[i] ("\\n", "\\u00e9", a surrogate pair) and the index after it."""
    if i + 1 >= len(raw):
        return None
    kind = raw[i + 1]
    if kind != "u":
        return _ESCAPES.get(kind, kind), i + 2
    if i + 6 > len(raw):
        return None
    try:
        code = int(raw[i + 2 : i + 6], 16)
    except ValueError:
        return raw[i : i + 6], i + 6
    if 0xD800 <= code < 0xDC00:  # a high surrogate: its low half may follow
        rest = raw[i + 6 : i + 12]
        if len(rest) < 6 and "\\u".startswith(rest[:2]):
            return None
        if rest.startswith("\\u"):
            try:
                low = int(rest[2:], 16)
            except ValueError:
                low = 0
            if 0xDC00 <= low < 0xE000:
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), i + 12
    return chr(code), i + 6
