"""Concurrent turns on as many sessions over one connection, scripted provider.

    python bench/concurrent_turns.py [sessions] [--timeline]   (default 100; the target: 1000)

Each scripted reply streams 50 deltas, one every 20 ms (a model producing ~50 tokens/s). The
latency Parley adds to a delta is the time from the provider yielding it (stamped inside the
server by bench/timed_serve.py) to the host having read and parsed its notification: the turn
loop, storing the event, framing, the pipe. We report the median and p99 over every delta of
every turn.

With --timeline, the same per 100 ms of the run (by when the deltas were yielded): where the
slow deltas are (the turns' start and end, a stall of the store or of the collector).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, Host, bench_env, compile_sources

DELTAS = 50
INTERVAL_MS = 20


async def main(sessions: int, timeline: bool) -> None:
    compile_sources()
    script = {
        "responses": [
            [{"type": "text", "text": f"w{i} ", "delayMs": INTERVAL_MS} for i in range(DELTAS)]
        ]
    }
    stamps_file = Path(tempfile.mkdtemp(prefix="parley-bench-")) / "stamps.json"
    env = {**bench_env(script), "PARLEY_BENCH_STAMPS": str(stamps_file)}
    host = await Host.start(env, entry=(str(ROOT / "bench" / "timed_serve.py"),))  # SQLite store
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
                "params": {"sessionId": sid, "prompt": sid},  # pairs stamps with deltas
            }
        )
    results: dict[str, str] = {}
    while len(results) < sessions:
        message = await host.read()
        if message.get("method") == "result/delta":
            arrivals[message["params"]["sessionId"]].append(time.monotonic())
        elif str(message.get("id", "")).startswith("t"):
            results[message["id"]] = message["result"]["stopReason"]
    wall = time.perf_counter() - started
    await host.stop()
    saved = json.loads(stamps_file.read_text())
    yielded: dict[str, list[float]] = saved["stamps"]
    (cpu0, n0), (cpu1, n1) = saved["loop_cpu"][0], saved["loop_cpu"][-1]
    added = []
    for sid, times in arrivals.items():
        assert len(times) == len(yielded[sid]) == DELTAS, (len(times), len(yielded[sid]))
        added += [(got - made) * 1000 for made, got in zip(yielded[sid], times, strict=True)]
    finished = sum(1 for r in results.values() if r == "end_turn")
    print(
        f"{sessions} concurrent turns: {finished}/{sessions} finished with end_turn in "
        f"{wall:.2f} s (ideal {DELTAS * INTERVAL_MS / 1000:.2f} s)"
    )
    cuts = statistics.quantiles(added, n=100)
    print(
        f"provider -> host latency per delta ({len(added)} deltas): "
        f"median {statistics.median(added):.2f} ms, p95 {cuts[94]:.2f} ms, p99 {cuts[98]:.2f} ms; "
        "targets: median <= 2 ms, p99 <= 50 ms"
    )
    print(
        f"event loop thread CPU per delta while streaming: {(cpu1 - cpu0) / (n1 - n0) * 1e6:.1f} us"
    )
    if timeline:
        windows: dict[int, list[float]] = {}
        start = min(min(times) for times in yielded.values())
        for sid, times in arrivals.items():
            for made, got in zip(yielded[sid], times, strict=True):
                windows.setdefault(int((made - start) * 10), []).append((got - made) * 1000)
        for window, values in sorted(windows.items()):
            values.sort()
            print(
                f"  {window / 10:4.1f} s: {len(values):5} deltas, median "
                f"{statistics.median(values):6.1f} ms, max {values[-1]:6.1f} ms"
            )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--timeline"]
    asyncio.run(main(int(args[0]) if args else 100, "--timeline" in sys.argv))
