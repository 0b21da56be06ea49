"""The `initialize` handshake: the protocol version, what Parley offers, what the client does.

Plain Python only: the CLI answers `initialize` with this before asyncio and pygls load.
"""

from __future__ import annotations

from typing import Any

import attrs

from parley import __version__
from parley.core.errors import ErrorCode, ParleyError
from parley.doors.acp.spec import PROTOCOL_VERSION


@attrs.frozen
class ClientSide:
    """What the client said it can do for the agent."""

    name: str = "unknown client"
    read_text_file: bool = False
    write_text_file: bool = False
    terminal: bool = False


AGENT_CAPABILITIES: dict[str, Any] = {
    "loadSession": True,
    "promptCapabilities": {"image": True, "audio": False, "embeddedContext": True},
    # MCP servers passed in session/new are not used (docs/acp.md says why).
    "mcpCapabilities": {"http": True, "sse": False},
    "sessionCapabilities": {
        "list": {},
        "resume": {},
        "close": {},
        "delete": {},
        "additionalDirectories": {},
    },
}


def negotiate(params: Any) -> tuple[ClientSide, dict[str, Any]]:
    """The client's side and the answer. The version: the client's when it is ours, else ours
    (the client then decides whether it can speak it)."""
    if not isinstance(params, dict) or type(params.get("protocolVersion")) is not int:
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            "initialize needs an integer protocolVersion",
            data={"pointer": "/protocolVersion"},
        )
    caps = params.get("clientCapabilities") or {}
    fs = caps.get("fs") or {}
    info = params.get("clientInfo") or {}
    flags = (fs.get("readTextFile", False), fs.get("writeTextFile", False), caps.get("terminal"))
    if not all(isinstance(f, bool | None) for f in flags):
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            "clientCapabilities.fs.* and clientCapabilities.terminal must be booleans",
            data={"pointer": "/clientCapabilities"},
        )
    client = ClientSide(
        name=str(info.get("name") or "unknown client"),
        read_text_file=bool(flags[0]),
        write_text_file=bool(flags[1]),
        terminal=bool(flags[2]),
    )
    result = {
        "protocolVersion": PROTOCOL_VERSION,
        "agentCapabilities": AGENT_CAPABILITIES,
        "agentInfo": {"name": "parley", "title": "Parley", "version": __version__},
        # Credentials come from the environment and the config file: nothing to log in to.
        "authMethods": [],
    }
    return client, result


def answer_early(params: Any) -> tuple[ClientSide, dict[str, Any]] | None:
    """For doors/jsonrpc/handshake: the answer, or None to let the server explain the error."""
    if not isinstance(params, dict) or not isinstance(params.get("clientCapabilities", {}), dict):
        return None
    try:
        return negotiate(params)
    except (ParleyError, AttributeError):  # AttributeError: fs or clientInfo not an object
        return None
