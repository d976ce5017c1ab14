"""Test harness for talking to real OpenSSL, in process and as a subprocess.

Many test modules check tlsspec against OpenSSL, the implementation most TLS
peers in the wild run. This module gives them four things:

* certificate factories: a small test CA and a leaf it signed, RSA or ECDSA,
  cached per process because RSA key generation is slow;
* :func:`ssl_context`, which builds :class:`ssl.SSLContext` objects with
  TLS 1.2 forced unless asked otherwise;
* :class:`MemoryBioEndpoint` and :func:`run_openssl_pair`, which run two
  OpenSSL endpoints against each other through memory BIOs and record every
  byte each side emitted, so tests can parse real OpenSSL messages;
* context managers for ``openssl s_server`` and ``openssl s_client`` on
  127.0.0.1, with bounded waits and guaranteed cleanup.

:func:`split_records` and :func:`handshake_messages` cut captured streams
into records and handshake messages without any tlsspec code, so the tests
that check tlsspec's own record layer never depend on it.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import os
import shutil
import ssl
import struct
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CLI_TIMEOUT",
    "CONTENT_ALERT",
    "CONTENT_APPLICATION_DATA",
    "CONTENT_CHANGE_CIPHER_SPEC",
    "CONTENT_HANDSHAKE",
    "LOOPBACK",
    "KeylogLine",
    "MemoryBioEndpoint",
    "OpenSSLPairError",
    "OpenSSLProcess",
    "PairResult",
    "PemFiles",
    "TlsIdentity",
    "handshake_messages",
    "make_ecdsa_identity",
    "make_rsa_identity",
    "openssl_s_client",
    "openssl_s_server",
    "parse_keylog",
    "requires_openssl_cli",
    "run_openssl_pair",
    "split_records",
    "ssl_context",
]

# RFC 5246 §6.2.1: ContentType values.
CONTENT_CHANGE_CIPHER_SPEC = 20
CONTENT_ALERT = 21
CONTENT_HANDSHAKE = 22
CONTENT_APPLICATION_DATA = 23

# RFC 5246 §6.2.1 and §7.4: record header is type(1) version(2) length(2);
# handshake header is msg_type(1) length(3).
RECORD_HEADER_SIZE = 5
HANDSHAKE_HEADER_SIZE = 4
# Offset of ClientHello.random inside a handshake message: header, version.
_CLIENT_RANDOM_OFFSET = HANDSHAKE_HEADER_SIZE + 2
_RANDOM_SIZE = 32

LOOPBACK = "127.0.0.1"

# Upper bound on a single wait for the ``openssl`` command line tool.
CLI_TIMEOUT = 10.0
# Upper bound on pump rounds; a full TLS 1.2 handshake needs three.
MAX_PAIR_ROUNDS = 32

_OPENSSL = shutil.which("openssl")

requires_openssl_cli = pytest.mark.skipif(
    _OPENSSL is None,
    reason="the 'openssl' command line tool is not on PATH; "
    "s_server/s_client interoperability tests need it",
)


# --------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class PemFiles:
    """Paths of PEM files written by :meth:`TlsIdentity.write_pem_files`."""

    cert: Path
    key: Path
    ca: Path


@dataclass(frozen=True)
class TlsIdentity:
    """A leaf certificate and key, and the test CA that signed the leaf.

    Attributes:
        ca_cert: Self-signed CA certificate; trust it to verify ``cert``.
        cert: Leaf certificate for the configured names and 127.0.0.1.
        key: Private key of ``cert``.
        ca_pem: ``ca_cert`` as PEM.
        cert_pem: ``cert`` as PEM.
        key_pem: ``key`` as unencrypted PKCS#8 PEM.
    """

    ca_cert: x509.Certificate
    cert: x509.Certificate
    key: PrivateKey
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    def write_pem_files(self, directory: str | os.PathLike[str]) -> PemFiles:
        """Write the leaf certificate, its key and the CA certificate as PEM.

        Args:
            directory: Existing directory to write ``cert.pem``,
                ``key.pem`` and ``ca.pem`` into.

        Returns:
            The three paths written.
        """
        base = Path(directory)
        files = PemFiles(
            cert=base / "cert.pem",
            key=base / "key.pem",
            ca=base / "ca.pem",
        )
        files.cert.write_bytes(self.cert_pem)
        files.key.write_bytes(self.key_pem)
        files.ca.write_bytes(self.ca_pem)
        return files


# Keys are cached by kind, parameter and role so that every identity in a
# test session reuses one CA key and one leaf key per algorithm.
@functools.cache
def _rsa_key(key_size: int, role: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


@functools.cache
def _ec_key(curve: type[ec.EllipticCurve], role: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(curve())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsspec tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issue(
    ca_key: PrivateKey,
    leaf_key: PrivateKey,
    common_name: str,
    san: tuple[str, ...],
) -> TlsIdentity:
    # Backdate by an hour so small clock skew between processes never
    # makes a fresh certificate "not yet valid".
    now = datetime.datetime.now(datetime.UTC)
    not_before = now - datetime.timedelta(hours=1)
    not_after = now + datetime.timedelta(days=30)
    ca_name = _name(f"tlsspec test CA ({common_name})")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())

    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        )
        .add_extension(ca_ski, False)
        .sign(ca_key, hashes.SHA256())
    )

    # RSA key exchange encrypts the premaster secret to the leaf key, so an
    # RSA leaf also needs keyEncipherment (RFC 5280 §4.2.1.3).
    is_rsa = isinstance(leaf_key, rsa.RSAPrivateKey)
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in san]
    alt_names.append(x509.IPAddress(ipaddress.ip_address(LOOPBACK)))
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=is_rsa,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            False,
        )
        .add_extension(x509.SubjectAlternativeName(alt_names), False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()),
            False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    return TlsIdentity(
        ca_cert=ca_cert,
        cert=leaf,
        key=leaf_key,
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_pem=leaf.public_bytes(serialization.Encoding.PEM),
        key_pem=leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@functools.cache
def _rsa_identity(common_name: str, san: tuple[str, ...], key_size: int) -> TlsIdentity:
    return _issue(
        _rsa_key(key_size, "ca"), _rsa_key(key_size, "leaf"), common_name, san
    )


@functools.cache
def _ecdsa_identity(
    common_name: str, san: tuple[str, ...], curve: type[ec.EllipticCurve]
) -> TlsIdentity:
    return _issue(_ec_key(curve, "ca"), _ec_key(curve, "leaf"), common_name, san)


def make_rsa_identity(
    common_name: str = "localhost",
    san: Sequence[str] = ("localhost",),
    key_size: int = 2048,
) -> TlsIdentity:
    """Return an RSA leaf signed by an RSA test CA, cached per process.

    Args:
        common_name: Subject common name of the leaf.
        san: DNS names for the subjectAltName; 127.0.0.1 is always added.
        key_size: RSA modulus size for both CA and leaf.

    Returns:
        The identity; equal arguments return the same object.
    """
    return _rsa_identity(common_name, tuple(san), key_size)


def make_ecdsa_identity(
    common_name: str = "localhost",
    san: Sequence[str] = ("localhost",),
    curve: type[ec.EllipticCurve] = ec.SECP256R1,
) -> TlsIdentity:
    """Return an ECDSA leaf signed by an ECDSA test CA, cached per process.

    Args:
        common_name: Subject common name of the leaf.
        san: DNS names for the subjectAltName; 127.0.0.1 is always added.
        curve: Curve class for both CA and leaf, e.g. ``ec.SECP384R1``.

    Returns:
        The identity; equal arguments return the same object.
    """
    return _ecdsa_identity(common_name, tuple(san), curve)


# --------------------------------------------------------------------------
# ssl.SSLContext
# --------------------------------------------------------------------------


def ssl_context(
    side: Literal["client", "server"],
    identity: TlsIdentity | None = None,
    *,
    tickets: bool = True,
    alpn: Sequence[str] = (),
    ciphers: str | None = None,
    tls12_only: bool = True,
    keylog: str | os.PathLike[str] | None = None,
    verify: bool = False,
    cafile: str | os.PathLike[str] | None = None,
    cadata: str | bytes | None = None,
    options: int = 0,
    ecdh_curve: str | None = None,
) -> ssl.SSLContext:
    """Build an OpenSSL context for one side of a test connection.

    Args:
        side: ``"client"`` or ``"server"``.
        identity: Certificate and key to present. A server without one
            presents :func:`make_rsa_identity`'s default; a client without
            one presents no certificate.
        tickets: Whether RFC 5077 session tickets are offered (client) or
            issued (server). Off sets ``OP_NO_TICKET``.
        alpn: ALPN protocol names, most preferred first; empty sends none.
        ciphers: OpenSSL cipher string for TLS 1.2 suites; ``None`` keeps
            Python's default list.
        tls12_only: Pin both minimum and maximum version to TLS 1.2.
        keylog: Append NSS key-log lines for every handshake to this file.
        verify: Require and verify the peer's certificate (and, for a
            client, check the host name).
        cafile: PEM file of CAs trusted when ``verify`` is set.
        cadata: PEM text (``str`` or ASCII ``bytes``) of trusted CAs.
        options: Extra ``ssl.OP_*`` flags OR-ed into the context options.
        ecdh_curve: Restrict ECDHE to this curve name, e.g. ``"prime256v1"``.

    Returns:
        A fresh context.

    Raises:
        ValueError: ``side`` is neither ``"client"`` nor ``"server"``.
        ssl.SSLError: OpenSSL rejected the cipher string or the key.
    """
    if side == "client":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    elif side == "server":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        identity = identity or make_rsa_identity()
    else:
        raise ValueError(f"side: got {side!r}, expected 'client' or 'server'")

    if tls12_only:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    if not tickets:
        context.options |= ssl.OP_NO_TICKET
    context.options |= options
    if ciphers is not None:
        context.set_ciphers(ciphers)
    if alpn:
        context.set_alpn_protocols(list(alpn))
    if ecdh_curve is not None:
        context.set_ecdh_curve(ecdh_curve)
    if keylog is not None:
        context.keylog_filename = os.fspath(keylog)

    # check_hostname must be switched off before verify_mode may drop.
    context.check_hostname = verify and side == "client"
    context.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    if cafile is not None or cadata is not None:
        if isinstance(cadata, bytes):
            # ssl reads bytes cadata as DER; ours is PEM text.
            cadata = cadata.decode("ascii")
        context.load_verify_locations(cafile=cafile, cadata=cadata)

    if identity is not None:
        _load_identity(context, identity)
    return context


def _load_identity(context: ssl.SSLContext, identity: TlsIdentity) -> None:
    # load_cert_chain only reads files, and reads them at once, so a
    # directory that lives for the duration of the call is enough.
    with tempfile.TemporaryDirectory(prefix="tlsspec-pem-") as directory:
        files = identity.write_pem_files(directory)
        context.load_cert_chain(files.cert, files.key)


# --------------------------------------------------------------------------
# In-process endpoints
# --------------------------------------------------------------------------


class MemoryBioEndpoint:
    """One OpenSSL endpoint whose transport is a pair of memory BIOs.

    Bytes from the peer go in with :meth:`feed`; bytes OpenSSL wants to send
    come out of :meth:`take`. Nothing blocks: a step that needs more input
    simply returns.

    Attributes:
        ssl_object: The wrapped :class:`ssl.SSLObject`.
        incoming: BIO OpenSSL reads peer bytes from.
        outgoing: BIO OpenSSL writes bytes to send into.
    """

    def __init__(
        self,
        context: ssl.SSLContext,
        *,
        server_side: bool,
        server_hostname: str | None = None,
        session: ssl.SSLSession | None = None,
    ) -> None:
        """Wrap a new connection of ``context``.

        Args:
            context: Context built by :func:`ssl_context` or by hand.
            server_side: Act as the server.
            server_hostname: SNI name to send (client only).
            session: Session to offer for resumption (client only); must
                come from a connection of the same ``context``.
        """
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.ssl_object = context.wrap_bio(
            self.incoming,
            self.outgoing,
            server_side=server_side,
            server_hostname=server_hostname,
            session=session,
        )
        self.handshake_complete = False

    def feed(self, data: bytes) -> None:
        """Hand bytes received from the peer to OpenSSL."""
        self.incoming.write(data)

    def feed_eof(self) -> None:
        """Signal that the peer closed the transport."""
        self.incoming.write_eof()

    def take(self) -> bytes:
        """Return, and remove, every byte OpenSSL has queued for the peer."""
        return self.outgoing.read()

    def step_handshake(self) -> bool:
        """Advance the handshake as far as the bytes fed so far allow.

        Returns:
            Whether the handshake is complete.

        Raises:
            ssl.SSLError: OpenSSL aborted the handshake; its alert, if any,
                is waiting in :meth:`take`.
        """
        if not self.handshake_complete:
            try:
                self.ssl_object.do_handshake()
            except ssl.SSLWantReadError:
                return False
            self.handshake_complete = True
        return True

    def read(self, max_bytes: int = 65536) -> bytes:
        """Return all application data available, or ``b""`` if none yet.

        Raises:
            ssl.SSLZeroReturnError: The peer sent close_notify.
            ssl.SSLError: A record failed to decrypt or parse.
        """
        chunks = []
        while True:
            try:
                chunk = self.ssl_object.read(max_bytes)
            except ssl.SSLWantReadError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def write(self, data: bytes) -> int:
        """Encrypt application data; collect the records with :meth:`take`.

        Returns:
            Number of bytes accepted (all of ``data`` with memory BIOs).
        """
        return self.ssl_object.write(data)

    def unwrap(self) -> bool:
        """Send close_notify, and report whether the peer's has arrived.

        Returns:
            ``True`` once both close_notify alerts were exchanged; ``False``
            while the peer's is still awaited (call again after feeding).
        """
        try:
            self.ssl_object.unwrap()
        except ssl.SSLWantReadError:
            return False
        return True


@dataclass(frozen=True)
class KeylogLine:
    """One line of an NSS key log (``CLIENT_RANDOM <random> <secret>``)."""

    label: str
    client_random: bytes
    secret: bytes


def parse_keylog(text: str) -> list[KeylogLine]:
    """Parse NSS key-log text, skipping comments and blank lines.

    Raises:
        ValueError: A line is not ``LABEL HEX HEX``.
    """
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3:
            raise ValueError(f"key log line {number}: expected 3 fields: {raw!r}")
        label, random_hex, secret_hex = parts
        lines.append(
            KeylogLine(label, bytes.fromhex(random_hex), bytes.fromhex(secret_hex))
        )
    return lines


class OpenSSLPairError(RuntimeError):
    """Two in-process endpoints did not finish their handshakes.

    Attributes:
        transcript: ``(sender, bytes)`` chunks emitted before the failure,
            including any alert the failing side queued. The OpenSSL error,
            if there was one, is the ``__cause__``.
    """

    def __init__(self, message: str, *, transcript: list[tuple[str, bytes]]):
        super().__init__(message)
        self.transcript = transcript


@dataclass(frozen=True)
class PairResult:
    """What :func:`run_openssl_pair` saw.

    Attributes:
        client_endpoint: Client endpoint, usable for further exchanges.
        server_endpoint: Server endpoint, likewise.
        client_bytes: Chunks the client emitted, in order.
        server_bytes: Chunks the server emitted, in order.
        transcript: Every chunk in emission order as ``(sender, bytes)``
            with ``sender`` ``"client"`` or ``"server"``.
        keylog: Key-log lines for this connection's client random, from
            either context's key-log file.
        server_received: Application data the server read.
        client_received: Application data the client read (the echo).
    """

    client_endpoint: MemoryBioEndpoint
    server_endpoint: MemoryBioEndpoint
    client_bytes: list[bytes] = field(default_factory=list)
    server_bytes: list[bytes] = field(default_factory=list)
    transcript: list[tuple[str, bytes]] = field(default_factory=list)
    keylog: list[KeylogLine] = field(default_factory=list)
    server_received: bytes = b""
    client_received: bytes = b""

    @property
    def client(self) -> ssl.SSLObject:
        """The client's :class:`ssl.SSLObject`."""
        return self.client_endpoint.ssl_object

    @property
    def server(self) -> ssl.SSLObject:
        """The server's :class:`ssl.SSLObject`."""
        return self.server_endpoint.ssl_object

    @property
    def client_stream(self) -> bytes:
        """Everything the client sent, concatenated."""
        return b"".join(self.client_bytes)

    @property
    def server_stream(self) -> bytes:
        """Everything the server sent, concatenated."""
        return b"".join(self.server_bytes)


