"""Reading a file that a user, or a fork's pull request, controls: regular files only, and a size bound.

A FIFO blocks `open()` (or the first read) until someone writes to it, a device such as /dev/zero never ends, a
socket or a directory cannot be read as a file: each is refused by `stat` before it is opened, with a sentence
naming the file and what it is. The open itself is non-blocking and re-checked with `fstat`, so a file swapped
for a FIFO between the two calls cannot hang us either; then at most `limit + 1` bytes are read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from mlgate.errors import InputError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symlink"),
)

# A file's first bytes that say it is not plain UTF-8 text: a CSV reader would show them as one garbled column.
_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"PK\x03\x04": "zip",
}
_WIDE_ENCODINGS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def not_text(head: bytes) -> str | None:
    """What a file starting with `head` is when it is compressed or UTF-16/32 text ('is gzip-compressed'),
    so the error can say so instead of quoting the bytes; None for anything else."""
    kind = next((kind for magic, kind in _COMPRESSED.items() if head.startswith(magic)), None)
    if kind is not None:
        return f"is {kind}-compressed (decompress it first)"
    wide = next((kind for bom, kind in _WIDE_ENCODINGS.items() if head.startswith(bom)), None)
    if wide is None and head.count(0) * 4 > len(head):  # ASCII text in UTF-16 without a byte-order mark
        wide = "UTF-16"
    return None if wide is None else f"is {wide} text, the wrong encoding (save it as UTF-8)"


def size_text(limit: int) -> str:
    mib = 1024 * 1024
    return f"{limit // mib} MiB" if limit % mib == 0 else f"{limit:,} bytes"


def _kind(mode: int) -> str:
    return next((kind for test, kind in _KINDS if test(mode)), "not a file")


def resolve(path: Path, what: str = "file", *, shown: str | Path | None = None) -> Path:
    """`path` with every symlink followed; a symlink loop is an InputError (pathlib raises RuntimeError)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        raise InputError(
            f"{what} is a symlink loop (it never reaches a file)", file=path if shown is None else shown
        ) from None


def check_regular(
    path: Path, what: str = "file", *, shown: str | Path | None = None, follow_symlinks: bool = True
) -> os.stat_result:
    """`path`'s stat when it is a regular file (through symlinks unless `follow_symlinks` is False), else an
    InputError naming it (`shown`, default `path`) as `what` and saying what it is instead."""
    name = path if shown is None else shown
    try:
        info = os.stat(path, follow_symlinks=follow_symlinks)
    except FileNotFoundError:
        dangling = os.path.islink(path)
        raise InputError(f"{what} does not exist{' (a symlink to nothing)' if dangling else ''}", file=name) from None
    except NotADirectoryError:
        raise InputError(f"{what} cannot be read: a folder on its path is a file", file=name) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{what} is a symlink loop (it never reaches a file)", file=name) from None
        raise InputError(f"{what} cannot be read ({exc.strerror or exc})", file=name) from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} is {_kind(info.st_mode)}, not a regular file", file=name)
    return info


def read_regular(
    path: Path, limit: int, what: str = "file", *, shown: str | Path | None = None, follow_symlinks: bool = True
) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them, or an InputError naming it."""
    name = path if shown is None else shown
    too_large = f"{what} is larger than {size_text(limit)}"
    if check_regular(path, what, shown=name, follow_symlinks=follow_symlinks).st_size > limit:
        raise InputError(too_large, file=name)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise InputError(f"{what} cannot be read ({exc.strerror or exc})", file=name) from None
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):  # swapped after the stat above
            raise InputError(f"{what} is {_kind(mode)}, not a regular file", file=name)
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(f"{what} cannot be read ({exc.strerror or exc})", file=name) from None
    if len(data) > limit:  # it grew while we looked
        raise InputError(too_large, file=name)
    return data
