"""Real turns in-process: the engine, the scripted provider and the memory store, with a
stand-in host for approvals. For tests that need the permission layer and the tools together
without a server process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from parley.config import Settings
from parley.engine.engine import Engine
from parley.engine.permissions import ApprovalPort, ApprovalQuestion, Decision, NoApprovals
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
        self.questions: list[ApprovalQuestion] = []
        self.asked = asyncio.Event()

    @property
    def available(self) -> bool:
        return True

    async def ask(self, question: ApprovalQuestion) -> Decision | None:
        self.questions.append(question)
        self.asked.set()
        answer = self.answers.pop(0)
        if answer == NEVER:
            await asyncio.Event().wait()
        return answer  # type: ignore[return-value]  # garbage on purpose in some tests


class Events:
    """Every event the engine published, in order."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def __call__(
        self, session_id: str, turn_id: str, seq: int, event: wire.Event, params: dict[str, Any]
    ) -> None:
        self.items.append((event.method, params))

    def of(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.items if name == method]

    def methods(self) -> list[str]:
        return [name for name, _ in self.items]


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
        self.engine = Engine(self.settings, MemoryStore(), self.events)

    def session(self, mode: str | None = "ask", additional: Sequence[Path] = ()) -> str:
        return self.engine.create_session(
            wire.SessionCreateParams(
                cwd=str(self.cwd),
                permission_mode=mode,  # type: ignore[arg-type]
                additional_directories=[str(d) for d in additional],
            )
        ).id

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
            self.engine.sessions.pop(session_id)  # reopen it: its provider reads the new script
        return await self.engine.submit(session_id, "go", None, port or NoApprovals())

    def completed(self) -> list[dict[str, Any]]:
        return self.events.of("tool/completed")
