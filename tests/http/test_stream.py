"""GET /sessions/{id}/stream: replay, resume with Last-Event-ID, every Parley event."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from parley.client.sse import SseEvent
from tests.http.daemon import RunningDaemon, refused_start
from tests.http.sse_reading import events, seqs
from tests.http.test_endpoints import create

SLOW = [{"type": "text", "text": f"word{i} ", "delayMs": 25} for i in range(40)]


async def read_until_done(response: Any, into: list[SseEvent]) -> None:
    async for event in events(response):
        into.append(event)
        if event.event == "done":
            return


async def test_stream_dropped_mid_turn_resumes_with_last_event_id(
    start: Any, workspace: Path
) -> None:
    daemon: RunningDaemon = await start([{"type": "thinking", "text": "hmm"}, *SLOW])
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        first: list[SseEvent] = []
        async with http.stream("GET", f"/sessions/{session_id}/stream") as live:
            stream = events(live)
            opened = await anext(stream)
            assert opened.event == "open"
            assert opened.id == "0"
            turn = asyncio.create_task(
                http.post(f"/sessions/{session_id}/execute", json={"prompt": "go"})
            )
            async for event in stream:
                first.append(event)
                if event.event == "result/delta" and len(seqs(first)) >= 8:
                    break  # the client goes away mid-turn
        last_id = next(e.id for e in reversed(first) if e.id is not None)
        await asyncio.sleep(0.3)  # events go on being stored meanwhile
        second: list[SseEvent] = []
        async with http.stream(
            "GET", f"/sessions/{session_id}/stream", headers={"Last-Event-ID": last_id}
        ) as resumed:
            await read_until_done(resumed, second)
        result = (await turn).json()
        assert result["content"] == "".join(f"word{i} " for i in range(40))

        got = seqs(first) + seqs(second[1:])
        assert got == list(range(1, len(got) + 1)), "a gap or a duplicate"
        async with http.stream("GET", f"/sessions/{session_id}/stream?after=0") as replay:
            everything: list[SseEvent] = []
            await read_until_done(replay, everything)
        assert seqs(everything) == got
        names = {e.event for e in everything}
        assert {"progress", "thinking/delta", "thinking/final", "result/delta", "usage"} <= names
        assert {"result/final", "message", "metadata", "done"} <= names
        message = next(e for e in everything if e.event == "message").json()
        assert message["content"] == result["content"]


async def test_seed_events_share_the_id_of_their_stored_event(
    daemon: RunningDaemon, workspace: Path
) -> None:
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        await http.post(f"/sessions/{session_id}/execute", json={"prompt": "hi"})
        async with http.stream("GET", f"/sessions/{session_id}/stream?after=0") as replay:
            received: list[SseEvent] = []
            await read_until_done(replay, received)
        # result/final, then done carrying its id: resuming after that id repeats neither.
        final = next(i for i, e in enumerate(received) if e.event == "result/final")
        assert received[final].id is None
        assert received[final + 1].event == "done"
        assert received[final + 1].id == str(received[final].json()["seq"])
        last = received[final + 1].id
        async with http.stream(
            "GET", f"/sessions/{session_id}/stream", headers={"Last-Event-ID": last}
        ) as resumed:
            opened = await anext(events(resumed))
        assert opened.event == "open"
        assert opened.json()["after"] == int(last)


async def test_bad_last_event_id_is_400(daemon: RunningDaemon, workspace: Path) -> None:
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        for headers, params in [({"Last-Event-ID": "abc"}, {}), ({}, {"after": "-1"})]:
            answer = await http.get(
                f"/sessions/{session_id}/stream", headers=headers, params=params
            )
            assert answer.status_code == 400
            assert answer.json()["error"]["code"] == "INVALID_REQUEST"


async def test_a_turn_streams_to_every_subscriber(start: Any, workspace: Path) -> None:
    daemon: RunningDaemon = await start(SLOW[:10])
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        received: list[list[SseEvent]] = [[], [], []]
        async with (
            http.stream("GET", f"/sessions/{session_id}/stream") as a,
            http.stream("GET", f"/sessions/{session_id}/stream") as b,
        ):
            streams = [events(a), events(b)]
            for s in streams:
                assert (await anext(s)).event == "open"
            async with http.stream(
                "POST", f"/sessions/{session_id}/execute", json={"prompt": "x", "stream": True}
            ) as turn:
                await read_until_done(turn, received[2])
            for s, into in zip(streams, received, strict=False):
                async for event in s:
                    into.append(event)
                    if event.event == "done":
                        break
        assert seqs(received[0]) == seqs(received[1]) == seqs(received[2])
        assert len(seqs(received[0])) >= 10
        tail = [e.event for e in received[2][-2:]]
        assert tail == ["metadata", "done"]
        assert received[2][-1].json()["stop_reason"] == "end_turn"


async def _follow(http: Any, path: str) -> list[SseEvent]:
    async with http.stream("GET", path) as live:
        return [e async for e in events(live)]  # until the daemon closes it


async def test_deleting_the_session_ends_its_streams(start: Any, workspace: Path) -> None:
    """Deleted over HTTP here, or by another process (`parley sessions delete`): each open
    stream of the session, live or replaying, ends with `deleted` and closes."""
    daemon: RunningDaemon = await start()
    async with daemon.client() as http:
        for by_another_process in (False, True):
            session_id = await create(http, workspace)
            await http.post(f"/sessions/{session_id}/execute", json={"prompt": "hi"})
            followers = [
                asyncio.create_task(_follow(http, f"/sessions/{session_id}/stream{query}"))
                for query in ("", "?after=0", "")
            ]
            await asyncio.sleep(0.3)  # all open
            if by_another_process:
                cli = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "parley",
                    "sessions",
                    "delete",
                    session_id,
                    env=daemon.env,
                    stdout=asyncio.subprocess.DEVNULL,
                )
                assert await cli.wait() == 0
            else:
                assert (await http.delete(f"/sessions/{session_id}")).status_code == 204
            for got in await asyncio.wait_for(asyncio.gather(*followers), 15):
                assert got[-1].event == "deleted"
                assert got[-1].json()["after"] == max(seqs(got), default=got[-1].json()["after"])


async def test_a_quiet_stream_gets_keep_alives_at_the_configured_interval(
    start: Any, workspace: Path
) -> None:
    """A proxy that ends idle connections must not end a stream with nothing to say: a
    session's stream (live, or replaying first) and a single turn's stream whose model is
    silent send an SSE comment once `keepalive_interval` passes without a byte."""
    silent = [{"type": "text", "text": "late", "delayMs": 1500}]
    daemon: RunningDaemon = await start(silent, env={"PARLEY_DAEMON_KEEPALIVE_INTERVAL": "0.3"})
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        streams = [
            http.stream("GET", f"/sessions/{session_id}/stream"),
            http.stream("GET", f"/sessions/{session_id}/stream?after=0"),
            http.stream(
                "POST", f"/sessions/{session_id}/execute", json={"prompt": "x", "stream": True}
            ),
        ]
        for stream in streams:
            async with stream as quiet:
                lines = quiet.aiter_lines()
                started = asyncio.get_running_loop().time()
                comments = 0
                while comments < 3:
                    line = await asyncio.wait_for(anext(lines), 5)
                    comments += line == ": keep-alive"
                elapsed = asyncio.get_running_loop().time() - started
                assert 0.6 <= elapsed < 2.5, elapsed  # every ~0.3 s, not the default 15 s


async def test_a_keep_alive_interval_that_is_not_positive_is_refused(
    isolated_env: dict[str, str], tmp_path: Path
) -> None:
    code, err = await refused_start({**isolated_env, "PARLEY_DAEMON_KEEPALIVE_INTERVAL": "0"})
    assert code == 2
    assert "PARLEY_DAEMON_KEEPALIVE_INTERVAL: keepalive_interval must be positive" in err
    assert "Traceback" not in err
