"""Seeing the commands inside a shell command line, for permission rules on `bash`.

`git status && rm -rf ~` must not pass as "a git command", and `if true; then rm -rf x; fi`
must not hide an `rm` from a deny rule. The line is read the way bash reads it: quotes and
escapes, operators and redirections (`2>&1` is a redirection, not an argument), reserved words
(`if`, `then`, `{`, `!`, `for x in ...; do`), here-documents, and the commands inside command
and process substitutions. What this reader cannot follow makes the line *opaque*: an allow
rule never matches an opaque line, and a deny or ask rule always does (it fails closed).
Neither is a sandbox: the layer's real guarantee is that a command nothing allows is asked
about or denied.
"""

from __future__ import annotations

import re

import attrs

# Commands that run the command named by one of their later arguments.
WRAPPERS = frozenset(
    {
        "busybox", "builtin", "caffeinate", "chroot", "chrt", "command", "doas", "env", "exec",
        "fakeroot", "firejail", "flock", "ionice", "ltrace", "nice", "nohup", "nsenter", "proot",
        "runuser", "script", "setsid", "ssh", "stdbuf", "strace", "sudo", "systemd-run",
        "taskset", "time", "timeout", "unbuffer", "unshare", "watch", "xargs",
    }
)  # fmt: skip
# Commands whose `-c` argument is a command line of its own.
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "su", "runuser", "fish"})
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
# Words that, first in a command, open or continue a compound command: the next word is a
# command again.
_LEADERS = frozenset({"if", "then", "elif", "else", "do", "while", "until", "!", "{", "time"})
_CLOSERS = frozenset({"fi", "done", "}"})
_CONTROL = frozenset({";", "&", "&&", "||", "|", "|&", "\n", "(", ")", ";;", ";&", ";;&"})
_REDIRECTIONS = ("&>>", "<<<", "<<-", "&>", ">>", ">|", ">&", "<&", "<>", "<<", ">", "<")
_OPERATORS = (";;&", "&&", "||", ";;", ";&", "|&", "((", "&", "|", ";", "(", ")", "\n")
_WRITES = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})
_METACHARACTERS = frozenset(" \t\r\n;&|()<>")
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])?")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_MAX_DEPTH = 16
_MAX_WRAPPED_WORDS = 200
# How many of a wrapper's first arguments may be the command it runs.
_WRAPPED_POSITIONS = 3
_SHELL_COMMAND_OPTION = re.compile(r"-[A-Za-z]*c[A-Za-z]*")


class Opaque(Exception):
    """Part of the line cannot be seen into; the message says which."""


@attrs.frozen
class Word:
    text: str  # quotes and escapes removed; expansions kept as written
    literal: bool  # no expansion: `text` is exactly what the shell passes
    quoted: bool = False


@attrs.frozen
class Command:
    words: tuple[str, ...]
    assignments: tuple[str, ...] = ()
    head_literal: bool = True  # the command word is known before the line runs


@attrs.define
class ParsedLine:
    commands: list[Command] = attrs.field(factory=list)
    substitutions: bool = False  # commands hidden inside words: $(...), `...`, <(...)
    writes: bool = False  # output redirected to a file (a write no path rule would see)


def parse(line: str, depth: int = 0) -> ParsedLine:
    """Every simple command of `line`, those inside substitutions included. Raises Opaque."""
    if depth > _MAX_DEPTH:
        raise Opaque("substitutions nested too deep")
    tokens, nested = _Lexer(line).tokens()
    parsed = _Parser(tokens).parse()
    for source in nested:
        inner = parse(source, depth + 1)
        parsed.commands += inner.commands
        parsed.writes |= inner.writes
        parsed.substitutions = True
    return parsed


def simple_commands(line: str) -> list[str] | None:
    """The simple commands of `line`, each as its words joined by single spaces:
    `git add -A && git commit -m "x y" 2>&1` gives ["git add -A", "git commit -m x y"].

    None when the line cannot be seen into, for an allow rule: what the reader cannot follow,
    command or process substitution, or output redirected to a file.
    """
    try:
        parsed = parse(line)
    except Opaque:
        return None
    if parsed.substitutions or parsed.writes:
        return None
    if not all(c.head_literal for c in parsed.commands):
        return None
    out = []
    for command in parsed.commands:
        out.append(" ".join((*command.assignments, *command.words)))
        try:
            for inner in _runs(list(command.words), 0, strict=True):
                out += [" ".join(c) for c in inner]
        except Opaque:
            return None
    return out