class _Pump:
    # Moves chunks between two endpoints and records who sent what.
    def __init__(self, client: MemoryBioEndpoint, server: MemoryBioEndpoint):
        self.peers = {"client": (client, server), "server": (server, client)}
        self.transcript: list[tuple[str, bytes]] = []

    def flush(self, sender: str) -> bool:
        source, destination = self.peers[sender]
        data = source.take()
        if data:
            self.transcript.append((sender, data))
            destination.feed(data)
        return bool(data)


def run_openssl_pair(
    client_ctx: ssl.SSLContext,
    server_ctx: ssl.SSLContext,
    *,
    server_hostname: str | None = None,
    session: ssl.SSLSession | None = None,
    app_data: bytes = b"",
    max_rounds: int = MAX_PAIR_ROUNDS,
) -> PairResult:
    """Run a handshake between two OpenSSL endpoints in this process.

    Bytes are pumped client to server and back until both handshakes are
    complete and nothing is left in flight. If ``app_data`` is given the
    client sends it, the server reads it and echoes it back.

    Args:
        client_ctx: Client context; also the one ``session`` came from.
        server_ctx: Server context.
        server_hostname: SNI name (and, with verification, the checked
            host name).
        session: Client session from an earlier run, to resume.
        app_data: Application data to send after the handshake.
        max_rounds: Bound on pump rounds before giving up.

    Returns:
        The endpoints and every byte they emitted.

    Raises:
        OpenSSLPairError: A side raised :class:`ssl.SSLError` (chained as
            the cause), no bytes moved while a handshake was unfinished, or
            ``max_rounds`` passed.
    """
    client = MemoryBioEndpoint(
        client_ctx,
        server_side=False,
        server_hostname=server_hostname,
        session=session,
    )
    server = MemoryBioEndpoint(server_ctx, server_side=True)
    pump = _Pump(client, server)

    # Handshake: each round lets each side consume what it was fed and
    # answer. A round in which nothing moves is either the end (both done)
    # or a deadlock.
    for _ in range(max_rounds):
        moved = False
        for sender, endpoint in (("client", client), ("server", server)):
            try:
                endpoint.step_handshake()
            except ssl.SSLError as exc:
                pump.flush(sender)
                raise OpenSSLPairError(
                    f"{sender} handshake failed: {exc}",
                    transcript=pump.transcript,
                ) from exc
            moved = pump.flush(sender) or moved
        done = client.handshake_complete and server.handshake_complete
        if not moved:
            if done:
                break
            raise OpenSSLPairError(
                "handshake made no progress: "
                f"client done={client.handshake_complete}, "
                f"server done={server.handshake_complete}",
                transcript=pump.transcript,
            )
    else:
        raise OpenSSLPairError(
            f"handshake unfinished after {max_rounds} rounds",
            transcript=pump.transcript,
        )

    # Under TLS 1.3 the client only processes NewSessionTicket on read; a
    # read with no application data pending does that and returns b"".
    client.read()

    server_received = client_received = b""
    if app_data:
        client.write(app_data)
        pump.flush("client")
        server_received = server.read()
        server.write(server_received)
        pump.flush("server")
        client_received = client.read()

    return PairResult(
        client_endpoint=client,
        server_endpoint=server,
        client_bytes=[data for who, data in pump.transcript if who == "client"],
        server_bytes=[data for who, data in pump.transcript if who == "server"],
        transcript=pump.transcript,
        keylog=_keylog_for(pump.transcript, client_ctx, server_ctx),
        server_received=server_received,
        client_received=client_received,
    )


