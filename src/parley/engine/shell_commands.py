"""Seeing the commands inside a shell command line, for permission rules on `bash`.

`git status && rm -rf ~` must not pass as "a git command". Allow rules therefore look at every
simple command of a line (and refuse lines they cannot see into); deny and ask rules look at
every stretch of the line that might be a command. Neither is a sandbox: the layer's real
guarantee is that a command nothing allows is asked about or denied.
"""

from __future__ import annotations

import re
import shlex

_PUNCTUATION = ";&|()<>\n"
_REDIRECTION = frozenset("<>&|")
# Command or process substitution: commands hidden inside a word.
_HIDDEN = ("$(", "`", "<(", ">(")
_ASSIGNMENTS = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+")
_LOOSE_SPLIT = re.compile(r"[;&|\n()`<>]|\$\(")


def simple_commands(line: str) -> list[str] | None:
    """The simple commands of `line`, each as its words joined by single spaces:
    `git add -A && git commit -m "x y" 2>&1` gives ["git add -A", "git commit -m x y"].

    None when the line cannot be seen into: unbalanced quotes, command or process
    substitution, or output redirected to a file (a write no path rule would see).
    """
    if any(marker in line for marker in _HIDDEN):
        return None
    lexer = shlex.shlex(line, posix=True, punctuation_chars=_PUNCTUATION)
    lexer.whitespace = " \t\r"  # a newline separates commands, so it is punctuation
    lexer.whitespace_split = True
    lexer.commenters = ""  # `#` mid-line must not hide the rest of the line
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    commands: list[str] = []
    words: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not all(c in _PUNCTUATION for c in token):
            words.append(token)
        elif "<" in token or ">" in token:
            if not set(token) <= _REDIRECTION:
                return None  # an odd mix such as `;>`: do not guess
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            if ">" in token and not _harmless_target(token, target):
                return None
            i += 1  # skip the target too
        elif words:  # a control operator ends a simple command
            commands.append(" ".join(words))
            words = []
        i += 1
    if words:
        commands.append(" ".join(words))
    return commands


def _harmless_target(operator: str, target: str) -> bool:
    """Output sent nowhere, or to another descriptor (`2>&1`, `>&-`)."""
    return target == "/dev/null" or (operator.endswith("&") and (target.isdigit() or target == "-"))


def command_pieces(line: str) -> list[str]:
    """Every stretch of `line` between shell control characters, with leading variable
    assignments dropped and, where it parses, quotes removed: generous on purpose, because a
    deny rule should rather match too much than too little."""
    pieces: list[str] = []
    for raw in _LOOSE_SPLIT.split(line):
        piece = _ASSIGNMENTS.sub("", raw.strip())
        if not piece:
            continue
        pieces.append(piece)
        try:
            unquoted = " ".join(shlex.split(piece))
        except ValueError:
            continue
        if unquoted != piece:
            pieces.append(unquoted)
    return pieces
