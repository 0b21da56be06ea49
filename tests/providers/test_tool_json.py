"""Tool use as JSON-schema-constrained replies (the local provider's protocol with its model)."""

from __future__ import annotations

import json

import pytest

from parley.core.messages import Message, TextBlock, ToolResultBlock, ToolUseBlock, user_text
from parley.core.tools import ToolSpec
from parley.providers import tool_json
from parley.tools.registry import ToolRegistry
from tests.providers.conftest import READ_FILE

BASH = ToolSpec(
    "bash",
    "Run a shell command. It runs in the working directory.",
    {
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "The command line."},
            "timeout": {"type": "number", "description": "Seconds."},
        },
        "required": ["command"],
    },
)


def test_the_schema_is_a_choice_of_each_tool_with_its_required_arguments_or_an_answer():
    schema = tool_json.reply_schema([READ_FILE, BASH])

    choices = schema["anyOf"]
    assert [c["properties"].get("tool") for c in choices] == [
        {"const": "read_file"},
        {"const": "bash"},
        None,
    ]
    bash_arguments = choices[1]["properties"]["arguments"]
    assert bash_arguments["required"] == ["command"]
    assert list(bash_arguments["properties"]) == ["command"]  # optional ones are left out
    assert bash_arguments["properties"]["command"] == {
        "type": "string",
        "maxLength": tool_json.MAX_ARGUMENT_CHARS,
    }
    assert choices[2]["properties"] == {"answer": {"type": "string"}}
    assert all(c["additionalProperties"] is False for c in choices)


def test_without_tools_the_schema_allows_only_an_answer():
    assert tool_json.reply_schema([]) == {
        "anyOf": [
            {
                "type": "object",
                "properties": {"answer": {"type": "string"}},
                "required": ["answer"],
                "additionalProperties": False,
            }
        ]
    }


def test_the_schemas_of_the_built_in_tools_compile_to_a_llama_cpp_grammar():
    import xllamacpp

    tools = [t.spec() for t in ToolRegistry.builtin(None, ())]

    grammar = xllamacpp.json_schema_to_grammar(json.dumps(tool_json.reply_schema(tools)))

    assert "read_file" in grammar
    assert "edit_file" in grammar


def test_the_prompt_lists_the_tools_and_examples_show_only_offered_tools():
    messages = tool_json.chat_messages("Be brief.", [user_text("Hi")], [READ_FILE])

    system = messages[0]
    assert system["role"] == "system"
    assert system["content"].startswith("Be brief.\n\nTools you can use:\n- read_file(path): ")
    assert '{"answer": TEXT}' in system["content"]
    replies = [json.loads(m["content"]) for m in messages[1:-1] if m["role"] == "assistant"]
    assert {r.get("tool") for r in replies} == {"read_file", None}
    assert messages[-1] == {"role": "user", "content": "Hi"}


def test_history_is_sent_as_the_json_the_model_writes_and_results_as_user_turns():
    history = [
        user_text("Read a.txt and b.txt"),
        Message(
            "assistant",
            (
                ToolUseBlock("c1", "read_file", {"path": "a.txt"}),
                ToolUseBlock("c2", "read_file", {"path": "b.txt"}),
            ),
        ),
        Message(
            "user",
            (ToolResultBlock("c1", "alpha"), ToolResultBlock("c2", "missing", is_error=True)),
        ),
        Message("assistant", (TextBlock("One is alpha."),)),
    ]

    messages = tool_json.chat_messages("", history, [READ_FILE])

    conversation = messages[1 + len(tool_json.examples([READ_FILE])) :]  # after the system
    assert conversation == [
        {"role": "user", "content": "Read a.txt and b.txt"},
        {"role": "assistant", "content": '{"tool": "read_file", "arguments": {"path": "a.txt"}}'},
        {"role": "assistant", "content": '{"tool": "read_file", "arguments": {"path": "b.txt"}}'},
        {"role": "user", "content": "read_file says:\nalpha\n\nread_file says:\nError: missing"},
        {"role": "assistant", "content": '{"answer": "One is alpha."}'},
    ]


def test_without_tools_the_conversation_is_plain_text():
    history = [user_text("Hi"), Message("assistant", (TextBlock("Hello."),)), user_text("Bye")]

    assert tool_json.chat_messages("Be brief.", history, []) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Bye"},
    ]


ANSWERS = [
    "Plain words.",
    'Quotes " and \\ backslashes, a / slash',
    "Lines\nand\ttabs\r\n",
    "Accents é, CJK 漢字, an emoji 🙂 and a control \x01",
]


@pytest.mark.parametrize("text", ANSWERS)
@pytest.mark.parametrize("spacing", ["compact", "spaced"])
def test_the_answer_streams_exactly_however_the_json_is_split(text, spacing):
    raw = json.dumps({"answer": text}, ensure_ascii=spacing == "compact")
    if spacing == "spaced":
        raw = raw.replace('{"answer": ', '{\n  "answer" :  ') + "\n"
    for cut in range(len(raw) + 1):
        for second in (cut, (cut + len(raw)) // 2):
            stream = tool_json.AnswerStream()
            pieces = [raw[:cut], raw[cut:second], raw[second:]]
            streamed = "".join(stream.feed(p) for p in pieces)
            assert streamed == text, (cut, second)
            assert tool_json.decode(raw, stream) == [TextBlock(text)]


def test_a_tool_call_streams_nothing_and_decodes_to_a_tool_use():
    raw = '{"tool": "read_file", "arguments": {"path": "README.md"}}'
    stream = tool_json.AnswerStream()

    assert "".join(stream.feed(c) for c in raw) == ""
    [block] = tool_json.decode(raw, stream)

    assert isinstance(block, ToolUseBlock)
    assert (block.name, block.input) == ("read_file", {"path": "README.md"})
    assert block.id.startswith("call_")


def test_an_answer_cut_off_by_the_token_limit_keeps_what_was_streamed():
    raw = '{"answer": "Half a sent'
    stream = tool_json.AnswerStream()
    stream.feed(raw)

    assert tool_json.decode(raw, stream) == [TextBlock("Half a sent")]


def test_a_call_cut_off_inside_its_arguments_is_a_call_the_engine_will_not_run():
    raw = '{"tool": "write_file", "arguments": {"path": "a.txt", "content": "lo'
    stream = tool_json.AnswerStream()
    stream.feed(raw)

    [block] = tool_json.decode(raw, stream)

    assert isinstance(block, ToolUseBlock)
    assert block.name == "write_file"
    assert block.input == {"invalid_json_arguments": raw}


def test_tool_rounds_count_calls_since_the_last_prompt_and_notice_repeats():
    call = Message("assistant", (ToolUseBlock("c1", "read_file", {"path": "a"}),))
    again = Message("assistant", (ToolUseBlock("c2", "read_file", {"path": "a"}),))
    result = Message("user", (ToolResultBlock("c1", "x"),))

    assert tool_json.tool_rounds([user_text("go")]) == (0, False)
    assert tool_json.tool_rounds([user_text("go"), call, result]) == (1, False)
    assert tool_json.tool_rounds([user_text("go"), call, result, again, result]) == (2, True)
    # A new prompt starts the count again.
    assert tool_json.tool_rounds([user_text("go"), call, result, user_text("more")]) == (0, False)
