"""One store, two doors: a session made over stdio is listed, streamed and resumed over HTTP,
and the other way round."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parley.client.sse import SseEvent
from tests.conftest import ScriptWriter
from tests.http.daemon import RunningDaemon
from tests.http.sse_reading import events, seqs
from tests.http.test_endpoints import create

TWO_TURNS = ([{"type": "text", "text": "first answer"}], [{"type": "text", "text": "second"}])


async def test_stdio_session_seen_and_continued_over_http(
    spawn: Any, start: Any, write_script: ScriptWriter, workspace: Path
) -> None:
    agent = await spawn(script=write_script(*TWO_TURNS), args=())
    info = await agent.create_session(cwd=str(workspace), title="from stdio")
    stdio_events: list[Any] = []
    result = await agent.submit_turn(info.session_id, "hello", on_event=stdio_events.append)
    assert result.reply == "first answer"

    daemon: RunningDaemon = await start(*TWO_TURNS)
    async with daemon.client() as http:
        listed = (await http.get("/sessions")).json()["sessions"]
        assert [s["metadata"]["name"] for s in listed] == ["from stdio"]
        got = (await http.get(f"/sessions/{info.session_id}")).json()
        assert got["metadata"]["turns"] == 1
        assert got["messages"][1]["content"][0]["text"] == "first answer"

        async with http.stream("GET", f"/sessions/{info.session_id}/stream?after=0") as replay:
            replayed: list[SseEvent] = []
            async for event in events(replay):
                replayed.append(event)
                if event.event == "done":
                    break
        assert seqs(replayed) == [n.seq for n in stdio_events]

        answer = await http.post(f"/sessions/{info.session_id}/execute", json={"prompt": "more"})
        assert answer.json()["content"] == "first answer"  # this daemon's script starts over
    detail = await agent.get_session(info.session_id)
    assert detail.turn_count == 2
    assert len(detail.messages) == 4


async def test_http_session_resumed_over_stdio(
    spawn: Any, start: Any, write_script: ScriptWriter, workspace: Path
) -> None:
    daemon: RunningDaemon = await start(*TWO_TURNS)
    async with daemon.client() as http:
        session_id = await create(http, workspace, name="from http")
        await http.post(f"/sessions/{session_id}/execute", json={"prompt": "hello"})
        last_seq = (await http.get(f"/sessions/{session_id}")).json()["metadata"]["last_seq"]

    agent = await spawn(script=write_script(*TWO_TURNS), args=())
    replayed: list[Any] = []
    agent.on_notification(replayed.append)
    resumed = await agent.resume_session(session_id, after_seq=0)
    assert resumed.title == "from http"
    assert resumed.turn_count == 1
    assert [n.seq for n in replayed] == list(range(1, last_seq + 1))
    result = await agent.submit_turn(session_id, "again")
    assert result.reply == "first answer"
    async with daemon.client() as http:
        got = (await http.get(f"/sessions/{session_id}")).json()
        assert got["metadata"]["turns"] == 2
