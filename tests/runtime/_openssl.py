"""One OpenSSL handshake in memory, as the key-schedule tests need it.

A thin layer over the shared harness in ``tests/support/openssl.py``: it
pins one cipher and protocol version, cuts each side's flights into records
tagged with their sender, and keeps the master secrets of the NSS key log.
Nothing here uses tlsspec: the tests compare what tlsspec derives against
what OpenSSL did.
"""

from __future__ import annotations

import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.openssl import (
    make_ecdsa_identity,
    make_rsa_identity,
    run_openssl_pair,
    ssl_context,
)

# RFC 5246 §6.2.1: type(1) + version(2) + length(2).
RECORD_HEADER_LENGTH: Final = 5
# RFC 5246 §7.4: msg_type(1) + uint24 length.
HANDSHAKE_HEADER_LENGTH: Final = 4
# RFC 5246 §6.2.1 / §A.1 content types.
CHANGE_CIPHER_SPEC: Final = 20
HANDSHAKE: Final = 22

# OpenSSL 3.0's SSL_OP_NO_EXTENDED_MASTER_SECRET (ssl.h: SSL_OP_BIT(0)).
# Python does not name it, but passes unknown option bits through.
OPENSSL_OP_NO_EXTENDED_MASTER_SECRET: Final = 1 << 0

_HOSTNAME: Final = "localhost"

Side = Literal["client", "server"]
KeyType = Literal["ecdsa", "rsa"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """One TLS record as it crossed the wire."""

    sender: Side
    content_type: int
    version: int
    fragment: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Handshake:
    """What one in-memory handshake left behind."""

    records: list[Record]
    #: CLIENT_RANDOM lines of the NSS key log: client random -> master secret.
    keylog: dict[bytes, bytes]
    cipher: str
    version: str
    server_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def split_records(sender: Side, wire: bytes) -> list[Record]:
    """Cut one side's bytes into records by their 5-byte headers."""
    records = []
    offset = 0
    while offset < len(wire):
        header = wire[offset : offset + RECORD_HEADER_LENGTH]
        length = int.from_bytes(header[3:5], "big")
        start = offset + RECORD_HEADER_LENGTH
        records.append(
            Record(
                sender=sender,
                content_type=header[0],
                version=int.from_bytes(header[1:3], "big"),
                fragment=wire[start : start + length],
            )
        )
        offset = start + length
    return records


def split_handshake_messages(stream: bytes) -> list[bytes]:
    """Cut reassembled handshake-layer bytes into whole messages."""
    messages = []
    offset = 0
    while offset < len(stream):
        length = int.from_bytes(stream[offset + 1 : offset + 4], "big")
        end = offset + HANDSHAKE_HEADER_LENGTH + length
        messages.append(stream[offset:end])
        offset = end
    return messages


def run_handshake(
    workdir: Path,
    *,
    key_type: KeyType,
    cipher: str,
    version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    extended_master_secret: bool = True,
    security_level: int | None = None,
) -> Handshake:
    """Complete one handshake between an OpenSSL client and server in memory.

    Args:
        workdir: A scratch directory for the certificate and the key log.
        key_type: The server certificate's key.
        cipher: The one OpenSSL cipher name both sides allow.
        version: The only protocol version both sides allow.
        extended_master_secret: False sets OpenSSL's
            SSL_OP_NO_EXTENDED_MASTER_SECRET on both sides.
        security_level: An OpenSSL ``@SECLEVEL`` to append to the cipher
            string (old versions need 0).

    Returns:
        Every record in send order, the key log's master secrets, the
        negotiated cipher and version, and the server's private key.
    """
    identity = make_ecdsa_identity() if key_type == "ecdsa" else make_rsa_identity()
    keylog = workdir / "keylog.txt"
    cipher_string = cipher
    if security_level is not None:
        cipher_string += f":@SECLEVEL={security_level}"
    options = 0 if extended_master_secret else OPENSSL_OP_NO_EXTENDED_MASTER_SECRET

    # Old protocol versions make Python warn; the tests ask for them on
    # purpose.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        server_context = ssl_context(
            "server", identity, ciphers=cipher_string, tls12_only=False, options=options
        )
        client_context = ssl_context(
            "client",
            ciphers=cipher_string,
            tls12_only=False,
            options=options,
            keylog=keylog,
        )
        for context in (server_context, client_context):
            context.minimum_version = version
            context.maximum_version = version
    result = run_openssl_pair(client_context, server_context, server_hostname=_HOSTNAME)

    records = [
        record
        for sender, flight in result.transcript
        for record in split_records(sender, flight)
    ]
    negotiated = result.client.cipher()
    assert negotiated is not None
    return Handshake(
        records=records,
        keylog={line.client_random: line.secret for line in result.keylog},
        cipher=negotiated[0],
        version=negotiated[1],
        server_key=identity.key,
    )
