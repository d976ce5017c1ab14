"""Files a user names: ticket keys, key logs, PEM files, saved sessions.

A path given on a command line or in a config may name anything: a FIFO
that blocks the open until another process comes, a device that never
ends, a file far larger than what it should hold.  Everything the engine
and its command line read or append to goes through :func:`open_regular`,
and everything read whole through :func:`read_regular`, so each such path
is checked the same way: opened without blocking, checked to be a regular
file on the open descriptor (the file checked is the file used), and read
no further than the caller's limit.
"""

from __future__ import annotations

import errno
import os
import stat

__all__ = ["FileTooLargeError", "NotARegularFileError", "open_regular", "read_regular"]

# O_NONBLOCK: opening a FIFO would otherwise wait for the other end.
# O_NOCTTY: a terminal named by mistake must not become the controlling one.
_SAFE_FLAGS = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


class NotARegularFileError(OSError):
    """The path names a FIFO, a device, a socket or a directory."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(errno.EINVAL, "not a regular file", os.fspath(path))


class FileTooLargeError(OSError):
    """The file holds more than the reader's limit.

    Attributes:
        size: The file's size as far as known: at least the limit plus one.
    """

    def __init__(self, path: str | os.PathLike[str], size: int, limit: int) -> None:
        super().__init__(
            errno.EFBIG, f"larger than the {limit}-byte limit", os.fspath(path)
        )
        self.size = size


def open_regular(path: str | os.PathLike[str], flags: int, mode: int = 0o666) -> int:
    """Open ``path`` with ``flags``, refusing anything but a regular file.

    Args:
        path: The file.
        flags: ``os.open`` flags; O_NONBLOCK and O_NOCTTY are added.
        mode: Permissions of a file that O_CREAT creates.

    Returns:
        The open descriptor; the caller closes it.

    Raises:
        NotARegularFileError: ``path`` is not a regular file (a FIFO opened for
            writing with no reader included).
        OSError: The path cannot be opened.
    """
    try:
        fd = os.open(path, flags | _SAFE_FLAGS, mode)
    except OSError as error:
        # ENXIO: a FIFO with no reader, or a socket; EISDIR: a directory
        # opened for writing.
        if error.errno in (errno.ENXIO, errno.EISDIR):
            raise NotARegularFileError(path) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFileError(path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: str | os.PathLike[str], *, limit: int) -> bytes:
    """Read a whole regular file of at most ``limit`` bytes.

    At most ``limit + 1`` bytes are read, however large the file: one byte
    past the limit tells a too-large file apart without reading it all.

    Args:
        path: The file.
        limit: The most bytes the file may hold.

    Returns:
        The file's bytes.

    Raises:
        TypeError: ``limit`` is not an int.
        ValueError: ``limit`` is negative.
        NotARegularFileError: ``path`` is not a regular file.
        FileTooLargeError: The file holds more than ``limit`` bytes.
        OSError: The file cannot be opened or read.
    """
    if type(limit) is not int:
        raise TypeError(f"limit: expected an int, got {type(limit).__name__}")
    if limit < 0:
        raise ValueError(f"limit: {limit}, expected 0 or more bytes")
    fd = open_regular(path, os.O_RDONLY)
    try:
        chunks = []
        left = limit + 1
        while left > 0:
            # os.read may return less than asked before the end of the file.
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise FileTooLargeError(path, max(size, len(data)), limit)
    return data
