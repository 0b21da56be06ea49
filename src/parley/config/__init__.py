"""Settings: built-in defaults < config file < PARLEY_* environment < CLI flags."""

from parley.config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
