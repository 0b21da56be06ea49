"""Reading a file that is about to change, and writing it back atomically."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from parley.tools.base import ToolContext, ToolError


def read_existing(ctx: ToolContext, path: Path, shown: str) -> bytes | None:
    """The file's bytes, or None when there is no file yet."""
    if ctx.files is not None and ctx.files.reads:
        text = ctx.files.read(path)
        return None if text is None else text.encode("utf-8")
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # NotADirectory: a parent is a file
        return None
    except IsADirectoryError:
        raise ToolError(f"{shown} is a directory, not a file") from None
    except OSError as exc:
        raise ToolError(f"cannot read {shown}: {exc.strerror}") from None


def looks_binary(data: bytes) -> bool:
    """A NUL byte near the start: what git and grep take as the sign of a binary file."""
    return b"\x00" in data[:8192]


def decode_text(data: bytes, shown: str) -> str:
    """The text of a file we are going to change; binary or non-UTF-8 content is refused
    rather than silently mangled."""
    if looks_binary(data):
        raise ToolError(
            f"{shown} looks like a binary file ({len(data)} bytes); it cannot be edited"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{shown} is not UTF-8 text; it cannot be edited safely") from None


def write_atomic(ctx: ToolContext, path: Path, data: bytes, shown: str) -> None:
    """Replace `path` in one step: readers see the old file or the new one, never half of it.
    Missing parent directories are made.

    The file keeps its permission bits; a new file gets the usual ones (0666 minus the umask).
    """
    if ctx.files is not None and ctx.files.writes:
        ctx.files.write(path, data.decode("utf-8"))
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolError(f"cannot create the directory for {shown}: {exc.strerror}") from None
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.parley-tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileNotFoundError):
                os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ToolError(f"cannot write {shown}: {exc.strerror}") from None
