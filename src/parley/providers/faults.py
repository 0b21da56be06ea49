"""What a failed model call means for the user: one mapping for every provider.

Each provider module turns its SDK's exceptions into a `Fault` (status, the API's own message
and error code); `classify()` decides the ParleyError code, whether a retry may help, and the
wording. An API key is never part of a message: for 401/403 the API's text is not used at all,
since some providers quote the key they rejected.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator, Mapping

import attrs

from parley.core.errors import ErrorCode, ParleyError
from parley.providers.retry import Failure, retry_after

log = logging.getLogger(__name__)

# HTTP statuses worth another attempt; 529 is Anthropic's "overloaded".
RETRY_STATUSES = frozenset({429, 500, 501, 502, 503, 504, 529})
# Error types APIs send inside a stream that already answered 200, as the status they mean.
STREAM_ERROR_STATUS = {
    "overloaded_error": 529,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
}
_CONTEXT_CODES = frozenset({"context_length_exceeded", "exceed_context_size_error"})
_CONTEXT_TEXT = re.compile(
    r"prompt is too long|context (length|window|size)|maximum context|too many (input )?tokens"
    r"|exceeds? the (model's )?context",
    re.IGNORECASE,
)


@attrs.frozen
class Fault:
    """A failed call, provider-neutral. `status` is None when no HTTP answer arrived."""

    status: int | None
    message: str = ""
    code: str | None = None  # the API's error type or code, e.g. "overloaded_error"
    headers: Mapping[str, str] = attrs.field(factory=dict)
    timeout: bool = False


@attrs.frozen
class Service:
    """Who we were talking to, for messages: "Anthropic", and which key to check."""

    name: str
    key_hint: str
    read_timeout: float


class StreamIncomplete(Exception):
    """The response stream ended before the API said it was complete."""


class FaultError(Exception):
    """An error the API reported inside a stream (an `error` event, a failed response)."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.message)
        self.fault = fault


def stream_error_status(code: str | None) -> int:
    """The HTTP status an in-stream error type stands for; unknown ones count as 500."""
    return STREAM_ERROR_STATUS.get(code or "", 500)


def classify(
    exc: Exception, service: Service, sdk_fault: Callable[[Exception], Fault | None]
) -> Failure:
    """Any exception from an attempt, as a Failure; `sdk_fault` reads the SDK's own errors."""
    if isinstance(exc, ParleyError):
        return Failure(exc)
    if isinstance(exc, StreamIncomplete):
        return _retryable(
            ErrorCode.PROVIDER_ERROR,
            f"the response from {service.name} broke off before it was complete ({exc})",
            "connection dropped",
        )
    fault = exc.fault if isinstance(exc, FaultError) else sdk_fault(exc) or transport_fault(exc)
    if fault is None:
        log.exception("unexpected failure talking to %s", service.name, exc_info=exc)
        return Failure(
            ParleyError(
                ErrorCode.PROVIDER_ERROR,
                f"unexpected failure talking to {service.name}: {type(exc).__name__}: {exc}",
            )
        )
    return failure(fault, service)


def failure(fault: Fault, service: Service) -> Failure:
    status, name = fault.status, service.name
    detail = f": {fault.message}" if fault.message else ""
    if status is None:
        if fault.timeout:
            message = f"{name} did not answer within {service.read_timeout:g}s (read timeout)"
            return _retryable(ErrorCode.PROVIDER_ERROR, message, "timed out")
        return _retryable(
            ErrorCode.PROVIDER_ERROR, f"cannot reach {name}{detail}", "cannot connect"
        )
    if status in (401, 403):
        verb = "rejected the API key" if status == 401 else "refused access with this API key"
        return Failure(
            ParleyError(
                ErrorCode.PROVIDER_AUTH_FAILED,
                f"{name} {verb} ({status}); check {service.key_hint}",
            )
        )
    if status == 413 or fault.code in _CONTEXT_CODES or _CONTEXT_TEXT.search(fault.message):
        return Failure(
            ParleyError(
                ErrorCode.CONTEXT_WINDOW_EXCEEDED,
                f"the conversation is too long for the model's context window{detail}",
            )
        )
    wait = retry_after(fault.headers)
    if status == 429:
        message = f"{name} rate limit reached (429){detail}"
        if wait:
            message += f"; it asks to wait {wait:.0f}s before trying again"
        return _retryable(ErrorCode.RATE_LIMITED, message, "rate limited (429)", wait)
    if status in RETRY_STATUSES:
        what = "overloaded" if status == 529 else "server error"
        message = f"{name} {'is overloaded' if status == 529 else 'had a server error'} ({status})"
        return _retryable(ErrorCode.PROVIDER_ERROR, message + detail, f"{what} ({status})", wait)
    return Failure(
        ParleyError(ErrorCode.PROVIDER_ERROR, f"{name} refused the request ({status}){detail}")
    )


def _retryable(code: ErrorCode, message: str, reason: str, wait: float | None = None) -> Failure:
    return Failure(ParleyError(code, message, recoverable=True), True, reason, wait)


def transport_fault(exc: BaseException) -> Fault | None:
    """A Fault for an httpx transport error, found on the exception or what caused it."""
    import httpx2

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, httpx2.TimeoutException):
            return Fault(None, timeout=True)
        if isinstance(current, httpx2.TransportError):
            return Fault(None, str(current) or type(current).__name__)
        current = current.__cause__ or current.__context__
    return None


@contextlib.contextmanager
def mid_stream(service: Service) -> Iterator[None]:
    """Transport failures once the response has begun mean the stream broke off."""
    try:
        yield
    except Exception as exc:
        fault = transport_fault(exc)
        if fault is None:
            raise
        cause = f"no data for {service.read_timeout:g}s" if fault.timeout else fault.message
        raise StreamIncomplete(cause) from exc
