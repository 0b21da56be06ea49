"""The example hosts in examples/ run against the scripted provider, and docs/hosts.md shows
them as they are."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PARLEY_HOME": str(tmp_path / "home"),
        "PARLEY_CONFIG_DIR": str(tmp_path / "config"),
        "PARLEY_CONFIG": str(tmp_path / "config" / "config.toml"),
    }


def test_python_host_example_runs_a_whole_turn(env: dict[str, str]) -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "host.py")],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert re.search(r"^connected to parley ", out, re.M)
    assert re.search(r"^\[thinking\] The user wants to know what this folder is", out, re.M)
    assert re.search(r"^\[tool\] read_file \{'path': 'README.md', 'limit': 5\}$", out, re.M)
    assert re.search(r"^\[tool\] read_file done$", out, re.M)
    assert "read README.md with the read_file tool" in out
    assert re.search(r"^\[done\] end_turn, \d+ output tokens$", out, re.M)


def _code_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```$", markdown, re.M | re.S)


@pytest.mark.parametrize(
    ("example", "imports"),
    [
        ("host.py", {}),
        ("host.mjs", {'"../clients/typescript/dist/index.js"': '"parley-agent-client"'}),
    ],
)
def test_hosts_doc_shows_each_example_host_whole(example: str, imports: dict[str, str]) -> None:
    code = (EXAMPLES / example).read_text(encoding="utf-8")
    for local, published in imports.items():
        code = code.replace(local, published)
    blocks = _code_blocks((ROOT / "docs" / "hosts.md").read_text(encoding="utf-8"))
    assert code in blocks, f"docs/hosts.md should show examples/{example} as it is"
