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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, get_args

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
    PublicKeyTypes,
)
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
from tlsspec.runtime.sources import Clock, Random, check_callable
from tlsspec.runtime.suites import ALL_SUITES, SUITES_BY_CODE, CipherSuite
from tlsspec.runtime.tickets import TicketKey, TicketKeyRing

__all__ = ["DEFAULT_TICKET_LIFETIME", "ClientConfig", "ConfigError", "ServerConfig"]

#: RFC 5077 §5.6 leaves the lifetime to the server; OpenSSL's default.
DEFAULT_TICKET_LIFETIME: Final = 7200


class ConfigError(ValueError):
    """A config field holds a value that cannot be used.

    The message is ``"<field>: <reason>"``; the attributes let a front end
    name its own option or file for the field instead.

    Attributes:
        field: The field the message names.
        reason: What is wrong with it.
        fields: Every field the problem involves, ``field`` first (a key
            that does not match the leaf involves the chain too).
    """

    def __init__(self, field: str, reason: str, *, also: tuple[str, ...] = ()) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.fields = (field, *also)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling and copying rebuild from the parts, not from args.
        return (_config_error, (self.field, self.reason, self.fields[1:]))


def _config_error(field: str, reason: str, also: tuple[str, ...]) -> ConfigError:
    return ConfigError(field, reason, also=also)


SuiteSpec: TypeAlias = CipherSuite | int | str
GroupSpec: TypeAlias = NamedGroup | int | str

_SUITES_BY_NAME: Final = {suite.name: suite for suite in ALL_SUITES}
# RFC 7301 §3.1: ProtocolName<1..2^8-1>.
_ALPN_MAX: Final = 255
# RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>, which with
# its own 2-byte length must fit Extension.extension_data<0..2^16-1>.
_ALPN_LIST_MAX: Final = 2**16 - 1 - 2
_UINT32_MAX: Final = 2**32 - 1
# The key classes cryptography defines, to tell a key object from PEM bytes.
_PRIVATE_KEY_CLASSES: Final[tuple[type, ...]] = get_args(PrivateKeyTypes)
#: The smallest RSA certificate key a server accepts, in bits.
MIN_RSA_BITS: Final = 2048
_PUBLIC_KEY_CLASSES: Final[tuple[type, ...]] = get_args(PublicKeyTypes)


def _suites(spec: Sequence[SuiteSpec] | None) -> tuple[CipherSuite, ...]:
    if spec is None:
        return ALL_SUITES
    suites = []
    for index, item in enumerate(_items("cipher_suites", spec, "suites")):
        if isinstance(item, CipherSuite):
            suite = item
        elif isinstance(item, str):
            suite = _SUITES_BY_NAME.get(item)  # type: ignore[assignment]
        elif isinstance(item, int) and not isinstance(item, bool):
            suite = SUITES_BY_CODE.get(item)  # type: ignore[assignment]
        else:
            raise TypeError(
                f"cipher_suites[{index}]: {type(item).__name__}, expected a "
                f"CipherSuite, an IANA name or a 16-bit code"
            )
        if suite is None:
            raise ConfigError("cipher_suites", f"{item!r} is not an implemented suite")
        if suite not in suites:
            suites.append(suite)
    if not suites:
        raise ConfigError("cipher_suites", "empty; expected at least one suite")
    return tuple(suites)


def _items(name: str, value: object, what: str) -> Iterable[object]:
    # A bare name would otherwise be read as a sequence of one-letter names.
    if isinstance(value, str | bytes | bytearray):
        raise TypeError(
            f"{name}: expected a sequence of {what}, got a "
            f"{type(value).__name__}; one name alone is [{value!r}]"
        )
    if not isinstance(value, Iterable):
        raise TypeError(
            f"{name}: expected a sequence of {what}, got {type(value).__name__}"
        )
    return value


