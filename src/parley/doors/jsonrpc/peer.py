"""One JSON-RPC 2.0 endpoint on pygls, fed by our own reader and hardened against bad input.

The only module that subclasses pygls's protocol. What it relies on of pygls is pinned by
tests/server/test_pygls_core.py: `JsonRPCProtocol.__init__(server, converter)`, its feature
table (`fm.features`, `fm.builtin_features`), `_handle_request` (handlers that wait run as
its tasks, answered by `_send_handler_result`), `_request_futures` (those tasks, by request
id), `_send_response` (the answer of such a task), `_ctx_msg_id`, `_serialize_message`,
`set_writer` and `writer`. Everything else a door
needs is here: envelope checks with -32700/-32600 answers, inline answers for handlers that
never wait, server -> client requests with their own table, `$/cancelRequest` both ways, and
notifications a door handles itself. A door registers its methods on the server
(`server.feature(name)(handler)`) and its hooks on the peer.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcMethodNotFound
from pygls.protocol.json_rpc import JsonRPCProtocol

from parley.core.errors import ErrorCode
from parley.protocol import jsonbytes
from parley.protocol.errors import RpcCode

log = logging.getLogger(__name__)
MsgId = str | int
CANCEL_REQUEST = "$/cancelRequest"


class RemoteError(Exception):
    """The other side answered our request with an error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class JsonRpcPeer(JsonRPCProtocol):
    """pygls's protocol, with the envelope handling and hooks described in the module doc."""

    # The protocol-level cancellation notification: LSP's spelling; ACP's is `$/cancel_request`.
    cancel_method = CANCEL_REQUEST

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        # Hooks a door sets. on_cancel: a $/cancelRequest for one of its requests; True when
        # the door dealt with it (e.g. cancelled a turn), else pygls cancels the handler task.
        self.on_cancel: Callable[[MsgId], bool] = lambda _: False
        self.notification_handlers: dict[str, Callable[[Any], None]] = {}
        self._outgoing: dict[MsgId, asyncio.Future[Any]] = {}
        self._answered: set[MsgId] = set()  # requests answered before their handler returned

    # --- receiving ---------------------------------------------------------------------------

    def receive(self, body: bytes) -> None:
        """Handle one frame body; every problem gets an answer, nothing raises."""
        try:
            data = jsonbytes.loads(body)
        except ValueError as exc:  # UnicodeDecodeError included
            self.send_error(None, RpcCode.PARSE_ERROR, f"parse error: {exc}")
            return
        self._route(data)

    def _route(self, data: Any) -> None:
        """Check the envelope, then hand the message to its handler directly. pygls's own
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
        if "method" in data:
            method = data["method"]
            if not isinstance(method, str) or not method:
                return self._invalid(msg_id, "method must be a non-empty string")
            ctx = contextvars.copy_context()  # each handler runs in its own context, as in pygls
            if has_id:
                ctx.run(self._handle_request, msg_id, method, data.get("params"))
            else:
                ctx.run(self._handle_notification, method, data.get("params"))
        elif not has_id:
            self._invalid(None, "a message needs a method (request) or an id (response)")
        elif isinstance(error := data.get("error"), dict):
            code = error.get("code")
            self._settle(
                msg_id,
                RemoteError(
                    code if type(code) is int else 0,
                    str(error.get("message", "")),
                    error.get("data"),
                ),
            )
        elif "result" in data:
            self._settle(msg_id, None, data["result"])
        else:
            self._invalid(msg_id, "a response needs a result or an error")
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

    def _handle_notification(self, method_name: str, params: Any) -> None:
        """Notifications a door registered, and $/cancelRequest. Anything else is ignored:
        unknown ones may come from a newer client, and a request sent without an id (a client
        bug) must not run unanswered: a delete would delete with nobody told."""
        if method_name == self.cancel_method:
            if isinstance(params, dict) and type(params.get("id")) in (str, int):
                self._handle_cancel_notification(params["id"])
        elif (handler := self.notification_handlers.get(method_name)) is not None:
            try:
                handler(params)
            except Exception:  # a notification has nobody to answer: log, keep serving
                log.exception("failed to handle the %s notification", method_name)
        elif method_name in self.fm.features:
            log.warning("ignored %s sent without an id: requests need one", method_name)

    def _handle_cancel_notification(self, msg_id: MsgId) -> None:
        if not self.on_cancel(msg_id):
            super()._handle_cancel_notification(msg_id)

    def _get_handler(self, feature_name: str) -> Any:
        try:
            return super()._get_handler(feature_name)
        except JsonRpcMethodNotFound:
            raise JsonRpcMethodNotFound(
                f"unknown method {feature_name!r}", data={"code": ErrorCode.METHOD_NOT_FOUND.value}
            ) from None

    # --- sending -----------------------------------------------------------------------------

    def _send_data(self, data: Any) -> None:
        if self.writer is None or not data:
            return
        try:
            body = jsonbytes.dumps(data, default=self._serialize_message)
        except Exception:  # as pygls does: one unwritable message must not stop the caller
            log.exception("could not serialize a message; dropped it")
            return
        self.writer.write(body)

    def answer(self, msg_id: MsgId, result: Any) -> None:
        """Answer a request whose handler is still running, at this point of the output; what
        the handler then returns (or raises) is not sent."""
        self._answered.add(msg_id)
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "result": result})

    def answer_error(self, msg_id: MsgId, error: JsonRpcException) -> None:
        """As `answer`, with an error."""
        self._answered.add(msg_id)
        self.send_error(msg_id, error.code, error.message, error.data)

    def _send_response(self, msg_id: MsgId, result: Any = None, error: Any = None) -> None:
        if msg_id in self._answered:
            self._answered.discard(msg_id)
            return
        super()._send_response(msg_id, result, error)

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

    def notify_json(self, method: str, params: str) -> None:
        """A notification whose params are JSON text already (stored events)."""
        if self.writer is not None:
            head = '{"jsonrpc":"2.0","method":' + _json_string(method) + ',"params":'
            self.writer.write((head + params + "}").encode())

    def request(self, method: str, params: Any, msg_id: MsgId) -> asyncio.Future[Any]:
        """Send a request to the other side; the future holds its result, or RemoteError."""
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._outgoing[msg_id] = answer
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return answer

    def withdraw(self, msg_id: MsgId, *, tell: bool = True) -> None:
        """Stop waiting for an answer and, with `tell`, say so (`cancel_method`), so a client
        that shows the request (a dialog) can close it. A late answer is then ignored."""
        answer = self._outgoing.pop(msg_id, None)
        if answer is None:
            return
        answer.cancel()
        if tell:
            self.notify(self.cancel_method, {"id": msg_id})

    def withdraw_all(self) -> None:
        for msg_id in list(self._outgoing):
            self.withdraw(msg_id)

    def _settle(self, msg_id: MsgId, error: RemoteError | None, result: Any = None) -> None:
        answer = self._outgoing.pop(msg_id, None)
        if answer is None or answer.done():
            log.info("ignored an answer to %r: no request of ours is waiting for it", msg_id)
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(result)


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


@functools.cache
def _json_string(text: str) -> str:
    """A method name as a JSON string (there are a dozen of them)."""
    return jsonbytes.dumps(text).decode()
