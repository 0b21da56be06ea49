"""Answering `agent/initialize` before the server is loaded (see doors/jsonrpc/handshake.py)."""

from __future__ import annotations

from typing import Any

from parley.core.errors import ParleyError
from parley.doors.jsonrpc.handshake import EarlyInput, answer_early
from parley.doors.stdio.lifecycle import Negotiated, negotiate
from parley.protocol.codec import unstructure
from parley.protocol.methods import INITIALIZE
from parley.protocol.params import parse_params


def answer_initialize(fd_in: int, fd_out: int, persistent: bool) -> EarlyInput:
    def answer(params: Any) -> tuple[Negotiated, Any] | None:
        try:
            negotiated, result = negotiate(parse_params(INITIALIZE, params), persistent)
        except ParleyError:
            return None
        return negotiated, unstructure(result)

    return answer_early(fd_in, fd_out, INITIALIZE, answer)
