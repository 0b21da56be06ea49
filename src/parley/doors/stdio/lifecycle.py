"""The initialize handshake: version and capability negotiation."""

from __future__ import annotations

import attrs

from parley import __version__
from parley.config.settings import PERMISSION_MODES
from parley.core.errors import ErrorCode, ParleyError
from parley.engine.permissions import ALL_DECISIONS, Decision
from parley.protocol import types as wire
from parley.protocol.methods import NOTIFICATION_NAMES
from parley.protocol.version import PROTOCOL_VERSION, SCHEMA_VERSION, SUPPORTED_PROTOCOL_VERSIONS


@attrs.frozen
class Negotiated:
    events: frozenset[str]
    approval_options: tuple[Decision, ...] | None  # None: the host cannot be asked
    client: wire.ClientInfo


def negotiate(
    params: wire.InitializeParams, persistent: bool
) -> tuple[Negotiated, wire.InitializeResult]:
    if params.protocol_version not in SUPPORTED_PROTOCOL_VERSIONS:
        raise ParleyError(
            ErrorCode.PROTOCOL_VERSION_MISMATCH,
            f"this server speaks protocol {', '.join(map(str, SUPPORTED_PROTOCOL_VERSIONS))}; "
            f"the host asked for {params.protocol_version}",
            data={"supported": list(SUPPORTED_PROTOCOL_VERSIONS)},
        )
    caps = params.capabilities
    # Unknown event names are ignored: a newer host may know notifications we do not.
    requested = NOTIFICATION_NAMES if caps.events is None else caps.events
    events = frozenset(e for e in NOTIFICATION_NAMES if e in requested)
    options: tuple[Decision, ...] | None = None
    if caps.approvals is not None:
        options = tuple(d for d in ALL_DECISIONS if d in caps.approvals.options)
        if not any(o.startswith("allow") for o in options) or not any(
            o.startswith("reject") for o in options
        ):
            raise ParleyError(
                ErrorCode.INVALID_PARAMS,
                "capabilities.approvals.options must offer an allow and a reject decision",
                data={"pointer": "/capabilities/approvals/options"},
            )
    result = wire.InitializeResult(
        protocol_version=PROTOCOL_VERSION,
        schema_version=SCHEMA_VERSION,
        server_info=wire.ServerInfo("parley", __version__),
        capabilities=wire.ServerCapabilities(
            approvals=wire.ApprovalsCapability(list(options)) if options else None,
            events=[e for e in NOTIFICATION_NAMES if e in events],
            permission_modes=list(PERMISSION_MODES),  # type: ignore[arg-type]
            prompt_content=["text", "image"],
            session_persistence=persistent,
        ),
    )
    return Negotiated(events, options, params.client_info), result
