"""Errors a host sees, carrying the wire's stable code."""

from __future__ import annotations

from typing import Any


class ParleyClientError(Exception):
    """The connection or the server process failed (not an error answer)."""


class ParleyRpcError(Exception):
    """An error answer from the server; `code` is the stable string from `error.data.code`."""

    def __init__(self, rpc_code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.rpc_code = rpc_code
        self.message = message
        self.data = data if isinstance(data, dict) else {}
        self.code: str = str(self.data.get("code", "unknown"))

    def __repr__(self) -> str:
        return f"ParleyRpcError({self.rpc_code}, {self.code!r}, {self.message!r})"


class ParleyHttpError(Exception):
    """An error answer from `parley daemon`: its HTTP status and `{"error": {code, message,
    details}}`."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details if isinstance(details, dict) else {}
