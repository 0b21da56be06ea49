"""Real turns in-process: the engine service, the scripted provider and the memory store, with
a stand-in host for approvals. For tests that need the permission layer and the tools together
without a server process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from parley.config import Settings
from parley.engine.askers import Answerer, ApprovalPort, NoApprovals
from parley.engine.permissions import Decision
from parley.engine.pump import Batch, Pump
from parley.engine.service import Service
from parley.protocol import types as wire
from parley.store.memory import MemoryStore

NEVER = "never"  # a Host answer: keep the question waiting until cancelled


def call(name: str, **input: Any) -> dict[str, Any]:
    """A scripted tool call."""
    return {"type": "tool_call", "name": name, "input": input}


class Host(ApprovalPort):
    """Answers approval questions from a list, as a host's user would, and keeps them."""

    def __init__(self, *answers: Decision | str) -> None:
        self.answers = list(answers)
        self.questions: list[wire.ApprovalRequestParams] = []
        self.asked = asyncio.Event()

    @property
    def available(self) -> bool:
        return True

    async def ask(self, question: wire.ApprovalRequestParams) -> Decision | None:
        self.questions.append(question)
        self.asked.set()
        answer = self.answers.pop(0)
        if answer == NEVER:
            await asyncio.Event().wait()
        return answer  # type: ignore[return-value]  # garbage on purpose in some tests


class Events:
    """Every event a session published, in order."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def add(self, method: str, params: dict[str, Any]) -> None:
        self.items.append((method, params))

    def of(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.items if name == method]

    def methods(self) -> list[str]:
        return [name for name, _ in self.items]


async def submit(
    service: Service,
    session_id: str,
    prompt: str | list[wire.ContentBlock],
    *,
    port: ApprovalPort | None = None,
    events: Events | None = None,
    turn_id: str | None = None,
) -> tuple[wire.TurnResult, list[str]]:
    """Run one turn as an in-process door would: follow the session's events, answer its
    approvals through `port`, wait for the result. Returns it and the unasked tools."""
    port = port or NoApprovals()
    answerer = Answerer(service.approvals, port)

    async def see(batch: Batch) -> None:
        for _, event in batch:
            if events is not None:
                events.add(event.method, event.params)
            answerer.see(event)

    pump = Pump(service.hub, see, answers_approvals=port.available)
    pump.follow(session_id)
    delivering = asyncio.create_task(pump.run())
    try:
        handle = await service.start_turn(session_id, prompt, turn_id)
        result = await handle
        await pump.reached(session_id, handle.final_seq)
        return result, handle.unasked
    finally:
        pump.close()
        await delivering
        await answerer.aclose()


class Turns:
    """Runs turns whose model calls the given tools, then says "done"."""

    def __init__(
        self,
        tmp_path: Path,
        cwd: Path,
        *,
        rules: Sequence[Mapping[str, Any]] = (),
        approval_timeout: float = 300.0,
        tool_timeout: float = 120.0,
    ) -> None:
        self.tmp_path = tmp_path
        self.cwd = cwd
        self.settings = Settings(
            provider="scripted",
            rules=[dict(r) for r in rules],
            approval_timeout=approval_timeout,
            tool_timeout=tool_timeout,
            env={},
        )
        self.events = Events()
        self.service = Service(self.settings, MemoryStore())
        self.unasked: list[str] = []

    def session(self, mode: str | None = "ask", additional: Sequence[Path] = ()) -> str:
        return self.service.create_session(
            wire.SessionCreateParams(
                cwd=str(self.cwd),
                permission_mode=mode,  # type: ignore[arg-type]
                additional_directories=[str(d) for d in additional],
            )
        ).session_id

    async def run(
        self,
        *steps: Sequence[dict[str, Any]],
        mode: str | None = "ask",
        port: ApprovalPort | None = None,
        session_id: str | None = None,
        additional: Sequence[Path] = (),
    ) -> wire.TurnResult:
        """One turn: each step is one model response made of tool calls."""
        script = self.tmp_path / f"script-{len(list(self.tmp_path.glob('script-*')))}.json"
        responses = [list(step) for step in steps] + [[{"type": "text", "text": "done"}]]
        script.write_text(json.dumps({"responses": responses}))
        self.settings.script = str(script)
        if session_id is None:
            session_id = self.session(mode, additional)
        else:
            self.service._loaded.pop(session_id)  # reopen it: its provider reads the new script
        result, self.unasked = await submit(
            self.service, session_id, "go", port=port, events=self.events
        )
        return result

    def completed(self) -> list[dict[str, Any]]:
        return self.events.of("tool/completed")


async def backlog_peak(
    service: Service, monkeypatch: Any, run: Callable[[], Awaitable[Any]]
) -> tuple[Any, int]:
    """Run `run` with a store far slower than the turn's events come (each batch is said to be
    durable 10 ms late): its result, and the most events that waited for the store at once."""
    write = service.store.write_events
    loop = asyncio.get_running_loop()

    def slow_write(batch: Batch, done: Callable[[], object]) -> None:
        write(batch, lambda: loop.call_later(0.01, done))

    monkeypatch.setattr(service.store, "write_events", slow_write)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, service.hub.backlog)
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    try:
        return await run(), peak
    finally:
        watcher.cancel()
