"""pygls's JSON-RPC protocol, fed by our own reader and hardened against bad input."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable
from typing import Any

from lsprotocol.types import ResponseError  # pygls_core's stand-in once installed
from pygls.exceptions import JsonRpcException, JsonRpcMethodNotFound
from pygls.protocol.json_rpc import JsonRPCProtocol

from parley.core.errors import ErrorCode
from parley.protocol import jsonbytes
from parley.protocol.errors import RpcCode
from parley.protocol.methods import CANCEL_REQUEST

log = logging.getLogger(__name__)
MsgId = str | int


class ParleyProtocol(JsonRPCProtocol):
    """Adds what pygls leaves out for a non-LSP server: -32700/-32600 answers for broken
    messages, raw-dict params, cancellation of turns, and fast paths: messages routed from the
    parsed dict, handlers that never wait answered inline, notifications written as dicts."""

    _server: Any  # the ParleyServer; pygls types it as its base class

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        # In-flight turn/submit requests by request id, so $/cancelRequest can cancel the turn.
        self.turn_requests: dict[MsgId, tuple[str, str]] = {}

    def receive(self, body: bytes) -> None:
        """Handle one frame body; every problem gets an answer, nothing raises."""
        try:
            data = jsonbytes.loads(body)
        except ValueError as exc:  # UnicodeDecodeError included
            self.send_error(None, RpcCode.PARSE_ERROR, f"parse error: {exc}")
            return
        self._route(data)

    def _route(self, data: Any) -> None:
        """Check the envelope, then hand the message to pygls's handlers directly. pygls's own
        handle_message wants its message classes and dispatches with runtime Protocol checks
        (the slowest step of a request on Python 3.11); a dict already says what it is."""
        if isinstance(data, list):
            return self._invalid(
                None, "batch requests are not supported; send one message at a time"
            )
        if not isinstance(data, dict):
            return self._invalid(None, "a message must be a JSON object")
        msg_id: Any = data.get("id")  # checked just below
        has_id = "id" in data
        if has_id and type(msg_id) not in (str, int):  # type(): true is not an id
            return self._invalid(None, "id must be a string or an integer")
        if data.get("jsonrpc") != "2.0":
            return self._invalid(msg_id, 'jsonrpc must be "2.0"')
        ctx = contextvars.copy_context()  # each handler runs in its own context, as in pygls
        if "method" in data:
            method = data["method"]
            if not isinstance(method, str) or not method:
                return self._invalid(msg_id, "method must be a non-empty string")
            if has_id:
                ctx.run(self._handle_request, msg_id, method, data.get("params"))
            else:
                ctx.run(self._handle_notification, method, data.get("params"))
        elif not has_id:
            self._invalid(None, "a message needs a method (request) or an id (response)")
        elif isinstance(error := data.get("error"), dict):
            code = error.get("code")
            host_error = ResponseError(
                code if type(code) is int else 0, str(error.get("message", "")), error.get("data")
            )
            ctx.run(self._handle_response, msg_id, None, host_error)
        else:
            ctx.run(self._handle_response, msg_id, data.get("result"))
        return None

    def _handle_request(self, msg_id: MsgId, method_name: str, params: Any) -> None:
        """Answer handlers that never wait on the spot. pygls runs every handler through a
        Future and a done callback; at thousands of requests a second that bookkeeping is most
        of a request. Waiting handlers and unknown methods take pygls's own path."""
        handler = self.fm.features.get(method_name)
        if handler is None or _waits(handler) or method_name in self.fm.builtin_features:
            super()._handle_request(msg_id, method_name, params)
            return
        self._ctx_msg_id.set(msg_id)
        try:
            result = handler(params)
        except JsonRpcException as exc:  # dispatch.route turns every failure into one
            self.send_error(msg_id, exc.code, exc.message, exc.data)
            return
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "result": result})

    def _send_data(self, data: Any) -> None:
        if self.writer is None or not data:
            return
        try:
            body = jsonbytes.dumps(data, default=self._serialize_message)
        except Exception:  # as pygls does: one unwritable message must not stop the caller
            log.exception("could not serialize a message; dropped it")
            return
        self.writer.write(body)

    def _invalid(self, msg_id: MsgId | None, message: str) -> None:
        self.send_error(msg_id, RpcCode.INVALID_REQUEST, message)

    def send_error(
        self, msg_id: MsgId | None, code: int, message: str, data: dict[str, Any] | None = None
    ) -> None:
        error: dict[str, Any] = {"code": int(code), "message": message}
        error["data"] = data or {"code": _string_code(code)}
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": error})

    def notify(self, method: str, params: Any | None = None) -> None:
        # Plain dicts serialize without pygls's per-message attrs round trip.
        self._send_data({"jsonrpc": "2.0", "method": method, "params": params})

    def _get_handler(self, feature_name: str) -> Any:
        try:
            return super()._get_handler(feature_name)
        except JsonRpcMethodNotFound:
            raise JsonRpcMethodNotFound(
                f"unknown method {feature_name!r}", data={"code": ErrorCode.METHOD_NOT_FOUND.value}
            ) from None

    def _handle_notification(self, method_name: str, params: Any) -> None:
        """$/cancelRequest is the only notification a host sends. Anything else is ignored:
        unknown ones may come from a newer host, and a request sent without an id (a host bug)
        must not run unanswered: `session/delete` would delete with nobody told."""
        if method_name == CANCEL_REQUEST:
            if isinstance(params, dict) and type(params.get("id")) in (str, int):
                self._handle_cancel_notification(params["id"])
        elif method_name in self.fm.features:
            log.warning("ignored %s sent without an id: requests need one", method_name)

    def _handle_cancel_notification(self, msg_id: MsgId) -> None:
        turn = self.turn_requests.get(msg_id)
        if turn is not None:
            # Cancel the turn, not the request: its answer is a result with stopReason cancelled.
            self._server.cancel_turn(*turn)  # the ParleyServer that owns this protocol
            return
        super()._handle_cancel_notification(msg_id)


@functools.cache
def _waits(handler: Callable[..., Any]) -> bool:
    return asyncio.iscoroutinefunction(handler)


def _string_code(code: int) -> str:
    if code == RpcCode.INVALID_PARAMS:
        return ErrorCode.INVALID_PARAMS.value
    if code == RpcCode.INTERNAL_ERROR:
        return ErrorCode.INTERNAL.value
    names: dict[int, str] = {
        RpcCode.PARSE_ERROR: ErrorCode.PARSE_ERROR.value,
        RpcCode.INVALID_REQUEST: ErrorCode.INVALID_REQUEST.value,
        RpcCode.METHOD_NOT_FOUND: ErrorCode.METHOD_NOT_FOUND.value,
    }
    return names.get(code, ErrorCode.INTERNAL.value)
