"""parley.client's HTTP client against a real daemon: requests, errors, and a stream that
resumes by itself across a daemon restart, losing and repeating nothing."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest

from parley.client import ParleyHttpClient, ParleyHttpError
from parley.client.sse import SseEvent
from tests.http.daemon import RunningDaemon, start_daemon


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_client_calls_and_errors(daemon: RunningDaemon, workspace: Path) -> None:
    async with ParleyHttpClient(daemon.url) as client:
        assert (await client.health())["status"] == "ok"
        made = await client.create_session(cwd=str(workspace), name="c")
        session_id = made["metadata"]["session_id"]
        result = await client.execute(session_id, "hi")
        assert result["content"] == "Hello from the daemon."
        assert (await client.list_sessions())["sessions"][0]["metadata"]["name"] == "c"
        assert (await client.get_session(session_id))["metadata"]["turns"] == 1
        assert await client.approvals(session_id) == []
        turn = [e async for e in client.execute_stream(session_id, "again")]
        assert turn[-1].event == "done"
        await client.delete_session(session_id)
        with pytest.raises(ParleyHttpError) as error:
            await client.get_session(session_id)
        assert error.value.status == 404
        assert error.value.code == "SESSION_NOT_FOUND"


async def test_stream_resumes_across_a_daemon_restart(
    start: Any, workspace: Path, tmp_path: Path
) -> None:
    port = free_port()
    first: RunningDaemon = await start(args=("--port", str(port)))
    async with ParleyHttpClient(first.url, reconnects=50) as client:
        session_id = (await client.create_session(cwd=str(workspace)))["metadata"]["session_id"]
        received: list[SseEvent] = []
        done = asyncio.Event()

        async def follow() -> None:
            async for event in client.stream(session_id):
                received.append(event)
                if event.event == "done" and sum(e.event == "done" for e in received) == 2:
                    done.set()
                    return

        follower = asyncio.create_task(follow())
        while not received:
            await asyncio.sleep(0.01)
        await client.execute(session_id, "one")
        while not any(e.event == "done" for e in received):
            await asyncio.sleep(0.01)
        assert await first.stop() == 0

        # The same store and port: a restart.
        second = await start_daemon(first.env, tmp_path, ("--port", str(port)))
        try:
            assert second.url == first.url
            await client.execute(session_id, "two")
            await asyncio.wait_for(done.wait(), 30)
        finally:
            await second.stop()
        await follower
    names = [e.event for e in received]
    assert "shutdown" in names
    got = [e.json()["seq"] for e in received if "seq" in e.json()]
    assert got == list(range(1, len(got) + 1))
    assert names.count("done") == 2
