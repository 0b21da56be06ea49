"""`parley sessions list|show|export|delete|prune` over a store holding real sessions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from parley.cli.main import build_parser
from parley.cli.sessions_cmd import EXPORT_FORMAT, sessions
from parley.config import Settings, load_settings
from parley.engine.service import Service
from parley.protocol import types as wire
from parley.store.memory import MemoryStore
from tests.engine_turns import submit

Capture = pytest.CaptureFixture[str]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            {
                "responses": [
                    [{"type": "tool_call", "name": "read_file", "input": {"path": "notes.md"}}],
                    [{"type": "text", "text": "The notes say hi."}],
                ]
            }
        )
    )
    return load_settings(
        env={
            "PARLEY_CONFIG_DIR": str(tmp_path / "config"),
            "PARLEY_CONFIG": str(tmp_path / "config" / "config.toml"),
            "PARLEY_PROVIDER": "scripted",
            "PARLEY_SCRIPT": str(script),
        }
    )


@pytest.fixture
async def store(settings: Settings, tmp_path: Path) -> MemoryStore:
    """Two sessions in two directories; the first ran one turn with a tool call."""
    store = MemoryStore()
    service = Service(settings, store)
    for name in ("alpha", "beta"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "notes.md").write_text("hi\n")
        service.create_session(
            wire.SessionCreateParams(
                session_id=name, cwd=str(tmp_path / name), title=f"{name} work", tags=[name, "all"]
            )
        )
    await submit(service, "alpha", "What do the notes say?")
    await service.shutdown()
    return store


def cli(settings: Settings, store: MemoryStore, *argv: str) -> int:
    args = build_parser().parse_args(["sessions", *argv])
    return sessions(args, settings, store)


def test_list_shows_sessions_newest_first_and_filters_by_tag_and_cwd(
    settings: Settings, store: MemoryStore, tmp_path: Path, capsys: Capture
) -> None:
    assert cli(settings, store, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "UPDATED", "TURNS", "PROFILE", "MODEL", "TITLE"]
    assert [line.split()[0] for line in lines[1:]] == ["beta", "alpha"]
    script = tmp_path / "script.json"  # a scripted session's model is its script
    assert lines[2].split()[3:] == ["1", "default", f"scripted/{script}", "alpha", "work"]

    assert cli(settings, store, "list", "--tag", "alpha", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["sessionId"] for s in listed["sessions"]] == ["alpha"]

    assert cli(settings, store, "list", "--cwd", str(tmp_path / "beta"), "--json") == 0
    assert [s["sessionId"] for s in json.loads(capsys.readouterr().out)["sessions"]] == ["beta"]


def test_show_prints_info_and_the_conversation(
    settings: Settings, store: MemoryStore, capsys: Capture
) -> None:
    assert cli(settings, store, "show", "alpha") == 0
    out = capsys.readouterr().out
    assert "session  alpha  (alpha work)" in out
    assert "[user] What do the notes say?" in out
    assert '[assistant -> read_file] {"path": "notes.md"}' in out
    assert "[tool] 1\thi" in out
    assert "[assistant] The notes say hi." in out

    assert cli(settings, store, "show", "alpha", "--json") == 0
    detail = json.loads(capsys.readouterr().out)
    assert detail["sessionId"] == "alpha"
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]


def test_export_writes_info_messages_and_every_event(
    settings: Settings, store: MemoryStore, tmp_path: Path, capsys: Capture
) -> None:
    target = tmp_path / "alpha.json"
    assert cli(settings, store, "export", "alpha", "-o", str(target)) == 0
    assert capsys.readouterr().err == f"exported alpha to {target}\n"
    exported: dict[str, Any] = json.loads(target.read_text())
    assert (exported["format"], exported["version"]) == (EXPORT_FORMAT, 1)
    assert exported["session"]["sessionId"] == "alpha"
    assert "messages" not in exported["session"]
    assert len(exported["messages"]) == 4
    assert exported["messages"][0]["content"] == [
        {"type": "text", "text": "What do the notes say?"}
    ]
    seqs = [e["seq"] for e in exported["events"]]
    assert seqs == list(range(1, exported["session"]["lastSeq"] + 1))
    methods = [e["method"] for e in exported["events"]]
    assert {"tool/started", "tool/completed", "result/final"} <= set(methods)

    assert cli(settings, store, "export", "alpha") == 0
    assert json.loads(capsys.readouterr().out) == exported


def test_delete_removes_the_session_and_an_unknown_id_exits_1(
    settings: Settings, store: MemoryStore, capsys: Capture
) -> None:
    assert cli(settings, store, "delete", "beta") == 0
    assert store.load_session("beta") is None
    capsys.readouterr()
    assert cli(settings, store, "delete", "beta") == 1
    assert capsys.readouterr().err == "parley: no session 'beta'\n"
    assert cli(settings, store, "show", "nope") == 1


def test_prune_deletes_only_sessions_unused_for_longer_and_dry_run_deletes_none(
    settings: Settings, store: MemoryStore, capsys: Capture
) -> None:
    old = store.load_session("beta")
    assert old is not None
    old.updated_at = (dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).isoformat()
    store.save_session(old)

    assert cli(settings, store, "prune", "--older-than", "30", "--dry-run") == 0
    out = capsys.readouterr()
    assert out.out.startswith("would delete beta (last used ")
    assert out.err == "1 sessions would be deleted\n"
    assert store.load_session("beta") is not None

    assert cli(settings, store, "prune", "--older-than", "30") == 0
    assert capsys.readouterr().out.startswith("deleted beta")
    assert store.load_session("beta") is None
    assert store.load_session("alpha") is not None
