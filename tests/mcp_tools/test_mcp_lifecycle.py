"""When MCP servers run: started on a session's first need (never at initialize or
session/create), shared by sessions that configure them alike, stopped when idle, and gone
after shutdown or after Parley is killed, however stubborn they are."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from parley.protocol import types as wire
from tests.conftest import ScriptWriter
from tests.mcp_tools.conftest import (
    ConfigWriter,
    Recorder,
    alive,
    call,
    eventually,
    fake_command,
    pids,
    say,
    toml_server,
)
from tests.processes import dead

ALLOW = '[[rules]]\ntool = "mcp__*"\naction = "allow"\n'


async def test_a_server_starts_at_the_first_turn_not_at_initialize_or_session_create(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    write_config(toml_server("fake", fake_command("--pidfile", str(pidfile))) + ALLOW)
    client = await spawn(write_script(say("one"), say("two")))
    session = await client.create_session(cwd=str(workspace))
    await asyncio.sleep(0.3)
    assert pids(pidfile) == []

    events = Recorder(client)
    await client.submit_turn(session.session_id, "first")
    assert len(pids(pidfile)) == 1
    await client.submit_turn(session.session_id, "second")
    assert len(pids(pidfile)) == 1  # running already: not started again
    assert events.stages().count("mcp_starting") == 1


async def test_sessions_configured_alike_share_one_server_and_call_it_concurrently(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path, tmp_path: Path
) -> None:
    pidfile, calls = tmp_path / "pids", tmp_path / "calls"
    write_config(
        toml_server("fake", fake_command("--pidfile", str(pidfile), "--calls", str(calls))) + ALLOW
    )
    client = await spawn(write_script([call("mcp__fake__slow", ms=3000)], say("done")))
    events = Recorder(client)
    sessions = [await client.create_session(cwd=str(workspace)) for _ in range(10)]
    results = await asyncio.gather(*(client.submit_turn(s.session_id, "slow") for s in sessions))

    assert all(r.reply == "done" for r in results)
    assert len(pids(pidfile)) == 1
    assert all(d["output"] == "slept" for d in events.of("tool/completed"))
    # All ten ran on the server at once: none waited for another to end.
    assert calls.read_text().split("\n")[:10] == ["start slow"] * 10


async def test_servers_that_differ_in_environment_are_not_shared(
    spawn, write_script: ScriptWriter, workspace: Path, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    argv = fake_command("--pidfile", str(pidfile))
    client = await spawn(write_script([call("mcp__fake__echo")], say("done")))
    for flavour in ("a", "b", "a"):
        server = wire.McpServerStdio(
            name="fake", command=argv[0], args=argv[1:], env=[wire.NameValue("FLAVOUR", flavour)]
        )
        session = await client.create_session(
            cwd=str(workspace), permission_mode="allow", mcp_servers=[server]
        )
        await client.submit_turn(session.session_id, "go")

    assert len(pids(pidfile)) == 2


async def test_an_idle_server_is_stopped_and_started_again_when_called(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    write_config(
        toml_server("fake", fake_command("--pidfile", str(pidfile)), idle_timeout=0.3) + ALLOW
    )
    script = write_script(
        [call("mcp__fake__echo", text="1")],
        say("one"),
        [call("mcp__fake__echo", text="2")],
        say("two"),
    )
    client = await spawn(script)
    events = Recorder(client)
    session = await client.create_session(cwd=str(workspace))
    await client.submit_turn(session.session_id, "one")
    (first,) = pids(pidfile)
    assert await dead(first) or await eventually(lambda: not alive(pidfile), 5.0)

    await client.submit_turn(session.session_id, "two")
    assert [d["output"] for d in events.of("tool/completed")] == ["echo: 1", "echo: 2"]
    assert len(pids(pidfile)) == 2


async def test_shutdown_leaves_no_process_behind_even_a_stubborn_one(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    write_config(toml_server("fake", fake_command("--stubborn", "--pidfile", str(pidfile))) + ALLOW)
    client = await spawn(write_script([call("mcp__fake__echo")], say("done")))
    session = await client.create_session(cwd=str(workspace))
    await client.submit_turn(session.session_id, "go")
    server, child = pids(pidfile)
    assert alive(pidfile) == [server, child]

    assert await client.shutdown() == 0
    assert await eventually(lambda: not alive(pidfile), 15.0)


@pytest.mark.skipif(os.uname().sysname != "Linux", reason="the guard uses PR_SET_PDEATHSIG")
async def test_killing_parley_outright_takes_its_servers_with_it(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    write_config(toml_server("fake", fake_command("--stubborn", "--pidfile", str(pidfile))) + ALLOW)
    client = await spawn(write_script([call("mcp__fake__echo")], say("done")))
    session = await client.create_session(cwd=str(workspace))
    await client.submit_turn(session.session_id, "go")
    assert len(alive(pidfile)) == 2

    os.kill(client.process.pid, signal.SIGKILL)
    assert await eventually(lambda: not alive(pidfile), 10.0)
