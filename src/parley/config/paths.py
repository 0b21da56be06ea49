"""Where Parley keeps its files (platformdirs, overridable)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def config_dir(env: Mapping[str, str] = os.environ) -> Path:
    if home := env.get("PARLEY_CONFIG_DIR"):
        return Path(home)
    import platformdirs

    return Path(platformdirs.user_config_dir("parley", appauthor=False))


def config_file(env: Mapping[str, str] = os.environ) -> Path:
    if path := env.get("PARLEY_CONFIG"):
        return Path(path)
    return config_dir(env) / "config.toml"


def default_data_dir(env: Mapping[str, str] = os.environ) -> Path:
    if home := env.get("PARLEY_HOME"):
        return Path(home)
    import platformdirs

    return Path(platformdirs.user_data_dir("parley", appauthor=False))
