"""`parley serve` that also records when the scripted provider yields each text delta.

For concurrent_turns.py: the stamps (CLOCK_MONOTONIC, shared by every process on the machine)
are written as JSON to $PARLEY_BENCH_STAMPS at exit, keyed by the turn's prompt, so the host can
pair each delta it receives with the moment the provider produced it.

python bench/timed_serve.py serve [args]

With PARLEY_BENCH_PROFILE=PATH, the run is profiled with cProfile and the stats written there.
"""

from __future__ import annotations

import atexit
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
_stream = ScriptedProvider.stream


async def _timed(self: ScriptedProvider, request: ModelRequest) -> AsyncIterator[Any]:
    prompt = request.messages[-1].content[0]
    assert isinstance(prompt, TextBlock)
    stamps = STAMPS.setdefault(prompt.text, [])
    async for event in _stream(self, request):
        if isinstance(event, TextDelta):
            stamps.append(time.monotonic())
        yield event


def _save() -> None:
    with open(os.environ["PARLEY_BENCH_STAMPS"], "w") as out:
        json.dump(STAMPS, out)


ScriptedProvider.stream = _timed  # type: ignore[method-assign]
atexit.register(_save)

if __name__ == "__main__":
    if os.environ.get("PARLEY_BENCH_PROFILE"):  # a cProfile of the whole run, written at exit
        import cProfile

        profile = cProfile.Profile()
        atexit.register(lambda: profile.dump_stats(os.environ["PARLEY_BENCH_PROFILE"]))
        profile.enable()
    raise SystemExit(main())
