"""Ticket keys: the key sets that seal and open RFC 5077 tickets.

A :class:`TicketKey` is one key set: a public name, an AES key and an
HMAC-SHA-256 key (RFC 5077 §4).  Keys are made fresh with
:meth:`TicketKey.generate` or read from an nginx ``ssl_session_ticket_key``
file, so a fleet of servers can share keys with nginx tooling.  Key bytes
never appear in a ``repr``; the name does, because it travels in the clear
in every ticket.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.constant_time import bytes_eq

from tlsspec.runtime.files import FileTooLargeError, NotARegularFileError, read_regular
from tlsspec.runtime.sources import Random, check_callable, checked_random

__all__ = [
    "AES_KEY_LENGTHS",
    "HMAC_KEY_LENGTHS",
    "KEY_NAME_LENGTH",
    "NGINX_AES128_KEY_FILE_LENGTH",
    "NGINX_AES256_KEY_FILE_LENGTH",
    "TicketKey",
]

# RFC 5077 §4: opaque key_name[16], the name every ticket carries.
KEY_NAME_LENGTH: Final = 16

#: AES-128 or AES-256.
AES_KEY_LENGTHS: Final = (16, 32)
#: HMAC-SHA-256 keys of the two sizes nginx key files carry.
HMAC_KEY_LENGTHS: Final = (16, 32)
# RFC 5077 §4: "one 256-bit key for HMAC-SHA-256".
_GENERATED_HMAC_KEY_LENGTH: Final = 32

# nginx ssl_session_ticket_key files, as nginx's ngx_ssl_session_ticket_keys()
# reads them: 48 bytes are name | AES-128 key | HMAC key (16 each); 80 bytes
# are name | HMAC key (32) | AES-256 key (32).  Note the swapped order.
NGINX_AES128_KEY_FILE_LENGTH: Final = 48
NGINX_AES256_KEY_FILE_LENGTH: Final = 80
_AES128_KEY_LENGTH: Final = 16
_NGINX_LONG_HMAC_KEY: Final = 32


def _require(name: str, value: object, allowed: tuple[int, ...]) -> None:
    if not isinstance(value, bytes):
        raise TypeError(f"{name} must be bytes, got {type(value).__name__}")
    if len(value) not in allowed:
        expected = " or ".join(str(n) for n in allowed)
        raise ValueError(f"{name} must be {expected} bytes, got {len(value)}")


def _wrong_key_file_size(size: int) -> ValueError:
    return ValueError(
        f"nginx session ticket key is {size} bytes; expected "
        f"{NGINX_AES128_KEY_FILE_LENGTH} (name, AES-128 key, HMAC key) or "
        f"{NGINX_AES256_KEY_FILE_LENGTH} (name, HMAC key, AES-256 key)"
    )


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class TicketKey:
    """One ticket key set: the name that travels in tickets, and two keys.

    Keys compare equal in constant time, and their ``repr`` shows only the
    public name and the key sizes.

    Attributes:
        name: 16 bytes, sent in the clear as ``ticket.key_name`` so the
            server can tell which key sealed a ticket.
        aes_key: 16 bytes (AES-128) or 32 bytes (AES-256).
        hmac_key: 16 or 32 bytes, for HMAC-SHA-256.

    Raises:
        TypeError: A field is not ``bytes``.
        ValueError: A field has the wrong length.
    """

    name: bytes
    aes_key: bytes
    hmac_key: bytes

    def __post_init__(self) -> None:
        _require("TicketKey.name", self.name, (KEY_NAME_LENGTH,))
        _require("TicketKey.aes_key", self.aes_key, AES_KEY_LENGTHS)
        _require("TicketKey.hmac_key", self.hmac_key, HMAC_KEY_LENGTHS)

    def __repr__(self) -> str:
        return (
            f"TicketKey(name={self.name.hex()}, "
            f"aes_key=<{8 * len(self.aes_key)} bits>, "
            f"hmac_key=<{8 * len(self.hmac_key)} bits>)"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TicketKey):
            return NotImplemented
        # Secrets are never compared with ==, which stops at the first
        # differing byte.
        return (
            self.name == other.name
            and bytes_eq(self.aes_key, other.aes_key)
            and bytes_eq(self.hmac_key, other.hmac_key)
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def generate(
        cls, *, aes_key_length: int = 16, random: Random = os.urandom
    ) -> TicketKey:
        """Make a key set from fresh random bytes.

        The HMAC key is 32 bytes whatever the AES key length: RFC 5077 §4
        pairs AES-128 with a 256-bit HMAC-SHA-256 key.

        Args:
            aes_key_length: 16 for AES-128, 32 for AES-256.
            random: Source of random bytes, called as ``random(n)``.

        Returns:
            A new key with a random name.

        Raises:
            TypeError: ``aes_key_length`` is not an int, ``random`` is not
                callable, or it returned something other than bytes.
            ValueError: ``aes_key_length`` is neither 16 nor 32, or
                ``random(n)`` returned other than ``n`` bytes.
        """
        if type(aes_key_length) is not int:
            raise TypeError(
                f"aes_key_length: expected an int (16 or 32), "
                f"got {type(aes_key_length).__name__}"
            )
        if aes_key_length not in AES_KEY_LENGTHS:
            raise ValueError(
                f"aes_key_length must be 16 or 32 bytes, got {aes_key_length}"
            )
        check_callable("random", random)
        random = checked_random(random)
        return cls(
            name=random(KEY_NAME_LENGTH),
            aes_key=random(aes_key_length),
            hmac_key=random(_GENERATED_HMAC_KEY_LENGTH),
        )

    @classmethod
    def from_nginx_bytes(cls, data: bytes) -> TicketKey:
        """Read the contents of an nginx ``ssl_session_ticket_key`` file.

        48 bytes hold name, AES-128 key and HMAC key, 16 bytes each.  80
        bytes hold name (16), HMAC key (32), then AES-256 key (32): nginx
        puts the HMAC key first in the longer layout.

        Args:
            data: The whole file, 48 or 80 bytes.

        Returns:
            The key set, with the key sizes the layout implies.

        Raises:
            ValueError: ``data`` is neither 48 nor 80 bytes long.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(
                f"nginx key file contents must be bytes, got {type(data).__name__}"
            )
        data = bytes(data)
        name, rest = data[:KEY_NAME_LENGTH], data[KEY_NAME_LENGTH:]
        if len(data) == NGINX_AES128_KEY_FILE_LENGTH:
            aes_key, hmac_key = rest[:_AES128_KEY_LENGTH], rest[_AES128_KEY_LENGTH:]
            return cls(name=name, aes_key=aes_key, hmac_key=hmac_key)
        if len(data) == NGINX_AES256_KEY_FILE_LENGTH:
            hmac_key, aes_key = rest[:_NGINX_LONG_HMAC_KEY], rest[_NGINX_LONG_HMAC_KEY:]
            return cls(name=name, aes_key=aes_key, hmac_key=hmac_key)
        raise _wrong_key_file_size(len(data))

    @classmethod
    def from_nginx_file(cls, path: str | os.PathLike[str]) -> TicketKey:
        """Load an nginx ``ssl_session_ticket_key`` file.

        Args:
            path: The key file, e.g. one made with ``openssl rand 80``.

        Returns:
            The key set the file holds.

        Raises:
            TypeError: ``path`` is not a path (a file descriptor, say).
            OSError: The file cannot be read.
            ValueError: The file is not a regular file (a device, a FIFO,
                a directory), or is neither 48 nor 80 bytes long; the
                message names the file.  At most 81 bytes are read.
        """
        if not isinstance(path, str | os.PathLike):
            raise TypeError(
                f"path must be a str or os.PathLike, got {type(path).__name__}"
            )
        try:
            data = read_regular(path, limit=NGINX_AES256_KEY_FILE_LENGTH)
        except NotARegularFileError:
            raise ValueError(
                f"{os.fspath(path)}: not a regular file; an nginx session "
                f"ticket key file holds {NGINX_AES128_KEY_FILE_LENGTH} or "
                f"{NGINX_AES256_KEY_FILE_LENGTH} bytes"
            ) from None
        except FileTooLargeError as error:
            raise ValueError(
                f"{os.fspath(path)}: {_wrong_key_file_size(error.size)}"
            ) from None
        try:
            return cls.from_nginx_bytes(data)
        except ValueError as exc:
            raise ValueError(f"{os.fspath(path)}: {exc}") from None
