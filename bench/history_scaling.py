"""How long histories scale: each must grow linearly with the session's size.

    python bench/history_scaling.py [--sizes 1000,10000,100000] [--repeat 5]

For a session with N stored messages and N stored notifications, over a real `parley serve`:
- resume with replay: `session/resume {afterSeq: 0}` until its answer, which comes after every
  stored notification has been re-sent (the host parses each one);
- `session/get`: the first page of messages (paged: 1000 by default);
- loading the history for the next turn (what `start_turn` reads), in-process.
Target: 100,000 messages <= 400 ms, and each size about ten times the one before.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from harness import Host, bench_env, compile_sources
from parley.core.messages import Message, TextBlock, ToolResultBlock, ToolUseBlock, user_text
from parley.store.records import SessionRecord
from parley.store.sqlite import open_store

SESSION = "ses_long"
PARAGRAPH = "The parser reads one token ahead and backtracks when a rule fails. " * 3


def prepare(home: Path, n: int, cwd: str) -> None:
    """A session with n messages (prompts, answers, tool calls, results) and n notifications."""
    store = open_store(home)
    store.create_session(
        SessionRecord(SESSION, cwd, "default", "scripted", "scripted", "ask", title="long")
    )
    turn = 0
    written = 0
    while written < n:
        turn += 1
        tid = f"turn_{turn}"
        call = ToolUseBlock(f"call_{turn}", "read_file", {"path": f"src/rule{turn}.py"})
        for message in (
            user_text(f"Question {turn}: why does rule {turn} fail?"),
            Message("assistant", (TextBlock("Let me look."), call)),
            Message("user", (ToolResultBlock(call.id, PARAGRAPH),)),
            Message("assistant", (TextBlock(PARAGRAPH),)),
        ):
            store.append_message(SESSION, tid, message)
            written += 1
            store.append_event(SESSION, written, tid, "result/delta", {"text": PARAGRAPH[:60]})
        if turn % 100 == 0:
            store.commit()
    store.commit()
    store.close()


async def over_the_wire(env: dict[str, str], n: int, repeat: int) -> tuple[float, float]:
    host = await Host.start(env)  # the persistent store under PARLEY_HOME
    await host.initialize()
    replay, get = [], []
    for i in range(repeat):
        started = time.perf_counter()
        host.send(
            {
                "jsonrpc": "2.0",
                "id": f"r{i}",
                "method": "session/resume",
                "params": {"sessionId": SESSION, "afterSeq": 0},
            }
        )
        seen = 0
        while True:
            message = await host.read()
            if message.get("id") == f"r{i}":
                break
            seen += 1
        replay.append((time.perf_counter() - started) * 1000)
        assert seen == n, (seen, n)
        started = time.perf_counter()
        await host.call(f"g{i}", "session/get", {"sessionId": SESSION})
        get.append((time.perf_counter() - started) * 1000)
    await host.stop()
    return statistics.median(replay), statistics.median(get)


def history_load(home: Path, n: int, repeat: int) -> float:
    store = open_store(home)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        assert len(store.load_messages(SESSION)) == n
        times.append((time.perf_counter() - started) * 1000)
    store.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    compile_sources()
    print(f"{'messages':>9} {'replay (resume afterSeq 0)':>28} {'session/get':>12} {'load':>9}")
    for n in (int(s) for s in args.sizes.split(",")):
        env = bench_env()
        home = Path(env["PARLEY_HOME"])
        prepare(home, n, str(home))  # outside the event loop: the store commits by itself there
        replay, get = asyncio.run(over_the_wire(env, n, args.repeat))
        load = history_load(home, n, args.repeat)
        print(f"{n:>9,} {replay:>25.1f} ms {get:>9.1f} ms {load:>6.1f} ms")


if __name__ == "__main__":
    main()
