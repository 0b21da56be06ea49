"""A session's system prompt: {cwd} filled in, context files read inside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.config import ConfigError
from parley.engine import system_prompt as sp
from parley.engine.profiles import Profile
from parley.tools.base import ToolContext


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    project = tmp_path / "project"
    project.mkdir()
    return ToolContext(roots=(project.resolve(),))


def test_cwd_is_filled_in_and_other_braces_are_left_alone(ctx: ToolContext) -> None:
    profile = Profile("p", system_prompt='Work in {cwd}. JSON looks like {"a": 1}.')
    assert sp.system_prompt(profile, ctx) == f'Work in {ctx.cwd}. JSON looks like {{"a": 1}}.'


def test_context_files_are_appended_in_order(ctx: ToolContext) -> None:
    (ctx.cwd / "docs").mkdir()
    (ctx.cwd / "docs" / "style.md").write_text("Use tabs.", encoding="utf-8")
    (ctx.cwd / "NOTES").write_text("Ship on Fridays.", encoding="utf-8")
    profile = Profile("p", system_prompt="Base.", context_files=("docs/style.md", "NOTES"))
    assert sp.system_prompt(profile, ctx) == (
        "Base.\n\n"
        '<context_file path="docs/style.md">\nUse tabs.\n</context_file>\n\n'
        '<context_file path="NOTES">\nShip on Fridays.\n</context_file>'
    )


def test_a_missing_context_file_names_the_profile_file_and_field(ctx: ToolContext) -> None:
    profile = Profile("p", context_files=("there.md", "gone.md"), source="/cfg/p.toml")
    (ctx.cwd / "there.md").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        sp.system_prompt(profile, ctx)
    assert info.value.message == "/cfg/p.toml: context_files[1]: gone.md does not exist"


def test_a_context_file_outside_the_project_is_refused(ctx: ToolContext) -> None:
    secret = ctx.cwd.parent / "secret.txt"
    secret.write_text("hunter2", encoding="utf-8")
    (ctx.cwd / "link.txt").symlink_to(secret)
    for name in ("../secret.txt", "link.txt"):
        profile = Profile("p", context_files=(name,), source="/proj/.parley/profiles/p.md")
        with pytest.raises(ConfigError) as info:
            sp.system_prompt(profile, ctx)
        assert info.value.message.startswith(
            f"/proj/.parley/profiles/p.md: context_files[0]: {name} is outside"
        )
        assert "hunter2" not in info.value.message


def test_context_files_are_cut_at_the_budget(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sp, "MAX_CONTEXT_CHARS", 10)
    (ctx.cwd / "a").write_text("123456", encoding="utf-8")
    (ctx.cwd / "b").write_text("abcdefgh", encoding="utf-8")
    prompt = sp.system_prompt(Profile("p", system_prompt="S", context_files=("a", "b")), ctx)
    assert "123456\n</context_file>" in prompt
    assert "abcd\n[cut: 4 more characters not included]" in prompt
