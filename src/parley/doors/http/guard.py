"""Who may talk to the daemon, checked before any route runs (a plain ASGI middleware: it is
on every request's path, so it parses nothing it does not need).

- Host: without an API key only loopback names are served, so a web page cannot reach the
  daemon through a DNS name rebound to 127.0.0.1.
- Origin: a browser request is served only from an origin in `allowed_origins`, or from the
  daemon's own pages (Swagger UI, ReDoc).
- Authorization: with an API key every route but health and the docs needs
  `Authorization: Bearer <key>` (or `?access_token=`, for EventSource, which cannot set
  headers), compared in constant time.
- Body size: over the limit is refused from Content-Length at once, or while it is read.
"""

from __future__ import annotations

import functools
import hmac
from urllib.parse import parse_qs

from parley.doors.http.raw import ASGIApp, Message, Receive, Scope, Send, error_app
from parley.doors.http.settings import DaemonSettings, is_loopback

PUBLIC_PATHS = frozenset(
    {"/api/v1/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
)
DOCS_ASSETS = "/static-offline-docs/"


class Guard:
    def __init__(self, app: ASGIApp, daemon: DaemonSettings) -> None:
        self.app = app
        self.key = daemon.api_key.encode() if daemon.api_key else None
        self.origins = frozenset(daemon.allowed_origins)
        self.scheme = daemon.scheme
        self.limit = daemon.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = origin = authorization = length = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"origin":
                origin = value
            elif name == b"authorization":
                authorization = value
            elif name == b"content-length":
                length = value
        refusal = self._refusal(scope, host, origin, authorization, length)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, self._limited(receive), send)

    def _refusal(
        self,
        scope: Scope,
        host: bytes | None,
        origin: bytes | None,
        authorization: bytes | None,
        length: bytes | None,
    ) -> ASGIApp | None:
        host_text = (host or b"").decode("latin-1")
        if self.key is None and not _loopback_host(host_text):
            return error_app(
                403, "FORBIDDEN", "this daemon serves only loopback host names without an API key"
            )
        if origin is not None:
            origin_text = origin.decode("latin-1")
            if origin_text not in self.origins and origin_text != f"{self.scheme}://{host_text}":
                return error_app(
                    403,
                    "FORBIDDEN",
                    f"origin {origin_text!r} is not allowed; add it to allowed_origins",
                )
            if scope["method"] == "OPTIONS":
                return None  # a CORS preflight carries no credentials
        path: str = scope["path"]
        public = path in PUBLIC_PATHS or path.startswith(DOCS_ASSETS)
        if not (public or self._authorized(authorization, scope["query_string"])):
            return error_app(401, "UNAUTHORIZED", "a valid API key is required")
        if length is not None:
            if not length.isdigit():
                return error_app(400, "INVALID_REQUEST", "bad Content-Length")
            if int(length) > self.limit:
                return error_app(
                    413,
                    "PAYLOAD_TOO_LARGE",
                    f"the request body is over the limit of {self.limit} bytes",
                    {"limit": self.limit},
                )
        return None

    def _authorized(self, authorization: bytes | None, query: bytes) -> bool:
        if self.key is None:
            return True
        given: bytes | None = None
        if authorization is not None:
            scheme, _, token = authorization.partition(b" ")
            if scheme.lower() == b"bearer":
                given = token.strip()
        elif b"access_token=" in query:
            tokens = parse_qs(query.decode("latin-1")).get("access_token")
            given = tokens[0].encode("latin-1") if tokens else None
        return given is not None and hmac.compare_digest(given, self.key)

    def _limited(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.limit

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Bodies are read by the routes only, so FastAPI is loaded by now.
                    from parley.doors.http.errors import PayloadTooLarge

                    raise PayloadTooLarge(limit)
            return message

        return counted


@functools.lru_cache(maxsize=256)
def _loopback_host(host: str) -> bool:
    """Whether a Host header names loopback; cached, as every request asks (with the same few
    names) and parsing an address is most of what the guard costs."""
    return is_loopback(_hostname(host))


def _hostname(host: str) -> str:
    """The name in a Host header: `[::1]:8410` -> `::1`, `localhost:8410` -> `localhost`."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
