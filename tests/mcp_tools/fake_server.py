"""A small MCP server over stdio (newline-delimited JSON-RPC), written by hand so that it can
misbehave on purpose. Standard library only: it starts in a few milliseconds.

    python fake_server.py [--tools N] [--garbage] [--pidfile F] [--log F] [--calls F] [--stubborn]

Tools: echo {text}, env {name} (a variable's value and the directory it runs in), fail {},
crash {} (exits mid-call), hang {} (never answers), huge {mb}
(a result of that many megabytes), image {}, structured {}, slow {ms}, read_file {} (a name a
built-in has), and two whose names differ only in characters providers refuse ("a.b", "a/b").
--tools N adds N more (tool_0 ...), listed in pages of 50. --garbage writes lines that are not
JSON-RPC to stdout around every answer. --log records the notifications it receives (one JSON
per line); --calls records each call's start and end ("start NAME", "end NAME"). --pidfile
appends its pid at start (and its child's). --stubborn ignores SIGTERM and the end of its
input, and starts a child process of its own: only a kill of the process group ends them.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time

PNG = base64.b64encode(  # one red pixel: a valid PNG, which agents that decode images need
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
    )
).decode()

BASE_TOOLS = [
    ("echo", {"text": {"type": "string"}}, {"readOnlyHint": True}),
    ("env", {"name": {"type": "string"}}, {"readOnlyHint": True}),
    ("fail", {}, None),
    ("crash", {}, None),
    ("hang", {}, None),
    ("huge", {"mb": {"type": "number"}}, None),
    ("image", {}, None),
    ("structured", {}, None),
    ("slow", {"ms": {"type": "integer"}}, None),
    ("read_file", {"path": {"type": "string"}}, {"readOnlyHint": True}),
    ("a.b", {}, None),
    ("a/b", {}, None),
]
PAGE = 50
lock = threading.Lock()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=0)
    parser.add_argument("--garbage", action="store_true")
    parser.add_argument("--pidfile")
    parser.add_argument("--log")
    parser.add_argument("--calls")
    parser.add_argument("--stubborn", action="store_true")
    args = parser.parse_args()
    started = [os.getpid()]
    if args.stubborn:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        started.append(subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL).pid)
    if args.pidfile:
        with open(args.pidfile, "a") as f:
            f.write("".join(f"{pid}\n" for pid in started))
    tools = [tool(name, props, hints) for name, props, hints in BASE_TOOLS]
    tools += [tool(f"tool_{i}", {}, None) for i in range(args.tools)]

    def send(message: dict) -> None:
        with lock:
            if args.garbage:
                sys.stdout.write('this is not JSON-RPC\n{"half": \n')
            sys.stdout.write(json.dumps(message) + "\n")
            if args.garbage:
                sys.stdout.write("[1, 2, 3]\n")
            sys.stdout.flush()

    for line in sys.stdin:
        message = json.loads(line)
        method = message.get("method")
        if "id" not in message:  # a notification
            if args.log:
                with open(args.log, "a") as f:
                    f.write(line)
            continue
        if method == "initialize":
            result = {
                "protocolVersion": message["params"]["protocolVersion"],
                "capabilities": {"tools": {"listChanged": True}},
                "serverInfo": {"name": "fake", "version": "1.0"},
            }
            send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        elif method == "tools/list":
            start = int((message.get("params") or {}).get("cursor") or 0)
            page = {"tools": tools[start : start + PAGE]}
            if start + PAGE < len(tools):
                page["nextCursor"] = str(start + PAGE)
            send({"jsonrpc": "2.0", "id": message["id"], "result": page})
        elif method == "tools/call":
            threading.Thread(target=call, args=(message, send, args.calls), daemon=True).start()
        elif method == "ping":
            send({"jsonrpc": "2.0", "id": message["id"], "result": {}})
        else:
            error = {"code": -32601, "message": f"no method {method}"}
            send({"jsonrpc": "2.0", "id": message["id"], "error": error})
    if args.stubborn:
        while True:
            time.sleep(1)


def tool(name: str, props: dict, hints: dict | None) -> dict:
    out: dict = {
        "name": name,
        "description": f"The {name} tool.",
        "inputSchema": {"type": "object", "properties": props},
    }
    if hints:
        out["annotations"] = hints
    return out


def call(message: dict, send, calls: str | None) -> None:  # type: ignore[no-untyped-def]
    name = message["params"]["name"]
    if calls:
        with lock, open(calls, "a") as f:
            f.write(f"start {name}\n")
    arguments = message["params"].get("arguments") or {}
    result: dict
    if name == "echo":
        result = {"content": [{"type": "text", "text": f"echo: {arguments.get('text', '')}"}]}
    elif name == "env":
        variable = arguments.get("name", "")
        text = f"{variable}={os.environ.get(variable, '(unset)')} in {os.getcwd()}"
        result = {"content": [{"type": "text", "text": text}]}
    elif name == "fail":
        result = {"content": [{"type": "text", "text": "it went wrong"}], "isError": True}
    elif name == "crash":
        os._exit(3)
    elif name == "hang":
        return
    elif name == "huge":
        size = int(float(arguments.get("mb", 20)) * 1_000_000)
        result = {"content": [{"type": "text", "text": "x" * size}]}
    elif name == "image":
        result = {
            "content": [
                {"type": "text", "text": "a dot"},
                {"type": "image", "data": PNG, "mimeType": "image/png"},
            ]
        }
    elif name == "structured":
        result = {
            "content": [{"type": "text", "text": "the answer"}],
            "structuredContent": {"answer": 42},
        }
    elif name == "slow":
        time.sleep(arguments.get("ms", 100) / 1000)
        result = {"content": [{"type": "text", "text": "slept"}]}
    else:
        result = {"content": [{"type": "text", "text": f"{name} ran"}]}
    if calls:
        with lock, open(calls, "a") as f:
            f.write(f"end {name}\n")
    send({"jsonrpc": "2.0", "id": message["id"], "result": result})


if __name__ == "__main__":
    main()
