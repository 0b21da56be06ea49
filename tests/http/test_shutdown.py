"""SIGTERM / SIGINT: stop accepting, cancel and store running turns, end streams, exit 0."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.client.sse import SseEvent
from tests.http.daemon import RunningDaemon, start_daemon
from tests.http.sse_reading import events
from tests.http.test_endpoints import create


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_mid_turn_stores_it_and_ends_streams(
    start: Any, workspace: Path, tmp_path: Path, sig: int
) -> None:
    daemon: RunningDaemon = await start(
        [{"type": "text", "text": "begun "}, {"type": "text", "text": "never", "delayMs": 30_000}]
    )
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        watched: list[SseEvent] = []
        turn_events: list[SseEvent] = []
        async with (
            http.stream("GET", f"/sessions/{session_id}/stream") as live,
            http.stream(
                "POST", f"/sessions/{session_id}/execute", json={"prompt": "go", "stream": True}
            ) as turn,
        ):
            watching, turning = events(live), events(turn)
            async for event in watching:
                watched.append(event)
                if event.event == "result/delta":
                    break
            assert await daemon.stop(sig) == 0
            watched += [e async for e in watching]
            turn_events += [e async for e in turning]
    assert [e.event for e in watched[-3:]] == ["error", "done", "shutdown"]
    assert watched[-2].json()["status"] == "cancelled"
    assert [e.event for e in turn_events[-2:]] == ["metadata", "done"]
    assert turn_events[-1].json()["stop_reason"] == "cancelled"
    with pytest.raises(httpx.ConnectError):
        async with daemon.client() as http:
            await http.get("/health")

    # The same store, a new daemon: the turn was stored as interrupted, its text kept.
    again = await start_daemon(daemon.env, tmp_path)
    try:
        async with again.client() as http:
            got = (await http.get(f"/sessions/{session_id}")).json()
            assert got["metadata"]["turns"] == 1
            assert got["metadata"]["running_turn_id"] is None
            texts = [b.get("text") for m in got["messages"] for b in m["content"]]
            assert "begun " in texts
    finally:
        assert await again.stop() == 0


async def test_idle_daemon_stops_at_once(daemon: RunningDaemon) -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert await daemon.stop() == 0
    assert loop.time() - began < 5
