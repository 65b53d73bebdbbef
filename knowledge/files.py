"""Reading small files that a careless admin or a broken disk may have replaced by something else.

A FIFO would block the reader forever, /dev/zero would fill memory, a 200 MB file would take a minute: every
configuration, glossary, manifest and source file is opened without blocking, must be a regular file, and is
read up to a limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class FileTooLarge(ValueError):
    """A file larger than its limit."""


class NotRegularFile(ValueError):
    """A FIFO, device, socket or directory where a regular file was expected."""


def read_limited(path: Path | str, limit: int) -> bytes:
    """The bytes of a regular file of at most limit bytes.

    Raises OSError when it cannot be opened or read, NotRegularFile for anything but a regular file (a FIFO is
    never waited on), FileTooLarge when it holds more than limit bytes.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(f"{Path(path).name} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileTooLarge(f"{Path(path).name} is larger than {limit:,} bytes")
    return data
