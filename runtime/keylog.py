"""The NSS key log: the one way key material leaves the engine.

Wireshark and other analyzers decrypt a captured TLS 1.2 connection given
its master secret, keyed by the ClientHello.random it belongs to, in the
format NSS defined and OpenSSL's ``SSL_CTX_set_keylog_callback`` writes::

    CLIENT_RANDOM <64 hex digits> <96 hex digits>

Nothing is written unless a :class:`KeyLogWriter` is passed explicitly in
``ClientConfig(keylog=...)`` or ``ServerConfig(keylog=...)``.  Anyone who
reads the file can decrypt every connection it lists: use it for debugging
only.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from typing import IO, Final

from tlsspec.runtime.files import open_regular
from tlsspec.runtime.prf import MASTER_SECRET_LENGTH, RANDOM_LENGTH

__all__ = ["CLIENT_RANDOM_LABEL", "KEYLOG_FILE_MODE", "KeyLogWriter"]

_log = logging.getLogger(__name__)

#: The NSS label for a TLS 1.2 master secret.
CLIENT_RANDOM_LABEL: Final = "CLIENT_RANDOM"

#: Permissions of a key log file the writer creates: the owner's alone,
#: since the file decrypts every connection it lists.
KEYLOG_FILE_MODE: Final = 0o600

_APPEND_FLAGS: Final = os.O_WRONLY | os.O_APPEND | os.O_CREAT


def _append(path: str | os.PathLike[str], line: str) -> None:
    # Created with KEYLOG_FILE_MODE if missing, appended to if not.  Only a
    # regular file will do: a FIFO or a device could block a handshake or
    # swallow the secrets.
    fd = open_regular(path, _APPEND_FLAGS, KEYLOG_FILE_MODE)
    with os.fdopen(fd, "a", encoding="ascii") as file:
        file.write(line)


class KeyLogWriter:
    """Appends NSS key-log lines to a file or a text stream.

    The target is checked when the writer is made, so a key log that can
    never work fails at once: a path is opened for appending (and created,
    readable by its owner only), a stream must be an open text stream.

    A write that fails later, during a handshake (disk full, file removed
    from a read-only directory, stream closed meanwhile), never fails the
    TLS connection: the key log is a debugging aid.  The writer logs one
    WARNING naming the problem and writes nothing more from then on.

    Args:
        target: A path, opened for appending on each line, or an open text
            stream, written and flushed but never closed.

    Raises:
        OSError: The path cannot be opened for appending, or is not a
            regular file.
        TypeError: ``target`` is a binary stream, or neither a path nor a
            stream.
        ValueError: The stream is closed.
    """

    def __init__(self, target: str | os.PathLike[str] | IO[str]) -> None:
        if isinstance(target, str | os.PathLike):
            _append(target, "")
        elif isinstance(target, io.RawIOBase | io.BufferedIOBase):
            raise TypeError(
                f"key log target {target!r} is a binary stream; "
                "expected a text stream or a path"
            )
        elif not callable(getattr(target, "write", None)):
            raise TypeError(
                f"key log target: expected a path or a text stream, "
                f"got {type(target).__name__}"
            )
        elif getattr(target, "closed", False):
            raise ValueError(f"key log target {target!r} is closed")
        self._target = target
        self._lock = threading.Lock()
        self._failed = False

    @property
    def failed(self) -> bool:
        """True once a write failed and the writer stopped writing."""
        return self._failed

    def log_master_secret(self, client_random: bytes, master_secret: bytes) -> None:
        """Write one ``CLIENT_RANDOM`` line.

        A failing write is logged once as a WARNING and turns the writer
        off (see the class docstring); it is not raised.

        Args:
            client_random: ClientHello.random, 32 bytes.
            master_secret: The 48-byte master secret.

        Raises:
            ValueError: A value has the wrong length.
        """
        if len(client_random) != RANDOM_LENGTH:
            raise ValueError(
                f"client_random: {len(client_random)} bytes, expected {RANDOM_LENGTH}"
            )
        if len(master_secret) != MASTER_SECRET_LENGTH:
            raise ValueError(
                f"master_secret: {len(master_secret)} bytes, expected "
                f"{MASTER_SECRET_LENGTH}"
            )
        line = f"{CLIENT_RANDOM_LABEL} {client_random.hex()} {master_secret.hex()}\n"
        with self._lock:
            if self._failed:
                return
            try:
                if isinstance(self._target, str | os.PathLike):
                    _append(self._target, line)
                else:
                    self._target.write(line)
                    self._target.flush()
            except (OSError, ValueError, TypeError) as exc:
                # The message names the target and the error, never the line.
                self._failed = True
                _log.warning(
                    "key log %s: write failed (%s: %s); no more key log lines "
                    "are written",
                    self._describe(),
                    type(exc).__name__,
                    exc,
                )

    def _describe(self) -> str:
        if isinstance(self._target, str | os.PathLike):
            return os.fspath(self._target)
        return repr(self._target)
