"""profile/list and profile/get as a host sees them, over the real stdio server."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.client import ParleyRpcError


async def test_profile_list_and_get_show_user_and_project_profiles_and_name_bad_files(
    spawn, isolated_env: dict[str, str], workspace: Path
) -> None:
    user = Path(isolated_env["PARLEY_CONFIG_DIR"]) / "profiles"
    user.mkdir(parents=True)
    (user / "mine.toml").write_text('description = "my own"\n')
    project = workspace / ".parley" / "profiles"
    project.mkdir(parents=True)
    (project / "local.md").write_text(
        "---\ndescription: the project's\nallowed_tools: [grep]\n---\nSearch only.\n"
    )
    agent = await spawn()

    listed = {p.name: p for p in await agent.list_profiles(cwd=str(workspace))}
    assert list(listed) == [
        "default",
        "code-reviewer",
        "test-writer",
        "documentation-writer",
        "mine",
        "local",
    ]
    assert listed["mine"].source == str(user / "mine.toml")
    local = await agent.get_profile("local", cwd=str(workspace))
    assert (local.description, local.system_prompt) == ("the project's", "Search only.")
    assert local.allowed_tools == ["grep"]
    assert local.source == str(project / "local.md")
    assert "local" not in [p.name for p in await agent.list_profiles(cwd=str(workspace.parent))]

    with pytest.raises(ParleyRpcError) as missing:
        await agent.get_profile("nope", cwd=str(workspace))
    assert missing.value.code == "profile_not_found"

    (project / "broken.toml").write_text("max_turns = 0\n")
    with pytest.raises(ParleyRpcError) as bad:
        await agent.list_profiles(cwd=str(workspace))
    assert bad.value.code == "config_invalid"
    assert bad.value.message == (
        f"{project / 'broken.toml'}: max_turns: must be a positive integer, got 0"
    )
