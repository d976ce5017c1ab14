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

import os
import threading
from typing import IO, Final

from tlsspec.runtime.prf import MASTER_SECRET_LENGTH, RANDOM_LENGTH

__all__ = ["CLIENT_RANDOM_LABEL", "KeyLogWriter"]

#: The NSS label for a TLS 1.2 master secret.
CLIENT_RANDOM_LABEL: Final = "CLIENT_RANDOM"


class KeyLogWriter:
    """Appends NSS key-log lines to a file or a text stream.

    Args:
        target: A path, opened for appending on each line, or an open text
            stream, written and flushed but never closed.
    """

    def __init__(self, target: str | os.PathLike[str] | IO[str]) -> None:
        self._target = target
        self._lock = threading.Lock()

    def log_master_secret(self, client_random: bytes, master_secret: bytes) -> None:
        """Write one ``CLIENT_RANDOM`` line.

        Args:
            client_random: ClientHello.random, 32 bytes.
            master_secret: The 48-byte master secret.

        Raises:
            ValueError: A value has the wrong length.
            OSError: The file cannot be written.
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
            if isinstance(self._target, str | os.PathLike):
                with open(self._target, "a", encoding="ascii") as file:
                    file.write(line)
            else:
                self._target.write(line)
                self._target.flush()