def _alpn(protocols: Sequence[str | bytes]) -> tuple[bytes, ...]:
    names = []
    for index, protocol in enumerate(_items("alpn_protocols", protocols, "names")):
        if isinstance(protocol, str):
            try:
                name = protocol.encode("utf-8")
            except UnicodeEncodeError:
                # A surrogate, e.g. from a command line in another encoding.
                raise ConfigError(
                    "alpn_protocols", f"{protocol!r} is not encodable as UTF-8"
                ) from None
        elif isinstance(protocol, bytes | bytearray | memoryview):
            name = bytes(protocol)
        else:
            raise TypeError(
                f"alpn_protocols[{index}]: {type(protocol).__name__}, "
                f"expected a str or bytes name"
            )
        if not 1 <= len(name) <= _ALPN_MAX:
            raise ConfigError(
                "alpn_protocols",
                f"{protocol!r} is {len(name)} bytes, expected "
                f"1 to {_ALPN_MAX} (RFC 7301 §3.1)",
            )
        names.append(name)
    # Each name travels behind its 1-byte length.
    total = sum(1 + len(name) for name in names)
    if total > _ALPN_LIST_MAX:
        raise ConfigError(
            "alpn_protocols",
            f"{total} bytes encoded, expected at most "
            f"{_ALPN_LIST_MAX} to fit one extension (RFC 7301 §3.1)",
        )
    return tuple(names)


def _groups(groups: Sequence[GroupSpec]) -> tuple[NamedGroup, ...]:
    chosen = []
    for index, item in enumerate(_items("groups", groups, "groups")):
        if isinstance(item, str):
            group: object = NamedGroup.__members__.get(item, item)
        elif isinstance(item, int) and not isinstance(item, bool):
            group = item
        else:
            raise TypeError(
                f"groups[{index}]: {type(item).__name__}, expected a "
                f"NamedGroup, a name such as 'x25519' or a 16-bit code"
            )
        if group not in DEFAULT_GROUPS:
            implemented = ", ".join(g.name for g in DEFAULT_GROUPS)
            raise ConfigError(
                "groups", f"{item!r} is not implemented; expected one of {implemented}"
            )
        chosen.append(NamedGroup(group))
    if not chosen:
        raise ConfigError("groups", "empty; expected at least one group")
    return tuple(chosen)


def _certificates(name: str, value: object, hint: str) -> tuple[x509.Certificate, ...]:
    if isinstance(value, x509.Certificate):
        raise TypeError(
            f"{name}: one Certificate; expected a list of x509.Certificate, "
            f"e.g. [{hint}]"
        )
    if isinstance(value, str | bytes | bytearray) or not isinstance(value, Iterable):
        raise TypeError(
            f"{name}: expected a list of x509.Certificate, got "
            f"{type(value).__name__} (parse PEM with "
            f"x509.load_pem_x509_certificates)"
        )
    certificates = tuple(value)
    for index, certificate in enumerate(certificates):
        if not isinstance(certificate, x509.Certificate):
            raise TypeError(
                f"{name}[{index}]: {type(certificate).__name__}, expected an "
                f"x509.Certificate (parse PEM with "
                f"x509.load_pem_x509_certificate)"
            )
    return certificates


