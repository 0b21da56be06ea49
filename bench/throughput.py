"""Notifications per second (server -> host) and requests per second (host -> server).

    python bench/throughput.py [--framing ndjson] [--store memory|sqlite]

Notifications: one turn whose scripted reply streams 20,000 `result/delta` notifications through
the whole engine (numbering, storing, filtering, framing). Requests: 20,000 pipelined requests,
each validated against its schema and answered in order: `session/get` (one store read each)
and `turn/cancel` (no store I/O: the protocol path alone).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from harness import Host, bench_env, compile_sources, report
from parley.doors.jsonrpc.framing import Framing

DELTAS = 20_000
REQUESTS = 20_000


async def notifications(framing: Framing, store_args: list[str]) -> float:
    # Each word is one delta (the scripted provider streams word-sized chunks).
    script = {"responses": [[{"type": "text", "text": "word " * DELTAS}]]}
    host = await Host.start(bench_env(script), *store_args, framing=framing)
    await host.initialize()
    session = await host.call(1, "session/create", {})
    host.send(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "turn/submit",
            "params": {"sessionId": session["sessionId"], "prompt": "go"},
        }
    )
    count = 0
    first = 0.0
    while True:
        message = await host.read()
        if message.get("method") == "result/delta":
            count += 1
            if count == 1:
                first = time.perf_counter()
        elif message.get("id") == 2:
            break
    elapsed = time.perf_counter() - first
    await host.stop()
    assert count == DELTAS, count
    return (count - 1) / elapsed


async def requests(method: str, framing: Framing, store_args: list[str]) -> float:
    host = await Host.start(bench_env({"responses": []}), *store_args, framing=framing)
    await host.initialize()
    session = await host.call(1, "session/create", {})
    params = {"sessionId": session["sessionId"]}
    if method == "turn/cancel":
        params["turnId"] = "turn_none"  # nothing running: answered without touching the store
    started = time.perf_counter()
    for i in range(REQUESTS):
        host.send({"jsonrpc": "2.0", "id": 10 + i, "method": method, "params": params})
    answered = 0
    while answered < REQUESTS:
        message = await host.read()
        assert "result" in message, message
        answered += 1
    elapsed = time.perf_counter() - started
    await host.stop()
    return REQUESTS / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--framing", choices=["content-length", "ndjson"], default="content-length")
    parser.add_argument("--store", choices=["memory", "sqlite"], default="sqlite")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    framing = Framing(args.framing)
    store_args = ["--ephemeral"] if args.store == "memory" else []
    compile_sources()
    label = f"[{args.framing}, {args.store} store]"
    rates = [await notifications(framing, store_args) for _ in range(args.runs)]
    report(f"notifications/s server->host {label}", rates, "msg/s", ">= 50,000")
    for method in ("session/get", "turn/cancel"):
        rates = [await requests(method, framing, store_args) for _ in range(args.runs)]
        report(f"{method} requests/s host->server {label}", rates, "req/s", ">= 20,000")


if __name__ == "__main__":
    asyncio.run(main())
