"""`parley config show`: every setting's effective value and where it came from.

Secrets (API keys, tokens) are masked, in the config file's sections and in the environment.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import attrs

from parley.cli.common import add_settings_flags, fail, settings_from
from parley.config import Settings, paths
from parley.config.secrets import masked
from parley.config.settings import ENV_VARS, NOT_SETTINGS
from parley.core.errors import ParleyError

EXIT_OK, EXIT_USAGE = 0, 2
_NESTED = ("providers", "prices", "mcp_servers")


def add_config_parser(subparsers: Any) -> None:
    config = subparsers.add_parser("config", help="show the effective configuration")
    commands = config.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    show_cmd = commands.add_parser(
        "show", help="every setting, its value (secrets masked) and where it came from"
    )
    show_cmd.add_argument("--json", action="store_true", help="as one JSON object")
    add_settings_flags(show_cmd)
    show_cmd.set_defaults(func=_show)


def _show(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
    except ParleyError as exc:
        fail(exc)
        return EXIT_USAGE
    return show(args, settings)


def effective(settings: Settings) -> dict[str, tuple[Any, str]]:
    """Dotted key -> (value with secrets masked, source); provider and price tables flattened."""
    rows: dict[str, tuple[Any, str]] = {}
    for field in attrs.fields(Settings):
        name = field.name
        if name in NOT_SETTINGS:
            continue
        value, source = getattr(settings, name), settings.sources.get(name, "default")
        if name in _NESTED and value:
            for section, table in value.items():
                for key, item in table.items():
                    dotted = f"{name}.{section}.{key}"
                    rows[dotted] = (masked(dotted, item), source)
        else:
            rows[name] = (masked(name, value), source)
    return rows


def credentials(settings: Settings) -> dict[str, str]:
    """Provider credentials in the environment (masked): they pick and configure providers."""
    from parley.providers.registry import KINDS

    found = {}
    for kind in KINDS.values():
        var = kind.credential_env
        if var and var not in ENV_VARS and settings.env.get(var):
            found[var] = masked(var, settings.env[var])
    return found


def show(args: argparse.Namespace, settings: Settings) -> int:
    config_file = args.config or paths.config_file(settings.env)
    rows = effective(settings)
    found = credentials(settings)
    if args.json:
        out = {
            "configFile": str(config_file),
            "configFileExists": config_file.is_file(),
            "profilesDir": str(paths.config_dir(settings.env) / "profiles"),
            "dataDir": str(settings.data_path()),
            "settings": {key: {"value": v, "source": s} for key, (v, s) in rows.items()},
            "credentials": {var: {"value": v, "source": "environment"} for var, v in found.items()},
        }
        print(json.dumps(out, indent=2))
        return EXIT_OK
    exists = "" if config_file.is_file() else " (not found)"
    print(f"# config file: {config_file}{exists}")
    print(f"# profiles:    {paths.config_dir(settings.env) / 'profiles'}")
    print(f"# sessions:    {settings.data_path()}")
    lines = [(key, _render(value), source) for key, (value, source) in rows.items()]
    lines += [(var, _render(value), "environment") for var, value in found.items()]
    key_width = max(len(key) for key, _, _ in lines)
    value_width = min(40, max(len(value) for _, value, _ in lines))
    for key, value, source in lines:
        print(f"{key:<{key_width}} = {value:<{value_width}}  # {source}")
    return EXIT_OK


def _render(value: Any) -> str:
    return "(not set)" if value is None else json.dumps(value)
