"""Loading profiles: built-ins, the user's config directory, a project's .parley/profiles/."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.config import ConfigError, Settings, load_settings
from parley.engine.profile_files import load_profiles
from parley.engine.profiles import BASE_PROMPT, BUILTIN_PROFILES, profile_info


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    env = {
        "PARLEY_CONFIG_DIR": str(tmp_path / "config"),
        "PARLEY_CONFIG": str(tmp_path / "config" / "config.toml"),
    }
    return load_settings(env=env)


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    path = tmp_path / "config" / "profiles"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    (path / ".parley" / "profiles").mkdir(parents=True)
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def load_error(settings: Settings, cwd: Path | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_profiles(settings, cwd)
    return info.value.message


def test_without_profile_files_the_builtins_are_available(
    settings: Settings, project: Path
) -> None:
    profiles = load_profiles(settings, project)
    assert list(profiles) == ["default", "code-reviewer", "test-writer", "documentation-writer"]
    assert profiles == BUILTIN_PROFILES
    assert {p.source for p in profiles.values()} == {"builtin"}


def test_toml_profile_in_the_config_directory_is_loaded(settings: Settings, user_dir: Path) -> None:
    path = write(
        user_dir / "migrations.toml",
        """
description = "Reviews database migrations"
system_prompt = "You review migrations in {cwd}."
provider = "scripted"
model = "small"
allowed_tools = ["read_file", "grep"]
disallowed_tools = ["list_files"]
context_files = ["docs/db.md"]
max_turns = 5
permission_mode = "accept-edits"

[[rules]]
tool = "read_file"
action = "deny"
match = { path = "secrets/**" }
""",
    )
    profile = load_profiles(settings, None)["migrations"]
    assert profile.description == "Reviews database migrations"
    assert profile.system_prompt == "You review migrations in {cwd}."
    assert (profile.provider, profile.model) == ("scripted", "small")
    assert profile.allowed_tools == ("read_file", "grep")
    assert profile.disallowed_tools == ("list_files",)
    assert profile.context_files == ("docs/db.md",)
    assert profile.max_turns == 5
    assert profile.permission_mode == "accept-edits"
    assert profile.rules == (
        {"tool": "read_file", "action": "deny", "match": {"path": "secrets/**"}},
    )
    assert profile.source == str(path)


def test_markdown_profile_takes_fields_from_front_matter_and_prompt_from_body(
    settings: Settings, user_dir: Path
) -> None:
    write(
        user_dir / "explainer.md",
        """---
description: Explains code
allowed-tools: read_file, grep
max_turns: 3
rules:
  - tool: grep
    action: ask
---

You explain code.

