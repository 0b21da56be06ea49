"""Which context window a session's provider gets: setting > provider section > kind default."""

from __future__ import annotations

from pathlib import Path

from parley.config import load_settings
from parley.providers import registry


def window(tmp_path: Path, text: str = "", **env: str) -> int | None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    base = {"PARLEY_CONFIG": str(config), "PARLEY_SCRIPT": str(tmp_path / "s.json")}
    settings = load_settings(env={**base, **env})
    return registry.resolve(settings, "scripted").context_window


def test_the_kind_default_applies_when_nothing_is_set(tmp_path: Path) -> None:
    assert window(tmp_path) == registry.KINDS["scripted"].context_window == 200_000


def test_the_provider_section_overrides_the_default(tmp_path: Path) -> None:
    assert window(tmp_path, "[providers.scripted]\ncontext_window = 9000\n") == 9000


def test_the_setting_overrides_the_provider_section(tmp_path: Path) -> None:
    text = "context_window = 5000\n[providers.scripted]\ncontext_window = 9000\n"
    assert window(tmp_path, text) == 5000
    assert window(tmp_path, text, PARLEY_CONTEXT_WINDOW="3000") == 3000
