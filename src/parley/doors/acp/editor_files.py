"""The editor's files for a turn's file tools: `fs/read_text_file` and `fs/write_text_file`
when the client offered them, so the agent reads and edits what the user sees, unsaved
changes included. Confinement and permissions are checked before any of this is called.

The tools call these from their worker threads; each call is a request on the connection's
event loop that the thread waits for, bounded by the tool timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
from pathlib import Path
from typing import Any

from parley.doors.acp.errors import RESOURCE_NOT_FOUND
from parley.doors.jsonrpc.peer import JsonRpcPeer, RemoteError
from parley.tools.base import HostFiles, ToolError

_ids = itertools.count(1)


class EditorFiles(HostFiles):
    def __init__(
        self,
        peer: JsonRpcPeer,
        session_id: str,
        *,
        reads: bool,
        writes: bool,
        timeout_s: float,
    ) -> None:
        self.peer = peer
        self.session_id = session_id
        self.reads = reads
        self.writes = writes
        self.timeout_s = timeout_s
        self.loop = asyncio.get_running_loop()

    def read(self, path: Path) -> str | None:
        if not path.is_file():
            return None  # editors open buffers of files that exist; nothing to ask about
        try:
            result = self._call("fs/read_text_file", {"path": str(path)})
        except RemoteError as exc:
            if exc.code == RESOURCE_NOT_FOUND:
                return None
            raise ToolError(f"the editor could not read {path}: {exc.message}") from None
        content = result.get("content") if isinstance(result, dict) else None
        if not isinstance(content, str):
            raise ToolError(f"the editor sent no text for {path}")
        return content

    def write(self, path: Path, text: str) -> None:
        try:
            self._call("fs/write_text_file", {"path": str(path), "content": text})
        except RemoteError as exc:
            raise ToolError(f"the editor could not write {path}: {exc.message}") from None

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        params = {"sessionId": self.session_id, **params}
        future = asyncio.run_coroutine_threadsafe(self._request(method, params), self.loop)
        try:
            return future.result(self.timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ToolError(
                f"the editor did not answer {method} within {self.timeout_s:g}s"
            ) from None
        except concurrent.futures.CancelledError:
            raise ToolError(f"{method} was cancelled: the connection ended") from None

    async def _request(self, method: str, params: dict[str, Any]) -> Any:
        msg_id = f"parley-{method}-{next(_ids)}"
        answer = self.peer.request(method, params, msg_id)
        try:
            return await answer
        except asyncio.CancelledError:
            self.peer.withdraw(msg_id)
            raise
