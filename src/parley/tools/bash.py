"""`bash`: a shell command in the working directory, in a process group of its own.

The command, its children and anything it left running in the background are stopped when it
ends, times out or is cancelled: a tool call never leaves processes behind (short of one that
detaches into a new session on purpose).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from typing import Any, BinaryIO

from parley.core.redact import command_env
from parley.tools.base import Tool, ToolContext, ToolError, ToolOutput
from parley.tools.output import HeadTail

MAX_TIMEOUT_S = 600.0
# How long a stopped group gets between SIGTERM and SIGKILL.
KILL_GRACE_S = 2.0
# How long to wait for the output pipe to close once the group is gone (a process that left
# the group on purpose may hold it open).
_DRAIN_S = 1.0
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
        return _timeout(input, ctx) + KILL_GRACE_S + _DRAIN_S + 1.0

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
        # Output goes to a pipe of our own rather than asyncio's: on Python 3.11 `proc.wait()`
        # would also wait for asyncio's pipes to close, which a background process can delay.
        read_fd, write_fd = os.pipe()
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        try:
            proc = await asyncio.create_subprocess_exec(
                shutil.which("bash") or "/bin/sh",
                "-c",
                command,
                cwd=ctx.cwd,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                start_new_session=True,  # its own process group: one signal reaches them all
            )
        except BaseException as exc:
            pipe.close()
            if isinstance(exc, OSError):
                raise ToolError(f"cannot start the command: {exc.strerror}") from None
            raise
        finally:
            os.close(write_fd)
        output = HeadTail(ctx.max_output_chars)
        reader = asyncio.create_task(_collect(pipe, output))
        try:
            try:
                await asyncio.wait_for(proc.wait(), timeout)
                timed_out = False
            except TimeoutError:
                timed_out = True
            await stop_group(proc)
            await asyncio.wait({reader}, timeout=_DRAIN_S)
        except asyncio.CancelledError:
            # Shielded: even a second cancel cannot leave the group running.
            await asyncio.shield(stop_group(proc))
            raise
        finally:
            reader.cancel()
            await asyncio.wait({reader})
            pipe.close()
        code = proc.returncode
        assert code is not None
        killed = f"[killed by signal {_signal_name(-code)}]" if code < 0 else None
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


async def _collect(pipe: BinaryIO, output: HeadTail) -> None:
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), pipe)
    try:
        await output.read(stream)
    finally:
        transport.close()


def _timeout(input: dict[str, Any], ctx: ToolContext) -> float:
    return float(input.get("timeout", ctx.timeout_s))


async def stop_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM to the whole group; SIGKILL to what is left once the shell has gone or the grace
    period is over. The shell leads the group, so its pid is the group id."""
    _signal_group(proc.pid, signal.SIGTERM)
    if proc.returncode is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), KILL_GRACE_S)
    _signal_group(proc.pid, signal.SIGKILL)
    await proc.wait()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # everyone has already gone
        os.killpg(pgid, sig)
