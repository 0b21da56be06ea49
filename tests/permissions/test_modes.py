"""Permission modes decide when no rule does: what runs, what is asked, what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.engine.permissions import mode_action
from tests.engine_turns import Host, Turns, call

CALLS = [
    call("read_file", path="README.md"),
    call("write_file", path="new.txt", content="x\n"),
    call("bash", command="echo ran > ran.txt"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    (path / "README.md").write_text("hello\n")
    return path


@pytest.mark.parametrize(
    ("mode", "ran"),
    [
        ("ask", ["read_file"]),
        ("accept-edits", ["read_file", "write_file"]),
        ("allow", ["read_file", "write_file", "bash"]),
        ("deny", ["read_file"]),
    ],
)
async def test_each_mode_without_a_host_to_ask(
    tmp_path: Path, project: Path, mode: str, ran: list[str]
) -> None:
    turns = Turns(tmp_path, project)

    await turns.run(CALLS, mode=mode)

    results = {c["name"]: c for c in turns.completed()}
    assert [name for name, c in results.items() if not c["isError"]] == ran
    for name in {"write_file", "bash"} - set(ran):
        assert results[name]["display"] == {"denied": True, "code": "approval_denied"}
        assert results[name]["output"].startswith("Permission denied: ")
    assert (project / "new.txt").exists() == ("write_file" in ran)
    assert (project / "ran.txt").exists() == ("bash" in ran)


@pytest.mark.parametrize(
    ("mode", "asked"),
    [
        ("ask", ["write_file", "bash"]),
        ("accept-edits", ["bash"]),
        ("allow", []),
        ("deny", []),
    ],
)
async def test_each_mode_with_a_host_asks_only_what_the_mode_leaves_open(
    tmp_path: Path, project: Path, mode: str, asked: list[str]
) -> None:
    turns = Turns(tmp_path, project)
    host = Host("allow_once", "allow_once")

    await turns.run(CALLS, mode=mode, port=host)

    assert [q.tool for q in host.questions] == asked


async def test_without_a_host_the_model_is_told_why_and_how_it_could_be_allowed(
    tmp_path: Path, project: Path
) -> None:
    turns = Turns(tmp_path, project)

    await turns.run([call("bash", command="ls")])

    assert turns.completed()[0]["output"] == (
        "Permission denied: bash needs approval (permission mode 'ask') and there is no one "
        "to ask; it can be allowed by a rule or a permission mode. The tool did not run."
    )


async def test_deny_mode_refusal_names_the_mode(tmp_path: Path, project: Path) -> None:
    turns = Turns(tmp_path, project)

    await turns.run([call("write_file", path="a", content="")], mode="deny")

    assert turns.completed()[0]["output"] == (
        "Permission denied: write_file is not allowed (permission mode 'deny'). "
        "The tool did not run."
    )


async def test_the_default_mode_is_ask(tmp_path: Path, project: Path) -> None:
    turns = Turns(tmp_path, project)
    host = Host("reject_once")

    await turns.run([call("write_file", path="a", content="")], mode=None, port=host)

    assert [q.tool for q in host.questions] == ["write_file"]
    assert turns.service.session_info(host.questions[0].session_id).permission_mode == "ask"


@pytest.mark.parametrize("mode", ["ask", "accept-edits", "allow", "deny"])
def test_reads_are_allowed_in_every_mode(mode: str) -> None:
    assert mode_action(mode, "read") == "allow"
