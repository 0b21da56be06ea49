"""The JSON-RPC client over an agent's pipes: what the agent sends faster than a turn takes it
waits in the pipe, not in Parley's memory, and nothing is lost or reordered."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from parley.agents.process import AgentProcess
from parley.agents.rpc import INCOMING_LIMIT, RpcClient

FLOOD = 5 * INCOMING_LIMIT
AGENT = f"""
import json, sys, time
for i in range({FLOOD}):
    sys.stdout.write(json.dumps({{"jsonrpc": "2.0", "method": "update", "params": {{"i": i}}}}))
    sys.stdout.write("\\n")
sys.stdout.flush()
time.sleep(60)
"""


async def test_a_flood_of_notifications_waits_in_the_pipe_until_taken(tmp_path: Path) -> None:
    process = await AgentProcess.start(
        "flood", [sys.executable, "-c", AGENT], dict(os.environ), str(tmp_path)
    )
    rpc = RpcClient(process)
    try:
        for _ in range(100):  # the reader reads what it may, then waits for a taker
            await asyncio.sleep(0.02)
            if rpc.incoming.qsize() >= INCOMING_LIMIT:
                break
        await asyncio.sleep(0.2)
        assert rpc.incoming.qsize() == INCOMING_LIMIT
        got = [(await rpc.next())["params"]["i"] for _ in range(FLOOD)]
        assert got == list(range(FLOOD))
    finally:
        await process.close(gentle=False)