def _keylog_for(
    transcript: list[tuple[str, bytes]], *contexts: ssl.SSLContext
) -> list[KeylogLine]:
    # A key-log file may be shared by both sides and by earlier runs, so
    # keep only this connection's lines, once each.
    paths = {ctx.keylog_filename for ctx in contexts if ctx.keylog_filename}
    if not paths:
        return []
    client_hello = handshake_messages(
        b"".join(data for who, data in transcript if who == "client")
    )[0]
    random = client_hello[_CLIENT_RANDOM_OFFSET : _CLIENT_RANDOM_OFFSET + _RANDOM_SIZE]
    seen: list[KeylogLine] = []
    for path in sorted(paths):
        for line in parse_keylog(Path(path).read_text()):
            if line.client_random == random and line not in seen:
                seen.append(line)
    return seen


# --------------------------------------------------------------------------
# Splitting captured streams
# --------------------------------------------------------------------------


def split_records(data: bytes) -> list[tuple[int, int, bytes]]:
    """Cut a TLS byte stream into records (RFC 5246 §6.2.1).

    No limit on record length is applied; this only frames.

    Args:
        data: Concatenated records as sent on the wire.

    Returns:
        ``(content_type, version, fragment)`` per record, in order.

    Raises:
        ValueError: The stream ends inside a record header or fragment.
    """
    records = []
    position = 0
    total = len(data)
    while position < total:
        if total - position < RECORD_HEADER_SIZE:
            raise ValueError(
                f"record at offset {position}: truncated header, "
                f"{total - position} of {RECORD_HEADER_SIZE} bytes"
            )
        content_type, version, length = struct.unpack_from("!BHH", data, position)
        start = position + RECORD_HEADER_SIZE
        end = start + length
        if end > total:
            raise ValueError(
                f"record at offset {position}: truncated fragment, "
                f"{total - start} of {length} bytes"
            )
        records.append((content_type, version, bytes(data[start:end])))
        position = end
    return records


