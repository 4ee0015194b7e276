"""Reading an input file of bounded size that must be a regular file (the CLI's inputs, `--out`).

A path given to the CLI, or a `*.yaml` found in `--out`, may be anything: a symlink to `/dev/zero`
(read whole, a MemoryError), a FIFO (opening it waits for a writer for ever), a directory. Each is
opened without blocking, checked to be a regular file, and read up to a size cap; anything else is
an `UnreadableFile` whose message says why in a few words (the caller names the path).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MiB = 1024 * 1024
MAX_MANIFEST_BYTES = 16 * MiB
"""The largest manifest file read (`check`, `preview`, `sync`, the manifests in `--out`)."""
MAX_TAGS_FILE_BYTES = 64 * MiB
"""The largest `--tags-file` read (100,000 tags of 128 characters are 13 MiB)."""


class UnreadableFile(Exception):
    """Why a file is not read, in a few words (no path: the caller adds it)."""


def read_regular(path: str | Path, *, limit: int) -> bytes:
    """The content of the regular file at `path` (symlinks followed), at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc)) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"not a regular file ({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise UnreadableFile(f"larger than {_size(limit)}")
        os.set_blocking(fd, True)
        return read_limited(fd, limit)
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc)) from exc
    finally:
        os.close(fd)


def read_limited(fd: int, limit: int) -> bytes:
    """Everything `fd` gives until its end, refused past `limit` bytes (a file that grows, a pipe)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := os.read(fd, min(MiB, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise UnreadableFile(f"larger than {_size(limit)}")
    return b"".join(chunks)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit % MiB == 0 else f"{limit} bytes"
