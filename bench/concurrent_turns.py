"""100 concurrent turns on 100 sessions over one connection, scripted provider.

    python bench/concurrent_turns.py [sessions]

Each scripted reply streams 50 deltas, one every 20 ms (a model producing ~50 tokens/s). The
engine's added latency per delta is how much later than its predecessor + 20 ms each delta
reaches the host; we report the median over every delta of every turn.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import sys
import time

from harness import Host, bench_env, compile_sources

DELTAS = 50
INTERVAL_MS = 20


async def main(sessions: int) -> None:
    compile_sources()
    script = {
        "responses": [
            [{"type": "text", "text": f"w{i} ", "delayMs": INTERVAL_MS} for i in range(DELTAS)]
        ]
    }
    host = await Host.start(bench_env(script), "--ephemeral")
    await host.initialize()
    ids = [(await host.call(f"c{i}", "session/create", {}))["sessionId"] for i in range(sessions)]
    arrivals: dict[str, list[float]] = {sid: [] for sid in ids}
    started = time.perf_counter()
    for i, sid in enumerate(ids):
        host.send(
            {
                "jsonrpc": "2.0",
                "id": f"t{i}",
                "method": "turn/submit",
                "params": {"sessionId": sid, "prompt": "go"},
            }
        )
    results: dict[str, str] = {}
    while len(results) < sessions:
        message = await host.read()
        if message.get("method") == "result/delta":
            arrivals[message["params"]["sessionId"]].append(time.perf_counter())
        elif str(message.get("id", "")).startswith("t"):
            results[message["id"]] = message["result"]["stopReason"]
    wall = time.perf_counter() - started
    await host.stop()
    added = [
        (later - earlier) * 1000 - INTERVAL_MS
        for times in arrivals.values()
        for earlier, later in itertools.pairwise(times)
    ]
    finished = sum(1 for r in results.values() if r == "end_turn")
    print(
        f"{sessions} concurrent turns: {finished}/{sessions} finished with end_turn in "
        f"{wall:.2f} s (ideal {DELTAS * INTERVAL_MS / 1000:.2f} s)"
    )
    print(
        f"added latency per delta: median {statistics.median(added):.2f} ms, "
        f"p95 {statistics.quantiles(added, n=20)[-1]:.2f} ms; target median <= 1 ms"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
