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
import itertools
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from parley.cli.main import main
from parley.core.messages import TextBlock
from parley.providers.base import ModelRequest, TextDelta
from parley.providers.scripted import ScriptedProvider

STAMPS: dict[str, list[float]] = {}
# CPU time of the event loop's thread (the store writes on another) and deltas yielded, sampled
# every 100 deltas: the loop's own cost per delta, which load from elsewhere barely changes.
LOOP_CPU: list[tuple[float, int]] = []
_stream = ScriptedProvider.stream
_YIELDED = itertools.count(1)


async def _timed(self: ScriptedProvider, request: ModelRequest) -> AsyncIterator[Any]:
    prompt = request.messages[-1].content[0]
    assert isinstance(prompt, TextBlock)
    stamps = STAMPS.setdefault(prompt.text, [])
    async for event in _stream(self, request):
        if isinstance(event, TextDelta):
            stamps.append(time.monotonic())
            if (n := next(_YIELDED)) % 100 == 1:
                LOOP_CPU.append((time.thread_time(), n))
        yield event


def _save() -> None:
    with open(os.environ["PARLEY_BENCH_STAMPS"], "w") as out:
        json.dump({"stamps": STAMPS, "loop_cpu": LOOP_CPU}, out)


ScriptedProvider.stream = _timed  # type: ignore[method-assign]
atexit.register(_save)

if __name__ == "__main__":
    if os.environ.get("PARLEY_BENCH_PROFILE"):  # a cProfile of the whole run, written at exit
        import cProfile

        profile = cProfile.Profile()
        atexit.register(lambda: profile.dump_stats(os.environ["PARLEY_BENCH_PROFILE"]))
        profile.enable()
    raise SystemExit(main())
