"""The Gemini API as Gemini CLI calls it: `streamGenerateContent?alt=sse` for the turns, and a
JSON `generateContent` its model router makes first, answered here with the complexity object
its schema asks for (a wrong answer makes it retry for minutes)."""

from __future__ import annotations

import json
from typing import Any

from tests.providers.fake_server import FakeServer, Reply, sse


def chunk(*parts: dict[str, Any], finish: str | None = None) -> bytes:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    data: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini-test"}
    if finish:
        candidate["finishReason"] = finish
        data["usageMetadata"] = {
            "promptTokenCount": 100,
            "candidatesTokenCount": 20,
            "totalTokenCount": 120,
        }
    return sse(None, data)


def reply(*parts: dict[str, Any]) -> Reply:
    """One streamed answer: each part its own chunk, the last one finishing the stream."""
    events = [chunk(p) for p in parts[:-1]] + [chunk(parts[-1], finish="STOP")]
    return Reply(events=tuple(events))


def text(value: str) -> dict[str, Any]:
    return {"text": value}


def thought(value: str) -> dict[str, Any]:
    return {"text": value, "thought": True}


def call(name: str, **args: Any) -> dict[str, Any]:
    return {"functionCall": {"name": name, "args": args}}


ROUTE = {"complexity_reasoning": "a small task", "complexity_score": 10}


class FakeGemini(FakeServer):
    def next_reply(self) -> Reply:
        if self.requests[-1].path.endswith(":generateContent"):
            answer = {"role": "model", "parts": [{"text": json.dumps(ROUTE)}]}
            return Reply(body={"candidates": [{"content": answer, "finishReason": "STOP"}]})
        return super().next_reply()

    def turns(self) -> list[Any]:
        """The streamed requests, the ones the scripted replies answer."""
        return [r for r in self.requests if r.path.endswith(":streamGenerateContent")]
