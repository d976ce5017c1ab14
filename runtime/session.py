"""What a client keeps to resume a session with a ticket (RFC 5077 §3.4).

The server keeps nothing: the session state rides inside the ticket, which
the client cannot read.  So the client keeps, beside the opaque ticket, its
own copy of what the abbreviated handshake needs: the master secret, the
cipher suite the server must pick again (RFC 5246 §7.4.1.3), whether the
master secret is an extended one (RFC 7627 §5.3 forbids resuming across a
difference), when the ticket arrived and how long the server said it lasts
(RFC 5077 §3.3), the server name it was issued for (RFC 6066 §3: a
session is only resumed with the same name), and which trust anchors the
server's certificate was verified against: a resumed handshake sends no
certificate, so a client that verifies offers only sessions verified under
its own anchors, never one from a connection that skipped verification.

:meth:`Session.to_bytes` writes this encoding, version 2, big-endian,
every length checked on read, nothing after the last field::

    struct {
        uint8 format = 2;
        CipherSuite cipher_suite;
        opaque master_secret[48];
        uint8 extended_master_secret;   /* 0 or 1 */
        uint32 lifetime;                /* ticket_lifetime_hint, seconds */
        uint64 received_at;             /* seconds since the epoch */
        opaque server_name<0..2^16-1>;  /* empty: none */
        opaque alpn_protocol<0..2^8-1>; /* empty: none */
        opaque trust_digest<0..32>;     /* empty: not verified */
        opaque ticket<1..2^16-1>;
        opaque check[32];               /* SHA-256 of every byte before */
    } ClientSession;

The check is not a MAC (whoever can write the file can recompute it): it
tells a damaged session file from a stale one, before a flipped bit in the
master secret could surface as ``bad_record_mac`` in the next handshake.
Version 1 had no check and is refused.

LIMITATION: this layout is written by hand rather than generated from
``specs/`` (the engine does not own the specs); matters if it drifts from
the struct above; instead the tests round-trip and truncate every field.
The bytes hold the master secret: store them as securely as a private key.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.constant_time import bytes_eq

from tlsspec.runtime.prf import MASTER_SECRET_LENGTH
from tlsspec.runtime.suites import SUITES_BY_CODE, CipherSuite

__all__ = ["MAX_SESSION_BYTES", "SESSION_FORMAT", "Session"]

#: The version byte :meth:`Session.to_bytes` writes first.
SESSION_FORMAT: Final = 2

# format, cipher_suite, master_secret, extended_master_secret, lifetime,
# received_at.
_FIXED: Final = struct.Struct(f"!BH{MASTER_SECRET_LENGTH}sBIQ")
_UINT8_MAX: Final = 2**8 - 1
_UINT16_MAX: Final = 2**16 - 1
_UINT32_MAX: Final = 2**32 - 1
_UINT64_MAX: Final = 2**64 - 1
# RFC 5077 §3.3: ticket_lifetime_hint 0 means "unspecified".
_LIFETIME_UNSPECIFIED: Final = 0
_CHECK_SIZE: Final = 32
_TRUST_DIGEST_SIZE: Final = 32

#: The most bytes :meth:`Session.to_bytes` can write: the fixed part, then
#: server_name, alpn_protocol and ticket at their largest with their length
#: prefixes.  A reader can refuse a longer file without parsing it.
MAX_SESSION_BYTES: Final = (
    _FIXED.size
    + (2 + _UINT16_MAX)
    + (1 + _UINT8_MAX)
    + (1 + _TRUST_DIGEST_SIZE)
    + (2 + _UINT16_MAX)
    + _CHECK_SIZE
)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Session:
    """A resumable TLS 1.2 session, as the client holds it.

    Sessions compare in constant time and hide the master secret and the
    ticket from ``repr``.

    Attributes:
        ticket: The opaque ticket from NewSessionTicket, 1 to 65535 bytes.
        master_secret: The session's 48-byte master secret.
        cipher_suite: The suite the session was negotiated with.
        extended_master_secret: Whether the master secret is an extended
            one (RFC 7627).
        lifetime: ticket_lifetime_hint in seconds; 0 means unspecified.
        received_at: When the ticket arrived, whole seconds since the epoch.
        server_name: The SNI name of the original connection, or None.
        alpn_protocol: The ALPN protocol of the original connection, or
            None.  Informational: ALPN is renegotiated on resumption
            (RFC 7301 §3.1).
        trust_digest: The :attr:`ClientConfig.trust_digest` of the
            connection that verified the server's certificate, or empty if
            it was not verified.  A client with ``verify=True`` offers the
            session only when its own digest is the same.

    ``cipher_suite`` may also be given as its 16-bit code; it is kept as
    the row of :mod:`~tlsspec.runtime.suites`.

    Raises:
        TypeError: A field has the wrong type.
        ValueError: A field is out of range, the suite is not implemented,
            ``server_name`` is not ASCII, or ``trust_digest`` is neither
            empty nor 32 bytes.
    """

    ticket: bytes = field(repr=False)
    master_secret: bytes = field(repr=False)
    cipher_suite: CipherSuite
    extended_master_secret: bool
    lifetime: int
    received_at: int
    server_name: str | None = None
    alpn_protocol: str | None = None
    trust_digest: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        for name in ("ticket", "master_secret", "trust_digest"):
            object.__setattr__(self, name, _bytes(name, getattr(self, name)))
        object.__setattr__(self, "cipher_suite", _suite(self.cipher_suite))
        if not isinstance(self.extended_master_secret, bool):
            raise TypeError(
                f"Session.extended_master_secret: expected a bool, got "
                f"{type(self.extended_master_secret).__name__}"
            )
        _check_int("lifetime", self.lifetime, "a uint32", _UINT32_MAX)
        _check_int("received_at", self.received_at, "a uint64", _UINT64_MAX)
        _check_str("server_name", self.server_name)
        _check_str("alpn_protocol", self.alpn_protocol)
        if not 1 <= len(self.ticket) <= _UINT16_MAX:
            raise ValueError(
                f"Session.ticket: {len(self.ticket)} bytes, expected 1 to 65535"
            )
        if len(self.trust_digest) not in (0, _TRUST_DIGEST_SIZE):
            raise ValueError(
                f"Session.trust_digest: {len(self.trust_digest)} bytes, "
                f"expected {_TRUST_DIGEST_SIZE} or none"
            )
        if len(self.master_secret) != MASTER_SECRET_LENGTH:
            raise ValueError(
                f"Session.master_secret: {len(self.master_secret)} bytes, "
                f"expected {MASTER_SECRET_LENGTH}"
            )
        if self.server_name is not None and not self.server_name.isascii():
            # RFC 6066 §3: HostName is ASCII; an IDN travels as its A-label.
            raise ValueError(
                f"Session.server_name: {self.server_name!r} is not ASCII; "
                f"expected a host name (an internationalized name as its "
                f"xn-- A-label)"
            )
        if self.server_name is not None and not 1 <= len(_name(self)) <= _UINT16_MAX:
            raise ValueError("Session.server_name: expected 1 to 65535 bytes or None")
        if self.alpn_protocol is not None and not 1 <= len(_alpn(self)) <= _UINT8_MAX:
            raise ValueError("Session.alpn_protocol: expected 1 to 255 bytes or None")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Session):
            return NotImplemented
        public = (
            self.cipher_suite,
            self.extended_master_secret,
            self.lifetime,
            self.received_at,
            self.server_name,
            self.alpn_protocol,
        )
        other_public = (
            other.cipher_suite,
            other.extended_master_secret,
            other.lifetime,
            other.received_at,
            other.server_name,
            other.alpn_protocol,
        )
        # Secrets are never compared with ==, which stops at the first
        # differing byte.
        return (
            public == other_public
            and bytes_eq(self.master_secret, other.master_secret)
            and bytes_eq(self.ticket, other.ticket)
            and bytes_eq(self.trust_digest, other.trust_digest)
        )

    __hash__ = None  # type: ignore[assignment]

    def expired(self, now: float) -> bool:
        """Whether the server's lifetime hint has run out at ``now``.

        Args:
            now: Seconds since the epoch.

        Returns:
            True once ``received_at + lifetime`` has passed; never for an
            unspecified (zero) lifetime, which the server judges instead.
        """
        if self.lifetime == _LIFETIME_UNSPECIFIED:
            return False
        return now >= self.received_at + self.lifetime

    def to_bytes(self) -> bytes:
        """Encode the session (format 2, see the module docstring).

        Returns:
            The bytes; they contain the master secret.
        """
        fixed = _FIXED.pack(
            SESSION_FORMAT,
            self.cipher_suite.code,
            self.master_secret,
            int(self.extended_master_secret),
            self.lifetime,
            self.received_at,
        )
        name = _name(self)
        alpn = _alpn(self)
        body = b"".join(
            (
                fixed,
                len(name).to_bytes(2, "big"),
                name,
                len(alpn).to_bytes(1, "big"),
                alpn,
                len(self.trust_digest).to_bytes(1, "big"),
                self.trust_digest,
                len(self.ticket).to_bytes(2, "big"),
                self.ticket,
            )
        )
        return body + _check(body)

    @classmethod
    def from_bytes(cls, data: bytes) -> Session:
        """Decode what :meth:`to_bytes` wrote.

        Args:
            data: The encoded session.

        Returns:
            The session.

        Raises:
            TypeError: ``data`` is not bytes, bytearray or memoryview.
            ValueError: Unknown format, a check that does not match (the
                bytes were damaged), unknown cipher suite, a length that
                runs past the end, a server name that is not ASCII, or bytes
                left over.
        """
        # bytes() would read an int as that many zero bytes.
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(
                f"Session.from_bytes: expected bytes, got {type(data).__name__}"
            )
        data = bytes(data)
        if data[:1] and data[0] != SESSION_FORMAT:
            raise ValueError(f"Session.format: {data[0]}, expected {SESSION_FORMAT}")
        if len(data) < _FIXED.size + _CHECK_SIZE:
            raise ValueError(
                f"Session: {len(data)} bytes, shorter than the fixed "
                f"{_FIXED.size}-byte part and the {_CHECK_SIZE}-byte check"
            )
        data, check = data[:-_CHECK_SIZE], data[-_CHECK_SIZE:]
        if not bytes_eq(check, _check(data)):
            raise ValueError(
                "Session.check: the SHA-256 check does not match; the session "
                "is damaged"
            )
        _, code, master, ems, lifetime, received_at = _FIXED.unpack_from(data)
        suite = SUITES_BY_CODE.get(code)
        if suite is None:
            raise ValueError(f"Session.cipher_suite: 0x{code:04X} is not implemented")
        if ems not in (0, 1):
            raise ValueError(f"Session.extended_master_secret: {ems}, expected 0 or 1")

        reader = _Reader(data, _FIXED.size)
        name = reader.vector("server_name", 2)
        alpn = reader.vector("alpn_protocol", 1)
        trust_digest = reader.vector("trust_digest", 1)
        ticket = reader.vector("ticket", 2)
        reader.finish()
        try:
            server_name = name.decode("ascii") if name else None
        except UnicodeDecodeError:
            raise ValueError(
                f"Session.server_name: {name!r} is not ASCII, expected a host name"
            ) from None
        return cls(
            ticket=ticket,
            master_secret=master,
            cipher_suite=suite,
            extended_master_secret=bool(ems),
            lifetime=lifetime,
            received_at=received_at,
            server_name=server_name,
            alpn_protocol=alpn.decode("utf-8", "surrogateescape") if alpn else None,
            trust_digest=trust_digest,
        )


def _check(body: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(body)
    return digest.finalize()


def _bytes(name: str, value: object) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"Session.{name}: expected bytes, got {type(value).__name__}")
    return bytes(value)


def _suite(value: object) -> CipherSuite:
    if isinstance(value, CipherSuite):
        return value
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(
            f"Session.cipher_suite: expected a CipherSuite or its 16-bit code, "
            f"got {type(value).__name__}"
        )
    suite = SUITES_BY_CODE.get(value)
    if suite is None:
        raise ValueError(f"Session.cipher_suite: 0x{value:04X} is not implemented")
    return suite


def _check_int(name: str, value: object, expected: str, maximum: int) -> None:
    # struct.pack would refuse a float or a str only when the session is
    # written, far from the mistake.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(
            f"Session.{name}: expected an int ({expected}), got {type(value).__name__}"
        )
    if not 0 <= value <= maximum:
        raise ValueError(f"Session.{name}: {value}, expected {expected}")


def _check_str(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(
            f"Session.{name}: expected a str or None, got {type(value).__name__}"
        )


def _name(session: Session) -> bytes:
    if session.server_name is None:
        return b""
    return session.server_name.encode("ascii")


def _alpn(session: Session) -> bytes:
    if session.alpn_protocol is None:
        return b""
    return session.alpn_protocol.encode("utf-8", "surrogateescape")


class _Reader:
    # Length-prefixed vectors from a bytes object, each bound checked.
    def __init__(self, data: bytes, position: int) -> None:
        self._data = data
        self._position = position

    def vector(self, name: str, prefix: int) -> bytes:
        start = self._position + prefix
        if start > len(self._data):
            raise ValueError(f"Session.{name}: length prefix runs past the end")
        length = int.from_bytes(self._data[self._position : start], "big")
        end = start + length
        if end > len(self._data):
            raise ValueError(
                f"Session.{name}: {length} bytes declared, "
                f"{len(self._data) - start} left"
            )
        self._position = end
        return self._data[start:end]

    def finish(self) -> None:
        left = len(self._data) - self._position
        if left:
            raise ValueError(f"Session: {left} bytes after the ticket, expected none")
