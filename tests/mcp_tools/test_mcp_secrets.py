"""An MCP server's credentials stay out of what Parley sends on: a server that echoes the token
it was given has it masked in the tool's output, in the events and in the stored session, for a
server from the config file and for one a host gave with session/create. Over `parley serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parley.protocol import types as wire
from tests.conftest import ScriptWriter
from tests.mcp_tools.conftest import ConfigWriter, Recorder, fake_command, say, toml_server

TOKEN = "tok-7d1c0e9a2b4f"
ALLOW = '[[rules]]\ntool = "mcp__*"\naction = "allow"\n'


async def echoed(spawn: Any, write_script: ScriptWriter, workspace: Path, **session: Any) -> str:
    env_call = {"type": "tool_call", "name": "mcp__fake__env", "input": {"name": "FAKE_API_TOKEN"}}
    client = await spawn(write_script([env_call], say("ok")))
    events = Recorder(client)
    created = await client.create_session(cwd=str(workspace), **session)
    await client.submit_turn(created.session_id, "go")
    (done,) = events.of("tool/completed")
    detail = await client.get_session(created.session_id)
    assert TOKEN not in repr(detail)  # the tool result kept in the conversation is masked too
    assert TOKEN not in repr(events.of("tool/started"))
    return str(done["output"])


async def test_a_config_servers_token_is_masked_in_its_tools_output(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    table = toml_server("fake", fake_command()) + f'env = {{ FAKE_API_TOKEN = "{TOKEN}" }}\n'
    write_config(table + ALLOW)
    output = await echoed(spawn, write_script, workspace)
    assert output.startswith("FAKE_API_TOKEN=")
    assert TOKEN not in output


async def test_a_session_servers_token_is_masked_in_its_tools_output(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(ALLOW)
    command = fake_command()
    server = wire.McpServerStdio(
        name="fake",
        command=command[0],
        args=command[1:],
        env=[wire.NameValue("FAKE_API_TOKEN", TOKEN)],
    )
    output = await echoed(spawn, write_script, workspace, mcp_servers=[server])
    assert output.startswith("FAKE_API_TOKEN=")
    assert TOKEN not in output