def deny_candidates(line: str) -> list[str] | None:
    """Every text a deny or ask rule is matched against: the line itself, and each command on
    it as written, without leading assignments, by its program's base name (`/bin/rm` as `rm`)
    and, for wrappers (`sudo`, `xargs`, `env`, `timeout`, `find -exec`, `sh -c`, `eval`...),
    the command they run. None when the line is opaque: the rule should then match."""
    try:
        parsed = parse(line)
        out = [line]
        for command in parsed.commands:
            if not command.head_literal:
                raise Opaque(f"the command word {command.words[0]!r} is only known at run time")
            _expand(list(command.words), out, 0)
    except Opaque:
        return None
    return list(dict.fromkeys(out))


def _expand(words: list[str], out: list[str], depth: int) -> None:
    """Add the candidates for the command `words` (and what it runs) to `out`."""
    if not words:
        return
    if depth > _MAX_DEPTH:
        raise Opaque("commands wrapped too deep")
    out.append(" ".join(words))
    name = words[0].rsplit("/", 1)[-1]
    if name and name != words[0]:
        out.append(" ".join([name, *words[1:]]))
    for inner in _runs(words, depth):
        for command in inner:
            _expand(command, out, depth + 1)
    if name in WRAPPERS:
        # The command is one of the first arguments that are not options or assignments
        # (`sudo -u root rm`, `timeout 5 rm`, `ssh host rm`): try each of them.
        positions = [
            i
            for i, word in enumerate(words[1:_MAX_WRAPPED_WORDS], 1)
            if not word.startswith("-") and not _ASSIGNMENT.match(word)
        ]
        for i in positions[:_WRAPPED_POSITIONS]:
            # xargs adds arguments of its own: `xargs rm` runs `rm {}`.
            extra = ["{}"] if name == "xargs" and "{}" not in words else []
            _expand([*words[i:], *extra], out, depth + 1)


def _runs(words: list[str], depth: int, strict: bool = False) -> list[list[list[str]]]:
    """The commands `words` certainly runs as commands of their own: a line given to `eval`
    or to a shell's `-c`, the command of `find -exec`. Each item is one group of commands.
    `strict` (for allow rules): such a line may not write files or hide commands either."""
    name = words[0].rsplit("/", 1)[-1]
    groups: list[list[list[str]]] = []
    if name == "eval":
        groups.append(_commands_of(" ".join(words[1:]), depth, strict))
    if name in SHELLS:
        for i, word in enumerate(words[1:-1], 1):
            if _SHELL_COMMAND_OPTION.fullmatch(word):
                groups.append(_commands_of(words[i + 1], depth, strict))
    if name == "find":
        for i, word in enumerate(words):
            if word in _FIND_EXEC:
                end = next((j for j in range(i + 1, len(words)) if words[j] in (";", "+")), None)
                if words[i + 1 : end]:
                    groups.append([words[i + 1 : end]])
    return groups


def _commands_of(source: str, depth: int, strict: bool) -> list[list[str]]:
    """The commands of a line given as an argument (`sh -c '...'`, `eval ...`)."""
    parsed = parse(source, depth + 1)
    if strict and (parsed.writes or parsed.substitutions):
        raise Opaque("a command line inside an argument writes a file or hides commands")
    commands = []
    for command in parsed.commands:
        if not command.head_literal:
            raise Opaque(f"the command word {command.words[0]!r} is only known at run time")
        commands.append(list(command.words))
    return commands


