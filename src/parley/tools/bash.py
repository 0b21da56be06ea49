"""`bash`: a shell command in the working directory, in a process group of its own.

The command, its children and anything it left running in the background are stopped when it
ends, times out or is cancelled (tools/process_group.py): a tool call never leaves processes
behind.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from parley.core.redact import command_env
from parley.tools.base import Tool, ToolContext, ToolOutput
from parley.tools.output import HeadTail
from parley.tools.process_group import DRAIN_S, KILL_GRACE_S, GroupCommand, signal_name, stop_group

MAX_TIMEOUT_S = 600.0
_PAGERS = {"PAGER": "cat", "GIT_PAGER": "cat"}


class Bash(Tool):
    name = "bash"
    kind = "execute"
    description = (
        "Run a shell command with bash in the working directory. stdin is empty; stdout and "
        "stderr come back together, followed by the exit code, and very long output keeps its "
        "beginning and its end. The command is stopped, with all of its child processes, "
        "after `timeout` seconds; background processes it starts are stopped when it ends."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "command": {"type": "string", "minLength": 1, "description": "The command line."},
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT_S,
                "description": "Seconds before the command is stopped "
                "(default: the session's tool timeout).",
            },
        },
        "required": ["command"],
        "additionalProperties": False,
    }

    def preview(self, input: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        return {"command": input["command"], "cwd": str(ctx.cwd)}

    def time_limit(self, input: dict[str, Any], ctx: ToolContext) -> float:
        # The tool enforces its own timeout; the caller's limit is only a backstop.
        return _timeout(input, ctx) + KILL_GRACE_S + DRAIN_S + 1.0

    async def run(self, input: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        command: str = input["command"]
        timeout = _timeout(input, ctx)
        if ctx.commands is not None:
            ran = await ctx.commands.run(
                command,
                cwd=ctx.cwd,
                env=dict(_PAGERS),
                timeout_s=timeout,
                output_limit=ctx.max_output_chars,
                tool_call_id=ctx.tool_call_id,
            )
            status = f"[killed by signal {ran.signal}]" if ran.signal else None
            return _result(command, ran.output, ran.exit_code, ran.timed_out, timeout, status)
        # Parley's own credentials stay out: `env` must not copy them into the conversation.
        env = command_env()
        env.update(_PAGERS)
        output = HeadTail(ctx.max_output_chars)
        run = await GroupCommand.start(
            [shutil.which("bash") or "/bin/sh", "-c", command], ctx.cwd, env, output
        )
        proc = run.proc
        try:
            try:
                await asyncio.wait_for(proc.wait(), timeout)
                timed_out = False
            except TimeoutError:
                timed_out = True
            await run.stop()
        except asyncio.CancelledError:
            # Shielded: even a second cancel cannot leave the group running.
            await asyncio.shield(stop_group(proc))
            raise
        finally:
            await run.close()
        code = proc.returncode
        assert code is not None
        killed = f"[killed by signal {signal_name(-code)}]" if code < 0 else None
        return _result(command, output.text(), code, timed_out, timeout, killed)


def _result(
    command: str,
    text: str,
    code: int | None,
    timed_out: bool,
    timeout: float,
    killed: str | None,
) -> ToolOutput:
    if timed_out:
        status = f"[timed out after {timeout:g}s; the command and its processes were stopped]"
    else:
        status = killed or f"[exit code {code}]"
    text = text.removesuffix("\n")
    return ToolOutput(
        f"{text}\n{status}" if text else status,
        is_error=timed_out or code != 0,
        display={"command": command, "exitCode": code, "timedOut": timed_out},
    )


def _timeout(input: dict[str, Any], ctx: ToolContext) -> float:
    return float(input.get("timeout", ctx.timeout_s))
