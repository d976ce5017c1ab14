"""What a ClientHello asks for, read and checked once (RFC 5246 §7.4.1.2).

:func:`read_client_hello` turns the parsed ClientHello into a
:class:`ClientOffer` the server negotiates from, and refuses the hellos no
negotiation can rescue:

* a version below TLS 1.2 is ``protocol_version`` (RFC 5246 Appendix E.1);
  a ClientHello with supported_versions (RFC 8446 §4.2.1) is judged by
  that list alone, and TLS 1.2 must be in it;
* TLS_FALLBACK_SCSV with a version below our highest is
  ``inappropriate_fallback`` (RFC 7507 §3), checked before the version so
  the client learns it fell back needlessly;
* no null compression is ``handshake_failure`` (RFC 5246 §7.4.1.2: the
  list "MUST contain" null);
* a repeated extension is ``illegal_parameter`` (RFC 5246 §7.4.1.4);
* a non-empty renegotiation_info is ``handshake_failure`` (RFC 5746 §3.6);
* ec_point_formats without uncompressed is ``illegal_parameter`` (RFC 8422
  §5.1.2).

Extensions we do not implement (heartbeat, status_request, ...) are
ignored, as RFC 5246 §7.4.1.4 requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from tlsspec.generated.alert import AlertDescription
from tlsspec.generated.extensions import ECPointFormat, ExtensionType
from tlsspec.generated.record import ProtocolVersion
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.hello import (
    EMPTY_RENEGOTIATION_INFO_SCSV,
    FALLBACK_SCSV,
    TLS12,
    extensions_by_type,
    read_server_name,
    read_supported_versions,
)

__all__ = ["ClientOffer", "read_client_hello"]

_D: Final = AlertDescription
_E: Final = ExtensionType
_TLS13: Final = int(ProtocolVersion.tls1_3)
_NULL_COMPRESSION: Final = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOffer:
    """The parts of a ClientHello the server negotiates from.

    Lists are None when their extension was absent, which several RFCs
    give a meaning of its own.
    """

    random: bytes
    session_id: bytes
    cipher_suites: frozenset[int]
    groups: tuple[int, ...] | None
    point_formats: tuple[int, ...] | None
    signature_schemes: tuple[int, ...] | None
    alpn_protocols: tuple[bytes, ...] | None
    server_name: str | None
    extended_master_secret: bool
    encrypt_then_mac: bool
    #: None: no session_ticket extension; b"": asks for a ticket.
    ticket: bytes | None
    secure_renegotiation: bool
    offers_tls13: bool


def read_client_hello(hello: Any) -> ClientOffer:
    """Check a parsed ClientHello and extract the offer.

    Args:
        hello: ``Handshake.parse(...)["body"]`` of a ClientHello.

    Returns:
        The offer.

    Raises:
        LocalProtocolError: As the module docstring lists.
    """
    # CipherSuite members and unknown codes alike hash and compare as ints.
    suites = frozenset(hello["cipher_suites"])
    extensions = extensions_by_type(hello["extensions"], where="ClientHello")
    offers_tls13 = _check_version(hello, suites, extensions)
    _check_compression(hello["compression_methods"])

    info = extensions.get(_E.renegotiation_info)
    if info is not None and info["renegotiated_connection"]:
        raise LocalProtocolError(
            "ClientHello.extensions.renegotiation_info: not empty on an initial "
            "handshake (RFC 5746 §3.6)",
            _D.handshake_failure,
        )
    formats = _list(extensions, _E.ec_point_formats, "ec_point_format_list")
    if formats is not None and ECPointFormat.uncompressed not in formats:
        raise LocalProtocolError(
            "ClientHello.extensions.ec_point_formats: uncompressed missing "
            "(RFC 8422 §5.1.2)",
            _D.illegal_parameter,
        )
    names = extensions.get(_E.server_name)
    ticket = extensions.get(_E.session_ticket)
    alpn = _list(
        extensions, _E.application_layer_protocol_negotiation, "protocol_name_list"
    )
    return ClientOffer(
        random=bytes(hello["random"]),
        session_id=bytes(hello["session_id"]),
        cipher_suites=suites,
        groups=_list(extensions, _E.supported_groups, "named_group_list"),
        point_formats=formats,
        signature_schemes=_list(
            extensions, _E.signature_algorithms, "supported_signature_algorithms"
        ),
        alpn_protocols=None if alpn is None else tuple(bytes(p) for p in alpn),
        server_name=None if names is None else read_server_name(names),
        extended_master_secret=_E.extended_master_secret in extensions,
        encrypt_then_mac=_E.encrypt_then_mac in extensions,
        ticket=None if ticket is None else bytes(ticket),
        secure_renegotiation=(
            info is not None or EMPTY_RENEGOTIATION_INFO_SCSV in suites
        ),
        offers_tls13=offers_tls13,
    )


def _list(extensions: dict[int, Any], kind: int, field: str) -> tuple[Any, ...] | None:
    data = extensions.get(kind)
    return None if data is None else tuple(data[field])


def _check_compression(methods: Any) -> None:
    if _NULL_COMPRESSION not in methods:
        raise LocalProtocolError(
            "ClientHello.compression_methods: null missing; RFC 5246 §7.4.1.2 "
            "says it MUST be listed",
            _D.handshake_failure,
        )


def _check_version(
    hello: Any, suites: frozenset[int], extensions: dict[int, Any]
) -> bool:
    # Returns whether the client offered TLS 1.3.
    client_version = int(hello["client_version"])

    # RFC 7507 §3: a fallback to below our highest version is an attack or
    # a client mistake; refuse it as such.
    if FALLBACK_SCSV in suites and client_version < TLS12:
        raise LocalProtocolError(
            f"ClientHello.cipher_suites: TLS_FALLBACK_SCSV with client_version "
            f"0x{client_version:04X}, below our TLS 1.2 (RFC 7507 §3)",
            _D.inappropriate_fallback,
        )

    supported = extensions.get(_E.supported_versions)
    if supported is not None:
        # RFC 8446 §4.2.1: with this extension, legacy_version is ignored.
        versions = read_supported_versions(bytes(supported))
        if TLS12 not in versions:
            raise LocalProtocolError(
                "ClientHello.extensions.supported_versions: "
                f"{[f'0x{v:04X}' for v in versions]}, expected 0x0303 (TLS 1.2)",
                _D.protocol_version,
            )
        return _TLS13 in versions
    if client_version < TLS12:
        raise LocalProtocolError(
            f"ClientHello.client_version: 0x{client_version:04X}, expected at "
            "least 0x0303 (TLS 1.2 only)",
            _D.protocol_version,
        )
    return False