class _Lexer:
    """Words and operators of one command line, and the sources of its substitutions."""

    def __init__(self, text: str, start: int = 0) -> None:
        self.s = text
        self.i = start
        self.nested: list[str] = []
        self.heredocs: list[tuple[str, bool, bool]] = []  # (delimiter, quoted, strip tabs)

    def tokens(self, *, until_paren: bool = False) -> tuple[list[Word | str], list[str]]:
        """The tokens to the end of the text or, `until_paren`, to the `)` that closes a
        substitution (self.i is then just past it)."""
        out: list[Word | str] = []
        s = self.s
        pending_heredoc: str | None = None
        depth = 0
        while self.i < len(s):
            c = s[self.i]
            if c in " \t\r":
                self.i += 1
            elif c == "\\" and s.startswith("\\\n", self.i):
                self.i += 2
            elif c == "#":
                end = s.find("\n", self.i)
                self.i = len(s) if end == -1 else end
            elif c == "\n":
                self.i += 1
                out.append("\n")
                self._read_heredocs()
            elif op := self._operator():
                if until_paren and op in ("(", "(("):
                    depth += len(op)
                elif until_paren and op == ")":
                    if depth == 0:
                        return out, self.nested
                    depth -= 1
                out.append(op)
                if op in ("<<", "<<-"):
                    pending_heredoc = op
            else:
                start = self.i
                word = self._word()
                if pending_heredoc is not None:
                    raw = s[start : self.i]
                    quoted = any(q in raw for q in "'\"\\")
                    self.heredocs.append((word.text, quoted, pending_heredoc == "<<-"))
                    pending_heredoc = None
                out.append(word)
        if until_paren:
            raise Opaque("a substitution is never closed")
        self._read_heredocs()  # bodies left open run to the end of the line
        return out, self.nested

    def _operator(self) -> str | None:
        s, i = self.s, self.i
        if s.startswith(("<(", ">("), i):
            return None  # process substitution: a word
        # A number right before a redirection is the descriptor it redirects: `2>&1`.
        j = i
        while j < len(s) and s[j].isdigit():
            j += 1
        if j > i and not s.startswith(("<(", ">("), j):
            for op in _REDIRECTIONS:
                if s.startswith(op, j):
                    self.i = j + len(op)
                    return op
        for op in (*_REDIRECTIONS, *_OPERATORS):
            if s.startswith(op, i):
                self.i = i + len(op)
                return op
        return None

    def _word(self) -> Word:
        s = self.s
        if s.startswith(("<(", ">("), self.i):
            operator = s[self.i]
            return Word(operator + self._parenthesized(self.i + 2), literal=False)
        parts: list[str] = []
        literal = True
        quoted = False
        while self.i < len(s) and s[self.i] not in _METACHARACTERS:
            c = s[self.i]
            if c == "\\":
                if self.i + 1 < len(s) and s[self.i + 1] != "\n":
                    parts.append(s[self.i + 1])
                self.i += 2
                quoted = True
            elif c == "'":
                end = s.find("'", self.i + 1)
                if end == -1:
                    raise Opaque("a quote is never closed")
                parts.append(s[self.i + 1 : end])
                self.i = end + 1
                quoted = True
            elif c == '"':
                self.i += 1
                text, lit = self._double_quoted()
                parts.append(text)
                literal &= lit
                quoted = True
            elif s.startswith("$'", self.i):
                end = self._ansi_c_end(self.i + 2)
                parts.append(s[self.i : end])
                literal = False
                self.i = end
            elif s.startswith('$"', self.i):
                self.i += 2
                text, lit = self._double_quoted()
                parts.append(text)
                literal &= lit
                quoted = True
            elif c in "$`":
                parts.append(self._expansion())
                literal = False
            else:
                parts.append(c)
                self.i += 1
        return Word("".join(parts), literal, quoted)

    def _double_quoted(self) -> tuple[str, bool]:
        """The text up to the closing quote (the opening one is consumed)."""
        s = self.s
        parts: list[str] = []
        literal = True
        while True:
            if self.i >= len(s):
                raise Opaque("a quote is never closed")
            c = s[self.i]
            if c == '"':
                self.i += 1
                return "".join(parts), literal
            if c == "\\" and self.i + 1 < len(s) and s[self.i + 1] in '$`"\\\n':
                if s[self.i + 1] != "\n":
                    parts.append(s[self.i + 1])
                self.i += 2
            elif c in "$`" and (c == "`" or self.i + 1 < len(s)):
                parts.append(self._expansion())
                literal = False
            else:
                parts.append(c)
                self.i += 1

    def _expansion(self) -> str:
        """`$...` or a backquoted command at self.i, as written; commands inside are kept."""
        s, start = self.s, self.i
        if s[start] == "`":
            end, inner = start + 1, []
            while True:
                if end >= len(s):
                    raise Opaque("a backquote is never closed")
                if s[end] == "\\" and end + 1 < len(s):
                    inner.append(s[end + 1] if s[end + 1] in "`$\\" else s[end : end + 2])
                    end += 2
                elif s[end] == "`":
                    break
                else:
                    inner.append(s[end])
                    end += 1
            self.nested.append("".join(inner))
            self.i = end + 1
            return s[start : self.i]
        if s.startswith("$((", start):
            end = self._balanced(start + 1, "(", ")")
            if "$(" in s[start + 3 : end] or "`" in s[start + 3 : end]:
                raise Opaque("a command inside an arithmetic expansion")
            self.i = end
            return s[start:end]
        if s.startswith("$(", start):
            return "$" + self._parenthesized(start + 2)
        if s.startswith("${", start):
            end = self._balanced(start + 1, "{", "}")
            if "$(" in s[start:end] or "`" in s[start:end]:
                raise Opaque("a command inside a parameter expansion")
            self.i = end
            return s[start:end]
        match = _PARAMETER.match(s, start)
        assert match is not None
        self.i = match.end()
        return match.group(0)

    def _parenthesized(self, start: int) -> str:
        """The command line from `start` to the `)` that closes it, kept to be parsed in turn;
        returned as written, in parentheses."""
        sub = _Lexer(self.s, start)
        sub.tokens(until_paren=True)
        source = self.s[start : sub.i - 1]
        self.nested.append(source)
        self.i = sub.i
        return f"({source})"

    def _balanced(self, start: int, opening: str, closing: str) -> int:
        """The index after the bracket that closes the one at `start` (quotes respected)."""
        s, depth, i = self.s, 0, start
        while i < len(s):
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c == "'":
                i = s.find("'", i + 1)
                if i == -1:
                    break
            elif c == opening:
                depth += 1
            elif c == closing:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise Opaque("an expansion is never closed")

    def _ansi_c_end(self, i: int) -> int:
        s = self.s
        while i < len(s):
            if s[i] == "\\":
                i += 2
            elif s[i] == "'":
                return i + 1
            else:
                i += 1
        raise Opaque("a quote is never closed")

    def _read_heredocs(self) -> None:
        """The bodies of the here-documents opened on the line just ended."""
        s = self.s
        for delimiter, quoted, strip_tabs in self.heredocs:
            body: list[str] = []
            while self.i < len(s):
                end = s.find("\n", self.i)
                end = len(s) if end == -1 else end
                line = s[self.i : end]
                self.i = min(end + 1, len(s))
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
                body.append(line)
            if not quoted:  # expanded like a double-quoted string: it may run commands
                text = "\n".join(body)
                inner = _Lexer(text.replace("\\", "\\\\").replace('"', '\\"') + '"')
                inner._double_quoted()
                self.nested += inner.nested
        self.heredocs = []


