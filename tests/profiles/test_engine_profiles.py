"""The engine resolves a session's profile from built-ins, user files and the session's project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parley.config import ConfigError, Settings, load_settings
from parley.core.errors import ErrorCode, ParleyError
from parley.engine.service import Service
from parley.engine.session import Session
from parley.protocol import types as wire
from parley.store.memory import MemoryStore


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [[{"type": "text", "text": "ok"}]]}))
    env = {
        "PARLEY_CONFIG_DIR": str(tmp_path / "config"),
        "PARLEY_CONFIG": str(tmp_path / "config" / "config.toml"),
        "PARLEY_SCRIPT": str(script),
        "PARLEY_PROVIDER": "scripted",
    }
    return load_settings(env=env)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    (path / ".parley" / "profiles").mkdir(parents=True)
    (path / ".parley" / "profiles" / "local.md").write_text(
        "---\ndescription: the project's own\nmax_turns: 2\n---\nProject prompt.\n"
    )
    return path.resolve()


def create(service: Service, params: wire.SessionCreateParams) -> Session:
    """Create a session and give the live session the service keeps loaded for it."""
    return service._session(service.create_session(params).session_id)


def test_a_session_in_a_project_can_use_its_profiles(settings: Settings, project: Path) -> None:
    store = MemoryStore()
    service = Service(settings, store)
    info = service.create_session(wire.SessionCreateParams(cwd=str(project), profile="local"))
    assert info.profile == "local"
    session = service._session(info.session_id)
    assert session.profile.description == "the project's own"
    assert session.record.profile == "local"
    assert "local" in [p.name for p in service.profiles(str(project))]
    assert "local" not in [p.name for p in service.profiles(str(project.parent))]

    # A fresh service (a restarted server) loads the stored session with the same profile.
    again = Service(settings, store)._session(session.id)
    assert again.profile == session.profile


def test_an_unknown_profile_lists_what_is_available_there(
    settings: Settings, project: Path
) -> None:
    service = Service(settings, MemoryStore())
    with pytest.raises(ParleyError) as info:
        service.create_session(wire.SessionCreateParams(cwd=str(project), profile="nope"))
    assert info.value.code == ErrorCode.PROFILE_NOT_FOUND
    assert info.value.message == (
        "no profile named 'nope'; available: default, code-reviewer, test-writer, "
        "documentation-writer, local"
    )


def test_a_bad_project_profile_fails_session_create_naming_the_file(
    settings: Settings, project: Path
) -> None:
    bad = project / ".parley" / "profiles" / "bad.toml"
    bad.write_text("max_turns = 'many'\n")
    service = Service(settings, MemoryStore())
    with pytest.raises(ConfigError) as info:
        service.create_session(wire.SessionCreateParams(cwd=str(project)))
    assert info.value.code == ErrorCode.CONFIG_INVALID
    assert info.value.message == f"{bad}: max_turns: must be a positive integer, got 'many'"


def test_the_session_sends_its_profile_prompt_with_context_files(
    settings: Settings, project: Path
) -> None:
    (project / ".parley" / "profiles" / "docs.toml").write_text(
        'system_prompt = "Work in {cwd}."\ncontext_files = ["GUIDE.md"]\n'
    )
    (project / "GUIDE.md").write_text("Be kind.")
    service = Service(settings, MemoryStore())
    session = create(service, wire.SessionCreateParams(cwd=str(project), profile="docs"))
    assert session.system_prompt == (
        f'Work in {project}.\n\n<context_file path="GUIDE.md">\nBe kind.\n</context_file>'
    )


def test_a_missing_context_file_fails_session_create_and_stores_nothing(
    settings: Settings, project: Path
) -> None:
    profile = project / ".parley" / "profiles" / "docs.toml"
    profile.write_text('context_files = ["GUIDE.md"]\n')
    store = MemoryStore()
    with pytest.raises(ConfigError) as info:
        Service(settings, store).create_session(
            wire.SessionCreateParams(session_id="s1", cwd=str(project), profile="docs")
        )
    assert info.value.message == f"{profile}: context_files[0]: GUIDE.md does not exist"
    assert store.load_session("s1") is None


def test_the_max_turns_setting_overrides_the_profile(settings: Settings, project: Path) -> None:
    service = Service(settings, MemoryStore())
    local = wire.SessionCreateParams(cwd=str(project), profile="local")
    assert create(service, local).profile.max_turns == 2
    capped = Service(load_settings(env={**settings.env, "PARLEY_MAX_TURNS": "7"}), MemoryStore())
    assert create(capped, local).profile.max_turns == 7


def test_model_from_flags_or_environment_beats_the_profiles(tmp_path: Path, project: Path) -> None:
    (project / ".parley" / "profiles" / "pinned.toml").write_text('model = "profile-model"\n')
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"responses": []}))
    env = {
        "PARLEY_CONFIG_DIR": str(tmp_path / "c"),
        "PARLEY_SCRIPT": str(script),
        "PARLEY_PROVIDER": "scripted",
    }
    pinned = wire.SessionCreateParams(cwd=str(project), profile="pinned")

    from_profile = Service(load_settings(env=env), MemoryStore()).create_session(pinned)
    from_env = Service(
        load_settings(env={**env, "PARLEY_MODEL": "env-model"}), MemoryStore()
    ).create_session(pinned)
    from_flag = Service(
        load_settings({"model": "flag-model"}, env={**env, "PARLEY_MODEL": "x"}),
        MemoryStore(),
    ).create_session(pinned)

    assert from_profile.model == "profile-model"
    assert from_env.model == "env-model"
    assert from_flag.model == "flag-model"
