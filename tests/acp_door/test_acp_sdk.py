"""`parley acp` driven by the official ACP Python SDK as a subprocess, as an editor drives it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from acp import text_block
from acp.exceptions import RequestError
from acp.schema import PermissionOption, ToolCallUpdate

from parley.client import ParleyClient
from tests.acp_door.client import Editor, acp_agent
from tests.acp_door.conformance import Conformance
from tests.conftest import ScriptWriter, scripted_env

WRITE_NOTES = {
    "type": "tool_call",
    "name": "write_file",
    "input": {"path": "notes.txt", "content": "hi\n"},
}


def test_vendored_schema_is_the_published_one() -> None:
    from tests.acp_door.conformance import published_sha256, vendored_sha256

    assert vendored_sha256() == published_sha256()


async def test_initialize_offers_sessions_and_asks_for_no_login(
    isolated_env: dict[str, str], conformance: Conformance
) -> None:
    editor = Editor()
    async with acp_agent(isolated_env, editor, conformance, protocol_version=7):
        init = editor.init
    assert init is not None
    caps = init.agent_capabilities
    assert init.protocol_version == 1  # ours, since the client's 7 is not
    assert caps is not None
    assert caps.load_session
    assert caps.session_capabilities is not None
    assert caps.session_capabilities.list is not None
    assert init.auth_methods == []
    assert init.agent_info is not None
    assert init.agent_info.name == "parley"


async def test_prompt_streams_text_and_an_approved_edit(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    script = write_script(
        [
            {"type": "thinking", "text": "A file."},
            {"type": "text", "text": "Writing it."},
            WRITE_NOTES,
        ],
        [{"type": "text", "text": "Done."}],
    )
    editor = Editor()
    async with acp_agent(scripted_env(isolated_env, script), editor, conformance) as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        assert session.modes is not None
        assert session.modes.current_mode_id == "ask"
        answer = await conn.prompt(session_id=session.session_id, prompt=[text_block("notes")])
    assert answer.stop_reason == "end_turn"
    assert (workspace / "notes.txt").read_text() == "hi\n"
    assert editor.text() == "Writing it.\n\nDone."
    assert editor.text("agent_thought_chunk") == "A file."
    [(_, call, options)] = editor.permissions
    assert options == ["allow_once", "allow_always", "reject_once", "reject_always"]
    assert call["kind"] == "edit"
    assert call["title"] == "Write notes.txt"
    notes = str(workspace / "notes.txt")
    assert call["content"] == [{"type": "diff", "path": notes, "newText": "hi\n"}]
    [started] = editor.of_kind("tool_call")
    assert started["status"] == "pending"
    assert started["locations"] == [{"path": notes}]
    statuses = [u["status"] for u in editor.of_kind("tool_call_update")]
    assert statuses == ["in_progress", "completed"]
    assert "usage_update" in editor.kinds()


async def test_reject_always_is_remembered_for_the_session(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    script = write_script([WRITE_NOTES], [{"type": "text", "text": "No."}], [WRITE_NOTES], [])

    async def never(session_id: str, call: ToolCallUpdate, options: list[PermissionOption]) -> str:
        return "reject_always"

    editor = Editor(never)
    async with acp_agent(scripted_env(isolated_env, script), editor, conformance) as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        for _ in range(2):
            await conn.prompt(session_id=session.session_id, prompt=[text_block("write")])
    assert len(editor.permissions) == 1  # the second write was refused without asking
    assert not (workspace / "notes.txt").exists()
    assert [u["status"] for u in editor.of_kind("tool_call_update")] == ["failed", "failed"]


async def test_cancel_while_asking_answers_cancelled(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    script = write_script([{"type": "tool_call", "name": "bash", "input": {"command": "echo hi"}}])
    asked = asyncio.Event()
    cancelled = asyncio.Event()

    async def hold(session_id: str, call: ToolCallUpdate, options: list[PermissionOption]) -> None:
        asked.set()
        await cancelled.wait()
        return None  # as the spec says: pending requests are answered `cancelled`

    editor = Editor(hold)
    async with acp_agent(scripted_env(isolated_env, script), editor, conformance) as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        turn = asyncio.create_task(
            conn.prompt(session_id=session.session_id, prompt=[text_block("run it")])
        )
        await asyncio.wait_for(asked.wait(), 30)
        await conn.cancel(session_id=session.session_id)
        cancelled.set()
        answer = await asyncio.wait_for(turn, 30)
    assert answer.stop_reason == "cancelled"
    assert editor.of_kind("tool_call_update")[-1]["status"] == "failed"


async def test_cancel_mid_answer_and_prompt_again(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    script = write_script(
        [
            {"type": "text", "text": "Thinking hard"},
            {"type": "text", "text": "...", "delayMs": 20_000},
        ],
        [{"type": "text", "text": "Again."}],
    )
    editor = Editor()
    async with acp_agent(scripted_env(isolated_env, script), editor, conformance) as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        turn = asyncio.create_task(
            conn.prompt(session_id=session.session_id, prompt=[text_block("go")])
        )
        while "agent_message_chunk" not in editor.kinds():
            await asyncio.sleep(0.02)
        await conn.cancel(session_id=session.session_id)
        assert (await asyncio.wait_for(turn, 30)).stop_reason == "cancelled"
        again = await conn.prompt(session_id=session.session_id, prompt=[text_block("again")])
    assert again.stop_reason == "end_turn"
    assert editor.text().endswith("Again.")


async def test_load_replays_the_conversation_before_answering(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    script = write_script(
        [
            {"type": "text", "text": "Reading."},
            {"type": "tool_call", "name": "read_file", "input": {"path": "README.md"}},
        ],
        [{"type": "text", "text": "It says hello."}],
    )
    env = scripted_env(isolated_env, script)
    async with acp_agent(env, Editor(), conformance) as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        await conn.prompt(session_id=session.session_id, prompt=[text_block("What is in README?")])

    editor = Editor()  # a new editor window, a new agent process
    async with acp_agent(env, editor, conformance) as (conn, _):
        listed = await conn.list_sessions(cwd=str(workspace))
        assert [s.session_id for s in listed.sessions] == [session.session_id]
        loaded = await conn.load_session(
            cwd=str(workspace), session_id=session.session_id, mcp_servers=[]
        )
        # Everything was replayed before the answer.
        kinds = editor.kinds(session.session_id)
    assert loaded.modes is not None
    assert kinds == [
        "user_message_chunk",
        "agent_message_chunk",
        "tool_call",
        "tool_call_update",
        "agent_message_chunk",
    ]
    assert editor.text("user_message_chunk") == "What is in README?"
    assert editor.text() == "Reading.\n\nIt says hello."
    assert editor.of_kind("tool_call_update")[0]["status"] == "completed"
    assert "hello world" in json.dumps(editor.of_kind("tool_call_update"))


async def test_set_mode_lets_edits_run_without_asking(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    script = write_script([WRITE_NOTES], [])
    editor = Editor()
    async with acp_agent(scripted_env(isolated_env, script), editor, conformance) as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        await conn.set_session_mode(session_id=session.session_id, mode_id="accept-edits")
        options = await conn.set_config_option(
            session_id=session.session_id, config_id="model", value="scripted/other"
        )
        await conn.prompt(session_id=session.session_id, prompt=[text_block("write")])
        with pytest.raises(RequestError) as bad:
            await conn.set_session_mode(session_id=session.session_id, mode_id="yolo")
    assert bad.value.code == -32602
    assert editor.permissions == []
    assert (workspace / "notes.txt").read_text() == "hi\n"
    assert {"sessionUpdate": "current_mode_update", "currentModeId": "accept-edits"} in [
        u for _, u in editor.updates
    ]
    model = next(o for o in options.config_options if o.id == "model")
    assert model.category == "model"
    assert model.current_value == "scripted/other"


async def test_an_acp_session_is_a_parley_session(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    script = write_script([{"type": "text", "text": "Hello from ACP."}])
    env = scripted_env(isolated_env, script)
    async with acp_agent(env, Editor(), conformance) as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        await conn.prompt(session_id=session.session_id, prompt=[text_block("hi")])
    lister = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "parley",
        "sessions",
        "list",
        "--json",
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    listed, _ = await lister.communicate()
    assert session.session_id in listed.decode()
    host = await ParleyClient.spawn(env=env)
    try:
        info = await host.resume_session(session.session_id)
        detail = await host.get_session(session.session_id)
    finally:
        await host.close()
    assert info.turn_count == 1
    assert detail.messages[-1].content == [{"type": "text", "text": "Hello from ACP."}]


async def test_mcp_servers_from_session_new_are_the_sessions_own(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    """An editor's MCP server (the real mcp-server-time) becomes the session's tools, seen from
    another door on the same store."""
    from acp.schema import McpServerStdio

    env = scripted_env(isolated_env, write_script([{"type": "text", "text": "ok"}]))
    server = McpServerStdio(
        name="time", command=sys.executable, args=["-m", "mcp_server_time"], env=[]
    )
    async with acp_agent(env, Editor(), conformance) as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[server])
    host = await ParleyClient.spawn(env=env)
    try:
        await host.resume_session(session.session_id)
        tools = await host.list_tools(session.session_id)
    finally:
        await host.close()
    names = [t.name for t in tools.tools]
    assert "mcp__time__get_current_time" in names
    assert next(t for t in tools.tools if t.name == "mcp__time__get_current_time").server == "time"


async def test_resume_close_and_delete(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    env = scripted_env(isolated_env, write_script())
    async with acp_agent(env, Editor(), conformance) as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        resumed = await conn.resume_session(cwd=str(workspace), session_id=session.session_id)
        assert resumed.config_options is not None
        await conn.close_session(session_id=session.session_id)
        # SDK 0.12.1 has no typed session/delete (stable since schema 1.13): its raw request.
        await conn._conn.send_request("session/delete", {"sessionId": session.session_id})
        with pytest.raises(RequestError) as missing:
            await conn.resume_session(cwd=str(workspace), session_id=session.session_id)
        listed = await conn.list_sessions()
    assert missing.value.code == -32002
    assert listed.sessions == []


async def test_file_tools_read_and_edit_the_editors_buffers(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    edit = {"old_string": "unsaved line", "new_string": "edited by parley"}
    script = write_script(
        [{"type": "tool_call", "name": "read_file", "input": {"path": "README.md"}}],
        [
            {
                "type": "tool_call",
                "name": "edit_file",
                "input": {"path": "README.md", "edits": [edit]},
            }
        ],
        [{"type": "text", "text": "Edited."}],
    )
    readme = str(workspace / "README.md")
    editor = Editor()
    editor.buffers[readme] = "# Demo\nunsaved line\n"  # open in the editor, not saved
    env = scripted_env(isolated_env, script)
    async with acp_agent(env, editor, conformance, files=True) as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        answer = await conn.prompt(session_id=session.session_id, prompt=[text_block("edit")])
    assert answer.stop_reason == "end_turn"
    assert readme in editor.reads
    assert editor.writes == [(readme, "# Demo\nedited by parley\n")]
    assert (workspace / "README.md").read_text() == "# Demo\nhello world\n"  # the disk: untouched
    assert "unsaved line" in json.dumps(editor.of_kind("tool_call_update"))
    [(_, asked, _)] = editor.permissions  # the edit asked first, with its diff
    assert asked["content"] == [
        {"type": "diff", "path": readme, "oldText": "unsaved line", "newText": "edited by parley"}
    ]


async def test_bash_runs_in_the_editors_terminal(
    isolated_env: dict[str, str],
    workspace: Path,
    write_script: ScriptWriter,
    conformance: Conformance,
) -> None:
    run = {
        "type": "tool_call",
        "name": "bash",
        "input": {"command": "echo in-the-editor; pwd; exit 3"},
    }
    script = write_script([run], [{"type": "text", "text": "It failed."}])
    editor = Editor()
    env = scripted_env(isolated_env, script)
    async with acp_agent(env, editor, conformance, terminal=True) as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        answer = await conn.prompt(session_id=session.session_id, prompt=[text_block("run")])
    assert answer.stop_reason == "end_turn"
    assert list(editor.terminals) == ["term-1"]
    assert editor.released == ["term-1"]
    terminal = {"type": "terminal", "terminalId": "term-1"}
    updates = editor.of_kind("tool_call_update")
    assert updates[-2]["content"] == [terminal]  # shown live once the command started
    done = updates[-1]
    assert done["status"] == "failed"
    assert done["content"][0] == terminal
    assert done["content"][1]["content"]["text"] == f"in-the-editor\n{workspace}\n[exit code 3]"