class _Parser:
    """Simple commands out of the tokens of one line."""

    def __init__(self, tokens: list[Word | str]) -> None:
        self.tokens = tokens
        self.commands: list[Command] = []
        self.writes = False

    def parse(self) -> ParsedLine:
        tokens = self.tokens
        words: list[Word] = []
        assignments: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if isinstance(token, str):
                if token == "((" and not words:
                    raise Opaque("an arithmetic command (( ... ))")
                if token in _CONTROL or token == "((":
                    self._end(words, assignments)
                    words, assignments = [], []
                    i += 1
                    continue
                # A redirection: its target is the next word.
                target = tokens[i + 1] if i + 1 < len(tokens) else None
                if not isinstance(target, Word):
                    raise Opaque(f"a redirection {token!r} without a target")
                if token in _WRITES and not _harmless(token, target):
                    self.writes = True
                i += 2
                continue
            if not words:
                if token.literal and not token.quoted:
                    if token.text in _LEADERS or token.text in _CLOSERS:
                        self._end(words, assignments)
                        assignments = []
                        i += 1
                        continue
                    if token.text in ("case", "select", "coproc"):
                        raise Opaque(f"a {token.text!r} command")
                    if token.text == "for":
                        i = self._skip_for(i)
                        continue
                    if token.text == "[[":
                        i = self._skip_until(i, "]]")
                        continue
                    if token.text == "function":
                        i = self._skip_function_name(i + 1)
                        continue
                    if i + 2 < len(tokens) and tokens[i + 1] == "(" and tokens[i + 2] == ")":
                        i += 3  # `name() { ...; }`: a function definition
                        continue
                if _ASSIGNMENT.match(token.text):
                    assignments.append(token.text)
                    i += 1
                    continue
            words.append(token)
            i += 1
        self._end(words, assignments)
        return ParsedLine(self.commands, False, self.writes)

    def _end(self, words: list[Word], assignments: list[str]) -> None:
        if words:
            self.commands.append(
                Command(tuple(w.text for w in words), tuple(assignments), words[0].literal)
            )

    def _skip_for(self, i: int) -> int:
        """Past `for NAME [in WORDS]` up to the `;` or newline before `do`."""
        i += 1
        while i < len(self.tokens):
            token = self.tokens[i]
            if token in (";", "\n"):
                return i
            if isinstance(token, Word) and token.text == "do" and not token.quoted:
                return i
            if token == "((":
                raise Opaque("an arithmetic for loop")
            i += 1
        return i

    def _skip_until(self, i: int, closer: str) -> int:
        i += 1
        while i < len(self.tokens):
            token = self.tokens[i]
            i += 1
            if isinstance(token, Word) and token.text == closer and not token.quoted:
                return i
        raise Opaque(f"{closer!r} is missing")

    def _skip_function_name(self, i: int) -> int:
        i += 1  # the name
        if self.tokens[i : i + 2] == ["(", ")"]:
            i += 2
        return i


def _harmless(operator: str, target: Word) -> bool:
    """Output sent nowhere, or to another descriptor (`2>&1`, `>&-`)."""
    text = target.text
    if not target.literal:
        return False
    return text == "/dev/null" or (operator == ">&" and (text.isdigit() or text == "-"))