def handshake_messages(data: bytes) -> list[bytes]:
    """Return the plaintext handshake messages of one side's byte stream.

    Handshake fragments are joined across records and re-cut at message
    boundaries (RFC 5246 §6.2.1 lets a message span records). Collection
    stops at the first ChangeCipherSpec, since what follows is encrypted.

    Args:
        data: Everything one side sent, e.g. :attr:`PairResult.client_stream`.

    Returns:
        Messages with their 4-byte header (msg_type, uint24 length).

    Raises:
        ValueError: A record or the last handshake message is truncated.
    """
    fragments = []
    for content_type, _, fragment in split_records(data):
        if content_type == CONTENT_CHANGE_CIPHER_SPEC:
            break
        if content_type == CONTENT_HANDSHAKE:
            fragments.append(fragment)
    joined = b"".join(fragments)

    messages = []
    position = 0
    while position < len(joined):
        if len(joined) - position < HANDSHAKE_HEADER_SIZE:
            raise ValueError(f"handshake message at {position}: truncated header")
        length = int.from_bytes(joined[position + 1 : position + 4], "big")
        end = position + HANDSHAKE_HEADER_SIZE + length
        if end > len(joined):
            raise ValueError(f"handshake message at {position}: truncated body")
        messages.append(joined[position:end])
        position = end
    return messages


