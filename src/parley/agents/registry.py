"""Which agents exist, how each is started, and the config file's `[agents.<name>]` tables.

Built in: claude-code, codex, gemini (Gemini CLI over ACP) and amp. Any other name is an ACP
agent the config file names with its command, e.g. `[agents.goose] command = ["goose", "acp"]`.
A table for a built-in agent can replace its command (another path or wrapper) and add `env`.
"""

from __future__ import annotations

import importlib
import shutil
from typing import TYPE_CHECKING, Any

import attrs

from parley.agents.base import AgentBackend, AgentSpec
from parley.config.settings import ConfigError, Settings, check_type
from parley.core.errors import ErrorCode, ParleyError

if TYPE_CHECKING:
    from parley.engine.session import Session


@attrs.frozen
class Builtin:
    command: tuple[str, ...]
    backend: str  # "module:Class" under parley.agents, imported when a session uses it
    package: str  # the npm package that provides the CLI


BUILTIN: dict[str, Builtin] = {
    "claude-code": Builtin(("claude",), "claude_code:ClaudeCode", "@anthropic-ai/claude-code"),
    "codex": Builtin(("codex",), "codex:Codex", "@openai/codex"),
    "gemini": Builtin(("gemini", "--acp"), "acp:GeminiCli", "@google/gemini-cli"),
    "amp": Builtin(("amp",), "amp:Amp", "@sourcegraph/amp"),
}
ACP_BACKEND = "acp:AcpAgent"
AGENT_KEYS: dict[str, type] = {"command": list, "env": dict}


def names(settings: Settings) -> list[str]:
    return [*BUILTIN, *(n for n in settings.agents if n not in BUILTIN)]


def spec(name: str, settings: Settings) -> AgentSpec:
    """How to start agent `name`: a clear error when it is unknown or not installed."""
    table = settings.agents.get(name, {})
    builtin = BUILTIN.get(name)
    if builtin is None and not table:
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            f"no agent named {name!r}; available: {', '.join(names(settings))} "
            "(or name an ACP agent's command in the config file's [agents.<name>] table)",
            data={"pointer": "/agent"},
        )
    command = tuple(table.get("command") or (builtin.command if builtin else ()))
    env = {**settings.env, **table.get("env", {})}
    found = shutil.which(command[0], path=env.get("PATH")) if command else None
    if found is None:
        how = f"; install it with `npm install -g {builtin.package}`" if builtin else ""
        raise ParleyError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            f"agent {name!r}: the command {command[0] if command else '(none)'!r} is not "
            f"installed or not on PATH{how}",
            data={"pointer": "/agent"},
        )
    return AgentSpec(name, (found, *command[1:]), env)


def open_backend(name: str, settings: Settings, session: Session) -> AgentBackend:
    builtin = BUILTIN.get(name)
    module_name, class_name = (builtin.backend if builtin else ACP_BACKEND).split(":")
    module = importlib.import_module(f"parley.agents.{module_name}")
    backend: AgentBackend = getattr(module, class_name)(spec(name, settings), session)
    return backend


def parse_agents(value: Any, where: str) -> dict[str, dict[str, Any]]:
    """The config file's [agents.<name>] tables, checked."""
    out: dict[str, dict[str, Any]] = {}
    for name, section in check_type(value, dict, "agents", where).items():
        checked: dict[str, Any] = {}
        for key, item in check_type(section, dict, f"agents.{name}", where).items():
            full = f"agents.{name}.{key}"
            if key not in AGENT_KEYS:
                raise ConfigError(f"{where}: unknown key {full!r}; known: command, env")
            checked[key] = check_type(item, AGENT_KEYS[key], full, where)
            values = checked[key] if key == "command" else checked[key].values()
            if not all(isinstance(v, str) for v in values) or (key == "command" and not values):
                kind = "a non-empty array of strings" if key == "command" else "a table of strings"
                raise ConfigError(f"{where}: {full} must be {kind}")
        if name not in BUILTIN and "command" not in checked:
            raise ConfigError(f"{where}: agents.{name} is not built in, so it needs a command")
        out[name] = checked
    return out
