"""The stand-ins `parley serve` uses instead of pygls's LSP layer match the real modules."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys

import attrs
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
