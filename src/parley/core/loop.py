"""The event loop every long-lived front door runs on."""

from __future__ import annotations

import asyncio
import contextlib


def runner() -> asyncio.Runner:
    """An asyncio runner on uvloop where it is installed (it is a dependency, except on
    Windows): its timers, callbacks and pipes cost about half of the standard loop's, which
    is most of what a delta costs when a thousand turns stream at once."""
    factory = None
    with contextlib.suppress(ImportError):
        import uvloop

        factory = uvloop.new_event_loop
    return asyncio.Runner(loop_factory=factory)
