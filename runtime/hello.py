"""Hello extensions: reading what the peer sent, building what we send.

The generated ``Extension`` codec already types every payload this engine
uses; this module adds the rules the codec cannot see:

* "There MUST NOT be more than one extension of the same type" (RFC 5246
  §7.4.1.4): a repeat is ``illegal_parameter``;
* a ServerHello may only answer what the ClientHello asked for (same
  section: ``unsupported_extension`` otherwise);
* the payloads the codec keeps opaque (supported_versions, RFC 8446
  §4.2.1) are read here, with their own bounds.

It also holds the constants both sides share: the downgrade sentinels of
RFC 8446 §4.1.3 and the signalling cipher suites of RFC 5746 and RFC 7507.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from tlsspec.generated.alert import AlertDescription
from tlsspec.generated.extensions import ExtensionType, NameType
from tlsspec.generated.record import ProtocolVersion
from tlsspec.runtime.alerts import LocalProtocolError

__all__ = [
    "DOWNGRADE_TLS11",
    "DOWNGRADE_TLS12",
    "EMPTY_RENEGOTIATION_INFO_SCSV",
    "FALLBACK_SCSV",
    "TLS12",
    "extension",
    "extensions_by_type",
    "is_ip_literal",
    "read_server_name",
    "read_supported_versions",
]

#: RFC 5246 §6.2.1: {3, 3}.
TLS12: Final = int(ProtocolVersion.tls1_2)

#: RFC 5746 §3.3: signals secure renegotiation support in cipher_suites.
EMPTY_RENEGOTIATION_INFO_SCSV: Final = 0x00FF
#: RFC 7507 §2: "this is a fallback connection".
FALLBACK_SCSV: Final = 0x5600

#: RFC 8446 §4.1.3: the last 8 bytes of ServerHello.random of a TLS 1.3
#: server that negotiates TLS 1.2, and of one that negotiates TLS 1.1 or
#: below.
DOWNGRADE_TLS12: Final = b"DOWNGRD\x01"
DOWNGRADE_TLS11: Final = b"DOWNGRD\x00"

# RFC 8446 §4.2.1: ProtocolVersion versions<2..254> in a ClientHello.
_VERSIONS_MIN: Final = 2
_VERSIONS_MAX: Final = 254
_VERSION_SIZE: Final = 2


def extension(extension_type: ExtensionType, data: object) -> dict[str, Any]:
    """One Extension value for the codec to build."""
    return {"extension_type": extension_type, "extension_data": data}


def extensions_by_type(
    extensions: Iterable[Mapping[str, Any]] | None, *, where: str
) -> dict[int, Any]:
    """Index a hello's extensions by type.

    Args:
        extensions: The parsed ``extensions`` field; None when absent.
        where: The message name, for error text.

    Returns:
        extension_type -> extension_data, in received order.

    Raises:
        LocalProtocolError: illegal_parameter for a repeated type (RFC 5246
            §7.4.1.4 "MUST NOT").
    """
    found: dict[int, Any] = {}
    for item in extensions or ():
        kind = int(item["extension_type"])
        if kind in found:
            raise LocalProtocolError(
                f"{where}.extensions: type {_type_name(kind)} appears twice; "
                "expected each type at most once (RFC 5246 §7.4.1.4)",
                AlertDescription.illegal_parameter,
            )
        found[kind] = item["extension_data"]
    return found


def _type_name(kind: int) -> str:
    try:
        return f"{ExtensionType(kind).name}({kind})"
    except ValueError:
        return str(kind)


def read_supported_versions(data: bytes) -> list[int]:
    """Read a ClientHello's supported_versions (RFC 8446 §4.2.1).

    Args:
        data: The extension_data bytes (the codec keeps them opaque).

    Returns:
        The versions, in the client's order.

    Raises:
        LocalProtocolError: decode_error when the vector's length prefix,
            bounds or element size are wrong.
    """
    if not data or data[0] + 1 != len(data):
        raise LocalProtocolError(
            f"ClientHello.extensions.supported_versions: {len(data)} bytes do "
            "not hold one length-prefixed vector",
            AlertDescription.decode_error,
        )
    size = data[0]
    if not _VERSIONS_MIN <= size <= _VERSIONS_MAX or size % _VERSION_SIZE:
        raise LocalProtocolError(
            f"ClientHello.extensions.supported_versions: {size} bytes of "
            "versions, expected an even count from 2 to 254",
            AlertDescription.decode_error,
        )
    return [
        int.from_bytes(data[i : i + _VERSION_SIZE], "big")
        for i in range(1, len(data), _VERSION_SIZE)
    ]


# ASCII bytes no host name holds: controls, space and DEL.
_UNPRINTABLE: Final = re.compile(rb"[\x00-\x20\x7f]")


def read_server_name(server_name_list: Mapping[str, Any]) -> str | None:
    """The host name of a ClientHello's server_name extension (RFC 6066 §3).

    Args:
        server_name_list: The parsed ServerNameList.

    Returns:
        The host name, or None when the list names no host_name.

    Raises:
        LocalProtocolError: illegal_parameter for two host names ("MUST
            NOT contain more than one name of the same name_type") or a
            name that is not ASCII; unrecognized_name for a name holding
            a control character, a space or DEL.
    """
    names = [
        entry["name"]
        for entry in server_name_list["server_name_list"]
        if entry["name_type"] == NameType.host_name
    ]
    if not names:
        return None
    if len(names) > 1:
        raise LocalProtocolError(
            "ClientHello.extensions.server_name: two host_name entries; "
            "expected one (RFC 6066 §3)",
            AlertDescription.illegal_parameter,
        )
    name: bytes = names[0]
    if not name.isascii():
        raise LocalProtocolError(
            "ClientHello.extensions.server_name: host name is not ASCII (RFC 6066 §3)",
            AlertDescription.illegal_parameter,
        )
    # No DNS host name holds a control character or a space: a NUL would
    # cut the name short in a C string, a newline or an escape would forge
    # lines in whatever log or page shows the name.  RFC 6066 §3 lets a
    # server refuse a name it does not recognize with unrecognized_name.
    bad = _UNPRINTABLE.search(name)
    if bad is not None:
        raise LocalProtocolError(
            "ClientHello.extensions.server_name: host name contains byte "
            f"0x{bad.group()[0]:02x}; expected printable ASCII",
            AlertDescription.unrecognized_name,
        )
    return name.decode("ascii")


@functools.lru_cache(maxsize=256)
def is_ip_literal(name: str) -> bool:
    """Whether ``name`` is an IPv4 or IPv6 literal, which SNI must not carry."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
