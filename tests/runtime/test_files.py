"""Files a user names are opened without blocking, regular files only, and
read no further than the caller's limit."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tlsspec.runtime.files import (
    FileTooLargeError,
    NotARegularFileError,
    open_regular,
    read_regular,
)

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def test_reads_a_file_of_exactly_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 48)
    assert read_regular(path, limit=48) == b"x" * 48


def test_a_file_one_byte_over_the_limit_reports_its_size(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1000)
    with pytest.raises(FileTooLargeError) as caught:
        read_regular(path, limit=48)
    assert caught.value.size == 1000
    assert caught.value.errno == errno.EFBIG
    assert caught.value.filename == str(path)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused_unread(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    with pytest.raises(NotARegularFileError, match="not a regular file"):
        read_regular(device, limit=10)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotARegularFileError):
        read_regular(tmp_path, limit=10)


@needs_fifo
def test_a_fifo_is_refused_for_reading_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFileError):
        read_regular(fifo, limit=10)


@needs_fifo
@pytest.mark.parametrize("reader", [False, True], ids=["no-reader", "reader"])
def test_a_fifo_is_refused_for_writing_without_waiting(
    tmp_path: Path, reader: bool
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    held = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK) if reader else None
    try:
        with pytest.raises(NotARegularFileError):
            open_regular(fifo, os.O_WRONLY | os.O_APPEND)
    finally:
        if held is not None:
            os.close(held)


def test_open_regular_creates_with_the_mode_given(tmp_path: Path) -> None:
    path = tmp_path / "new"
    fd = open_regular(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_missing_file_is_a_plain_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing", limit=10)


def test_a_directory_opened_for_writing_is_not_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(NotARegularFileError):
        open_regular(tmp_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


@pytest.mark.parametrize(
    ("limit", "error"), [(-1, ValueError), (None, TypeError), (1.5, TypeError)]
)
def test_a_limit_that_is_not_a_byte_count_is_refused(
    tmp_path: Path, limit: object, error: type[Exception]
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"")
    with pytest.raises(error, match=r"^limit: "):
        read_regular(path, limit=limit)  # type: ignore[arg-type]
