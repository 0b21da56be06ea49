"""MCP tools are not trusted: they ask by default, in `ask` and in `accept-edits`; rules name
them (`mcp__fake__*`); a server's readOnlyHint relaxes nothing unless the user's config marks
the server trusted. Over `parley serve`, with a host answering approvals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.protocol import types as wire
from tests.conftest import ScriptWriter
from tests.mcp_tools.conftest import ConfigWriter, Recorder, call, fake_command, say, toml_server


class Host:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[wire.ApprovalRequestParams] = []

    async def __call__(self, request: wire.ApprovalRequestParams) -> Any:
        self.requests.append(request)
        return self.answers.pop(0)


async def run(
    spawn: Any,
    write_script: ScriptWriter,
    workspace: Path,
    host: Host,
    tool: str = "mcp__fake__echo",
    **session: Any,
) -> Recorder:
    client = await spawn(write_script([call(tool, text="hi")], say("ok")), approval_handler=host)
    events = Recorder(client)
    created = await client.create_session(cwd=str(workspace), **session)
    await client.submit_turn(created.session_id, "go")
    return events


@pytest.mark.parametrize("mode", ["ask", "accept-edits"])
async def test_an_mcp_tool_asks_the_host_even_when_it_claims_to_be_read_only(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path, mode: str
) -> None:
    write_config(toml_server("fake", fake_command()))
    host = Host("allow_once")
    events = await run(spawn, write_script, workspace, host, permission_mode=mode)

    (request,) = host.requests
    assert (request.tool, request.input) == ("mcp__fake__echo", {"text": "hi"})
    (done,) = events.of("tool/completed")
    assert done["output"] == "echo: hi"


async def test_a_rejected_mcp_tool_does_not_reach_the_server(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(toml_server("fake", fake_command()))
    events = await run(spawn, write_script, workspace, Host("reject_once"))

    (done,) = events.of("tool/completed")
    assert done["isError"]
    assert done["output"].startswith("Permission denied")


async def test_a_trusted_servers_read_only_tools_run_without_asking(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(toml_server("fake", fake_command(), trusted=True))
    host = Host()
    events = await run(spawn, write_script, workspace, host)

    assert host.requests == []
    (started,) = events.of("tool/started")
    assert started["kind"] == "read"
    (done,) = events.of("tool/completed")
    assert done["output"] == "echo: hi"


async def test_a_trusted_servers_tools_without_the_hint_still_ask(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(toml_server("fake", fake_command(), trusted=True))
    host = Host("allow_once")
    events = await run(spawn, write_script, workspace, host, tool="mcp__fake__structured")

    assert [r.tool for r in host.requests] == ["mcp__fake__structured"]
    assert events.of("tool/started")[0]["kind"] == "execute"


async def test_a_session_server_is_never_trusted(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    host = Host("allow_once")
    server = wire.McpServerStdio(name="fake", command=fake_command()[0], args=fake_command()[1:])
    await run(spawn, write_script, workspace, host, mcp_servers=[server])

    assert [r.tool for r in host.requests] == ["mcp__fake__echo"]


@pytest.mark.parametrize(
    ("rule", "asked", "ran"),
    [
        ('{tool = "mcp__fake__*", action = "allow"}', False, True),
        ('{tool = "mcp__fake__echo", match = {text = "h*"}, action = "allow"}', False, True),
        ('{tool = "mcp__*", action = "deny"}', False, False),
        ('{tool = "mcp__other__*", action = "allow"}', True, True),
    ],
)
async def test_rules_name_mcp_tools_by_glob(
    spawn,
    write_script: ScriptWriter,
    write_config: ConfigWriter,
    workspace: Path,
    rule: str,
    asked: bool,
    ran: bool,
) -> None:
    write_config(f"rules = [{rule}]\n" + toml_server("fake", fake_command()))
    host = Host("allow_once")
    events = await run(spawn, write_script, workspace, host)

    assert bool(host.requests) is asked
    (done,) = events.of("tool/completed")
    assert (done["output"] == "echo: hi") is ran


async def test_allow_always_is_remembered_for_that_mcp_tool_only(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(toml_server("fake", fake_command()))
    host = Host("allow_always", "allow_once")
    script = write_script(
        [call("mcp__fake__echo", text="1")],
        [call("mcp__fake__echo", text="2")],
        [call("mcp__fake__structured")],
        say("ok"),
    )
    client = await spawn(script, approval_handler=host)
    created = await client.create_session(cwd=str(workspace))
    await client.submit_turn(created.session_id, "go")

    assert [r.tool for r in host.requests] == ["mcp__fake__echo", "mcp__fake__structured"]
