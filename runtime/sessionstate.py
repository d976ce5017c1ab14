"""The session state a ticket carries, encoded as ``StatePlaintext``.

:class:`SessionState` is what a server seals into a ticket and reads back
when the client resumes: RFC 5077 §4's fields plus the master secret kind
(RFC 7627), the lifetime granted, the server name and the ALPN protocol.
It is encoded with the generated ``StatePlaintext`` codec; decoding refuses
any state this runtime could not have written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from types import MappingProxyType, UnionType
from typing import Final

from cryptography.hazmat.primitives.constant_time import bytes_eq

from tlsspec.errors import DecodeError
from tlsspec.generated.handshake import CipherSuite, CompressionMethod
from tlsspec.generated.record import ProtocolVersion
from tlsspec.generated.ticket import (
    ClientAuthenticationType,
    MasterSecretKind,
    StatePlaintext,
)
from tlsspec.runtime.prf import MASTER_SECRET_LENGTH

__all__ = ["SessionState"]

# RFC 6066 §3: HostName<1..2^16-1>; RFC 7301 §3.1: ProtocolName<1..2^8-1>.
_MAX_SERVER_NAME_LENGTH: Final = 2**16 - 1
_MAX_ALPN_LENGTH: Final = 2**8 - 1
_MAX_UINT16: Final = 2**16 - 1
_MAX_UINT32: Final = 2**32 - 1

# The StatePlaintext values this runtime writes, looked up once.
_NULL_COMPRESSION: Final = CompressionMethod.null
_ANONYMOUS: Final = ClientAuthenticationType.anonymous
_NO_CLIENT_IDENTITY: Final = MappingProxyType(
    {"client_authentication_type": _ANONYMOUS}
)
_STANDARD: Final = MasterSecretKind.standard
_EXTENDED: Final = MasterSecretKind.extended


def _unresumable(field_name: str, reason: str) -> DecodeError:
    path = f"StatePlaintext.{field_name}"
    return DecodeError(reason, path=path, alert="illegal_parameter")


def _check_type(name: str, value: object, expected: type | UnionType) -> None:
    if not isinstance(value, expected):
        wanted = getattr(expected, "__name__", None) or str(expected)
        raise TypeError(
            f"SessionState.{name} must be {wanted}, got {type(value).__name__}"
        )


def _check_range(name: str, value: int, maximum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"SessionState.{name} must be an int, got {value!r}")
    if not 0 <= value <= maximum:
        raise ValueError(f"SessionState.{name} must be 0 to {maximum}, got {value}")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SessionState:
    """The state a ticket carries to resume a TLS 1.2 session.

    Encoded as the generated ``StatePlaintext``: RFC 5077 §4's fields plus
    the master secret kind (RFC 7627 §5.3 forbids resuming across a
    difference in extended master secret use), the lifetime granted, the
    server name (RFC 6066 §3) and the ALPN protocol (RFC 7301).  The master
    secret stays out of ``repr`` and is compared in constant time.

    LIMITATION: only sessions without client authentication are carried
    (client_identity is always ``anonymous``); matters once the server asks
    for client certificates or runs PSK suites; instead such a session
    should not be sealed, and a ticket naming another identity does not
    decode.

    Attributes:
        version: The negotiated ProtocolVersion.
        cipher_suite: The negotiated CipherSuite.
        master_secret: The 48-byte master secret.
        extended_master_secret: Whether the master secret is an extended
            one (RFC 7627).
        creation_time: When the session was created, whole seconds since
            the epoch (uint32).
        lifetime: Seconds from ``creation_time`` until the ticket expires
            (uint32); 0 makes a ticket that never opens.
        server_name: The SNI host name of the original handshake, ASCII.
        alpn_protocol: The ALPN protocol selected, 1 to 255 bytes.

    Raises:
        ValueError: A field is out of its range.
    """

    version: ProtocolVersion | int
    cipher_suite: CipherSuite | int
    master_secret: bytes = field(repr=False)
    extended_master_secret: bool
    creation_time: int
    lifetime: int
    server_name: str | None = None
    alpn_protocol: bytes | None = None

    def __post_init__(self) -> None:
        _check_range("version", self.version, _MAX_UINT16)
        _check_range("cipher_suite", self.cipher_suite, _MAX_UINT16)
        _check_range("creation_time", self.creation_time, _MAX_UINT32)
        _check_range("lifetime", self.lifetime, _MAX_UINT32)
        _check_type("master_secret", self.master_secret, bytes)
        _check_type("extended_master_secret", self.extended_master_secret, bool)
        _check_type("server_name", self.server_name, str | None)
        _check_type("alpn_protocol", self.alpn_protocol, bytes | None)
        if len(self.master_secret) != MASTER_SECRET_LENGTH:
            raise ValueError(
                f"SessionState.master_secret must be {MASTER_SECRET_LENGTH} "
                f"bytes, got {len(self.master_secret)}"
            )
        name = self.server_name
        if name is not None and not (
            name.isascii() and 1 <= len(name) <= _MAX_SERVER_NAME_LENGTH
        ):
            raise ValueError(
                "SessionState.server_name must be 1 to 65535 ASCII characters "
                f"(RFC 6066 §3), got {name!r}; use None for no name"
            )
        alpn = self.alpn_protocol
        if alpn is not None and not 1 <= len(alpn) <= _MAX_ALPN_LENGTH:
            raise ValueError(
                "SessionState.alpn_protocol must be 1 to 255 bytes, "
                f"got {len(alpn)}; use None for no protocol"
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SessionState):
            return NotImplemented
        return all(
            getattr(self, name) == getattr(other, name) for name in _PUBLIC_FIELDS
        ) and bytes_eq(self.master_secret, other.master_secret)

    __hash__ = None  # type: ignore[assignment]

    def to_bytes(self) -> bytes:
        """Encode the state as a ``StatePlaintext``.

        Returns:
            The encoded state, ready for :meth:`TicketKeyRing.seal`.

        Raises:
            EncodeError: A value does not fit its field.
        """
        kind = _EXTENDED if self.extended_master_secret else _STANDARD
        server_name = b"" if self.server_name is None else self.server_name.encode()
        return StatePlaintext.build(
            {
                "protocol_version": self.version,
                "cipher_suite": self.cipher_suite,
                "compression_method": _NULL_COMPRESSION,
                "master_secret": self.master_secret,
                "client_identity": _NO_CLIENT_IDENTITY,
                "timestamp": self.creation_time,
                "master_secret_kind": kind,
                "lifetime": self.lifetime,
                "server_name": server_name,
                "alpn_protocol": self.alpn_protocol or b"",
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SessionState:
        """Decode a ``StatePlaintext``.

        Args:
            data: The encoded state, e.g. :attr:`Unsealed.state`.

        Returns:
            The state; an empty server name or ALPN protocol becomes None.

        Raises:
            DecodeError: ``data`` is not exactly one ``StatePlaintext``, or
                names a compression method, client identity, master secret
                kind or server name this runtime does not resume.
        """
        plain = StatePlaintext.parse(data)

        # Only what this runtime can produce is resumable: null compression
        # (RFC 5246 §6.2.2), no client authentication, a known EMS flag.
        compression = plain["compression_method"]
        if compression != _NULL_COMPRESSION:
            raise _unresumable("compression_method", f"{compression} is not null")
        identity = plain["client_identity"]["client_authentication_type"]
        if identity != _ANONYMOUS:
            raise _unresumable("client_identity", f"{identity} is not anonymous")
        kind = plain["master_secret_kind"]
        if kind != _STANDARD and kind != _EXTENDED:
            raise _unresumable("master_secret_kind", f"unknown kind {kind}")
        server_name = plain["server_name"]
        if not server_name.isascii():
            raise _unresumable("server_name", "not ASCII (RFC 6066 §3)")

        return cls(
            version=plain["protocol_version"],
            cipher_suite=plain["cipher_suite"],
            master_secret=plain["master_secret"],
            extended_master_secret=kind == _EXTENDED,
            creation_time=plain["timestamp"],
            lifetime=plain["lifetime"],
            server_name=server_name.decode("ascii") if server_name else None,
            alpn_protocol=plain["alpn_protocol"] or None,
        )


_PUBLIC_FIELDS: Final = tuple(
    f.name for f in fields(SessionState) if f.name != "master_secret"
)