def _check_common(config: ClientConfig | ServerConfig) -> None:
    # The checks both configs share; each names the field it refuses.
    _check_limits(config.limits)
    check_callable("clock", config.clock)
    check_callable("random", config.random)
    if config.keylog is not None and not isinstance(config.keylog, KeyLogWriter):
        raise TypeError(
            f"keylog: expected a KeyLogWriter or None, got "
            f"{type(config.keylog).__name__} (a path goes in KeyLogWriter(path))"
        )


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__}")


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
        groups: ECDHE groups to offer, most preferred first
            (:class:`NamedGroup` members, names such as ``"x25519"`` or
            codes).
        clock: Seconds since the epoch.
        random: Source of random bytes, ``random(n)``.  Connections check
            what the clock and the random source return on each call: a
            wrong value raises TypeError or ValueError from
            ``start_handshake``, or an internal_error from ``receive_data``.
        keylog: Write each master secret here (debugging only).
        limits: What a connection accepts and holds from the server; see
            :mod:`~tlsspec.runtime.limits`.

    Raises:
        TypeError: A field has the wrong type: an anchor that is not an
            ``x509.Certificate``, one name where a sequence is expected, a
            ``keylog`` that is not a KeyLogWriter, a ``clock`` or
            ``random`` that is not callable, ``limits`` that is not a
            :class:`~tlsspec.runtime.limits.Limits`.
        ConfigError: A suite, group or ALPN name is invalid, the ALPN
            names do not fit one extension, or ``trust_anchors`` is empty
            while ``verify`` is on (a ValueError naming the field).
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
    #: SHA-256 over the anchors' fingerprints, in any order; empty when
    #: ``verify`` is off.  Sessions carry it (:attr:`Session.trust_digest`).
    trust_digest: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_common(self)
        _check_bool("verify", self.verify)
        anchors = self.trust_anchors
        if anchors is None:
            anchors = load_system_trust_anchors() if self.verify else ()
        anchors = _certificates("trust_anchors", anchors, "anchor")
        if not anchors and self.verify and self.trust_anchors is not None:
            # No server could ever be verified: every handshake would end
            # in unknown_ca.
            raise ConfigError(
                "trust_anchors",
                "empty, so no server certificate can be verified; pass "
                "anchors, None for the system bundle, or verify=False",
            )
        object.__setattr__(self, "trust_anchors", anchors)
        digest = _trust_digest(anchors) if self.verify else b""
        object.__setattr__(self, "trust_digest", digest)
        object.__setattr__(self, "alpn_protocols", _alpn(self.alpn_protocols))
        object.__setattr__(self, "cipher_suites", _suites(self.cipher_suites))
        object.__setattr__(self, "groups", _groups(self.groups))


def _trust_digest(anchors: tuple[x509.Certificate, ...]) -> bytes:
    # Sorted and deduplicated, so the same anchors in another order, or one
    # given twice, name the same trust.
    fingerprints = sorted({anchor.fingerprint(hashes.SHA256()) for anchor in anchors})
    digest = hashes.Hash(hashes.SHA256())
    for fingerprint in fingerprints:
        digest.update(fingerprint)
    return digest.finalize()


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How a server answers.

    Args:
        certificate_chain: The server's certificates, leaf first.
        private_key: The leaf's RSA or ECDSA (P-256, P-384) private key.
        ticket_keys: Keys that seal session tickets (RFC 5077); None
            issues no tickets and resumes nothing.
        ticket_lifetime: Seconds a ticket stays valid, announced as
            ticket_lifetime_hint; 1 to 2^32 - 1 (RFC 5077 §3.3 reads 0 as
            unspecified).
        alpn_protocols: ALPN names accepted, most preferred first; empty
            ignores the client's ALPN offer.
        cipher_suites: Suites accepted in preference order, as for
            :class:`ClientConfig`; only those fitting the key are used.
        groups: ECDHE groups accepted, most preferred first, as for
            :class:`ClientConfig`.
        clock: Seconds since the epoch.
        random: Source of random bytes, ``random(n)``.  Connections check
            what the clock and the random source return on each call: a
            wrong value raises TypeError or ValueError from
            ``start_handshake``, or an internal_error from ``receive_data``.
        keylog: Write each master secret here (debugging only).
        tls13_downgrade_sentinel: End ServerHello.random with RFC 8446
            §4.1.3's DOWNGRD\\x01 when the client offered TLS 1.3.  Only
            right when this engine serves the TLS 1.2 clients of a TLS 1.3
            front end: a TLS 1.3 client that reaches a TLS 1.2-only server
            and sees the sentinel aborts, as RFC 8446 tells it to.
        limits: What a connection accepts and holds from the client; see
            :mod:`~tlsspec.runtime.limits`.

    Raises:
        TypeError: A field has the wrong type: a certificate that is not an
            ``x509.Certificate``, a key that is not a private key object,
            ``ticket_keys`` that is not a TicketKeyRing, a non-int
            ``ticket_lifetime``, or as for :class:`ClientConfig`.
        ConfigError: A ValueError naming the field: the chain is empty,
            the key does not match the leaf or
            is of an unsupported type, no configured suite fits the key, a
            suite, group or ALPN name is invalid, ``ticket_lifetime`` is out
            of range, or the chain is too large for a Certificate message
            (2^24 - 1 bytes).
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
        _check_common(self)
        _check_bool("tls13_downgrade_sentinel", self.tls13_downgrade_sentinel)
        chain = _certificates("certificate_chain", self.certificate_chain, "leaf")
        if not chain:
            raise ConfigError("certificate_chain", "empty; expected the leaf first")
        _check_private_key(self.private_key)
        authentication = authentication_of(self.private_key)
        if authentication is None:
            raise ConfigError(
                "private_key", "expected an RSA key or an ECDSA key on P-256 or P-384"
            )
        _check_rsa_size(self.private_key)
        if _spki(chain[0].public_key()) != _spki(self.private_key.public_key()):
            raise ConfigError(
                "private_key",
                "does not match the leaf certificate",
                also=("certificate_chain",),
            )
        suites = tuple(
            suite
            for suite in _suites(self.cipher_suites)
            if suite.authentication is authentication
        )
        if not suites:
            raise ConfigError(
                "cipher_suites", f"none fits the {authentication.name} certificate key"
            )
        _check_ticket_keys(self.ticket_keys)
        _check_ticket_lifetime(self.ticket_lifetime)
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
        raise ConfigError(
            "certificate_chain", f"does not fit a Certificate message: {error}"
        ) from None


