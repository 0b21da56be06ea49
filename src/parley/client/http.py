"""An asyncio client for `parley daemon` (docs/http.md), on httpx.

async with ParleyHttpClient("http://127.0.0.1:8410", api_key=key) as daemon:
    session = await daemon.create_session(cwd="/path/to/project")
    sid = session["metadata"]["session_id"]
    result = await daemon.execute(sid, "Summarise README.md")
    async for event in daemon.stream(sid, after=0):   # resumes by itself after a drop
        print(event.event, event.json())
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

from parley.client.errors import ParleyClientError, ParleyHttpError
from parley.client.sse import SseEvent, read_events

API = "/api/v1"
RECONNECT_DELAY_S = 0.2


class ParleyHttpClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 300.0,
        reconnects: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.reconnects = reconnects
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + API,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
        )

    async def __aenter__(self) -> ParleyHttpClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- requests ------------------------------------------------------------------------------

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded answer (None for 204); an error answer raises ParleyHttpError."""
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ParleyClientError(f"cannot reach the daemon: {exc}") from exc
        if response.is_error:
            raise _error(response.status_code, response.content)
        return None if response.status_code == 204 else response.json()

    async def health(self) -> dict[str, Any]:
        answer: dict[str, Any] = await self.request("GET", "/health")
        return answer

    async def status(self) -> dict[str, Any]:
        answer: dict[str, Any] = await self.request("GET", "/status")
        return answer

    async def create_session(self, **fields: Any) -> dict[str, Any]:
        """Fields: name, profile, tags, cwd, provider, model, permission_mode, agent,
        mcp_servers (docs/http.md)."""
        answer: dict[str, Any] = await self.request("POST", "/sessions", json=fields)
        return answer

    async def list_sessions(self, **params: Any) -> dict[str, Any]:
        """Params: days_back, tags, limit, cursor."""
        answer: dict[str, Any] = await self.request("GET", "/sessions", params=params)
        return answer

    async def get_session(self, session_id: str, **params: Any) -> dict[str, Any]:
        answer: dict[str, Any] = await self.request("GET", f"/sessions/{session_id}", params=params)
        return answer

    async def delete_session(self, session_id: str) -> None:
        await self.request("DELETE", f"/sessions/{session_id}")

    async def execute(self, session_id: str, prompt: str) -> dict[str, Any]:
        """Run a turn and wait for its result."""
        answer: dict[str, Any] = await self.request(
            "POST", f"/sessions/{session_id}/execute", json={"prompt": prompt, "stream": False}
        )
        return answer

    async def cancel(self, session_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self.request("POST", f"/sessions/{session_id}/cancel")
        return answer

    async def approvals(self, session_id: str) -> list[dict[str, Any]]:
        answer = await self.request("GET", f"/sessions/{session_id}/approvals")
        pending: list[dict[str, Any]] = answer["approvals"]
        return pending

    async def answer_approval(self, session_id: str, approval_id: str, decision: str) -> None:
        await self.request(
            "POST", f"/sessions/{session_id}/approvals/{approval_id}", json={"decision": decision}
        )

    # --- streams -------------------------------------------------------------------------------

    async def execute_stream(self, session_id: str, prompt: str) -> AsyncIterator[SseEvent]:
        """Run a turn and yield its events, then `metadata` and `done`. Not resumed if the
        connection drops: follow the session with stream(after=...) for that."""
        body = {"prompt": prompt, "stream": True}
        async for event in self._events("POST", f"/sessions/{session_id}/execute", json=body):
            yield event

    async def stream(
        self, session_id: str, *, after: int | None = None, answer_approvals: bool = True
    ) -> AsyncIterator[SseEvent]:
        """Every event of the session (after `after` first, when given), for as long as the
        caller reads. A dropped connection, a daemon restarting (`shutdown`, passed on), or a
        `reconnect` event from a daemon this client fell behind, is resumed with
        Last-Event-ID: nothing is lost or repeated. After `reconnects` failed attempts in a
        row, ParleyClientError."""
        last = after
        failures = 0
        while True:
            headers = {} if last is None else {"Last-Event-ID": str(last)}
            params = {"answer_approvals": str(answer_approvals).lower()}
            problem: Exception | None = None
            try:
                async for event in self._events(
                    "GET", f"/sessions/{session_id}/stream", headers=headers, params=params
                ):
                    failures = 0
                    if event.event == "reconnect":  # fell behind: resume from the store
                        last = int(event.json()["after"])
                        break
                    if event.id is not None:
                        last = int(event.id)
                    yield event
                    if event.event == "shutdown":  # it may come back: try again, a while
                        problem = ParleyClientError("the daemon stopped")
                        break
                else:
                    problem = ParleyClientError("the stream ended without a final event")
            except (httpx.TransportError, ParleyClientError) as exc:
                problem = exc
            if problem is not None:
                failures += 1
                if failures > self.reconnects:
                    raise ParleyClientError(f"the stream failed: {problem}") from problem
                await asyncio.sleep(RECONNECT_DELAY_S * failures)

    async def _events(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[SseEvent]:
        timeout = httpx.Timeout(None, connect=10.0)
        async with self._http.stream(method, path, timeout=timeout, **kwargs) as response:
            if response.is_error:
                raise _error(response.status_code, await response.aread())
            async for event in read_events(response.aiter_lines()):
                yield event


def _error(status: int, content: bytes) -> ParleyHttpError:
    try:
        error = httpx.Response(status, content=content).json()["error"]
        return ParleyHttpError(status, error["code"], error["message"], error.get("details"))
    except (ValueError, KeyError, TypeError):
        return ParleyHttpError(status, "HTTP_ERROR", content[:200].decode("utf-8", "replace"))
