"""pygls's JSON-RPC protocol, fed by our own reader and hardened against bad input."""

from __future__ import annotations

import contextvars
import json
import logging
from typing import Any

import attrs
from pygls.exceptions import JsonRpcMethodNotFound
from pygls.protocol.json_rpc import (
    JsonRPCNotification,
    JsonRPCProtocol,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
)

from parley.protocol.errors import ErrorCode, RpcCode
from parley.protocol.methods import CANCEL_REQUEST

log = logging.getLogger(__name__)
MsgId = str | int


@attrs.define
class HostError:
    """The error object of a host's error response, as pygls's response handling reads it."""

    code: int
    message: str
    data: Any = None


@attrs.define
class HostErrorResponse:
    id: MsgId
    jsonrpc: str
    error: HostError


class ParleyProtocol(JsonRPCProtocol):
    """Adds what pygls leaves out for a non-LSP server: -32700/-32600 answers for broken
    messages, raw-dict params, cancellation of turns, and a fast path for notifications."""

    _server: Any  # the ParleyServer; pygls types it as its base class

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        # In-flight turn/submit requests by request id, so $/cancelRequest can cancel the turn.
        self.turn_requests: dict[MsgId, tuple[str, str]] = {}

    def receive(self, body: bytes) -> None:
        """Handle one frame body; every problem gets an answer, nothing raises."""
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            self.send_error(None, RpcCode.PARSE_ERROR, f"parse error: {exc}")
            return
        message = self._envelope(data)
        if message is not None:
            self._dispatch(message)

    def _dispatch(self, message: Any) -> None:
        """pygls's handle_message, minus its runtime Protocol checks (the slowest step of a
        request on Python 3.11): the envelope's class already says what the message is."""
        ctx = contextvars.copy_context()  # each handler runs in its own context, as in pygls
        if isinstance(message, JsonRPCRequestMessage):
            ctx.run(self._handle_request, message.id, message.method, message.params)
        elif isinstance(message, JsonRPCNotification):
            ctx.run(self._handle_notification, message.method, message.params)
        elif isinstance(message, JsonRPCResponseMessage):
            ctx.run(self._handle_response, message.id, message.result)
        else:
            ctx.run(self._handle_response, message.id, None, message.error)

    def _envelope(self, data: Any) -> Any:
        if isinstance(data, list):
            return self._invalid(
                None, "batch requests are not supported; send one message at a time"
            )
        if not isinstance(data, dict):
            return self._invalid(None, "a message must be a JSON object")
        raw_id = data.get("id")
        has_id = "id" in data
        if has_id and (not isinstance(raw_id, str | int) or isinstance(raw_id, bool)):
            return self._invalid(None, "id must be a string or an integer")
        msg_id: MsgId = raw_id if isinstance(raw_id, str | int) else ""
        if data.get("jsonrpc") != "2.0":
            return self._invalid(raw_id, 'jsonrpc must be "2.0"')
        params = data.get("params")
        if "method" in data:
            method = data["method"]
            if not isinstance(method, str) or not method:
                return self._invalid(raw_id, "method must be a non-empty string")
            if has_id:
                return JsonRPCRequestMessage(id=msg_id, method=method, jsonrpc="2.0", params=params)
            return JsonRPCNotification(method=method, jsonrpc="2.0", params=params)
        if not has_id:
            return self._invalid(None, "a message needs a method (request) or an id (response)")
        if isinstance(data.get("error"), dict):
            err = data["error"]
            error = HostError(int(err.get("code", 0)), str(err.get("message", "")), err.get("data"))
            return HostErrorResponse(id=msg_id, jsonrpc="2.0", error=error)
        return JsonRPCResponseMessage(id=msg_id, jsonrpc="2.0", result=data.get("result"))

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
                f"unknown method {feature_name!r}", data={"code": "method_not_found"}
            ) from None

    def _handle_notification(self, method_name: str, params: Any) -> None:
        if method_name == CANCEL_REQUEST:
            if isinstance(params, dict) and isinstance(params.get("id"), str | int):
                self._handle_cancel_notification(params["id"])
            return
        super()._handle_notification(method_name, params)

    def _handle_cancel_notification(self, msg_id: MsgId) -> None:
        turn = self.turn_requests.get(msg_id)
        if turn is not None:
            # Cancel the turn, not the request: its answer is a result with stopReason cancelled.
            self._server.cancel_turn(*turn)  # the ParleyServer that owns this protocol
            return
        super()._handle_cancel_notification(msg_id)


def _string_code(code: int) -> str:
    if code == RpcCode.INVALID_PARAMS:
        return ErrorCode.INVALID_PARAMS.value
    if code == RpcCode.INTERNAL_ERROR:
        return ErrorCode.INTERNAL.value
    names: dict[int, str] = {
        RpcCode.PARSE_ERROR: "parse_error",
        RpcCode.INVALID_REQUEST: "invalid_request",
        RpcCode.METHOD_NOT_FOUND: "method_not_found",
    }
    return names.get(code, ErrorCode.INTERNAL.value)
