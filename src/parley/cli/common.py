"""What every subcommand shares: settings from flags, logging, the store, error output."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from parley.config import Settings, load_settings
from parley.config.settings import LOG_LEVELS
from parley.core.errors import ParleyError
from parley.core.redact import redact

if TYPE_CHECKING:  # the store is imported when it is opened, not at start-up
    from parley.store.base import Store


# `parley ... | head`: the reader went away. 128 + SIGPIPE, as if the pipe had killed us.
EXIT_BROKEN_PIPE = 141


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
    g.add_argument("--log-level", choices=LOG_LEVELS)


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


class _RedactingFormatter(logging.Formatter):
    """Log lines, tracebacks included, with credentials masked (core/redact)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter("parley %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.WARNING), handlers=[handler]
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


class _LazyStore:
    """The store, opened on first use: a command that fails on configuration before it needs
    the store leaves no database behind."""

    def __init__(self, settings: Settings, ephemeral: bool) -> None:
        self._settings = settings
        self._ephemeral = ephemeral
        self._store: Store | None = None

    def __getattr__(self, name: str) -> Any:
        if self._store is None:
            self._store = open_store(self._settings, self._ephemeral)
        return getattr(self._store, name)

    def commit(self) -> None:  # nothing written yet: nothing to open
        if self._store is not None:
            self._store.commit()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def lazy_store(settings: Settings, ephemeral: bool) -> Store:
    return cast("Store", _LazyStore(settings, ephemeral))


def has_stored_sessions(settings: Settings) -> bool:
    """Whether the persistent store exists, without creating it."""
    from parley.store.sqlite import database_path

    return database_path(settings.data_path()).exists()


def fail(error: ParleyError | str) -> None:
    message = error.message if isinstance(error, ParleyError) else error
    print(f"parley: {message}", file=sys.stderr)


def silence_stdout() -> None:
    """After stdout's reader went away: send what is left to /dev/null, so the interpreter's
    final flush prints no BrokenPipeError."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