def _check_private_key(key: object) -> None:
    if isinstance(key, _PUBLIC_KEY_CLASSES):
        raise TypeError(
            f"private_key: {type(key).__name__} is a public key; expected the "
            f"leaf's private key"
        )
    if not isinstance(key, _PRIVATE_KEY_CLASSES):
        raise TypeError(
            f"private_key: expected a private key object, got "
            f"{type(key).__name__} (parse PEM with "
            f"serialization.load_pem_private_key)"
        )


def _check_rsa_size(key: object) -> None:
    # RSA-PSS with SHA-512 needs a modulus of at least 2 * 64 + 2 bytes
    # (RFC 8017 §9.1.1); a key that cannot sign with every scheme a client
    # may insist on would fail handshakes one by one, so it fails here.
    # OpenSSL's default security level asks for 2048 bits too.
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS:
        raise ConfigError(
            "private_key",
            f"RSA key of {key.key_size} bits; expected at least {MIN_RSA_BITS}",
        )


def _check_ticket_keys(keys: object) -> None:
    if keys is None or isinstance(keys, TicketKeyRing):
        return
    hint = " (wrap it: TicketKeyRing([key]))" if isinstance(keys, TicketKey) else ""
    raise TypeError(
        f"ticket_keys: expected a TicketKeyRing or None, got "
        f"{type(keys).__name__}{hint}"
    )


def _check_ticket_lifetime(lifetime: object) -> None:
    if not isinstance(lifetime, int) or isinstance(lifetime, bool):
        raise TypeError(
            f"ticket_lifetime: expected an int number of seconds, got "
            f"{type(lifetime).__name__}"
        )
    # RFC 5077 §3.3: a ticket_lifetime_hint of 0 means "unspecified", so a
    # client would keep offering tickets this server already refuses.
    if not 1 <= lifetime <= _UINT32_MAX:
        raise ConfigError(
            "ticket_lifetime",
            f"{lifetime}, expected at least 1 second and at "
            f"most {_UINT32_MAX} (a uint32)",
        )


def _check_limits(limits: object) -> None:
    if not isinstance(limits, Limits):
        raise TypeError(
            f"limits: {type(limits).__name__}, expected a tlsspec.runtime.limits.Limits"
        )


def _spki(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined]
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    )
