"""The NSS key log: bad targets fail at once, later write failures never."""

from __future__ import annotations

import io
import logging
import os
import stat
from pathlib import Path

import pytest

from tests.engine.support import client_config, make_pair, server_config
from tests.support.openssl import make_rsa_identity
from tlsspec.runtime.events import HandshakeComplete
from tlsspec.runtime.keylog import KEYLOG_FILE_MODE, KeyLogWriter

CLIENT_RANDOM = bytes(range(32))
MASTER_SECRET = bytes(range(48))
LINE = f"CLIENT_RANDOM {CLIENT_RANDOM.hex()} {MASTER_SECRET.hex()}\n"


class _FailingStream(io.StringIO):
    # A text stream whose writes fail the way a full disk does.
    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")


def test_path_in_a_missing_directory_raises_os_error_at_construction(
    tmp_path: Path,
) -> None:
    with pytest.raises(FileNotFoundError, match="No such file or directory"):
        KeyLogWriter(tmp_path / "absent" / "keys.log")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("reader", [False, True], ids=["no-reader", "reader"])
def test_a_fifo_is_refused_at_construction_without_waiting(
    tmp_path: Path, reader: bool
) -> None:
    # Opening a FIFO for writing would wait for a reader; a key log is a
    # regular file or nothing.
    fifo = tmp_path / "keylog"
    os.mkfifo(fifo)
    held = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK) if reader else None
    try:
        with pytest.raises(OSError, match="not a regular file"):
            KeyLogWriter(fifo)
    finally:
        if held is not None:
            os.close(held)


def test_a_device_is_refused_at_construction() -> None:
    with pytest.raises(OSError, match="not a regular file: '/dev/null'"):
        KeyLogWriter("/dev/null")


def test_closed_stream_is_refused_at_construction() -> None:
    stream = io.StringIO()
    stream.close()

    with pytest.raises(ValueError, match="is closed"):
        KeyLogWriter(stream)


def test_binary_stream_is_refused_at_construction() -> None:
    with pytest.raises(TypeError, match="is a binary stream"):
        KeyLogWriter(io.BytesIO())  # type: ignore[arg-type]


def test_target_that_is_neither_path_nor_stream_is_refused() -> None:
    with pytest.raises(TypeError, match="expected a path or a text stream, got int"):
        KeyLogWriter(3)  # type: ignore[arg-type]


def test_path_is_created_private_at_construction_and_appended_to(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys.log"
    writer = KeyLogWriter(path)

    assert path.read_text() == ""
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == KEYLOG_FILE_MODE
    writer.log_master_secret(CLIENT_RANDOM, MASTER_SECRET)
    writer.log_master_secret(CLIENT_RANDOM, MASTER_SECRET)
    assert path.read_text() == LINE * 2


def test_write_failure_logs_one_warning_and_stops_writing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = KeyLogWriter(_FailingStream())

    with caplog.at_level(logging.WARNING, logger="tlsspec.runtime.keylog"):
        writer.log_master_secret(CLIENT_RANDOM, MASTER_SECRET)
        writer.log_master_secret(CLIENT_RANDOM, MASTER_SECRET)

    assert writer.failed
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "write failed (OSError" in message
    assert "No space left on device" in message
    # Key material never reaches the log.
    assert MASTER_SECRET.hex() not in caplog.text


def test_stream_closed_after_construction_does_not_raise() -> None:
    stream = io.StringIO()
    writer = KeyLogWriter(stream)
    stream.close()

    writer.log_master_secret(CLIENT_RANDOM, MASTER_SECRET)

    assert writer.failed


def test_wrong_lengths_are_still_the_caller_s_error() -> None:
    writer = KeyLogWriter(io.StringIO())

    with pytest.raises(ValueError, match="client_random: 31 bytes, expected 32"):
        writer.log_master_secret(bytes(31), MASTER_SECRET)
    with pytest.raises(ValueError, match="master_secret: 47 bytes, expected 48"):
        writer.log_master_secret(CLIENT_RANDOM, bytes(47))


@pytest.mark.parametrize("side", ["client", "server"])
def test_failing_key_log_does_not_fail_the_handshake(
    side: str, caplog: pytest.LogCaptureFixture
) -> None:
    identity = make_rsa_identity()
    writer = KeyLogWriter(_FailingStream())
    if side == "client":
        pair = make_pair(
            client_config(identity, keylog=writer), server_config(identity)
        )
    else:
        pair = make_pair(
            client_config(identity), server_config(identity, keylog=writer)
        )

    with caplog.at_level(logging.WARNING, logger="tlsspec.runtime.keylog"):
        pair.handshake()

    assert isinstance(pair.complete("client"), HandshakeComplete)
    assert isinstance(pair.complete("server"), HandshakeComplete)
    assert writer.failed
    assert "write failed" in caplog.text
