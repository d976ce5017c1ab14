"""What a client or server is willing to do: suites, groups, ALPN, keys.

A config is frozen and may be shared by any number of connections, so the
work that does not depend on the peer (normalizing names, parsing the
certificate chain into the bytes the Certificate message carries) is done
once here.  The clock and the random source are part of the config, so a
test injects both and gets the same bytes on every run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tlsspec.errors import EncodeError
from tlsspec.generated.extensions import NamedGroup, SignatureScheme
from tlsspec.generated.handshake import Handshake, HandshakeType
from tlsspec.runtime.certificates import load_system_trust_anchors
from tlsspec.runtime.keyexchange import (
    DEFAULT_GROUPS,
    PrivateKey,
    authentication_of,
    certificate_group,
    signature_preference,
)
from tlsspec.runtime.keylog import KeyLogWriter
from tlsspec.runtime.limits import DEFAULT_LIMITS, Limits
from tlsspec.runtime.suites import ALL_SUITES, SUITES_BY_CODE, CipherSuite
from tlsspec.runtime.tickets import TicketKeyRing

__all__ = ["DEFAULT_TICKET_LIFETIME", "ClientConfig", "ServerConfig"]

#: RFC 5077 §5.6 leaves the lifetime to the server; OpenSSL's default.
DEFAULT_TICKET_LIFETIME: Final = 7200

Clock = Callable[[], float]
Random = Callable[[int], bytes]
SuiteSpec: TypeAlias = CipherSuite | int | str

_SUITES_BY_NAME: Final = {suite.name: suite for suite in ALL_SUITES}
# RFC 7301 §3.1: ProtocolName<1..2^8-1>.
_ALPN_MAX: Final = 255
_UINT32_MAX: Final = 2**32 - 1


def _suites(spec: Sequence[SuiteSpec] | None) -> tuple[CipherSuite, ...]:
    if spec is None:
        return ALL_SUITES
    suites = []
    for item in spec:
        if isinstance(item, CipherSuite):
            suite = item
        elif isinstance(item, str):
            suite = _SUITES_BY_NAME.get(item)  # type: ignore[assignment]
        else:
            suite = SUITES_BY_CODE.get(int(item))  # type: ignore[assignment]
        if suite is None:
            raise ValueError(f"cipher_suites: {item!r} is not an implemented suite")
        if suite not in suites:
            suites.append(suite)
    if not suites:
        raise ValueError("cipher_suites: empty; expected at least one suite")
    return tuple(suites)


def _alpn(protocols: Sequence[str | bytes]) -> tuple[bytes, ...]:
    # A bare name would otherwise be read as a sequence of one-letter names.
    if isinstance(protocols, str | bytes | bytearray):
        raise TypeError(
            f"alpn_protocols: {protocols!r} is one name; expected a sequence of "
            f"names, e.g. [{protocols!r}]"
        )
    names = []
    for protocol in protocols:
        name = protocol.encode("utf-8") if isinstance(protocol, str) else protocol
        if not 1 <= len(name) <= _ALPN_MAX:
            raise ValueError(
                f"alpn_protocols: {protocol!r} is {len(name)} bytes, expected "
                f"1 to {_ALPN_MAX} (RFC 7301 §3.1)"
            )
        names.append(bytes(name))
    return tuple(names)


def _groups(groups: Sequence[NamedGroup | int]) -> tuple[NamedGroup, ...]:
    chosen = []
    for group in groups:
        if group not in DEFAULT_GROUPS:
            raise ValueError(f"groups: {group!r} is not implemented")
        chosen.append(NamedGroup(group))
    if not chosen:
        raise ValueError("groups: empty; expected at least one group")
    return tuple(chosen)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """How a client connects.

    Args:
        trust_anchors: Root certificates to verify servers against; None
            reads the system bundle (see
            :func:`~tlsspec.runtime.certificates.load_system_trust_anchors`).
        verify: Check the server's chain and host name.  ``False`` only by
            explicit choice: the connection is then open to anyone in the
            middle.
        alpn_protocols: ALPN names to offer, most preferred first.
        cipher_suites: Suites to offer in preference order (rows of
            :mod:`~tlsspec.runtime.suites`, IANA names or codes); None
            offers every implemented suite.
        groups: ECDHE groups to offer, most preferred first.
        clock: Seconds since the epoch.
        random: Source of random bytes, ``random(n)``.
        keylog: Write each master secret here (debugging only).
        limits: What a connection accepts and holds from the server; see
            :mod:`~tlsspec.runtime.limits`.

    Raises:
        ValueError: A suite, group or ALPN name is invalid, or ``limits``
            is not a :class:`~tlsspec.runtime.limits.Limits`.
    """

    trust_anchors: tuple[x509.Certificate, ...] | None = None
    verify: bool = True
    alpn_protocols: tuple[bytes, ...] = ()
    cipher_suites: tuple[CipherSuite, ...] | None = None
    groups: tuple[NamedGroup, ...] = DEFAULT_GROUPS
    clock: Clock = field(default=time.time, repr=False)
    random: Random = field(default=os.urandom, repr=False)
    keylog: KeyLogWriter | None = field(default=None, repr=False)
    limits: Limits = DEFAULT_LIMITS

    def __post_init__(self) -> None:
        _check_limits(self.limits)
        anchors = self.trust_anchors
        if anchors is None:
            anchors = load_system_trust_anchors() if self.verify else ()
        object.__setattr__(self, "trust_anchors", tuple(anchors))
        object.__setattr__(self, "alpn_protocols", _alpn(self.alpn_protocols))
        object.__setattr__(self, "cipher_suites", _suites(self.cipher_suites))
        object.__setattr__(self, "groups", _groups(self.groups))


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How a server answers.

    Args:
        certificate_chain: The server's certificates, leaf first.
        private_key: The leaf's RSA or ECDSA (P-256, P-384) private key.
        ticket_keys: Keys that seal session tickets (RFC 5077); None
            issues no tickets and resumes nothing.
        ticket_lifetime: Seconds a ticket stays valid, announced as
            ticket_lifetime_hint.
        alpn_protocols: ALPN names accepted, most preferred first; empty
            ignores the client's ALPN offer.
        cipher_suites: Suites accepted in preference order, as for
            :class:`ClientConfig`; only those fitting the key are used.
        groups: ECDHE groups accepted, most preferred first.
        clock: Seconds since the epoch.
        random: Source of random bytes, ``random(n)``.
        keylog: Write each master secret here (debugging only).
        tls13_downgrade_sentinel: End ServerHello.random with RFC 8446
            §4.1.3's DOWNGRD\\x01 when the client offered TLS 1.3.  Only
            right when this engine serves the TLS 1.2 clients of a TLS 1.3
            front end: a TLS 1.3 client that reaches a TLS 1.2-only server
            and sees the sentinel aborts, as RFC 8446 tells it to.
        limits: What a connection accepts and holds from the client; see
            :mod:`~tlsspec.runtime.limits`.

    Raises:
        ValueError: The chain is empty, the key does not match the leaf or
            is of an unsupported type, no configured suite fits the key, a
            suite, group or ALPN name is invalid, ``limits`` is not a
            :class:`~tlsspec.runtime.limits.Limits`, or the chain is too
            large for a Certificate message (2^24 - 1 bytes).
    """

    certificate_chain: tuple[x509.Certificate, ...]
    private_key: PrivateKey = field(repr=False)
    ticket_keys: TicketKeyRing | None = field(default=None, kw_only=True, repr=False)
    ticket_lifetime: int = field(default=DEFAULT_TICKET_LIFETIME, kw_only=True)
    alpn_protocols: tuple[bytes, ...] = field(default=(), kw_only=True)
    cipher_suites: tuple[CipherSuite, ...] | None = field(default=None, kw_only=True)
    groups: tuple[NamedGroup, ...] = field(default=DEFAULT_GROUPS, kw_only=True)
    clock: Clock = field(default=time.time, kw_only=True, repr=False)
    random: Random = field(default=os.urandom, kw_only=True, repr=False)
    keylog: KeyLogWriter | None = field(default=None, kw_only=True, repr=False)
    tls13_downgrade_sentinel: bool = field(default=False, kw_only=True)
    limits: Limits = field(default=DEFAULT_LIMITS, kw_only=True)
    #: The DER certificates the Certificate message carries, leaf first.
    certificate_der: tuple[bytes, ...] = field(init=False, repr=False)
    #: The whole Certificate handshake message (RFC 5246 §7.4.2), header
    #: included: it is the same in every handshake, so it is encoded once.
    certificate_message: bytes = field(init=False, repr=False)
    #: The curve of an ECDSA certificate key (RFC 8422 §5.1); None for RSA.
    certificate_group: NamedGroup | None = field(init=False, repr=False)
    #: The schemes the key signs with, most preferred first.
    signature_preference: tuple[SignatureScheme, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_limits(self.limits)
        chain = tuple(self.certificate_chain)
        if not chain:
            raise ValueError("certificate_chain: empty; expected the leaf first")
        authentication = authentication_of(self.private_key)
        if authentication is None:
            raise ValueError(
                "private_key: expected an RSA key or an ECDSA key on P-256 or P-384"
            )
        if _spki(chain[0].public_key()) != _spki(self.private_key.public_key()):
            raise ValueError("private_key: does not match the leaf certificate")
        suites = tuple(
            suite
            for suite in _suites(self.cipher_suites)
            if suite.authentication is authentication
        )
        if not suites:
            raise ValueError(
                f"cipher_suites: none fits a {authentication.name} certificate key"
            )
        if not 0 <= self.ticket_lifetime <= _UINT32_MAX:
            raise ValueError(
                f"ticket_lifetime: {self.ticket_lifetime}, expected a uint32"
            )
        object.__setattr__(self, "certificate_chain", chain)
        object.__setattr__(self, "cipher_suites", suites)
        object.__setattr__(self, "alpn_protocols", _alpn(self.alpn_protocols))
        object.__setattr__(self, "groups", _groups(self.groups))
        der = tuple(certificate.public_bytes(Encoding.DER) for certificate in chain)
        object.__setattr__(self, "certificate_der", der)
        object.__setattr__(self, "certificate_message", _certificate_message(der))
        # Worked out once: each asks the key abstract-class questions that
        # would otherwise cost every handshake.
        group = certificate_group(self.private_key)
        object.__setattr__(self, "certificate_group", group)
        preference = signature_preference(self.private_key)
        object.__setattr__(self, "signature_preference", preference)


def _certificate_message(der: tuple[bytes, ...]) -> bytes:
    # RFC 5246 §7.4.2: ASN.1Cert<1..2^24-1> certificate_list<0..2^24-1>.
    try:
        return Handshake.build(
            {
                "msg_type": HandshakeType.certificate,
                "body": {"certificate_list": list(der)},
            }
        )
    except EncodeError as error:
        raise ValueError(
            f"certificate_chain: does not fit a Certificate message: {error}"
        ) from None


def _check_limits(limits: object) -> None:
    if not isinstance(limits, Limits):
        raise ValueError(
            f"limits: {type(limits).__name__}, expected a runtime.limits.Limits"
        )


def _spki(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined]
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    )
