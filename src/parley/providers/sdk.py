"""What every provider built on an official SDK shares: its timeouts, our own retries (so each
wait is reported and `retry-after` honoured), classifying the SDK's errors, closing the client."""

from __future__ import annotations

import abc
import functools
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

import httpx2

from parley.providers import faults
from parley.providers.base import ModelRequest, Provider, ProviderConfig, StreamEvent
from parley.providers.retry import RetryPolicy, with_retries


class Closable(Protocol):
    def close(self) -> Awaitable[None]: ...


ClientT = TypeVar("ClientT", bound=Closable)


@functools.cache
def tls() -> ssl.SSLContext:
    """The TLS settings every SDK client shares (certificates from SSL_CERT_FILE or
    SSL_CERT_DIR if set, else the system's, as httpx does). Building them loads the CA bundle,
    ~15 ms here, which each client did again on the event loop for every session it served."""
    return httpx2.create_ssl_context()


def timeout(config: ProviderConfig) -> httpx2.Timeout:
    """For the SDK client; build it with max_retries=0, since SdkProvider retries."""
    return httpx2.Timeout(config.read_timeout, connect=config.connect_timeout)


class SdkProvider(Provider, Generic[ClientT]):
    def __init__(
        self,
        config: ProviderConfig,
        client: ClientT,
        service: str,
        sdk_fault: Callable[[Exception], faults.Fault | None],
    ) -> None:
        super().__init__(config)
        self._client = client
        self._policy = RetryPolicy(config.max_retries, config.retry_base_delay)
        self._service = faults.Service(service, config.key_hint, config.read_timeout)
        self._classify = functools.partial(
            faults.classify, service=self._service, sdk_fault=sdk_fault
        )

    async def aclose(self) -> None:
        await self._client.close()

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        params = self._params(request)
        return with_retries(self._policy, lambda: self._attempt(params), self._classify)

    @abc.abstractmethod
    def _params(self, request: ModelRequest) -> dict[str, Any]:
        """The API request for `request`; built once, sent again on each retry."""

    @abc.abstractmethod
    def _attempt(self, params: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        """One streamed call: deltas, then one Completion."""
