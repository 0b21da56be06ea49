"""The Python package as a user installs it: distribution `parley-agent-server`, the `parley`
command and import, typed (py.typed), with the schemas inside and every import declared.

The wheel is built here with the dev install's hatchling (no network), installed without its
dependencies into a fresh virtual environment that borrows this one's site-packages for them,
and run from there: what `pipx install parley-agent-server` / `uv tool install` give, less the
downloads.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "parley"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
DISTRIBUTION = "parley-agent-server"


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _imported_top_level_modules() -> set[str]:
    """Every top-level module the package imports, at the top of a file or inside a function."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.partition(".")[0])
    return found - set(sys.stdlib_module_names) - {"parley"}


def test_the_distribution_is_named_so_it_does_not_collide_with_pypi_parley() -> None:
    assert PROJECT["name"] == DISTRIBUTION
    assert PROJECT["scripts"] == {"parley": "parley.cli.main:main"}


def test_every_imported_package_is_a_declared_dependency() -> None:
    declared = {_name(r) for r in PROJECT["dependencies"]}
    providers = importlib.metadata.packages_distributions()
    missing = {}
    for module in sorted(_imported_top_level_modules()):
        dists = {_name(d) for d in providers.get(module, [module])}
        if not dists & declared:
            missing[module] = sorted(dists)
    assert missing == {}, "imported but not in [project] dependencies"


def test_docs_name_the_distribution_not_pypi_parley() -> None:
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        wrong = re.findall(r"(?:pip|pipx|uv tool|uv pip) install (?:-U )?parley\b(?!-)", text)
        assert wrong == [], f"{doc.name} installs PyPI's unrelated `parley`"
    assert f"pipx install {DISTRIBUTION}" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_ships_typing_marker_schemas_and_license(wheel: Path) -> None:
    assert wheel.name.startswith("parley_agent_server-")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "parley/py.typed" in names
    assert "parley/_schemas/v1-index.json" in names
    assert "parley/_schemas/v1/definitions.json" in names
    assert "parley/doors/acp/schema/schema.json" in names  # `parley acp` checks params with it
    assert not [n for n in names if "examples" in n], "examples are not shipped"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Name: parley-agent-server" in text
    requires = {
        _name(line.split(":", 1)[1].strip())
        for line in text.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    assert requires == {_name(r) for r in PROJECT["dependencies"]}


def test_the_installed_wheel_gives_a_working_parley_command(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies come from this environment; parley itself only from the wheel.
    Path(site, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    parley = env_dir / "bin" / "parley"
    done = subprocess.run(
        [str(parley), "version", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["protocolVersion"] == 1
    probe = (
        "import importlib.metadata, importlib.resources, parley, parley.client as c\n"
        f"assert parley.__file__.startswith({site!r}), parley.__file__\n"
        "assert importlib.resources.files('parley').joinpath('py.typed').is_file()\n"
        "assert importlib.resources.files('parley').joinpath("
        "'_schemas/v1/error-codes.json').is_file()\n"
        "print(importlib.metadata.version('parley-agent-server'), c.ApprovalRequestParams)\n"
    )
    done = subprocess.run(
        [str(python), "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ApprovalRequestParams" in done.stdout


def test_a_host_finds_what_it_needs_in_parley_client() -> None:
    import parley.client as client
    from parley.protocol import methods

    for name in (
        "ApprovalRequestParams",
        "ParleyClient",
        "Notification",
        "SessionInfo",
        "TurnResult",
        "Event",
        "ErrorCode",
        "ContentBlock",
    ):
        assert name in client.__all__, name
    for event in methods.NOTIFICATIONS:
        assert getattr(client, event.params.__name__) is event.params
    assert set(client.__all__) == {n for n in dir(client) if not n.startswith("_")} - {
        "agent",
        "connection",
        "errors",
        "http",
        "sse",
    }
