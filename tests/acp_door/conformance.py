"""Every message `parley acp` sends, checked against ACP's published schema (the vendored
copy in src/parley/doors/acp/schema/, whose VERSION names the release and its sha256).

Requests and notifications are checked by method; answers by the method of the request they
answer; errors against the schema's `Error`. A problem fails the test that saw it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "src" / "parley" / "doors" / "acp" / "schema"
SCHEMA: dict[str, Any] = json.loads((SCHEMA_DIR / "schema.json").read_text())
DEFS = SCHEMA["$defs"]


def published_sha256() -> str:
    found = re.search(
        r"sha256 of schema.json: ([0-9a-f]{64})", (SCHEMA_DIR / "VERSION").read_text()
    )
    assert found is not None
    return found[1]


def vendored_sha256() -> str:
    return hashlib.sha256((SCHEMA_DIR / "schema.json").read_bytes()).hexdigest()


def _types(side: str, suffix: str) -> dict[str, str]:
    """method -> the schema type, from the schema's own x-side / x-method annotations."""
    return {
        d["x-method"]: name
        for name, d in DEFS.items()
        if d.get("x-side") == side and name.endswith(suffix)
    }


# What the agent sends: requests to the client, notifications, and answers to the client.
AGENT_REQUESTS = _types("client", "Request")
AGENT_NOTIFICATIONS = {
    **_types("client", "Notification"),
    "$/cancel_request": "CancelRequestNotification",
}
AGENT_ANSWERS = _types("agent", "Response")


def _validator(type_name: str) -> Draft202012Validator:
    return Draft202012Validator({"$defs": DEFS, "$ref": f"#/$defs/{type_name}"})


class Conformance:
    def __init__(self) -> None:
        self.client_requests: dict[Any, str] = {}
        self.problems: list[str] = []
        self.checked = 0
        self._validators: dict[str, Draft202012Validator] = {}

    def sent_by_client(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:
            self.client_requests[message["id"]] = message["method"]

    def sent_by_agent(self, message: dict[str, Any]) -> None:
        self.checked += 1
        if message.get("jsonrpc") != "2.0":
            self.problems.append(f"not JSON-RPC 2.0: {message}")
        method = message.get("method")
        if method is not None:
            table = AGENT_REQUESTS if "id" in message else AGENT_NOTIFICATIONS
            type_name = table.get(method)
            if type_name is None:
                self.problems.append(f"the agent sent {method!r}, which ACP v1 does not define")
                return
            self._check(type_name, message.get("params"), message)
            return
        if "error" in message:
            self._check("Error", message["error"], message)
            if "result" in message:
                self.problems.append(f"both result and error: {message}")
            return
        answered = self.client_requests.get(message.get("id"))
        if answered is None:
            self.problems.append(f"an answer to no request of the client's: {message}")
            return
        self._check(AGENT_ANSWERS[answered], message.get("result"), message)

    def _check(self, type_name: str, value: Any, message: dict[str, Any]) -> None:
        validator = self._validators.get(type_name) or self._validators.setdefault(
            type_name, _validator(type_name)
        )
        for error in validator.iter_errors(value):
            where = "/".join(map(str, error.absolute_path))
            self.problems.append(f"{type_name} at /{where}: {error.message[:300]} in {message}")

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems[:10])
