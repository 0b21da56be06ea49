"""MCP servers: what they cost at start-up, per call, and under 100 sessions at once.

1. `agent/initialize` answer after spawn, with and without MCP servers configured (nothing may
   start or even be imported on that path).
2. One tool call: the SDK's own round trip to the server (a bare MCP client: the server's own
   time as any client sees it), the same call through Parley's MCP tool (pool, schema check,
   result conversion), and through `parley serve` as a host sees it (tool/started to
   tool/completed: permissions, events stored and sent).
3. 100 sessions on one connection, each calling a tool that sleeps 1 s on one shared server.

python bench/mcp_tools.py [runs]   (not bench/mcp.py: a script of that name would shadow the SDK)
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from harness import ROOT, Host, bench_env, compile_sources, report

FAKE = ROOT / "tests" / "mcp_tools" / "fake_server.py"
CALLS = 300


def config(
    env: dict[str, str],
    pidfile: Path | None = None,
    time_server: bool = True,
    servers: bool = True,
) -> None:
    """The config file: the fake server (and mcp-server-time), and a rule allowing MCP tools."""
    args = [str(FAKE), *(["--pidfile", str(pidfile)] if pidfile else [])]
    text = '[[rules]]\ntool = "mcp__*"\naction = "allow"\n'
    if servers:
        text += f"[mcp_servers.fake]\ncommand = {json.dumps(sys.executable)}\n"
        text += f"args = {json.dumps(args)}\n"
    if servers and time_server and shutil.which("mcp-server-time"):
        text += '[mcp_servers.time]\ncommand = "mcp-server-time"\n'
    Path(env["PARLEY_CONFIG_DIR"], "config.toml").write_text(text)


async def initialize_ms(env: dict[str, str]) -> float:
    started = time.perf_counter()
    host = await Host.start(env, "--ephemeral")
    await host.initialize()
    took = (time.perf_counter() - started) * 1000
    await host.stop()
    return took


async def startup(runs: int) -> None:
    plain = bench_env({"responses": []})
    # The same config file less its MCP servers: reading TOML is not what is measured.
    config(plain, servers=False)
    with_mcp = bench_env({"responses": []})
    config(with_mcp)
    await initialize_ms(plain)
    await initialize_ms(with_mcp)
    a, b = [], []
    for _ in range(runs):  # interleaved: the machine's drift hits both alike
        a.append(await initialize_ms(plain))
        b.append(await initialize_ms(with_mcp))
    report("initialize answer, no MCP servers", a, "ms", "(baseline)")
    report("initialize answer, 2 MCP servers configured", b, "ms", "unchanged")


async def sdk_and_tool(server: str, tool: str, arguments: dict[str, Any]) -> None:
    """The SDK's bare round trip, then Parley's McpTool on the same kind of server."""
    from mcp import ClientSession, StdioServerParameters, stdio_client

    from parley.tools.base import ToolContext
    from parley.tools.mcp.config import ServerConfig, launch
    from parley.tools.mcp.pool import pool
    from parley.tools.mcp.tool import McpTool

    argv = [sys.executable, str(FAKE)] if server == "fake" else ["mcp-server-time"]
    params = StdioServerParameters(command=argv[0], args=argv[1:])
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.list_tools()
        for _ in range(20):
            await session.call_tool(tool, arguments)
        bare = []
        for _ in range(CALLS):
            started = time.perf_counter()
            await session.call_tool(tool, arguments)
            bare.append((time.perf_counter() - started) * 1000)
    handle = pool().lease(
        launch(ServerConfig(server, command=argv[0], args=tuple(argv[1:])), Path.cwd(), {})
    )
    (remote,) = [t for t in await handle.tools() if t.name == tool]
    mcp_tool = McpTool(f"mcp__{server}__{tool}", remote, ServerConfig(server), handle, 30.0)
    ctx = ToolContext(roots=(Path.cwd(),))
    for _ in range(20):
        await mcp_tool.run(arguments, ctx)
    through = []
    for _ in range(CALLS):
        started = time.perf_counter()
        await mcp_tool.run(arguments, ctx)
        through.append((time.perf_counter() - started) * 1000)
    await pool().release(handle)
    report(f"{server}.{tool}: bare SDK call (the server's own time)", bare, "ms", "(baseline)")
    report(f"{server}.{tool}: Parley's MCP tool", through, "ms", "baseline + <= 2 ms")
    added = statistics.median(through) - statistics.median(bare)
    print(f"    Parley's MCP tool adds {added:+.2f} ms (median over median)")


async def over_the_wire(calls: int, name: str, input: dict[str, Any]) -> None:
    """tool/started -> tool/completed as the host sees it, one session, calls in a row."""
    script = {
        "responses": [
            *([{"type": "tool_call", "name": name, "input": input}],) * calls,
            [{"type": "text", "text": "done"}],
        ]
    }
    env = bench_env(script)
    config(env)
    host = await Host.start(env, "--ephemeral")
    await host.initialize()
    session = await host.call(1, "session/create", {"cwd": str(ROOT / "bench")})
    host.send(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "turn/submit",
            "params": {"sessionId": session["sessionId"], "prompt": "go"},
        }
    )
    started: dict[str, float] = {}
    spans: list[float] = []
    while True:
        message = await host.read()
        now = time.perf_counter()
        if message.get("method") == "tool/started":
            started[message["params"]["toolCallId"]] = now
        elif message.get("method") == "tool/completed":
            spans.append((now - started[message["params"]["toolCallId"]]) * 1000)
        elif message.get("id") == 2:
            break
    await host.stop()
    report(
        f"{name} over parley serve: tool/started -> tool/completed at the host",
        spans[1:],
        "ms",
        "(permission check, a thread hop for the preview, two events stored and sent)",
    )


async def many_sessions(count: int) -> None:
    pidfile = Path(bench_env()["PARLEY_HOME"]) / "pids"
    script = {
        "responses": [
            [{"type": "tool_call", "name": "mcp__fake__slow", "input": {"ms": 1000}}],
            [{"type": "text", "text": "done"}],
        ]
    }
    env = bench_env(script)
    config(env, pidfile, time_server=False)
    host = await Host.start(env, "--ephemeral")
    await host.initialize()
    sessions = [(await host.call(f"c{i}", "session/create", {}))["sessionId"] for i in range(count)]
    started = time.perf_counter()
    first_start = last_end = 0.0
    for i, sid in enumerate(sessions):
        host.send(
            {
                "jsonrpc": "2.0",
                "id": f"t{i}",
                "method": "turn/submit",
                "params": {"sessionId": sid, "prompt": "go"},
            }
        )
    done = 0
    while done < count:
        message = await host.read()
        now = time.perf_counter() - started
        if message.get("method") == "tool/started" and not first_start:
            first_start = now
        elif message.get("method") == "tool/completed":
            last_end = now
        elif str(message.get("id", "")).startswith("t"):
            assert message["result"]["reply"] == "done", message
            done += 1
    took = time.perf_counter() - started
    await host.stop()
    servers = len(pidfile.read_text().split())
    print(
        f"{count} sessions, one 1 s call each on {servers} shared server process(es): first "
        f"call started to last call completed {last_end - first_start:.2f} s; every turn "
        f"answered {took:.2f} s after the first was sent (server start included); "
        "target: concurrent (about 1 s)"
    )


async def main(runs: int) -> None:
    compile_sources()
    await startup(runs)
    await sdk_and_tool("fake", "echo", {"text": "hi"})
    if shutil.which("mcp-server-time"):
        await sdk_and_tool("time", "get_current_time", {"timezone": "UTC"})
    # 45 calls: the default profile's max_turns is 50. A built-in read as the control.
    await over_the_wire(45, "read_file", {"path": "harness.py", "limit": 1})
    await over_the_wire(45, "mcp__fake__echo", {"text": "hi"})
    await many_sessions(100)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
