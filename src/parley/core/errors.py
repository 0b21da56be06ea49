"""The engine's error codes and the exception that carries them; doors map them to their wire."""

from __future__ import annotations

import enum
from typing import Any

from parley.core.redact import redact


class ErrorCode(enum.StrEnum):
    """Stable string codes carried in `error.data.code` and in `error` notifications."""

    NOT_INITIALIZED = "not_initialized"
    PROTOCOL_VERSION_MISMATCH = "protocol_version_mismatch"
    PARSE_ERROR = "parse_error"
    INVALID_REQUEST = "invalid_request"
    METHOD_NOT_FOUND = "method_not_found"
    INVALID_PARAMS = "invalid_params"
    SESSION_NOT_FOUND = "session_not_found"
    SESSION_BUSY = "session_busy"
    SESSION_EXISTS = "session_exists"
    TURN_NOT_FOUND = "turn_not_found"
    PROFILE_NOT_FOUND = "profile_not_found"
    CONFIG_INVALID = "config_invalid"
    PROVIDER_NOT_CONFIGURED = "provider_not_configured"
    PROVIDER_AUTH_FAILED = "provider_auth_failed"
    PROVIDER_ERROR = "provider_error"
    RATE_LIMITED = "rate_limited"
    CONTEXT_WINDOW_EXCEEDED = "context_window_exceeded"
    TOOL_FAILED = "tool_failed"
    APPROVAL_DENIED = "approval_denied"
    APPROVAL_TIMEOUT = "approval_timeout"
    APPROVAL_NOT_FOUND = "approval_not_found"
    CANCELLED = "cancelled"
    SHUTTING_DOWN = "shutting_down"
    INTERNAL = "internal"


class ParleyError(Exception):
    """An error with a stable code; front doors translate it, never its traceback.

    Its message never carries a credential: known secrets and URL passwords are masked.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        data: dict[str, Any] | None = None,
        recoverable: bool = False,
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data or {}
        self.recoverable = recoverable

    def wire_data(self) -> dict[str, Any]:
        return {"code": self.code.value, **self.data}

    def __repr__(self) -> str:
        return f"ParleyError({self.code.value!r}, {self.message!r})"
