"""A complete minimal Parley host in Python, on `parley.client`.

    python examples/host.py ["your prompt"]

It spawns `parley serve` (this interpreter's `python -m parley`) with the scripted provider and
examples/scripts/hello.json, runs one turn in this folder, and streams what happens.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from parley.client import ApprovalRequestParams, Notification, ParleyClient, ParleyRpcError

HERE = Path(__file__).resolve().parent


async def approve(request: ApprovalRequestParams) -> str:
    """Ask the person at the terminal; with no terminal, refuse (never allow silently)."""
    if not sys.stdin.isatty():
        return "reject_once"
    answer = await asyncio.to_thread(input, f"Allow {request.tool} {request.input}? [y/N] ")
    return "allow_once" if answer.strip().lower().startswith("y") else "reject_once"


def show(note: Notification) -> None:
    p = note.params
    if note.method == "thinking/final":
        print(f"[thinking] {p['text']}")
    elif note.method == "result/delta":
        print(p["text"], end="", flush=True)
    elif note.method == "tool/started":
        print(f"\n[tool] {p['name']} {p['input']}")
    elif note.method == "tool/completed":
        print(f"[tool] {p['name']} {'failed' if p['isError'] else 'done'}")
    elif note.method == "error":
        print(f"\n[error] {p['code']}: {p['message']}")


async def main(prompt: str) -> int:
    agent = await ParleyClient.spawn(
        args=["--ephemeral"],  # keep nothing on disk
        env={"PARLEY_PROVIDER": "scripted", "PARLEY_SCRIPT": str(HERE / "scripts" / "hello.json")},
        approval_handler=approve,
    )
    async with agent:  # shuts the server down on the way out, whatever happens
        assert agent.server is not None
        print(f"connected to {agent.server.server_info.name} {agent.server.server_info.version}")
        session = await agent.create_session(cwd=str(HERE))
        try:
            result = await agent.submit_turn(session.session_id, prompt, on_event=show)
        except ParleyRpcError as exc:  # an error answer; exc.code is the stable wire code
            print(f"parley: {exc.code}: {exc.message}", file=sys.stderr)
            return 1
        print(f"\n[done] {result.stop_reason}, {result.usage.output_tokens} output tokens")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "What is here?")))