# --------------------------------------------------------------------------
# openssl s_server / s_client subprocesses
# --------------------------------------------------------------------------


class OpenSSLProcess:
    """A running ``openssl`` subprocess whose output is collected.

    Standard error is merged into standard output, which a background
    thread reads so the process never blocks on a full pipe.

    Attributes:
        process: The underlying :class:`subprocess.Popen`.
        port: TCP port on 127.0.0.1 (the listening port for s_server, the
            connected one for s_client).
    """

    def __init__(self, args: Sequence[str], *, port: int = 0) -> None:
        self.port = port
        self.process = subprocess.Popen(
            list(args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._chunks: list[bytes] = []
        self._eof = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, b""):
            with self._changed:
                self._chunks.append(line)
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    @property
    def output(self) -> str:
        """Everything the process printed so far."""
        with self._changed:
            return b"".join(self._chunks).decode("utf-8", "replace")

    def wait_for(self, text: str, timeout: float = CLI_TIMEOUT) -> str:
        """Block until ``text`` appears in the output.

        Returns:
            The output up to now.

        Raises:
            TimeoutError: ``text`` did not appear within ``timeout`` seconds
                or the process exited without printing it.
        """

        def found_or_over() -> bool:
            seen = b"".join(self._chunks).decode("utf-8", "replace")
            return text in seen or self._eof

        with self._changed:
            self._changed.wait_for(found_or_over, timeout)
        output = self.output
        if text not in output:
            raise TimeoutError(
                f"openssl did not print {text!r} within {timeout} s; "
                f"exit code {self.process.poll()}, output:\n{output[-2000:]}"
            )
        return output

    def send(self, data: bytes) -> None:
        """Write ``data`` to the process's standard input."""
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def stop(self, timeout: float = CLI_TIMEOUT) -> int:
        """Terminate the process (kill if it lingers) and reap it.

        Returns:
            The exit code.
        """
        if self.process.stdin is not None and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self._reader.join(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def _openssl_binary() -> str:
    if _OPENSSL is None:
        pytest.skip("the 'openssl' command line tool is not on PATH")
    return _OPENSSL


@contextmanager
def openssl_s_server(
    identity: TlsIdentity | None = None,
    *,
    args: Sequence[str] = (),
    timeout: float = CLI_TIMEOUT,
) -> Iterator[OpenSSLProcess]:
    """Run ``openssl s_server -tls1_2`` on 127.0.0.1 and a free port.

    The kernel picks the port (``-accept 127.0.0.1:0``); it is read back
    from the ``ACCEPT`` line, so there is no window in which another
    process can take it.

    Args:
        identity: Certificate and key to serve; default
            :func:`make_rsa_identity`.
        args: Extra options, e.g. ``("-www",)`` or ``("-no_ticket",)``.
        timeout: Bound on waiting for the server to listen, and on
            stopping it.

    Yields:
        The running server; ``port`` is its listening port.

    Raises:
        TimeoutError: The server did not start listening in time.
    """
    binary = _openssl_binary()
    identity = identity or make_rsa_identity()
    with tempfile.TemporaryDirectory(prefix="tlsspec-s_server-") as directory:
        files = identity.write_pem_files(directory)
        command = [
            binary,
            "s_server",
            "-tls1_2",
            "-accept",
            f"{LOOPBACK}:0",
            "-cert",
            str(files.cert),
            "-key",
            str(files.key),
            *args,
        ]
        server = OpenSSLProcess(command)
        try:
            banner = server.wait_for("ACCEPT", timeout)
            server.port = _accept_port(banner)
            yield server
        finally:
            server.stop(timeout)


def _accept_port(output: str) -> int:
    for line in output.splitlines():
        if line.startswith("ACCEPT"):
            return int(line.rsplit(":", 1)[1])
    raise ValueError(f"no ACCEPT line in s_server output:\n{output}")


@contextmanager
def openssl_s_client(
    port: int,
    *,
    servername: str | None = None,
    trust: TlsIdentity | None = None,
    args: Sequence[str] = (),
    timeout: float = CLI_TIMEOUT,
) -> Iterator[OpenSSLProcess]:
    """Run ``openssl s_client -tls1_2`` against 127.0.0.1:``port``.

    Start the listening side first; s_client connects at once. Standard
    input stays open, so the client keeps the connection until the block
    ends (or ``send``/``stop`` is used).

    Args:
        port: Port a server listens on at 127.0.0.1.
        servername: SNI name to send; ``None`` sends none.
        trust: Verify the server against this identity's CA and fail the
            handshake on a verification error.
        args: Extra options, e.g. ``("-sess_out", path)``.
        timeout: Bound on stopping the client.

    Yields:
        The running client.
    """
    binary = _openssl_binary()
    with tempfile.TemporaryDirectory(prefix="tlsspec-s_client-") as directory:
        command = [binary, "s_client", "-tls1_2", "-connect", f"{LOOPBACK}:{port}"]
        if servername is None:
            command.append("-noservername")
        else:
            command += ["-servername", servername]
        if trust is not None:
            files = trust.write_pem_files(directory)
            command += ["-CAfile", str(files.ca), "-verify_return_error"]
        command += args
        client = OpenSSLProcess(command, port=port)
        try:
            yield client
        finally:
            client.stop(timeout)
