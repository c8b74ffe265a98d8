"""Crash-safe file writes: a killed step leaves either the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path

from mlgate.errors import InputError

# What an OSError on an output path means to the user who chose that path.
_REASONS = {
    errno.ENOTDIR: "a folder on its path is a file",
    errno.EEXIST: "a folder on its path is a file",
    errno.EISDIR: "it is a directory",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def write_error(exc: OSError, path: str | Path, what: str = "output file") -> InputError:
    """An OSError met writing `path` as the one sentence naming it (`what`: e.g. the variable that named it)."""
    reason = _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
    return InputError(f"{what} cannot be written: {reason}", file=path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory, fsync it, then rename over the target.

    The temp name is chosen before the file exists, so a signal that unwinds the stack at any point (even
    between creating the file and returning from the call that created it) finds the name to remove. An
    OSError (a file where a folder should be, a directory at `path`, a full disk) is an InputError naming `path`.
    """
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise write_error(exc, path) from None
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
