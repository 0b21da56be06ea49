"""`parley serve` that also records when the scripted provider yields each text delta.

For concurrent_turns.py: the stamps (CLOCK_MONOTONIC, shared by every process on the machine)
are written as JSON to $PARLEY_BENCH_STAMPS at exit, keyed by the turn's prompt, so the host can
pair each delta it receives with the moment the provider produced it; with them, samples of the
event loop thread's CPU time.

python bench/timed_serve.py serve [args]

With PARLEY_BENCH_PROFILE=PATH, the run is profiled with cProfile and the stats written there.
"""

from __future__ import annotations

import atexit
import contextvars
import itertools
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from parley.cli.main import main
from parley.core.messages import TextBlock
from parley.providers import scripted
from parley.providers.base import ModelRequest
from parley.providers.scripted import ScriptedProvider

STAMPS: dict[str, list[float]] = {}
# CPU time of the event loop's thread (the store writes on another) and deltas yielded, sampled
# every 100 deltas: the loop's own cost per delta, which load from elsewhere barely changes.
LOOP_CPU: list[tuple[float, int]] = []
_YIELDED = itertools.count(1)
_stream = ScriptedProvider.stream
_chunks = scripted.chunks
_turn: contextvars.ContextVar[list[float]] = contextvars.ContextVar("stamps")


def _timed(self: ScriptedProvider, request: ModelRequest) -> AsyncIterator[Any]:
    """Names the turn's list of stamps (by its prompt) and then is the provider's own stream:
    the stamps are taken where the provider splits an item into the deltas it yields."""
    prompt = request.messages[-1].content[0]
    assert isinstance(prompt, TextBlock)
    _turn.set(STAMPS.setdefault(prompt.text, []))
    return _stream(self, request)


def _stamped_chunks(text: str) -> list[str]:
    pieces = _chunks(text)
    stamps = _turn.get()
    for _ in pieces:
        stamps.append(time.monotonic())
        if (n := next(_YIELDED)) % 100 == 1:
            LOOP_CPU.append((time.thread_time(), n))
    return pieces


def _save() -> None:
    with open(os.environ["PARLEY_BENCH_STAMPS"], "w") as out:
        json.dump({"stamps": STAMPS, "loop_cpu": LOOP_CPU}, out)


ScriptedProvider.stream = _timed  # type: ignore[assignment]
scripted.chunks = _stamped_chunks
atexit.register(_save)

if __name__ == "__main__":
    if os.environ.get("PARLEY_BENCH_PROFILE"):  # a cProfile of the whole run, written at exit
        import cProfile

        profile = cProfile.Profile()
        atexit.register(lambda: profile.dump_stats(os.environ["PARLEY_BENCH_PROFILE"]))
        profile.enable()
    raise SystemExit(main())
