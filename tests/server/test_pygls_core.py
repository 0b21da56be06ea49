"""The stand-ins `parley serve` uses instead of pygls's LSP layer match the real modules."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys

import attrs
import cattrs
import lsprotocol.types as real
import pygls.exceptions
import pygls.lsp
import pygls.protocol.json_rpc as json_rpc

from parley.doors.jsonrpc import pygls_core


def test_stand_in_error_types_have_the_real_fields() -> None:
    for ours, theirs in (
        (pygls_core.ResponseError, real.ResponseError),
        (pygls_core.ResponseErrorMessage, real.ResponseErrorMessage),
    ):
        assert [f.name for f in attrs.fields(ours)] == [f.name for f in attrs.fields(theirs)]
    assert (real.CANCEL_REQUEST, real.EXIT) == ("$/cancelRequest", "exit")


def _lsp_imports(module: object) -> set[str]:
    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lsprotocol")
        for alias in node.names
    }


def test_json_rpc_core_reads_only_the_names_the_stand_ins_provide() -> None:
    provided = {"CANCEL_REQUEST", "EXIT", "ResponseError", "ResponseErrorMessage"}
    assert _lsp_imports(json_rpc) | _lsp_imports(pygls.exceptions) <= provided
    assert {"get_method_options_type", "is_instance"} <= set(vars(pygls.lsp))


def test_install_skips_the_real_catalogue_in_a_fresh_process() -> None:
    probe = (
        "import sys; from parley.doors.jsonrpc import pygls_core; assert pygls_core.install(); "
        "import parley.doors.stdio.app; "
        "print(getattr(sys.modules['lsprotocol.types'], '__file__', None), "
        "'lsprotocol.converters' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["None", "False"]


def test_install_leaves_already_loaded_modules_alone() -> None:
    assert pygls_core.install() is False  # this process imported the real pygls above


def test_the_peer_relies_only_on_the_pygls_members_its_docstring_names() -> None:
    """doors/jsonrpc/peer.py is the one module that subclasses pygls's protocol. If pygls renames
    or reshapes one of these, this fails before any behaviour does."""
    from pygls.protocol.json_rpc import JsonRPCProtocol
    from pygls.server import JsonRPCServer

    from parley.doors.jsonrpc.peer import JsonRpcPeer

    server = JsonRPCServer(protocol_cls=JsonRpcPeer, converter_factory=cattrs.Converter)
    peer = server.protocol
    assert isinstance(peer, JsonRPCProtocol)
    for name in ("features", "builtin_features"):
        assert isinstance(getattr(peer.fm, name), dict), name
    assert isinstance(peer._request_futures, dict)
    assert peer._ctx_msg_id.get(None) is None
    params = inspect.signature(JsonRPCProtocol._handle_request).parameters
    assert list(params) == ["self", "msg_id", "method_name", "params"]
    params = inspect.signature(JsonRPCProtocol._handle_cancel_notification).parameters
    assert list(params) == ["self", "msg_id"]
    assert list(inspect.signature(JsonRPCProtocol.set_writer).parameters)[:3] == [
        "self",
        "writer",
        "include_headers",
    ]
    params = inspect.signature(JsonRPCProtocol._send_response).parameters
    assert list(params) == ["self", "msg_id", "result", "error"]
    for name in ("_send_handler_result", "_serialize_message", "_get_handler", "msg_id"):
        assert hasattr(JsonRPCProtocol, name), name
    # What the peer overrides, and nothing else of pygls's protocol.
    overridden = {
        name
        for name, value in vars(JsonRpcPeer).items()
        if callable(value) and hasattr(JsonRPCProtocol, name)
    }
    assert overridden == {
        "__init__",
        "_handle_request",
        "_handle_notification",
        "_handle_cancel_notification",
        "_get_handler",
        "_send_data",
        "_send_response",
        "notify",
    }
