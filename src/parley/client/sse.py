"""Reading server-sent events (the WHATWG event-stream format) from an async byte stream."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import attrs
import orjson


@attrs.frozen
class SseEvent:
    event: str
    data: str
    id: str | None = None  # None: the event set no id

    def json(self) -> Any:
        return orjson.loads(self.data)


async def read_events(lines: AsyncIterable[str]) -> AsyncIterator[SseEvent]:
    """Events from the stream's lines (without line ends). Comments are skipped."""
    event, event_id = "message", None
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield SseEvent(event, "\n".join(data), event_id)
            event, event_id, data = "message", None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\0" not in value:
            event_id = value
