"""The configuration: what is in effect (secrets masked), changing it, tools and providers."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import attrs
from fastapi import APIRouter, Request
from starlette.responses import Response

from parley.config import Settings, load_settings
from parley.config.secrets import masked
from parley.config.settings import NOT_SETTINGS, ConfigError
from parley.doors.http import models
from parley.doors.http.context import Daemon, daemon, json
from parley.doors.http.errors import responses

router = APIRouter(tags=["config"])
# Read when a session is created or a turn starts: a change applies from the next one.
LIVE = ("provider", "model", "profile", "permission_mode", "approval_timeout", "max_turns")


@router.get("/config", response_model=models.ConfigView, responses=responses())
async def get_config(request: Request) -> Response:
    return json(_view(daemon(request)))


@router.put("/config", response_model=models.ConfigUpdated, responses=responses(404))
async def put_config(request: Request, body: models.ConfigUpdate) -> Response:
    """Change settings: validated, written to the config file (its comments kept), and
    applied to new sessions and turns where that can be done while running; the rest (the
    [daemon] table, log_level, tool_timeout) after a restart."""
    d = daemon(request)
    changes = body.model_dump(exclude_none=True)
    _check_names(d, changes)
    text = _rewritten(d.config_path, changes)
    checked = _checked(text, d.service.settings)
    _write(d.config_path, text)
    current = d.service.settings
    applied, restart = [], []
    for key in changes:
        if key in LIVE and not current.sources.get(key, "").startswith(("flag", "env")):
            setattr(current, key, getattr(checked, key))
            current.sources[key] = str(d.config_path)
            applied.append(key)
        elif key not in LIVE:
            restart.append(key)
    overridden = [k for k in changes if k in LIVE and k not in applied]
    return json(
        {**_view(d), "applied": applied, "restart_required": restart, "overridden": overridden}
    )


@router.get("/config/modules", response_model=models.Modules, responses=responses())
async def modules(request: Request) -> Response:
    """The built-in tools sessions can use (a profile may allow fewer) and the configured MCP
    servers (`GET /config` has their settings, secrets masked)."""
    service = daemon(request).service
    tools = [
        {"name": t.name, "kind": t.kind, "description": t.description} for t in service.tools()
    ]
    servers = [
        {
            "name": name,
            "transport": "http" if "url" in table else "stdio",
            "enabled": table.get("enabled", True),
            "trusted": table.get("trusted", False),
        }
        for name, table in service.settings.mcp_servers.items()
    ]
    return json({"tools": tools, "mcp_servers": servers})


@router.get("/config/providers", response_model=models.Providers, responses=responses())
async def providers(request: Request) -> Response:
    listed = daemon(request).service.provider_list()
    return json(
        {
            "providers": [
                {
                    "name": p.name,
                    "type": p.name,
                    "available": p.configured,
                    "default_model": p.default_model,
                    "detail": p.detail,
                }
                for p in listed.providers
            ],
            "default": listed.default,
        }
    )


def _check_names(d: Daemon, changes: dict[str, Any]) -> None:
    """What the config file's own checks cannot see: the provider and profile must exist."""
    provider = changes.get("provider")
    known = [p.name for p in d.service.provider_list().providers]
    if provider is not None and provider not in known:
        raise ConfigError(f"provider must be one of {', '.join(known)}; got {provider!r}")
    if "profile" in changes:
        d.service.profile(changes["profile"])  # profile_not_found (404)


def _view(d: Daemon) -> dict[str, Any]:
    settings = d.service.settings
    values = {
        f.name: masked(f.name, getattr(settings, f.name))
        for f in attrs.fields(Settings)
        if f.name not in NOT_SETTINGS
    }
    return {
        "settings": values,
        "sources": {k: settings.sources.get(k, "default") for k in values},
        "config_file": str(d.config_path),
    }


def _rewritten(path: Path, changes: dict[str, Any]) -> str:
    import tomlkit  # only here: nothing else writes TOML

    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else None
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.ParseError) as exc:
        raise ConfigError(f"{path}: cannot update it: {exc}") from None
    document = document if document is not None else tomlkit.document()
    for key, value in changes.items():
        if key == "daemon":
            table = document.setdefault("daemon", tomlkit.table())
            for name, item in value.items():
                table[name] = item
        else:
            document[key] = value
    text: str = tomlkit.dumps(document)
    return text


def _checked(text: str, settings: Settings) -> Settings:
    """The settings the new file gives, or a ConfigError naming what is wrong (400)."""
    with tempfile.TemporaryDirectory() as scratch:
        candidate = Path(scratch, "config.toml")
        candidate.write_text(text, encoding="utf-8")
        try:
            return load_settings({}, settings.env, candidate)
        except ConfigError as exc:
            raise ConfigError(exc.message.replace(str(candidate), "config")) from None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".toml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, path)
