"""What every subcommand shares: settings from flags, logging, the store, error output."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.config import Settings, load_settings
from parley.core.errors import ParleyError

if TYPE_CHECKING:  # the store is imported when it is opened, not at start-up
    from parley.store.base import Store


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("settings (override PARLEY_* variables and the config file)")
    g.add_argument(
        "--provider",
        help="model provider: anthropic, openai, azure-openai, ollama, openai-compatible, local, "
        "scripted",
    )
    g.add_argument("--model", help="model name (for azure-openai: the deployment name)")
    g.add_argument("--profile", help="profile to use (default: default)")
    g.add_argument("--script", metavar="PATH", help="script for the scripted provider")
    g.add_argument("--data-dir", metavar="DIR", help="where sessions are stored (PARLEY_HOME)")
    g.add_argument("--config", metavar="FILE", type=Path, help="config file to read")
    g.add_argument("--log-level", choices=["debug", "info", "warning", "error"])


def settings_from(args: argparse.Namespace, **extra: Any) -> Settings:
    flags = {
        "provider": args.provider,
        "model": args.model,
        "profile": args.profile,
        "script": args.script,
        "data_dir": args.data_dir,
        "log_level": args.log_level,
        **extra,
    }
    return load_settings(flags, config_path=args.config)


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, settings.log_level.upper(), logging.WARNING),
        format="parley %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_level != "debug":
        # pygls logs every expected error (busy session, bad params) with a traceback.
        logging.getLogger("pygls").setLevel(logging.CRITICAL)


def open_store(settings: Settings, ephemeral: bool) -> Store:
    if ephemeral:
        from parley.store.memory import MemoryStore

        return MemoryStore()
    from parley.store.sqlite import open_store as open_sqlite

    return open_sqlite(settings.data_path())


def fail(error: ParleyError | str) -> None:
    message = error.message if isinstance(error, ParleyError) else error
    print(f"parley: {message}", file=sys.stderr)
