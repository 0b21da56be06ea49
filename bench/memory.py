"""Resident memory of an idle `parley serve`: after the handshake, and after a finished turn.

python bench/memory.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness import Host, bench_env, compile_sources


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def main() -> None:
    compile_sources()
    script = {"responses": [[{"type": "text", "text": "word " * 500}]]}
    host = await Host.start(bench_env(script))
    await host.initialize()
    session = await host.call(1, "session/create", {})
    await asyncio.sleep(0.5)
    print(f"idle after initialize and session/create: {rss_mb(host.proc.pid):.1f} MB RSS")
    await host.call(2, "turn/submit", {"sessionId": session["sessionId"], "prompt": "go"})
    await asyncio.sleep(0.5)
    print(f"idle after one turn: {rss_mb(host.proc.pid):.1f} MB RSS; target <= 60 MB")
    await host.stop()


if __name__ == "__main__":
    asyncio.run(main())
