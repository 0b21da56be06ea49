"""Approvals over HTTP: asked on the stream, listed, answered by POST; the first answer wins."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from parley.client.sse import SseEvent
from tests.http.daemon import RunningDaemon
from tests.http.sse_reading import events
from tests.http.test_endpoints import create, error_of

WRITE = [
    {"type": "tool_call", "name": "write_file", "input": {"path": "out.txt", "content": "hi\n"}}
]
DONE = [{"type": "text", "text": "Written."}]


async def test_approval_answered_over_http(start: Any, workspace: Path) -> None:
    daemon: RunningDaemon = await start(WRITE, DONE)
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        async with http.stream("GET", f"/sessions/{session_id}/stream") as live:
            stream = events(live)
            assert (await anext(stream)).event == "open"
            turn = asyncio.create_task(
                http.post(f"/sessions/{session_id}/execute", json={"prompt": "write it"})
            )
            asked: SseEvent | None = None
            async for event in stream:
                if event.event == "approval/requested":
                    asked = event
                    break
            assert asked is not None
            question = asked.json()
            approval_id = question["approvalId"]
            assert question["tool"] == "write_file"
            assert "allow_once" in question["options"]

            pending = (await http.get(f"/sessions/{session_id}/approvals")).json()["approvals"]
            assert [p["approval_id"] for p in pending] == [approval_id]
            assert pending[0]["input"] == {"path": "out.txt", "content": "hi\n"}

            not_offered = await http.post(
                f"/sessions/{session_id}/approvals/{approval_id}", json={"decision": "maybe"}
            )
            assert not_offered.status_code == 400
            wrong_session = await http.post(
                f"/sessions/ses_other/approvals/{approval_id}", json={"decision": "allow_once"}
            )
            assert wrong_session.status_code == 404
            answer = await http.post(
                f"/sessions/{session_id}/approvals/{approval_id}", json={"decision": "allow_once"}
            )
            assert answer.status_code == 200
            assert answer.json() == {"approval_id": approval_id, "decision": "allow_once"}

            resolved = [e async for e in _until(stream, "approval/resolved")]
            assert resolved[-1].json()["decision"] == "allow_once"
        result = (await turn).json()
        assert result["content"] == "Written."
        assert result["stop_reason"] == "end_turn"
        assert (workspace / "out.txt").read_text() == "hi\n"
        late = await http.post(
            f"/sessions/{session_id}/approvals/{approval_id}", json={"decision": "reject_once"}
        )
        assert late.status_code == 404
        assert error_of(late)["code"] == "NOT_FOUND"
        assert (await http.get(f"/sessions/{session_id}/approvals")).json()["approvals"] == []


async def test_without_an_answering_client_ask_is_deny(start: Any, workspace: Path) -> None:
    daemon: RunningDaemon = await start(WRITE, DONE)
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        # A watching-only stream does not answer: nobody can be asked, so the call is denied.
        async with http.stream(
            "GET", f"/sessions/{session_id}/stream", params={"answer_approvals": "false"}
        ) as live:
            assert (await anext(events(live))).event == "open"
            result = (
                await http.post(f"/sessions/{session_id}/execute", json={"prompt": "write"})
            ).json()
        assert result["stop_reason"] == "end_turn"
        assert not (workspace / "out.txt").exists()


async def _until(stream: Any, name: str) -> Any:
    async for event in stream:
        yield event
        if event.event == name:
            return
