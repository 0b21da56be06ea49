"""The event loop every long-lived front door runs on, and the garbage collector's settings
for a process that makes many short-lived objects per streamed delta."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys

# The collector looks at young objects once this many were made, instead of every 700: a
# thousand turns streaming at once made it run ~400 times a second, a tenth of the event
# loop's time, for cycles the engine rarely makes.
YOUNG_OBJECTS = 10_000
# A middle-aged collection every 3 young ones: each then walks ~30k objects (~5 ms), where 10
# (the default ratio) made it walk ~100k at a time and stop the loop for 30 ms.
YOUNGER_COLLECTIONS = 3
# How long a thread that wants Python's lock waits before the running one is made to give it
# up (5 ms by default). The store's event thread needs it back after each SQLite statement;
# behind a busy event loop it waited the full 5 ms, and every delta with it. A forced switch
# happens only while another thread waits, so a short interval costs little otherwise.
GIL_HANDOFF_S = 0.0001


def runner() -> asyncio.Runner:
    """An asyncio runner on uvloop where it is installed (it is a dependency, except on
    Windows): its timers, callbacks and pipes cost about half of the standard loop's, which
    is most of what a delta costs when a thousand turns stream at once."""
    oldest = gc.get_threshold()[2]
    gc.set_threshold(YOUNG_OBJECTS, YOUNGER_COLLECTIONS, oldest)
    sys.setswitchinterval(GIL_HANDOFF_S)
    factory = None
    with contextlib.suppress(ImportError):
        import uvloop

        factory = uvloop.new_event_loop
    return asyncio.Runner(loop_factory=factory)


def engine_built() -> None:
    """What exists once the engine is built (modules, classes, schemas) lives as long as the
    process: taken out of the collector's sight, so a full collection (which stopped the loop
    for 40-80 ms mid-stream) only walks what sessions and turns made since."""
    gc.freeze()
