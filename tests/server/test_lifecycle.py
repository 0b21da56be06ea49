"""Shutdown, end of input and idle timeout each end the process cleanly, turns answered."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from parley.doors.jsonrpc.framing import Framing
from tests.conftest import ScriptWriter, scripted_env
from tests.rawclient import RawServer

SLOW = [[{"type": "text", "text": "started"}, {"type": "text", "text": "...", "delayMs": 30_000}]]


async def start_turn(server: RawServer, workspace: Path) -> list[dict]:
    """Initialize, create a session, start a slow turn; returns the notifications seen so far."""
    await server.initialize()
    created = await server.request(1, "session/create", {"cwd": str(workspace)})
    await server.send(
        {
            "jsonrpc": "2.0",
            "id": "turn",
            "method": "turn/submit",
            "params": {"sessionId": created["result"]["sessionId"], "prompt": "go"},
        }
    )
    seen: list[dict] = []
    while not any(m.get("method") == "result/delta" for m in seen):
        seen.append(await server.read())
    return seen


@pytest.fixture
async def server(
    isolated_env: dict[str, str],
    write_script: ScriptWriter,
    framing: Framing,
    request: pytest.FixtureRequest,
):
    env = scripted_env(isolated_env, write_script(*SLOW))
    args = getattr(request, "param", ("--ephemeral",))
    raw = await RawServer.start(env, framing, args=args)
    yield raw
    await raw.kill()


async def test_shutdown_with_a_turn_in_flight_answers_everything_and_exits_0(
    server: RawServer, workspace: Path
) -> None:
    await start_turn(server, workspace)
    await server.send({"jsonrpc": "2.0", "id": "bye", "method": "agent/shutdown", "params": {}})
    answers: dict[str, dict] = {}
    notes: list[dict] = []
    while len(answers) < 2:
        message = await server.read()
        if "method" in message:
            notes.append(message)
        else:
            answers[message["id"]] = message
    code, took = await server.wait_exit(2.0)

    assert answers["turn"]["result"]["stopReason"] == "cancelled"
    assert answers["bye"]["result"] == {}
    assert notes[-1]["method"] == "error"
    assert notes[-1]["params"]["code"] == "cancelled"
    assert (code, took < 2.0) == (0, True)


async def test_end_of_input_with_a_turn_in_flight_answers_it_and_exits_0(
    server: RawServer, workspace: Path
) -> None:
    await start_turn(server, workspace)
    await server.close_stdin()
    answer = await server.response("turn")
    code, took = await server.wait_exit(2.0)

    assert answer["result"]["stopReason"] == "cancelled"
    assert (code, took < 2.0) == (0, True)


@pytest.mark.parametrize("server", [("--ephemeral", "--idle-timeout", "0.5")], indirect=True)
async def test_idle_timeout_with_a_turn_in_flight_answers_it_and_exits_0(
    server: RawServer, workspace: Path
) -> None:
    await start_turn(server, workspace)
    answer = await server.response("turn")
    code, _ = await server.wait_exit(2.0)

    assert answer["result"]["stopReason"] == "cancelled"
    assert code == 0


async def test_end_of_input_before_anything_exits_0(server: RawServer) -> None:
    await server.close_stdin()
    code, took = await server.wait_exit(2.0)
    assert (code, took < 2.0) == (0, True)


@pytest.mark.parametrize("server", [("--ephemeral", "--idle-timeout", "0.5")], indirect=True)
async def test_idle_timeout_counts_from_start_when_the_host_never_writes(
    server: RawServer,
) -> None:
    code, _ = await server.wait_exit(5.0)
    assert code == 0


async def test_stdin_from_dev_null_is_an_immediate_end_of_input(
    isolated_env: dict[str, str],
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "parley",
        "serve",
        "--ephemeral",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        env=isolated_env,
    )
    try:
        code = await asyncio.wait_for(process.wait(), 10)
    finally:
        if process.returncode is None:
            process.kill()
    assert code == 0
