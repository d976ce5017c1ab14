"""Run one OpenSSL handshake in memory and keep every byte each side wrote.

Python's ``ssl`` module drives OpenSSL through ``ssl.MemoryBIO`` pairs, so a
client and a server talk inside this process without sockets.  The helper
records each flight as it leaves a side, in send order, and learns the master
secret from the NSS key log OpenSSL writes (``SSLContext.keylog_filename``).

Nothing here uses tlsspec: the tests compare what tlsspec derives against
what OpenSSL did.  The fuller shared harness lives in ``tests/support/``.
"""

from __future__ import annotations

import datetime
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

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

# How many pump rounds a handshake may take before we call it stuck.
_MAX_ROUNDS: Final = 16
_HOSTNAME: Final = "tlsspec.test"
_RSA_KEY_BITS: Final = 2048

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


def _certificate(
    key_type: KeyType,
) -> tuple[bytes, bytes, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey]:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if key_type == "ecdsa":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _HOSTNAME)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(_HOSTNAME)]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate_pem, key_pem, key


def _read_keylog(path: Path) -> dict[bytes, bytes]:
    secrets = {}
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "CLIENT_RANDOM":
            secrets[bytes.fromhex(fields[1])] = bytes.fromhex(fields[2])
    return secrets


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
    certificate_pem, key_pem, server_key = _certificate(key_type)
    certificate_file = workdir / "server.pem"
    certificate_file.write_bytes(key_pem + certificate_pem)
    keylog = workdir / "keylog.txt"
    cipher_string = cipher
    if security_level is not None:
        cipher_string += f":@SECLEVEL={security_level}"

    # Old protocol versions make Python warn; the tests ask for them on
    # purpose.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        for context in (server_context, client_context):
            context.minimum_version = version
            context.maximum_version = version
            context.set_ciphers(cipher_string)
            if not extended_master_secret:
                context.options |= OPENSSL_OP_NO_EXTENDED_MASTER_SECRET
    server_context.load_cert_chain(certificate_file)
    client_context.load_verify_locations(cadata=certificate_pem.decode())
    client_context.keylog_filename = str(keylog)

    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    from_server, from_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(
        to_client, from_client, server_side=False, server_hostname=_HOSTNAME
    )
    server = server_context.wrap_bio(to_server, from_server, server_side=True)

    records: list[Record] = []
    done: dict[Side, bool] = {"client": False, "server": False}
    sides: tuple[tuple[Side, ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO], ...] = (
        ("client", client, from_client, to_server),
        ("server", server, from_server, to_client),
    )
    for _ in range(_MAX_ROUNDS):
        moved = False
        for name, endpoint, outgoing, peer_incoming in sides:
            if not done[name]:
                try:
                    endpoint.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
            flight = outgoing.read()
            if flight:
                moved = True
                records += split_records(name, flight)
                peer_incoming.write(flight)
        if done["client"] and done["server"] and not moved:
            break
    else:
        raise AssertionError("in-memory handshake did not finish")

    negotiated = client.cipher()
    assert negotiated is not None
    return Handshake(
        records=records,
        keylog=_read_keylog(keylog),
        cipher=negotiated[0],
        version=negotiated[1],
        server_key=server_key,
    )
