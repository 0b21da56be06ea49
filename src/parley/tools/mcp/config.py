"""MCP servers as configured: the config file's `[mcp_servers.NAME]`, a profile's, a session's.

    [mcp_servers.git]                    # stdio: command, args, env, cwd
    command = "mcp-server-git"
    args = ["--repository", "."]

    [mcp_servers.docs]                   # streamable HTTP: url, headers
    url = "http://127.0.0.1:8000/mcp"
    headers = { Authorization = "Bearer ${DOCS_TOKEN}" }

The sources are merged by name, each replacing the one before: the config file, the profile,
then the session (`mcpServers` on session/create); `enabled = false` removes a server.
This module reads and checks; it imports nothing of the MCP SDK (start-up time).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from parley.config import ConfigError
from parley.config.secrets import is_secret
from parley.core import redact
from parley.core.errors import ErrorCode, ParleyError

# What a [mcp_servers.NAME] table may hold, and each key's type.
KEYS: dict[str, type] = {
    "command": str,
    "args": list,
    "env": dict,
    "cwd": str,
    "url": str,
    "headers": dict,
    "trusted": bool,
    "enabled": bool,
    "startup_timeout": float,
    "tool_timeout": float,
    "idle_timeout": float,
}
STDIO_KEYS = frozenset({"command", "args", "env", "cwd"})
HTTP_KEYS = frozenset({"url", "headers"})
SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

DEFAULT_STARTUP_TIMEOUT = 30.0
DEFAULT_IDLE_TIMEOUT = 600.0


@attrs.frozen
class ServerConfig:
    """One server as a session uses it. `tool_timeout` None: the tool_timeout setting."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None
    url: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    trusted: bool = False
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT
    tool_timeout: float | None = None
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    source: str = ""

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "http" if self.url is not None else "stdio"


@attrs.frozen
class Launch:
    """What identifies one running server: sessions whose servers launch alike share it."""

    transport: Literal["stdio", "http"]
    command: str | None
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    cwd: str | None
    url: str | None
    headers: tuple[tuple[str, str], ...]
    startup_timeout: float
    idle_timeout: float
    label: str = attrs.field(default="", eq=False, hash=False)  # a server name, for messages


