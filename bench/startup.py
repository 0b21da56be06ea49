"""Time from spawning `parley serve` to the first `agent/initialize` answer.

python bench/startup.py [runs]
"""

from __future__ import annotations

import asyncio
import sys
import time

from harness import Host, bench_env, compile_sources, report


async def once(env: dict[str, str]) -> float:
    started = time.perf_counter()
    host = await Host.start(env, "--ephemeral")
    await host.initialize()
    elapsed = (time.perf_counter() - started) * 1000
    await host.stop()
    return elapsed


async def main(runs: int) -> None:
    compile_sources()
    env = bench_env()
    await once(env)  # warm the OS file cache
    times = [await once(env) for _ in range(runs)]
    report("spawn -> initialize answer", times, "ms", "<= 200 ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
