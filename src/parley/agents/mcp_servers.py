"""A session's MCP servers (config file < profile < session/create `mcpServers`, as for
Parley's own turns) handed to an external agent, in each agent's own shape: Claude Code's
`--mcp-config` file, Codex's `mcp_servers` config overrides, ACP's `mcpServers` on
session/new and session/load, Amp's `amp.mcpServers` setting.

The servers are resolved once, when the session's backend is opened: `${VAR}` taken from
Parley's environment, a stdio server's directory against the session's. Their env and header
values that look like credentials are remembered as secrets, so an agent that prints one
(stderr, an error) does not get it into Parley's log or events; they reach the agent only
through its stdin or a private file, never its command line.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from parley.engine.session_tools import mcp_servers
from parley.tools.mcp.config import Launch, ServerConfig, launch
from parley.tools.mcp.naming import sanitize

if TYPE_CHECKING:
    from parley.config import Settings
    from parley.engine.session import Session

log = logging.getLogger(__name__)

# Agents start stdio servers in their own working directory (the session's) and most cannot
# be told another: a server with a directory of its own starts through this.
_IN_DIRECTORY = "import os, sys; os.chdir(sys.argv[1]); os.execvp(sys.argv[2], sys.argv[2:])"


@attrs.frozen
class AgentServer:
    """One server as an agent gets it: its config (for timeouts) and how it runs."""

    config: ServerConfig
    launch: Launch
    command: str  # stdio: found, and wrapped for a directory of its own
    args: list[str]

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def env(self) -> dict[str, str]:
        return dict(self.launch.env)

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.launch.headers)

    @property
    def http(self) -> bool:
        return self.launch.transport == "http"


def session_servers(session: Session, settings: Settings) -> list[AgentServer]:
    """The session's servers as its agent will start them. Raises ConfigError for a
    `${VAR}` that is not set."""
    cwd = Path(session.record.cwd)
    out = []
    for config in mcp_servers(session.record, session.profile, settings):
        resolved = launch(config, cwd, settings.env)
        command, args = _stdio_argv(resolved, cwd, settings.env)
        out.append(AgentServer(config, resolved, command, args))
    return out


def _stdio_argv(resolved: Launch, cwd: Path, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """The command an agent runs: found as Parley would find it (PATH, then the server's
    directory), and started in that directory when it is not the session's."""
    if resolved.transport != "stdio" or resolved.command is None:
        return "", []
    command = resolved.command
    path = dict(resolved.env).get("PATH", env.get("PATH", os.environ.get("PATH")))
    found = shutil.which(command, path=path)
    if found is None and resolved.cwd and (Path(resolved.cwd) / command).is_file():
        found = str(Path(resolved.cwd) / command)
    command = found or command  # not found: the agent says so when it starts the server
    if resolved.cwd is None or Path(resolved.cwd) == cwd:
        return command, list(resolved.args)
    return sys.executable, ["-c", _IN_DIRECTORY, resolved.cwd, command, *resolved.args]


# --- each agent's shape ---------------------------------------------------------------------


def claude_code_config(servers: Sequence[AgentServer]) -> dict[str, Any]:
    """Claude Code's `--mcp-config` JSON (its `.mcp.json` format)."""
    out: dict[str, Any] = {}
    for s in servers:
        if s.http:
            out[s.name] = {"type": "http", "url": s.launch.url, "headers": s.headers}
        else:
            out[s.name] = {"type": "stdio", "command": s.command, "args": s.args, "env": s.env}
    return {"mcpServers": out}


def amp_config(servers: Sequence[AgentServer]) -> dict[str, Any]:
    """Amp's `amp.mcpServers` setting."""
    out: dict[str, Any] = {}
    for s in servers:
        if s.http:
            out[s.name] = {"url": s.launch.url, "headers": s.headers}
        else:
            out[s.name] = {"command": s.command, "args": s.args, "env": s.env}
    return out


def codex_config(servers: Sequence[AgentServer]) -> dict[str, Any]:
    """Codex config overrides (thread/start's `config`), one dotted key per server so that
    the user's own `[mcp_servers]` in Codex's config.toml stay beside them."""
    out: dict[str, Any] = {}
    for s in servers:
        table: dict[str, Any]
        if s.http:
            table = {"url": s.launch.url, "http_headers": s.headers}
        else:
            table = {"command": s.command, "args": s.args, "env": s.env}
        if not s.config.trusted:  # Codex runs readOnlyHint tools unasked; Parley asks
            table["default_tools_approval_mode"] = "prompt"
        table["startup_timeout_sec"] = s.config.startup_timeout
        if s.config.tool_timeout is not None:
            table["tool_timeout_sec"] = s.config.tool_timeout
        # A dotted key: a host's server name ("my.server") must not nest tables.
        out[f"mcp_servers.{sanitize(s.name)}"] = table
    return out


def acp_servers(
    servers: Sequence[AgentServer], capabilities: Mapping[str, Any], agent: str
) -> list[dict[str, Any]]:
    """ACP's `mcpServers`: every agent takes stdio; HTTP only where its `mcpCapabilities`
    says so, and a server it cannot take is left out (logged)."""
    takes_http = bool((capabilities.get("mcpCapabilities") or {}).get("http"))
    out: list[dict[str, Any]] = []
    for s in servers:
        if not s.http:
            env = [{"name": k, "value": v} for k, v in s.env.items()]
            out.append({"name": s.name, "command": s.command, "args": s.args, "env": env})
        elif takes_http:
            headers = [{"name": k, "value": v} for k, v in s.headers.items()]
            out.append({"type": "http", "name": s.name, "url": s.launch.url, "headers": headers})
        else:
            log.warning(
                "the agent %s does not take HTTP MCP servers; %s is left out", agent, s.name
            )
    return out