def check_servers(value: Any, where: str, *, project: bool = False) -> dict[str, dict[str, Any]]:
    """A `mcp_servers` table from a config file or profile, checked; keys normalized."""
    if project:
        raise ConfigError(
            f"{where}: mcp_servers: a project's files may not start programs; put MCP servers "
            "in your own config file or a profile in your config directory"
        )
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: mcp_servers must be a table of [mcp_servers.NAME] tables")
    out: dict[str, dict[str, Any]] = {}
    for name, table in value.items():
        full = f"mcp_servers.{name}"
        if not SERVER_NAME.match(name):
            raise ConfigError(
                f"{where}: {full}: a server name is letters, digits, '_' and '-' (at most 48)"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: {full} must be a table")
        out[name] = _check_table({k.replace("-", "_"): v for k, v in table.items()}, where, full)
    return out


def _check_table(table: dict[str, Any], where: str, full: str) -> dict[str, Any]:
    for key in list(table):
        item: Any = table[key]
        if key not in KEYS:
            import difflib

            hint = difflib.get_close_matches(key, list(KEYS), n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            raise ConfigError(f"{where}: unknown key {full}.{key!r}{suggestion}")
        want = KEYS[key]
        if want is float and isinstance(item, int) and not isinstance(item, bool):
            table[key] = item = float(item)
        if not isinstance(item, want) or (want is float and isinstance(item, bool)):
            raise ConfigError(f"{where}: {full}.{key} must be {_TYPE_NAMES[want]}")
        if want is float and table[key] <= 0:
            raise ConfigError(f"{where}: {full}.{key} must be positive, got {item}")
    if table.get("enabled", True) is False and not (table.keys() & (STDIO_KEYS | HTTP_KEYS)):
        return table  # only switches off a server of the same name from an earlier source
    stdio, http = table.keys() & STDIO_KEYS, table.keys() & HTTP_KEYS
    if "command" not in table and "url" not in table:
        raise ConfigError(f"{where}: {full} needs a command (stdio) or a url (streamable HTTP)")
    if stdio and http:
        raise ConfigError(
            f"{where}: {full} has {sorted(stdio)[0]} and {sorted(http)[0]}: a server is either "
            "stdio (command, args, env, cwd) or streamable HTTP (url, headers)"
        )
    if "command" in table and not table["command"].strip():
        raise ConfigError(f"{where}: {full}.command is empty")
    if "url" in table and not table["url"].startswith(("http://", "https://")):
        raise ConfigError(f"{where}: {full}.url must start with http:// or https://")
    if not all(isinstance(a, str) for a in table.get("args", [])):
        raise ConfigError(f"{where}: {full}.args must be a list of strings")
    for key in ("env", "headers"):
        if not all(isinstance(v, str) for v in table.get(key, {}).values()):
            raise ConfigError(f"{where}: {full}.{key} values must be strings")
    if "cwd" in table and table["cwd"].startswith("~"):
        table["cwd"] = str(Path(table["cwd"]).expanduser())
    return table


_TYPE_NAMES: dict[type, str] = {
    bool: "true or false",
    str: "a string",
    float: "a number of seconds",
    list: "an array",
    dict: "a table",
}


def from_tables(
    tables: Mapping[str, Mapping[str, Any]], source: str
) -> dict[str, ServerConfig | None]:
    """The user's checked tables (config file, profile) as configs; None for `enabled = false`
    (it removes the name)."""
    return {
        name: None if t.get("enabled", True) is False else _config(name, t, source)
        for name, t in tables.items()
    }


def _config(name: str, t: Mapping[str, Any], source: str) -> ServerConfig:
    return ServerConfig(
        name=name,
        command=t.get("command"),
        args=tuple(t.get("args", ())),
        env=tuple(t.get("env", {}).items()),
        cwd=t.get("cwd"),
        url=t.get("url"),
        headers=tuple(t.get("headers", {}).items()),
        trusted=bool(t.get("trusted", False)),
        startup_timeout=t.get("startup_timeout", DEFAULT_STARTUP_TIMEOUT),
        tool_timeout=t.get("tool_timeout"),
        idle_timeout=t.get("idle_timeout", DEFAULT_IDLE_TIMEOUT),
        source=source,
    )


def merge(*layers: Mapping[str, ServerConfig | None]) -> list[ServerConfig]:
    """Later layers replace earlier ones by name; None removes the name."""
    merged: dict[str, ServerConfig | None] = {}
    for layer in layers:
        merged.update(layer)
    return [c for c in merged.values() if c is not None]


# --- a session's servers: ACP's shape on the wire, tables in the store ---------------------


def session_tables(servers: Iterable[Any]) -> list[dict[str, Any]]:
    """`mcpServers` from session/create (wire types) as the tables the store keeps."""
    out: list[dict[str, Any]] = []
    for s in servers:
        if getattr(s, "url", None) is not None:
            table = {"name": s.name, "url": s.url, "headers": {h.name: h.value for h in s.headers}}
        else:
            env = {e.name: e.value for e in s.env}
            table = {"name": s.name, "command": s.command, "args": list(s.args), "env": env}
        out.append(table)
    names = [t["name"] for t in out]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ParleyError(
                ErrorCode.INVALID_PARAMS,
                f"invalid params: /mcpServers/{i}/name: the name {name!r} is used twice",
                data={"pointer": f"/mcpServers/{i}/name"},
            )
    return out


def from_session(tables: Iterable[Mapping[str, Any]]) -> dict[str, ServerConfig | None]:
    """A session's stored servers. Their tables hold no `trusted`: never trusted, they come
    from the host, not the user."""
    return {t["name"]: _config(t["name"], t, "session") for t in tables}


# --- from a config to what runs -------------------------------------------------------------


def launch(config: ServerConfig, cwd: Path, env: Mapping[str, str]) -> Launch:
    """The server as it will run for a session in `cwd`: `${VAR}` taken from `env` (config
    files and profiles only), a relative or missing cwd taken against the session's.

    Raises ConfigError naming a variable that is not set.
    """
    expand = (lambda text: text) if config.source == "session" else _expander(config, env)
    work = None
    if config.transport == "stdio":
        work = str((cwd / expand(config.cwd)).resolve() if config.cwd else cwd)
    launched = Launch(
        transport=config.transport,
        command=expand(config.command) if config.command is not None else None,
        args=tuple(expand(a) for a in config.args),
        env=tuple((k, expand(v)) for k, v in config.env),
        cwd=work,
        url=expand(config.url) if config.url is not None else None,
        headers=tuple((k, expand(v)) for k, v in config.headers),
        startup_timeout=config.startup_timeout,
        idle_timeout=config.idle_timeout,
        label=config.name,
    )
    _remember_secrets(launched)
    return launched


def _remember_secrets(launched: Launch) -> None:
    """The credentials a server is given (values of variables and headers named like one, URL
    passwords) are masked wherever text leaves Parley: a server that echoes its token puts it
    in a tool's output, which goes into events, logs and the model's context."""
    for name, value in (*launched.env, *launched.headers):
        if is_secret(name.replace("-", "_")):
            redact.remember(value)
    if launched.url:
        for password in redact.url_passwords(launched.url):
            redact.remember(password)


def _expander(config: ServerConfig, env: Mapping[str, str]) -> Any:
    def expand(text: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            found = env.get(name)
            if found is None:
                raise ConfigError(
                    f"{config.source}: mcp_servers.{config.name} uses ${{{name}}}, "
                    "which is not set in the environment"
                )
            return found

        return _VARIABLE.sub(value, text)

    return expand
