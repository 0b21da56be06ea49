"""Opening files inside the session's roots so that the check and the use cannot diverge.

A path is first resolved and checked (tools/paths.py). It is then opened by walking its
resolved components one at a time from the root's directory, each with `O_NOFOLLOW`: the
resolved path contains no symlink, so a symlink met on the way is one that appeared since the
check, and the call is refused instead of following it out of the tree. Writes happen inside
the directory descriptor that walk ends at (create the temporary file, rename it over the
target), never through a path name that could be swapped in between.

Only regular files are read: FIFOs, sockets and devices are refused before they are opened
(and checked again on the descriptor), so a read can never block on a pipe or stream forever.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from parley.tools.base import ToolContext, ToolError

# What edit_file and write_file read of an existing file (to diff it, or to edit it).
MAX_EDIT_BYTES = 10_000_000
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
_TMP_SUFFIX = ".parley-tmp"


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


def root_of(ctx: ToolContext, path: Path) -> Path:
    """The root `path` lies in (the deepest, when roots nest); `path` is resolved and checked."""
    inside = [r for r in ctx.roots if path == r or path.is_relative_to(r)]
    if not inside:
        raise ToolError(f"{path} is outside the session's directories")
    return max(inside, key=lambda r: len(r.parts))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "not a regular file"


def _moved(shown: str) -> ToolError:
    return ToolError(
        f"{shown} changed while it was being used (a directory on its path was replaced by a "
        "symlink or a file); nothing was read or written"
    )


@contextlib.contextmanager
def open_parent(ctx: ToolContext, path: Path, shown: str, *, create: bool = False) -> Iterator[int]:
    """A descriptor of `path`'s directory, reached from its root without following symlinks;
    with `create`, missing directories are made on the way (mode 0777 minus the umask)."""
    root = root_of(ctx, path)
    if path == root:
        raise ToolError(f"{shown} is a directory, not a file")
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise ToolError(f"cannot open the session's directory {root}: {exc.strerror}") from None
    for part in path.relative_to(root).parts[:-1]:
        fd = _step(fd, part, shown, create)  # closes the old descriptor, also when it fails
    try:
        yield fd
    finally:
        os.close(fd)


def _step(fd: int, part: str, shown: str, create: bool) -> int:
    """Open directory `part` below `fd`, close `fd`, return the new descriptor."""
    try:
        try:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise
            with contextlib.suppress(FileExistsError):  # made meanwhile: open whatever is there
                os.mkdir(part, 0o777, dir_fd=fd)
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
    except OSError as exc:
        try:
            mode = os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode
        except OSError:
            mode = None  # gone meanwhile
        finally:
            os.close(fd)
        if mode is not None and stat.S_ISLNK(mode):
            raise _moved(shown) from None
        if not create and (isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOTDIR):
            # Nothing there, or a file where a directory would be: there is no such file.
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", shown) from None
        if create and mode is None:
            raise _moved(shown) from None  # made, then taken away before it could be opened
        verb = "create" if create else "open"
        raise ToolError(f"cannot {verb} the directory for {shown}: {exc.strerror}") from None
    os.close(fd)
    return child


def open_regular(ctx: ToolContext, path: Path, shown: str) -> int:
    """A read-only descriptor of the regular file at `path`; FileNotFoundError if there is
    none. Anything else (a directory, a FIFO, a device) is refused without blocking."""
    with open_parent(ctx, path, shown) as parent:
        name = path.name
        try:
            before = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise ToolError(f"cannot read {shown}: {exc.strerror}") from None
        if stat.S_ISLNK(before.st_mode):
            raise _moved(shown)
        if not stat.S_ISREG(before.st_mode):
            raise ToolError(f"{shown} is {_kind(before.st_mode)}; only regular files are read")
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _moved(shown) from None
            if isinstance(exc, FileNotFoundError):
                raise
            raise ToolError(f"cannot read {shown}: {exc.strerror}") from None
    after = os.fstat(fd)
    if not stat.S_ISREG(after.st_mode):  # swapped between the stat and the open
        os.close(fd)
        raise ToolError(f"{shown} is {_kind(after.st_mode)}; only regular files are read")
    return fd


def read_bounded(fd: int, limit: int) -> bytes:
    """Up to `limit` + 1 bytes from `fd` (one more than allowed tells "too large"); closes it."""
    with os.fdopen(fd, "rb") as fh:
        return fh.read(limit + 1)


def read_existing(
    ctx: ToolContext, path: Path, shown: str, limit: int = MAX_EDIT_BYTES
) -> bytes | None:
    """The file's bytes, or None when there is no file yet. A file over `limit` bytes is
    refused: what is read to be changed or diffed is held in memory. With the host's files
    (an editor's buffers), they are what is read."""
    if ctx.files is not None and ctx.files.reads:
        text = ctx.files.read(path)
        if text is not None and len(text) > limit:
            raise ToolError(f"{shown} is larger than {limit:,} characters; it cannot be changed")
        return None if text is None else text.encode("utf-8")
    try:
        fd = open_regular(ctx, path, shown)
    except FileNotFoundError:
        return None
    data = read_bounded(fd, limit)
    if len(data) > limit:
        raise ToolError(f"{shown} is larger than {limit:,} bytes; it cannot be changed by a tool")
    return data


def write_atomic(ctx: ToolContext, path: Path, data: bytes, shown: str) -> None:
    """Replace `path` in one step: readers see the old file or the new one, never half of it.

    Missing parent directories are created. The file keeps its permission bits; a new file gets
    the usual ones (0666 minus the umask). The temporary file is removed on every failure. A
    hard link at `path` is replaced, not written through: the other names keep the old content.
    """
    if ctx.files is not None and ctx.files.writes:
        ctx.files.write(path, data.decode("utf-8"))
        return
    with open_parent(ctx, path, shown, create=True) as parent:
        name = path.name
        tmp = f".{name[:200]}.{secrets.token_hex(4)}{_TMP_SUFFIX}"
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=parent
            )
        except OSError as exc:
            raise ToolError(f"cannot write {shown}: {exc.strerror}") from None
        try:
            try:
                with contextlib.suppress(FileNotFoundError):
                    old = os.stat(name, dir_fd=parent, follow_symlinks=False)
                    if stat.S_ISREG(old.st_mode):
                        os.fchmod(fd, stat.S_IMODE(old.st_mode))
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=parent)
            if isinstance(exc, IsADirectoryError):
                raise ToolError(f"{shown} is a directory, not a file") from None
            if isinstance(exc, OSError):
                raise ToolError(f"cannot write {shown}: {exc.strerror}") from None
            raise
