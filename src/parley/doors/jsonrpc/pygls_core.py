"""Load pygls's JSON-RPC core without its LSP layer.

pygls's JSON-RPC modules import the whole LSP type catalogue (`lsprotocol.types`, about a
thousand attrs classes and most of a cold start) for four names, and its LSP-only feature
helpers. A server that speaks no LSP never uses them, so before `parley serve` imports pygls it
puts stand-ins for exactly what the JSON-RPC core reads into the module table.
tests/server/test_pygls_core.py checks the stand-ins against the real modules of the pinned
pygls and lsprotocol versions. If any of those modules is already loaded, nothing is replaced.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

import attrs

_REPLACED = ("lsprotocol.types", "pygls.lsp", "pygls.protocol")


@attrs.define
class ResponseError:
    """Same fields as lsprotocol.types.ResponseError."""

    code: int
    message: str
    data: Any = None


@attrs.define
class ResponseErrorMessage:
    """Same fields as lsprotocol.types.ResponseErrorMessage."""

    id: int | str | None
    error: ResponseError | None = None
    jsonrpc: str = "2.0"


def _no_options(feature_name: str) -> None:
    """pygls.lsp.get_method_options_type: no LSP method, so never any options type."""


def _is_instance(converter: Any, obj: Any, type_: Any) -> bool:
    return True


def install() -> bool:
    """Seed the stand-ins; False (and no change) when the real modules are already in use."""
    if any(name in sys.modules for name in _REPLACED):
        return False
    import pygls  # the package itself is tiny; only its submodules pull in the LSP layer

    lsp_types = types.ModuleType("lsprotocol.types")
    lsp_types.__dict__.update(
        CANCEL_REQUEST="$/cancelRequest",
        EXIT="exit",
        ResponseError=ResponseError,
        ResponseErrorMessage=ResponseErrorMessage,
    )
    lsp_helpers = types.ModuleType("pygls.lsp")
    lsp_helpers.__dict__.update(get_method_options_type=_no_options, is_instance=_is_instance)
    # The package without its __init__, which imports the LSP protocol class.
    protocol_pkg = types.ModuleType("pygls.protocol")
    protocol_pkg.__path__ = [os.path.join(pygls.__path__[0], "protocol")]
    sys.modules.update(
        {"lsprotocol.types": lsp_types, "pygls.lsp": lsp_helpers, "pygls.protocol": protocol_pkg}
    )
    from pygls.protocol import json_rpc

    protocol_pkg.__dict__.update(
        {
            name: getattr(json_rpc, name)
            for name in (
                "JsonRPCProtocol",
                "JsonRPCNotification",
                "JsonRPCRequestMessage",
                "JsonRPCResponseMessage",
            )
        }
    )
    return True
