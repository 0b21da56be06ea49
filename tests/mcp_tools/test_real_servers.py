"""Real third-party MCP servers (mcp-server-time and mcp-server-git from PyPI, over stdio) and a
streamable-HTTP server made with the SDK, driven through `parley serve` as a host would."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from parley.protocol import types as wire
from parley.tools.mcp.naming import VALID
from tests.conftest import ScriptWriter
from tests.mcp_tools.conftest import ConfigWriter, Recorder, call, say, toml_server

pytestmark = pytest.mark.skipif(
    shutil.which("mcp-server-time") is None, reason="the dev extras install mcp-server-time"
)

ALLOW_MCP = '[[rules]]\ntool = "mcp__*"\naction = "allow"\n'


async def test_a_turn_calls_mcp_server_time_over_stdio(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(toml_server("time", ["mcp-server-time"]) + ALLOW_MCP)
    script = write_script(
        [call("mcp__time__get_current_time", timezone="Europe/Paris")], say("It is time.")
    )
    client = await spawn(script)
    events = Recorder(client)
    session = await client.create_session(cwd=str(workspace))
    result = await client.submit_turn(session.session_id, "What time is it in Paris?")

    assert (result.stop_reason, result.reply) == ("end_turn", "It is time.")
    assert events.stages()[:3] == ["turn_started", "mcp_starting", "model_request"]
    (started,) = events.of("tool/started")
    assert (started["name"], started["server"], started["kind"]) == (
        "mcp__time__get_current_time",
        "time",
        "execute",
    )
    (done,) = events.of("tool/completed")
    assert not done["isError"]
    assert '"timezone": "Europe/Paris"' in done["output"]
    assert done["display"]["structuredContent"]["timezone"] == "Europe/Paris"


async def test_an_error_result_from_a_real_server_reaches_the_model_as_a_tool_error(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(toml_server("time", ["mcp-server-time"]) + ALLOW_MCP)
    script = write_script(
        [call("mcp__time__get_current_time", timezone="Nowhere/Atlantis")], say("Sorry.")
    )
    client = await spawn(script)
    events = Recorder(client)
    session = await client.create_session(cwd=str(workspace))
    result = await client.submit_turn(session.session_id, "time?")

    assert result.stop_reason == "end_turn"
    (done,) = events.of("tool/completed")
    assert done["isError"]
    assert "Nowhere/Atlantis" in done["output"]
    detail = await client.get_session(session.session_id)
    (tool_result,) = [b for m in detail.messages for b in m.content if b["type"] == "tool_result"]
    assert tool_result["isError"] is True


@pytest.mark.skipif(shutil.which("git") is None, reason="mcp-server-git needs git")
async def test_mcp_server_git_from_the_session_reads_the_repository(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    git = await asyncio.create_subprocess_exec("git", "init", "-q", "-b", "trunk", str(workspace))
    assert await git.wait() == 0
    script = write_script(
        [call("mcp__git__git_status", repo_path=str(workspace))], say("Status read.")
    )
    client = await spawn(script)
    events = Recorder(client)
    session = await client.create_session(
        cwd=str(workspace),
        permission_mode="allow",
        mcp_servers=[wire.McpServerStdio(name="git", command="mcp-server-git")],
    )
    result = await client.submit_turn(session.session_id, "git status, please")

    assert result.stop_reason == "end_turn"
    (done,) = events.of("tool/completed")
    assert not done["isError"], done["output"]
    assert "trunk" in done["output"]
    assert "README.md" in done["output"]  # untracked


async def test_a_streamable_http_server_from_the_session_answers_text_images_and_structure(
    spawn, write_script: ScriptWriter, workspace: Path, http_server: str
) -> None:
    script = write_script(
        [
            call("mcp__web__add", a=2, b=40),
            call("mcp__web__dot"),
            call("mcp__web__shout", text="hi"),
        ],
        say("Done."),
    )
    client = await spawn(script)
    events = Recorder(client)
    session = await client.create_session(
        cwd=str(workspace),
        permission_mode="allow",
        mcp_servers=[
            wire.McpServerHttp(
                type="http",
                name="web",
                url=http_server,
                headers=[wire.NameValue("X-Test", "1")],
            )
        ],
    )
    result = await client.submit_turn(session.session_id, "use the web tools")

    assert result.stop_reason == "end_turn"
    add, dot, shout = events.of("tool/completed")
    assert (add["output"], add["isError"]) == ("42", False)
    assert add["display"]["structuredContent"] == {"result": 42}
    assert "[image 1 (image/png) attached after the tool results]" in dot["output"]
    assert shout["output"] == "HI!"
    detail = await client.get_session(session.session_id)
    blocks = [b["type"] for b in detail.messages[2].content]  # the tool results message
    assert blocks == ["tool_result", "tool_result", "tool_result", "image"]


async def test_tool_list_names_every_tool_and_its_source_and_servers_start_only_then(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path, http_server: str
) -> None:
    write_config(toml_server("time", ["mcp-server-time"]))
    client = await spawn(write_script(say("hi")))
    session = await client.create_session(
        cwd=str(workspace),
        mcp_servers=[wire.McpServerHttp(type="http", name="web", url=http_server)],
    )
    listed = await client.list_tools(session.session_id)

    sources = {t.name: (t.source, t.server) for t in listed.tools}
    assert sources["read_file"] == ("builtin", None)
    assert sources["mcp__time__convert_time"] == ("mcp", "time")
    assert sources["mcp__web__add"] == ("mcp", "web")
    assert all(VALID.match(t.name) for t in listed.tools)
    add = next(t for t in listed.tools if t.name == "mcp__web__add")
    assert add.original_name == "add"
    assert add.kind == "execute"  # readOnlyHint, but the server is not trusted
    assert set(add.input_schema["properties"]) == {"a", "b"}
    assert [(s.name, s.transport, s.status) for s in listed.mcp_servers] == [
        ("time", "stdio", "running"),
        ("web", "http", "running"),
    ]
