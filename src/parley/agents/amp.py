"""Amp (`amp`) as a backend: one `amp -x --stream-json-input` process per turn.

The prompt goes in as one stream-json `user` line, the output is Claude Code's stream-json
format (plus thinking blocks with `--stream-json-thinking`); a stored thread is continued with
`amp threads continue <id>`. Amp cannot ask anyone mid-turn, so the session's permission mode,
rules and remembered answers become Amp's own declarative permissions in a settings file made
for the turn (on top of the user's own settings); what cannot be said that way (anything that
would need a person's answer) is refused before Amp starts. Cancel stops the process.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from parley.agents import stream_json
from parley.agents.base import AgentBackend, AgentTurn
from parley.agents.mcp_servers import amp_config
from parley.core.errors import ErrorCode, ParleyError
from parley.core.messages import Message
from parley.engine.rules import Rule
from parley.protocol import types as wire

log = logging.getLogger(__name__)

# Amp's tools by kind, for permission modes and tool/started events.
READ_TOOLS = (
    "Read",
    "Grep",
    "glob",
    "list_directory",
    "finder",
    "read_web_page",
    "web_search",
    "read_thread",
    "find_thread",
    "todo_read",
    "todo_write",
    "oracle",
    "mermaid",
)
EDIT_TOOLS = ("edit_file", "create_file", "undo_edit", "format_file")
TOOL_KINDS: dict[str, wire.ToolKind] = {
    **{t: "read" for t in READ_TOOLS},
    **{t: "edit" for t in EDIT_TOOLS},
}
# Parley's rule argument names as Amp's.
MATCH_KEYS = {"command": "cmd"}
ASK_REFUSED = (
    "Amp cannot ask for approval during a turn, so a session on Amp needs a permission mode "
    "that decides by itself (allow, accept-edits or deny) and rules that allow or deny"
)


class Amp(AgentBackend):
    async def turn(self, turn: AgentTurn, prompt: Message) -> wire.StopReason:
        record = self.session.record
        if record.agent_fork:
            raise ParleyError(
                ErrorCode.INVALID_PARAMS,
                "Amp threads cannot be forked through Parley; start a new session instead",
            )
        permissions = amp_permissions(
            record.permission_mode, turn.authorize_call.rules, record.remembered
        )
        user = _user_settings(self.spec.env)
        merged = {**user, **permissions}
        if self.servers:  # Parley's MCP servers join the user's own
            own = user.get("amp.mcpServers")
            merged["amp.mcpServers"] = {
                **(own if isinstance(own, dict) else {}),
                **amp_config(self.servers),
            }
        # Private (it may hold the servers' credentials) and gone with the turn's process.
        settings = self.private_file("settings.json", merged)
        argv = [*self.spec.command]
        if record.agent_session:
            argv += ["threads", "continue", record.agent_session]
        argv += ["-x", "--stream-json-thinking", "--stream-json-input"]
        argv.append(f"--settings-file={settings}")
        if record.model != "default":
            argv.append(f"--mode={record.model}")
        try:
            process = await self.start_process(argv)
            process.send(stream_json.user_line(prompt))
            process.end_input()
            while True:
                await turn.room()
                message = await process.receive()
                session_id, _ = stream_json.init_of(message)
                if session_id is not None:
                    self.remember_agent_session(session_id)
                if message.get("type") == "result":
                    return self._result(turn, message)
                stream_json.show(turn, message, TOOL_KINDS)
        except asyncio.CancelledError:
            running, self.process = self.process, None
            if running is not None:
                await running.close(gentle=False)
            raise
        finally:
            await self.aclose()

    def _result(self, turn: AgentTurn, message: dict[str, Any]) -> wire.StopReason:
        if isinstance(session_id := message.get("session_id"), str):
            self.remember_agent_session(session_id)
        turn.account(self.session.record.model, *stream_json.usage_of(message))
        if message.get("is_error") or message.get("subtype") not in (None, "success"):
            raise ParleyError(
                ErrorCode.PROVIDER_ERROR,
                f"amp ended the turn with an error: {message.get('result') or 'no detail'}",
                recoverable=True,
            )
        return "end_turn"


def amp_permissions(
    mode: str, rules: Sequence[Rule], remembered: Mapping[str, str]
) -> dict[str, Any]:
    """The session's permissions as Amp settings: rules first (Amp also takes the first
    match), then answers the user gave "always", then what the mode says."""
    if mode == "ask":
        raise ParleyError(ErrorCode.INVALID_PARAMS, f"{ASK_REFUSED}; this session's mode is ask")
    out: list[dict[str, Any]] = []
    for rule in rules:
        if rule.action == "ask":
            raise ParleyError(ErrorCode.INVALID_PARAMS, f"{ASK_REFUSED}; {rule.describe()} asks")
        entry: dict[str, Any] = {
            "tool": rule.tool,
            "action": "allow" if rule.action == "allow" else "reject",
        }
        if rule.match:
            entry["matches"] = {MATCH_KEYS.get(k, k): v for k, v in rule.match.items()}
        out.append(entry)
    for tool, answer in remembered.items():
        out.append({"tool": tool, "action": "allow" if answer == "allow" else "reject"})
    if mode == "allow":
        return {"amp.permissions": out, "amp.dangerouslyAllowAll": True}
    allowed = READ_TOOLS + (EDIT_TOOLS if mode == "accept-edits" else ())
    out += [{"tool": tool, "action": "allow"} for tool in allowed]
    out.append({"tool": "*", "action": "reject"})
    return {"amp.permissions": out, "amp.dangerouslyAllowAll": False}


def _user_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The user's own Amp settings (MCP servers and the like), which the turn's file keeps."""
    raw = env.get("AMP_SETTINGS_FILE") or str(
        Path(env.get("HOME", "~")).expanduser() / ".config" / "amp" / "settings.json"
    )
    try:
        settings = json.loads(Path(raw).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring Amp's settings file %s: %s", raw, exc)
        return {}
    return settings if isinstance(settings, dict) else {}