Use {braces} freely.
""",
    )
    profile = load_profiles(settings, None)["explainer"]
    assert profile.description == "Explains code"
    assert profile.allowed_tools == ("read_file", "grep")
    assert profile.max_turns == 3
    assert profile.rules == ({"tool": "grep", "action": "ask"},)
    assert profile.system_prompt == "You explain code.\n\nUse {braces} freely."


def test_markdown_without_front_matter_is_all_prompt_and_empty_body_keeps_base_prompt(
    settings: Settings, user_dir: Path
) -> None:
    write(user_dir / "plain.md", "Just be brief.\n")
    write(user_dir / "named.md", "---\nname: other-name\ndescription: no body\n---\n")
    profiles = load_profiles(settings, None)
    assert profiles["plain"].system_prompt == "Just be brief."
    assert profiles["plain"].allowed_tools is None
    assert profiles["other-name"].system_prompt == BASE_PROMPT
    assert "named" not in profiles


def test_project_profiles_load_only_for_sessions_in_that_project(
    settings: Settings, project: Path
) -> None:
    write(project / ".parley" / "profiles" / "local.toml", 'description = "project one"\n')
    assert "local" in load_profiles(settings, project)
    assert "local" not in load_profiles(settings, None)
    assert "local" not in load_profiles(settings, project.parent)


def test_project_overrides_user_which_overrides_builtin(
    settings: Settings, user_dir: Path, project: Path
) -> None:
    write(user_dir / "default.toml", 'description = "my default"\n')
    write(user_dir / "reviewer.md", "---\ndescription: user reviewer\n---\nUser.\n")
    project_file = write(
        project / ".parley" / "profiles" / "reviewer.toml", 'description = "project reviewer"\n'
    )
    profiles = load_profiles(settings, project)
    assert profiles["default"].description == "my default"
    assert profiles["reviewer"].description == "project reviewer"
    assert profiles["reviewer"].source == str(project_file)
    assert profiles["code-reviewer"] == BUILTIN_PROFILES["code-reviewer"]


def test_other_files_in_profile_directories_are_ignored(settings: Settings, user_dir: Path) -> None:
    write(user_dir / "notes.txt", "not a profile")
    write(user_dir / ".hidden.toml", "not = [valid")
    (user_dir / "folder.toml").mkdir()
    assert list(load_profiles(settings, None)) == list(BUILTIN_PROFILES)


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ('colour = "red"\n', "colour", "unknown field; known fields: name, description"),
        ('max_turns = "ten"\n', "max_turns", "must be a positive integer, got 'ten'"),
        ("max_turns = 0\n", "max_turns", "must be a positive integer, got 0"),
        ("description = 3\n", "description", "must be a string, got 3"),
        ('permission_mode = "yolo"\n', "permission_mode", "must be one of ask, accept-edits"),
        ('provider = "skynet"\n', "provider", "unknown provider 'skynet'; known: anthropic"),
        (
            'allowed_tools = ["read_file", "raed_file"]\n',
            "allowed_tools[1]",
            "unknown tool 'raed_file'; known tools: read_file",
        ),
        ("disallowed_tools = [1]\n", "disallowed_tools", "must be a list of strings, got [1]"),
        (
            'context_files = ["/etc/passwd"]\n',
            "context_files[0]",
            "'/etc/passwd' must be a path relative to the project",
        ),
        ('rules = "none"\n', "rules", "must be a list of {tool, action, match} tables"),
        (
            '[[rules]]\ntool = "bash"\naction = "perhaps"\n',
            "rules[0]",
            "action must be one of allow, deny, ask",
        ),
        ('system_prompt = "  "\n', "system_prompt", "is empty"),
        ('name = "has space"\n', "name", "'has space' is not a valid profile name"),
    ],
)
def test_a_bad_toml_profile_names_the_file_and_field(
    settings: Settings, user_dir: Path, text: str, field: str, problem: str
) -> None:
    path = write(user_dir / "bad.toml", text)
    assert load_error(settings).startswith(f"{path}: {field}: {problem}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\nmax_turns: ten\n---\nBody\n", "max_turns: must be a positive integer, got 'ten'"),
        ("---\ndescription: [unclosed\n---\n", "front matter: not valid YAML (line 3)"),
        ("---\ndescription: x\nBody without end\n", "front matter: no closing '---' line"),
        ("---\n- a\n- b\n---\n", "front matter: must be 'field: value' lines"),
        (
            "---\nsystem_prompt: hi\n---\n",
            "system_prompt: in a Markdown profile the text after the front matter",
        ),
    ],
)
def test_a_bad_markdown_profile_names_the_file_and_field(
    settings: Settings, user_dir: Path, text: str, message: str
) -> None:
    path = write(user_dir / "bad.md", text)
    assert load_error(settings).startswith(f"{path}: {message}")


def test_invalid_toml_names_the_file(settings: Settings, user_dir: Path) -> None:
    path = write(user_dir / "broken.toml", "description = \n")
    assert load_error(settings).startswith(f"{path}: not valid TOML:")


def test_two_files_defining_one_name_in_one_directory_is_an_error(
    settings: Settings, user_dir: Path
) -> None:
    first = write(user_dir / "twin.md", "Prompt.\n")
    second = write(user_dir / "twin.toml", 'description = "again"\n')
    assert load_error(settings) == (f"{second}: name: profile 'twin' is already defined in {first}")


def test_a_bad_project_profile_names_the_project_file(settings: Settings, project: Path) -> None:
    path = write(project / ".parley" / "profiles" / "p.toml", "max_turns = -1\n")
    assert load_error(settings, project).startswith(f"{path}: max_turns:")


def test_a_project_profile_may_not_loosen_permissions(settings: Settings, project: Path) -> None:
    folder = project / ".parley" / "profiles"
    path = write(folder / "loose.toml", 'permission_mode = "allow"\n')
    assert load_error(settings, project) == (
        f"{path}: permission_mode: must be one of ask, deny in a project profile"
    )
    path.unlink()
    path = write(folder / "rules.toml", '[[rules]]\ntool = "bash"\naction = "allow"\n')
    assert load_error(settings, project).startswith(
        f"{path}: rules[0].action: a project profile may only ask or deny"
    )
    path.write_text('permission_mode = "deny"\n[[rules]]\ntool = "grep"\naction = "ask"\n')
    assert load_profiles(settings, project)["rules"].permission_mode == "deny"


def test_the_same_settings_in_a_user_profile_are_allowed(
    settings: Settings, user_dir: Path
) -> None:
    write(
        user_dir / "loose.toml",
        'permission_mode = "allow"\n[[rules]]\ntool = "*"\naction = "allow"\n',
    )
    assert load_profiles(settings, None)["loose"].permission_mode == "allow"


def test_profile_info_shows_every_field(settings: Settings, user_dir: Path) -> None:
    path = write(
        user_dir / "x.toml",
        'description = "d"\nallowed_tools = ["grep"]\ncontext_files = ["a.md"]\n'
        'permission_mode = "ask"\n[[rules]]\ntool = "grep"\naction = "ask"\n',
    )
    info = profile_info(load_profiles(settings, None)["x"])
    assert info.name == "x"
    assert info.source == str(path)
    assert info.allowed_tools == ["grep"]
    assert info.context_files == ["a.md"]
    assert info.rules == [{"tool": "grep", "action": "ask"}]
    assert info.system_prompt == BASE_PROMPT
    assert profile_info(BUILTIN_PROFILES["default"]).allowed_tools is None
