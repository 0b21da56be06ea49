"""agent/initialize answered before the server loads, and everything around it unchanged:
pipelined requests, a late handshake, bad or missing handshakes, in both framings."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from parley.doors.jsonrpc.framing import Framing, encode
from tests.conftest import ScriptWriter, scripted_env
from tests.rawclient import RawServer

EARLY_LOG = "answered agent/initialize before loading the server"
INIT = {"protocolVersion": 1, "clientInfo": {"name": "hs"}, "capabilities": {}}


def frame(framing: Framing, msg_id: Any, method: str, params: dict[str, Any]) -> bytes:
    body = {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}
    return encode(json.dumps(body).encode(), framing)


@pytest.fixture
async def start(isolated_env: dict[str, str], write_script: ScriptWriter, framing: Framing):
    env = scripted_env(isolated_env, write_script([{"type": "text", "text": "hi"}]))
    servers: list[RawServer] = []

    async def spawn() -> RawServer:
        server = await RawServer.start(env, framing, args=("--ephemeral", "--log-level", "debug"))
        servers.append(server)
        return server

    yield spawn
    for server in servers:
        await server.kill()


async def until_loaded(server: RawServer) -> str:
    """Wait until the server itself is up (it registers its methods, logged at debug), which
    is after the early handshake gave up waiting; what it logged on the way."""
    assert server.process.stderr is not None
    seen: list[str] = []
    while not seen or "Registered" not in seen[-1]:
        line = await asyncio.wait_for(server.process.stderr.readline(), 30)
        assert line, "the server ended before it loaded"
        seen.append(line.decode(errors="replace"))
    return "".join(seen)


async def finish(server: RawServer) -> str:
    await server.close_stdin()
    code, _ = await server.wait_exit(5)
    assert code == 0
    return await server.stderr()


async def test_pipelined_requests_behind_the_handshake_are_all_answered_in_order(
    start: Any, framing: Framing, workspace: Path
) -> None:
    server = await start()
    await server.write(
        frame(framing, 0, "agent/initialize", INIT)
        + frame(framing, 1, "session/create", {"cwd": str(workspace)})
        + frame(framing, 2, "provider/list", {})
    )
    answers = [await server.read() for _ in range(3)]
    assert [a["id"] for a in answers] == [0, 1, 2]
    assert all("result" in a for a in answers), answers
    assert answers[1]["result"]["cwd"] == str(workspace)
    assert EARLY_LOG in await finish(server)


async def test_a_late_handshake_gets_the_same_answer_from_the_server(
    start: Any, framing: Framing
) -> None:
    early_server = await start()
    await early_server.write(frame(framing, 0, "agent/initialize", INIT))
    early = await early_server.read()
    late_server = await start()
    loading = await until_loaded(late_server)  # past the handshake: the loaded server answers
    await late_server.write(frame(framing, 0, "agent/initialize", INIT))
    late = await late_server.read()
    assert early == late
    assert EARLY_LOG in await finish(early_server)
    assert EARLY_LOG not in loading + await finish(late_server)


async def test_a_bad_handshake_is_answered_by_the_server_and_a_good_one_still_works(
    start: Any, framing: Framing
) -> None:
    server = await start()
    bad = {"protocolVersion": "one", "clientInfo": {"name": "hs"}}
    await server.write(
        frame(framing, 0, "agent/initialize", bad) + frame(framing, 1, "agent/initialize", INIT)
    )
    first, second = await server.read(), await server.read()
    assert first["id"] == 0
    assert first["error"]["code"] == -32602
    assert first["error"]["data"]["pointer"] == "/protocolVersion"
    assert second["id"] == 1
    assert second["result"]["protocolVersion"] == 1
    assert EARLY_LOG not in await finish(server)


async def test_requests_before_the_handshake_still_get_not_initialized(
    start: Any, framing: Framing
) -> None:
    server = await start()
    await server.write(
        frame(framing, 0, "session/list", {}) + frame(framing, 1, "agent/initialize", INIT)
    )
    first, second = await server.read(), await server.read()
    assert first["error"]["code"] == -32002
    assert "result" in second
    await finish(server)


async def test_a_broken_first_frame_is_reported_and_the_stream_stays_in_sync(
    start: Any, framing: Framing
) -> None:
    server = await start()
    await server.write(
        encode(b'{"jsonrpc": "2.0", "id": 0, ', framing)
        + frame(framing, 1, "agent/initialize", INIT)
    )
    first, second = await server.read(), await server.read()
    assert first["error"]["code"] == -32700
    assert second["id"] == 1
    assert "result" in second
    await finish(server)
