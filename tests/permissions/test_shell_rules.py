"""Deny rules on commands see through shell constructs, and fail closed on what they cannot
read; globs translate bracket classes literally; unreadable patterns are refused on load."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parley.core.globs import GlobError, compile_glob, glob_match
from parley.engine.rules import RuleError, first_match, parse_rules
from parley.engine.shell_commands import deny_candidates, simple_commands

RM_DENIED = {"tool": "bash", "match": {"command": "rm *"}, "action": "deny"}
EVERYTHING_ELSE = {"tool": "bash", "action": "allow"}
GIT_ALLOWED = {"tool": "bash", "match": {"command": "git *"}, "action": "allow"}


def decide(raw_rules: list[dict[str, Any]], command: str, cwd: Path) -> str | None:
    rule = first_match(parse_rules(raw_rules, "config.toml"), "bash", {"command": command}, cwd)
    return rule.action if rule else None


@pytest.mark.parametrize(
    "command",
    [
        "if true; then rm -rf x; fi",
        "if false; then :; else rm -rf x; fi",
        "while true; do rm -rf x; done",
        "for f in a b; do rm -rf $f; done",
        "{ rm x; }",
        "! rm x",
        "time rm x",
        "sudo rm -rf /",
        "sudo -u root rm x",
        "doas rm x",
        "xargs rm < files.txt",
        "find . -name '*.tmp' | xargs -0 rm -f",
        "find . -name '*.tmp' -exec rm {} \\;",
        "env -i FOO=1 rm x",
        "timeout 5 rm x",
        "nohup rm x &",
        "nice -n 10 rm x",
        "bash -c 'rm -rf x'",
        'sh -lc "rm -rf x"',
        "eval 'rm -rf x'",
        "/bin/rm x",
        "\\rm x",
        "r''m x",
        '"rm" x',
        "ls 2>&1 | rm x",
        "cat <(rm x)",
        "echo `rm x`",
        "f() { rm x; }; f",
        "[[ -d x ]] && rm -rf x",
        "cat <<EOF\n$(rm x)\nEOF",
        "true &&\\\nrm x",
    ],
)
def test_deny_rules_see_commands_inside_shell_constructs(tmp_path: Path, command: str) -> None:
    assert decide([RM_DENIED, EVERYTHING_ELSE], command, tmp_path) == "deny"


@pytest.mark.parametrize(
    "command",
    [
        "$CMD x",
        "${CMD} x",
        "$(echo rm) x",
        "echo 'unbalanced",
        "case $x in a) rm x;; esac",
        "((i++))",
        'sh -c "$SCRIPT"',
        'eval "$LINE"',
        "x=$(( $(echo 1) + 1 ))",
    ],
)
def test_deny_rules_fail_closed_on_what_they_cannot_read(tmp_path: Path, command: str) -> None:
    assert deny_candidates(command) is None
    assert decide([RM_DENIED, EVERYTHING_ELSE], command, tmp_path) == "deny"
    # ...and an allow rule never matches such a line.
    assert decide([GIT_ALLOWED], command, tmp_path) is None


@pytest.mark.parametrize(
    "command",
    [
        "ls -la",
        "echo rm -rf",
        "grep -r 'rm -rf' .",
        "git commit -m 'rm the old files'",
        "echo a # ; rm x",
        "cat <<'EOF'\n$(rm x)\nEOF",
        'echo "a; rm x"',
        "npm run format",
    ],
)
def test_deny_rules_leave_commands_that_only_mention_rm_alone(tmp_path: Path, command: str) -> None:
    assert decide([RM_DENIED], command, tmp_path) is None


def test_a_redirection_of_a_descriptor_is_not_a_command_word() -> None:
    assert simple_commands("cmd 2>&1") == ["cmd"]
    assert simple_commands("make 2>&1 | tee") == ["make", "tee"]
    assert deny_candidates("cmd 2>&1") == ["cmd 2>&1", "cmd"]
    assert simple_commands("cmd 2>err.log") is None  # a write no path rule would see


def test_allow_rules_do_not_let_eval_or_sh_c_or_find_exec_run_other_commands(
    tmp_path: Path,
) -> None:
    find_allowed = [{"tool": "bash", "match": {"command": "find *"}, "action": "allow"}]

    assert decide(find_allowed, "find . -name '*.py'", tmp_path) == "allow"
    assert decide(find_allowed, "find . -exec rm {} \\;", tmp_path) is None
    assert decide([GIT_ALLOWED], "git status && eval 'rm x'", tmp_path) is None


# Glob bracket classes: members are literal characters, never regex syntax.


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("[a-z\\d]", "5", False),
        ("[a-z\\d]", "d", True),
        ("[a-z\\d]", "\\", True),
        ("[a-z\\d]", "q", True),
        ("file[.]txt", "file.txt", True),
        ("file[.]txt", "fileXtxt", False),
        ("[]]", "]", True),
        ("[!]]", "]", False),
        ("[^a]", "b", True),
        ("[a-]", "-", True),
        ("[[]", "[", True),
        ("x[\\w]", "xa", False),
    ],
)
def test_bracket_classes_are_translated_literally(pattern: str, value: str, matches: bool) -> None:
    assert glob_match(pattern, value, path=False) is matches


def test_a_path_glob_class_never_matches_a_slash() -> None:
    assert not glob_match("a[!x]b", "a/b")
    assert glob_match("a[!x]b", "a/b", path=False)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"tool": "bash", "match": {"command": "rm [abc"}, "action": "deny"},
            "rules[0]: match.command 'rm [abc' is not a valid glob: '[' at position 4 is never "
            "closed with ']'",
        ),
        (
            {"tool": "*_file", "match": {"path": "src/[z-a]*"}, "action": "deny"},
            "rules[0]: match.path 'src/[z-a]*' is not a valid glob: range z-a at position 6 is "
            "reversed",
        ),
        (
            {"tool": "bash[", "action": "deny"},
            "rules[0]: tool 'bash[' is not a valid glob: '[' at position 5 is never closed "
            "with ']'",
        ),
    ],
)
def test_malformed_patterns_are_refused_when_rules_are_loaded(
    rule: dict[str, Any], message: str
) -> None:
    with pytest.raises(RuleError) as failure:
        parse_rules([rule], "config.toml")

    assert str(failure.value) == f"config.toml: {message}"


def test_a_config_file_with_a_malformed_pattern_stops_parley_with_a_clear_error(
    tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[rules]]\ntool = "bash"\nmatch = { command = "rm [" }\naction = "deny"\n')

    done = subprocess.run(
        [sys.executable, "-m", "parley", "config", "show", "--config", str(config)],
        capture_output=True,
        text=True,
        env=isolated_env,
        timeout=30,
    )

    assert done.returncode == 2
    assert "is not a valid glob" in done.stderr
    assert "Traceback" not in done.stderr


# Properties.

_RM = st.sampled_from(["rm", "'rm'", '"rm"', "\\rm", "r''m", "/bin/rm", "command rm"])
# What may stand before a simple command: wrappers and assignments.
_PREFIX = st.sampled_from(["sudo ", "xargs ", "timeout 5 ", "env A=1 ", "X=1 ", "nohup ", "time "])
# What may stand around a command line.
_WRAP = st.sampled_from(
    [
        "if true; then {}; fi",
        "{{ {}; }}",
        "({})",
        "ls && {}",
        "ls || {}",
        "ls | {}",
        "{} 2>&1",
        "{} >/dev/null",
        "while true; do {}; done",
        "for i in 1 2; do {}; done",
        "echo $( {} )",
        "echo `{}`",
        "bash -c '{}'",
        "eval '{}'",
        "! {}",
        "{} &",
        "cat <(\n{}\n)",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    rm=_RM,
    prefixes=st.lists(_PREFIX, max_size=3),
    wraps=st.lists(_WRAP, min_size=1, max_size=4),
)
def test_rm_wrapped_in_any_construct_is_denied(
    rm: str, prefixes: list[str], wraps: list[str]
) -> None:
    command = "".join(prefixes) + f"{rm} -rf target"
    for wrap in wraps:
        if any(q in wrap and q in command for q in "'`"):
            continue  # single quotes and backquotes do not nest
        command = (
            wrap.replace("{{", "{").replace("}}", "}").replace("{}", command, 1)
            if (wrap != "{{ {}; }}")
            else f"{{ {command}; }}"
        )
    assert decide([RM_DENIED, EVERYTHING_ELSE], command, Path("/tmp")) == "deny", command


@settings(max_examples=500, deadline=None)
@given(line=st.text(alphabet=st.sampled_from(list("ab rm;&|()<>'\"`$\\{}#\n=-*!2")), max_size=40))
def test_any_line_is_read_or_declared_opaque_never_crashes(line: str) -> None:
    allowed = simple_commands(line)
    denied = deny_candidates(line)
    assert allowed is None or all(isinstance(c, str) for c in allowed)
    assert denied is None or line in denied


@settings(max_examples=500, deadline=None)
@given(
    pattern=st.text(alphabet=st.sampled_from(list("ab-]*?![\\^.")), max_size=8),
    value=st.text(alphabet=st.sampled_from(list("ab-]\\^.c")), max_size=6),
)
@example(pattern="[^?]?", value="\\\\")  # "^" negates, as "!" does
def test_command_globs_agree_with_fnmatch(pattern: str, value: str) -> None:
    try:
        compile_glob(pattern, path=False)
    except GlobError:
        return  # fnmatch reads an unclosed "[" literally; rules refuse it instead
    expected = fnmatch.fnmatchcase(value, _as_fnmatch(pattern))
    assert glob_match(pattern, value, path=False) == expected, pattern


def _as_fnmatch(pattern: str) -> str:
    """The same pattern for fnmatch, which negates a class with "!" only: rules also take "^"
    (docs/permissions.md), where fnmatch would read it as a member."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] != "[":
            out.append(pattern[i])
            i += 1
            continue
        end = i + 1
        if end < len(pattern) and pattern[end] in "!^":
            end += 1
        end += 1  # a "]" first in the class is a member
        end = pattern.index("]", end) + 1  # compile_glob accepted it: the class is closed
        body = pattern[i + 1 : end]
        out.append("[" + ("!" + body[1:] if body.startswith("^") else body))
        i = end
    return "".join(out)


def test_rules_from_a_toml_file_deny_a_hidden_rm_over_a_real_server(
    tmp_path: Path, isolated_env: dict[str, str], workspace: Path
) -> None:
    """`parley run -y` with a deny rule: the hidden rm is refused and the file survives."""
    (workspace / "keep.txt").write_text("keep\n")
    config = tmp_path / "config.toml"
    config.write_text('[[rules]]\ntool = "bash"\nmatch = { command = "rm *" }\naction = "deny"\n')
    script = tmp_path / "script.json"
    call = {"command": "if true; then rm -f keep.txt; fi"}
    script.write_text(
        json.dumps(
            {
                "responses": [
                    [{"type": "tool_call", "id": "c1", "name": "bash", "input": call}],
                    [{"type": "text", "text": "done"}],
                ]
            }
        )
    )

    done = subprocess.run(
        [sys.executable, "-m", "parley", "run", "-y", "--ephemeral", "--config", str(config),
         "--provider", "scripted", "--script", str(script), "--cwd", str(workspace),
         "--output", "json", "go"],
        capture_output=True,
        text=True,
        env=isolated_env,
        timeout=60,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert (workspace / "keep.txt").read_text() == "keep\n"
