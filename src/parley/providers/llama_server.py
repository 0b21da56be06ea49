"""llama.cpp's OpenAI-compatible server, inside this process (xllamacpp).

One server per model file, started on the first request that needs it (never at start-up or on
`agent/initialize`), listening on a free port of 127.0.0.1, shared by every session of the
process, and stopped at exit. Loading takes well under a second for a small model; it runs on a
worker thread so the event loop keeps serving other sessions meanwhile.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import threading
import urllib.request
from typing import Any

import attrs

from parley.core.errors import ErrorCode, ParleyError

log = logging.getLogger(__name__)

# Sequences decoded at once: two sessions answer side by side, more wait their turn. The slots
# share one KV cache of `context_window` tokens (llama.cpp's unified cache), so memory does not
# grow with them.
PARALLEL = 2
_PROBE_TIMEOUT = 30.0


@attrs.frozen
class ServerSpec:
    model_path: str
    context_window: int
    alias: str  # the model name requests use and answers report
    verbose: bool = False  # llama.cpp's own log on stderr


@attrs.define
class LlamaServer:
    spec: ServerSpec
    url: str  # e.g. http://127.0.0.1:41234
    handle: Any  # xllamacpp.Server; dropping the last reference stops it


_servers: dict[ServerSpec, LlamaServer] = {}
_lock = threading.Lock()
_atexit_registered = False


async def base_url(spec: ServerSpec) -> str:
    """The server's OpenAI base URL (".../v1"), starting it if this is the first request."""
    server = _servers.get(spec)
    if server is None:
        server = await asyncio.to_thread(running, spec)
    return f"{server.url}/v1"


def running(spec: ServerSpec) -> LlamaServer:
    """The server for `spec`, started now if it is not running (blocking)."""
    global _atexit_registered
    with _lock:
        if (server := _servers.get(spec)) is not None:
            return server
        server = _start(spec)
        _servers[spec] = server
        if not _atexit_registered:
            atexit.register(stop_all)
            _atexit_registered = True
        return server


def started() -> list[ServerSpec]:
    """The servers running in this process (for tests and `parley doctor`)."""
    return list(_servers)


def stop_all() -> None:
    """Stop every server; requests still streaming end with a closed connection."""
    with _lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        log.debug("stopping the llama.cpp server at %s", server.url)
        server.handle = None  # xllamacpp stops the server when the object goes


def _start(spec: ServerSpec) -> LlamaServer:
    try:
        import xllamacpp
    except ImportError:
        raise ParleyError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            "the local provider needs llama.cpp's Python binding: pip install xllamacpp",
        ) from None
    params = xllamacpp.CommonParams()
    params.model.path = spec.model_path
    params.model_alias = {spec.alias}
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # any free port; the server reports the one it took
    params.offline = True  # never reach for a model hub
    params.n_ctx = spec.context_window
    params.n_parallel = PARALLEL
    params.kv_unified = True
    params.ui = False
    params.verbosity = 3 if spec.verbose else 0
    try:
        handle = xllamacpp.Server(params)
    except RuntimeError as exc:
        raise ParleyError(
            ErrorCode.PROVIDER_ERROR,
            f"llama.cpp could not load the local model {spec.model_path} ({exc}); "
            "is it a GGUF model file this version of llama.cpp supports?",
        ) from None
    url = str(handle.listening_address).rstrip("/")
    # The server answers its listening address before its main loop runs, and stopping it in
    # that window never returns. A /slots request is answered by the main loop: once it has
    # answered, the server can be stopped at any time.
    _get(f"{url}/slots")
    log.debug("llama.cpp serves %s at %s", spec.model_path, url)
    return LlamaServer(spec, url, handle)


def _get(url: str) -> Any:
    # No proxy: the server is on this machine, whatever HTTP_PROXY says.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=_PROBE_TIMEOUT) as answer:
        return json.loads(answer.read())
