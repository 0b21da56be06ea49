"""ACP's published schema (vendored in schema/, see schema/VERSION) and checking the params
of what a client sends against it: bad params become -32602 with a JSON pointer.

The schema is read on the first check, never on the way to the `initialize` answer.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from parley.core.errors import ErrorCode, ParleyError
from parley.protocol import jsonbytes
from parley.protocol.params import check_storable
from parley.protocol.validation import SchemaValidator, check

PROTOCOL_VERSION = 1

# Each client -> agent method and the schema type of its params.
PARAMS: dict[str, str] = {
    "initialize": "InitializeRequest",
    "authenticate": "AuthenticateRequest",
    "session/new": "NewSessionRequest",
    "session/load": "LoadSessionRequest",
    "session/resume": "ResumeSessionRequest",
    "session/list": "ListSessionsRequest",
    "session/close": "CloseSessionRequest",
    "session/delete": "DeleteSessionRequest",
    "session/prompt": "PromptRequest",
    "session/cancel": "CancelNotification",
    "session/set_mode": "SetSessionModeRequest",
    "session/set_config_option": "SetSessionConfigOptionRequest",
}


@functools.cache
def schema() -> dict[str, Any]:
    data = resources.files(__package__).joinpath("schema", "schema.json").read_bytes()
    loaded: dict[str, Any] = jsonbytes.loads(data)
    return loaded


@functools.cache
def validator(type_name: str) -> SchemaValidator:
    return SchemaValidator({"$defs": schema()["$defs"], "$ref": f"#/$defs/{type_name}"})


def parse(method: str, params: Any) -> dict[str, Any]:
    """The params of a client request, checked; ParleyError (invalid_params) when they fail."""
    if not isinstance(params, dict):
        raise ParleyError(
            ErrorCode.INVALID_PARAMS, "params must be an object", data={"pointer": ""}
        )
    check(validator(PARAMS[method]), params)
    check_storable(params)
    return params
