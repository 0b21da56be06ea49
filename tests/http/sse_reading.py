"""Reading a daemon's SSE stream in tests: (event, id, data) as they arrive."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from parley.client.sse import SseEvent, read_events


async def events(response: httpx.Response) -> AsyncIterator[SseEvent]:
    async for event in read_events(response.aiter_lines()):
        yield event


def seqs(received: list[SseEvent]) -> list[int]:
    """The seqs of the stored events among what was received (their `seq` field)."""
    out = []
    for event in received:
        data: Any = json.loads(event.data)
        if isinstance(data, dict) and "seq" in data:
            out.append(data["seq"])
    return out
