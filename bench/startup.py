"""Time from spawning `parley serve` to the first `agent/initialize` answer, and to the answer
of a `session/create` sent right after it (the server fully loaded, the engine built); the same
for `parley acp` (ACP's `initialize`, then `session/new`).

python bench/startup.py [runs]
"""

from __future__ import annotations

import asyncio
import sys
import time

from harness import Host, bench_env, compile_sources, report
from parley.doors.jsonrpc.framing import Framing


async def once(env: dict[str, str]) -> tuple[float, float]:
    started = time.perf_counter()
    host = await Host.start(env, "--ephemeral")
    await host.initialize()
    initialized = (time.perf_counter() - started) * 1000
    await host.call(1, "session/create", {})
    ready = (time.perf_counter() - started) * 1000
    await host.stop()
    return initialized, ready


async def once_acp(env: dict[str, str], cwd: str) -> tuple[float, float]:
    started = time.perf_counter()
    host = await Host.start(env, framing=Framing.NDJSON, command="acp")
    await host.call(0, "initialize", {"protocolVersion": 1, "clientCapabilities": {}})
    initialized = (time.perf_counter() - started) * 1000
    await host.call(1, "session/new", {"cwd": cwd, "mcpServers": []})
    ready = (time.perf_counter() - started) * 1000
    await host.stop()
    return initialized, ready


async def main(runs: int) -> None:
    compile_sources()
    env = bench_env({"responses": []})
    await once(env)  # warm the OS file cache
    times = [await once(env) for _ in range(runs)]
    report("spawn -> initialize answer", [t[0] for t in times], "ms", "<= 200 ms")
    report("spawn -> session/create answer", [t[1] for t in times], "ms", "(no target)")
    cwd = env["PARLEY_HOME"]
    await once_acp(env, cwd)
    acp = [await once_acp(env, cwd) for _ in range(runs)]
    report("parley acp: spawn -> initialize answer", [t[0] for t in acp], "ms", "as serve's")
    report("parley acp: spawn -> session/new answer", [t[1] for t in acp], "ms", "(no target)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
