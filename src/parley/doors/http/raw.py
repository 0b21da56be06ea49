"""Answers written straight to ASGI, for what runs in front of FastAPI (the guard, the front
door) or below it (the protocol's refusals): none of them may import FastAPI, so the daemon
answers its first request before FastAPI has been imported."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON = (b"content-type", b"application/json")


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    """The one error shape: {"error": {"code", "message", "details"}}."""
    return orjson.dumps({"error": {"code": code, "message": message, "details": details or {}}})


async def send_json(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    head = [JSON, (b"content-length", b"%d" % len(body)), *(headers or ())]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


def error_app(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> ASGIApp:
    """An ASGI app answering one error."""
    body = error_body(code, message, details)
    headers = [(b"www-authenticate", b"Bearer")] if status == 401 else []

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        await send_json(send, status, body, headers)

    return answer
