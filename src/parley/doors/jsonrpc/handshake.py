"""Answering a door's first request (its handshake) before the server is loaded.

A host or editor sends its handshake as soon as it has spawned the process. Importing asyncio
and pygls is most of a cold start and nothing in the answer needs them, so the CLI first looks
for that request on stdin and answers it with plain blocking I/O; the server then starts with
the handshake done and every byte read after it. Anything else (no complete frame yet, another
method first, a broken frame, params the door's `answer` refuses) is left to the server, which
answers it exactly as it would have: nothing is lost, only the fast path is skipped.
"""

from __future__ import annotations

import logging
import os
import select
import time
from collections.abc import Callable
from typing import Any

import attrs

from parley.doors.jsonrpc.framing import READ_CHUNK, Frame, FrameParser, Framing, encode
from parley.protocol import jsonbytes

log = logging.getLogger(__name__)

# How long to wait for the host's first bytes. Hosts write their handshake right after
# spawning, long before this point is reached, so this only bounds a host that waits.
GRACE_S = 0.05

# A door's early answer: the handshake's params -> (what the server carries on with, the
# result to send), or None to leave the request to the server.
Answer = Callable[[Any], tuple[Any, Any] | None]


@attrs.define
class EarlyInput:
    """What the handshake read: the parser's state, frames not handled yet, and what the
    door's `answer` returned if the handshake was answered."""

    parser: FrameParser
    unhandled: list[Frame]
    negotiated: Any = None


def answer_early(
    fd_in: int, fd_out: int, method: str, answer: Answer, framing: Framing | None = None
) -> EarlyInput:
    parser = FrameParser(framing)
    frames = _first_frames(fd_in, parser)
    early = EarlyInput(parser, frames)
    if frames and isinstance(frames[0], bytes) and parser.framing is not None:
        early.negotiated = _answer(frames[0], fd_out, parser.framing, method, answer)
        if early.negotiated is not None:
            del early.unhandled[0]
    return early


def _first_frames(fd: int, parser: FrameParser) -> list[Frame]:
    deadline = time.monotonic() + GRACE_S
    while (left := deadline - time.monotonic()) > 0:
        try:
            ready, _, _ = select.select([fd], [], [], left)
        except (OSError, ValueError):  # not a selectable fd: leave it all to the server
            return []
        if not ready:
            return []
        try:
            chunk = os.read(fd, READ_CHUNK)
        except OSError:
            return []  # the server's reader meets the same error and reports it
        if not chunk:
            return []  # end of input: the server reads it again and winds down
        if frames := parser.feed(chunk):
            return frames
    return []


def _answer(body: bytes, fd_out: int, framing: Framing, method: str, answer: Answer) -> Any:
    try:
        message = jsonbytes.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return None
    if not (
        isinstance(message, dict)
        and message.get("jsonrpc") == "2.0"
        and message.get("method") == method
        and type(message.get("id")) in (str, int)
    ):
        return None
    answered = answer(message.get("params"))
    if answered is None:
        return None  # the server gives the error answer
    negotiated, result = answered
    reply = {"jsonrpc": "2.0", "id": message["id"], "result": result}
    data = memoryview(encode(jsonbytes.dumps(reply), framing))
    try:
        while data:
            try:
                data = data[os.write(fd_out, data) :]
            except BlockingIOError:  # the host handed us a non-blocking pipe
                select.select([], [fd_out], [])
    except OSError:
        pass  # the host is gone; the server finds its input closed and winds down
    log.debug("answered %s before loading the server", method)
    return negotiated
