"""Real OpenSSL TLS 1.2 messages decode, rebuild byte for byte, and say what
OpenSSL was configured to say.

An OpenSSL client and server run in this process (``run_openssl_pair``) over
a matrix of identities (ECDHE-RSA, ECDHE-ECDSA), cipher suites (Python's
default list, AES-GCM, ChaCha20-Poly1305, AES-CBC-SHA), tickets, SNI and
ALPN; with SNI and ALPN on, each is also resumed with the first
connection's session (by ticket or by session id). Everything a
side sends in the clear, up to and including its ChangeCipherSpec record,
goes through the generated codecs: records, handshake messages, the CCS
and, for handshakes provoked to fail, the plaintext fatal alert.

Records and messages are cut by the harness's own splitter, which uses no
tlsspec code; expected values come from the ``ssl`` configuration and from
what OpenSSL reports about the connection.

OpenSSL 3.0 behaviour pinned here (checked against OpenSSL 3.0.19):

* the ClientHello record carries version 0x0301, every later record 0x0303;
* a TLS 1.2 server leaves ServerHello.session_id empty when it will issue a
  ticket, and sends a 32-byte id otherwise;
* NewSessionTicket.ticket_lifetime_hint is the session timeout, 7200 s by
  default (Python has no setter for it);
* a ticket resumption is not answered with a new ticket, and a resumed
  ServerHello acknowledges neither SNI nor tickets;
* the server acknowledges SNI with an empty server_name extension only when
  a servername callback is installed (``SSLContext.sni_callback``), which
  the matrix does;
* a ClientHello of 256 to 511 bytes is padded (RFC 7685) to 512.
"""

from __future__ import annotations

import functools
import itertools
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from construct import Container
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from tests.support.openssl import (
    CONTENT_ALERT,
    CONTENT_CHANGE_CIPHER_SPEC,
    MemoryBioEndpoint,
    PairResult,
    TlsIdentity,
    handshake_messages,
    make_ecdsa_identity,
    make_rsa_identity,
    run_openssl_pair,
    split_records,
    ssl_context,
)
from tlsspec.generated.alert import Alert, AlertDescription, AlertLevel
from tlsspec.generated.ccs import ChangeCipherSpec
from tlsspec.generated.extensions import NameType
from tlsspec.generated.handshake import Handshake, HandshakeType, PreMasterSecret
from tlsspec.generated.record import TLSPlaintext
from tlsspec.runtime import messages as runtime_messages

SNI = "example.test"
CLIENT_ALPN = ("h2", "http/1.1")
# The server's preference decides (RFC 7301 §3.2): http/1.1 although the
# client lists h2 first.
SERVER_ALPN = ("http/1.1", "h2")
SELECTED_ALPN = "http/1.1"

# RFC 5246 §6.2.1: record header type(1) version(2) length(2).
RECORD_HEADER = 5
TLS1_0 = 0x0301
TLS1_2 = 0x0303

# RFC 6066 §3, RFC 7301 §3.1, RFC 7685 §3, RFC 5077 §3.2.
SERVER_NAME = 0
ALPN = 16
PADDING = 21
SESSION_TICKET = 35
# RFC 5746 §3.3: the renegotiation SCSV OpenSSL appends to every offer.
EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF
# RFC 8422 §5.4: ECCurveType named_curve; RFC 8446 §4.2.7: x25519.
NAMED_CURVE = 3
X25519 = 0x001D
X25519_SHARE = 32
# RFC 8446 §4.2.3 SignatureScheme values.
RSA_PSS_RSAE_SHA256 = 0x0804
ECDSA_SECP256R1_SHA256 = 0x0403
SESSION_ID_SIZE = 32
# OpenSSL's default session timeout for TLS (SSL_get_default_timeout).
OPENSSL_SESSION_TIMEOUT = 7200
# OpenSSL pads a ClientHello of 256..511 bytes to this (RFC 7685 §4).
PADDED_HELLO = 512
PADDING_WINDOW = range(256, 512)

# Parse parameters by message type (RFC 5246 §7.4.3, §7.4.7): all suites of
# the matrix are ECDHE.
PARAMS: dict[int, dict[str, Any]] = {
    HandshakeType.server_key_exchange: {"key_exchange_algorithm": "ec_diffie_hellman"},
    HandshakeType.client_key_exchange: {"key_exchange_algorithm": "ec_diffie_hellman"},
}

IDENTITIES: dict[str, Callable[[], TlsIdentity]] = {
    "rsa": make_rsa_identity,
    "ecdsa": make_ecdsa_identity,
}
# What OpenSSL signs ServerKeyExchange with, per leaf key.
SIGNATURE_SCHEMES = {"rsa": RSA_PSS_RSAE_SHA256, "ecdsa": ECDSA_SECP256R1_SHA256}
# OpenSSL cipher string and IANA value of each forced suite; "default"
# keeps Python's list on both sides.
SUITES: dict[tuple[str, str], tuple[str, int] | None] = {
    ("rsa", "default"): None,
    ("rsa", "aes-gcm"): ("ECDHE-RSA-AES128-GCM-SHA256", 0xC02F),
    ("rsa", "chacha20"): ("ECDHE-RSA-CHACHA20-POLY1305", 0xCCA8),
    ("rsa", "aes-cbc-sha"): ("ECDHE-RSA-AES128-SHA", 0xC013),
    ("ecdsa", "default"): None,
    ("ecdsa", "aes-gcm"): ("ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B),
    ("ecdsa", "chacha20"): ("ECDHE-ECDSA-CHACHA20-POLY1305", 0xCCA9),
    ("ecdsa", "aes-cbc-sha"): ("ECDHE-ECDSA-AES128-SHA", 0xC009),
}

# RFC 5246 §7.3, Figures 1 and 2, as OpenSSL sends them in the clear.
FULL_CLIENT_FLOW = ["client_hello", "client_key_exchange"]
FULL_SERVER_FLOW = [
    "server_hello",
    "certificate",
    "server_key_exchange",
    "server_hello_done",
]
RESUMED_CLIENT_FLOW = ["client_hello"]
RESUMED_SERVER_FLOW = ["server_hello"]


@dataclass(frozen=True)
class Setup:
    """One cell of the matrix."""

    key: str
    suite: str
    tickets: bool
    sni: bool
    alpn: bool
    resumed: bool = False

    def __str__(self) -> str:
        return "-".join(
            [
                self.key,
                self.suite,
                "tickets" if self.tickets else "notickets",
                "sni" if self.sni else "nosni",
                "alpn" if self.alpn else "noalpn",
                *(["resumed"] if self.resumed else []),
            ]
        )

    @property
    def forced(self) -> tuple[str, int] | None:
        return SUITES[self.key, self.suite]


FULL = [
    Setup(key, suite, tickets, sni, alpn)
    for (key, suite), tickets, sni, alpn in itertools.product(
        SUITES, (True, False), (True, False), (True, False)
    )
]
# Resumption by ticket and by session id, SNI and ALPN on: both change what
# a resumed hello carries.
RESUMED = [
    Setup(s.key, s.suite, s.tickets, s.sni, s.alpn, resumed=True)
    for s in FULL
    if s.sni and s.alpn
]
ALL = FULL + RESUMED
WITH_TICKETS = [s for s in FULL if s.tickets]


@dataclass(frozen=True)
class Capture:
    """The connection a setup made, and what configured it."""

    setup: Setup
    identity: TlsIdentity
    client_ctx: ssl.SSLContext
    pair: PairResult
    # The connection whose session `pair` resumed.
    first: PairResult | None
    # Names the server's SNI callback saw, over every connection.
    sni_seen: list[str | None]

    def stream(self, side: str) -> bytes:
        return self.pair.client_stream if side == "client" else self.pair.server_stream


@functools.cache
def _capture(setup: Setup) -> Capture:
    identity = IDENTITIES[setup.key]()
    ciphers = setup.forced[0] if setup.forced else None
    client_ctx = ssl_context(
        "client",
        tickets=setup.tickets,
        ciphers=ciphers,
        alpn=CLIENT_ALPN if setup.alpn else (),
    )
    server_ctx = ssl_context(
        "server",
        identity,
        tickets=setup.tickets,
        ciphers=ciphers,
        alpn=SERVER_ALPN if setup.alpn else (),
    )
    sni_seen: list[str | None] = []
    server_ctx.sni_callback = lambda _obj, name, _ctx: sni_seen.append(name)
    hostname = SNI if setup.sni else None

    first = None
    pair = run_openssl_pair(client_ctx, server_ctx, server_hostname=hostname)
    if setup.resumed:
        first = pair
        pair = run_openssl_pair(
            client_ctx,
            server_ctx,
            server_hostname=hostname,
            session=first.client.session,
        )
    return Capture(setup, identity, client_ctx, pair, first, sni_seen)


def _cleartext_records(stream: bytes) -> list[bytes]:
    # Whole records, header included, up to and including the first
    # ChangeCipherSpec; what follows it is encrypted.
    records = []
    position = 0
    while position < len(stream):
        length = int.from_bytes(stream[position + 3 : position + 5], "big")
        end = position + RECORD_HEADER + length
        records.append(stream[position:end])
        position = end
        if records[-1][0] == CONTENT_CHANGE_CIPHER_SPEC:
            break
    return records


def _decode(message: bytes) -> Container:
    return Handshake.parse(message, **PARAMS.get(message[0], {}))


def _decoded(capture: Capture | PairResult, side: str) -> list[Container]:
    pair = capture.pair if isinstance(capture, Capture) else capture
    stream = pair.client_stream if side == "client" else pair.server_stream
    return [_decode(message) for message in handshake_messages(stream)]


def _one(capture: Capture | PairResult, side: str, name: str) -> Container:
    found = [m.body for m in _decoded(capture, side) if m.msg_type.name == name]
    assert len(found) == 1, f"{side} sent {len(found)} {name} messages"
    return found[0]


def _extensions(hello: Container) -> dict[int, Any]:
    types = [int(e.extension_type) for e in hello.extensions]
    assert len(types) == len(set(types)), f"duplicate extension types {types}"
    return {int(e.extension_type): e.extension_data for e in hello.extensions}


def _suite_ids(context: ssl.SSLContext) -> dict[str, int]:
    # OpenSSL's cipher id is 0x0300 followed by the IANA value.
    return {c["name"]: c["id"] & 0xFFFF for c in context.get_ciphers()}


# --------------------------------------------------------------------------
# Every cleartext byte decodes and rebuilds
# --------------------------------------------------------------------------


@pytest.mark.parametrize("setup", ALL, ids=str)
@pytest.mark.parametrize("side", ["client", "server"])
def test_cleartext_records_rebuild_byte_identically(setup: Setup, side: str) -> None:
    capture = _capture(setup)

    records = _cleartext_records(capture.stream(side))

    assert records[-1][0] == CONTENT_CHANGE_CIPHER_SPEC
    for index, raw in enumerate(records):
        record = TLSPlaintext.parse(raw)
        assert TLSPlaintext.build(record) == raw
        assert record.type == raw[0]
        assert record.length == len(record.fragment) == len(raw) - RECORD_HEADER
        first_hello = side == "client" and index == 0
        assert record.version == (TLS1_0 if first_hello else TLS1_2)


@pytest.mark.parametrize("setup", ALL, ids=str)
@pytest.mark.parametrize("side", ["client", "server"])
def test_handshake_messages_rebuild_byte_identically(setup: Setup, side: str) -> None:
    capture = _capture(setup)
    messages = handshake_messages(capture.stream(side))

    decoded = [_decode(message) for message in messages]

    for message, value in zip(messages, decoded, strict=True):
        assert value.msg_type == message[0]
        assert value.length == len(message) - 4
        assert Handshake.build(value, **PARAMS.get(message[0], {})) == message
    if setup.resumed:
        flow = RESUMED_CLIENT_FLOW if side == "client" else RESUMED_SERVER_FLOW
    elif side == "client":
        flow = FULL_CLIENT_FLOW
    else:
        flow = FULL_SERVER_FLOW + (["new_session_ticket"] if setup.tickets else [])
    assert [value.msg_type.name for value in decoded] == flow


@pytest.mark.parametrize("setup", ALL, ids=str)
@pytest.mark.parametrize("side", ["client", "server"])
def test_change_cipher_spec_record_decodes_and_rebuilds(
    setup: Setup, side: str
) -> None:
    raw = _cleartext_records(_capture(setup).stream(side))[-1]
    fragment = TLSPlaintext.parse(raw).fragment

    value = ChangeCipherSpec.parse(fragment)

    assert fragment == b"\x01"
    assert value.type.name == "change_cipher_spec"
    assert ChangeCipherSpec.build(value) == fragment
    assert ChangeCipherSpec.build({}) == fragment


@pytest.mark.parametrize("setup", ALL, ids=str)
@pytest.mark.parametrize("side", ["client", "server"])
def test_runtime_splitter_agrees_with_independent_splitter(
    setup: Setup, side: str
) -> None:
    stream = _capture(setup).stream(side)

    records, rest = runtime_messages.split_records(stream)
    messages = [m for _, m in runtime_messages.handshake_messages(records)]

    assert rest == b""
    assert [(r.content_type, r.version, r.fragment) for r in records] == (
        split_records(stream)
    )
    assert messages == handshake_messages(stream)


# --------------------------------------------------------------------------
# Decoded fields are what OpenSSL was configured with
# --------------------------------------------------------------------------


@pytest.mark.parametrize("setup", ALL, ids=str)
def test_client_hello_offers_the_configured_suites(setup: Setup) -> None:
    capture = _capture(setup)

    offered = _one(capture, "client", "client_hello").cipher_suites

    # TLS 1.3 suites are configured too but never offered by a 1.2 client.
    configured = [
        c["id"] & 0xFFFF
        for c in capture.client_ctx.get_ciphers()
        if c["protocol"] != "TLSv1.3"
    ]
    assert offered == [*configured, EMPTY_RENEGOTIATION_INFO_SCSV]
    if setup.forced:
        assert offered == [setup.forced[1], EMPTY_RENEGOTIATION_INFO_SCSV]


@pytest.mark.parametrize("setup", ALL, ids=str)
def test_server_hello_suite_is_the_negotiated_cipher(setup: Setup) -> None:
    capture = _capture(setup)

    chosen = _one(capture, "server", "server_hello").cipher_suite

    # cipher()[1] is the suite's minimum version; version() the connection's.
    name = capture.pair.client.cipher()[0]
    assert capture.pair.client.version() == "TLSv1.2"
    assert capture.pair.server.cipher()[0] == name
    assert chosen == _suite_ids(capture.client_ctx)[name]
    if setup.forced:
        assert (name, chosen) == setup.forced
    assert chosen in _one(capture, "client", "client_hello").cipher_suites


@pytest.mark.parametrize("setup", ALL, ids=str)
def test_server_name_extension_carries_the_configured_name(setup: Setup) -> None:
    capture = _capture(setup)

    client_ext = _extensions(_one(capture, "client", "client_hello"))
    server_ext = _extensions(_one(capture, "server", "server_hello"))

    if not setup.sni:
        assert SERVER_NAME not in client_ext
        assert SERVER_NAME not in server_ext
        assert set(capture.sni_seen) == {None}
        return
    assert client_ext[SERVER_NAME] == Container(
        server_name_list=[Container(name_type=NameType.host_name, name=SNI.encode())]
    )
    assert set(capture.sni_seen) == {SNI}
    # RFC 6066 §3: the acknowledgement is empty, and not sent on resumption.
    if setup.resumed:
        assert SERVER_NAME not in server_ext
    else:
        assert server_ext[SERVER_NAME] == Container()


@pytest.mark.parametrize("setup", ALL, ids=str)
def test_alpn_extensions_carry_the_configured_protocols(setup: Setup) -> None:
    capture = _capture(setup)

    client_ext = _extensions(_one(capture, "client", "client_hello"))
    server_ext = _extensions(_one(capture, "server", "server_hello"))

    selected = capture.pair.client.selected_alpn_protocol()
    assert capture.pair.server.selected_alpn_protocol() == selected
    if not setup.alpn:
        assert selected is None
        assert ALPN not in client_ext
        assert ALPN not in server_ext
        return
    assert client_ext[ALPN] == Container(
        protocol_name_list=[name.encode() for name in CLIENT_ALPN]
    )
    assert selected == SELECTED_ALPN
    assert server_ext[ALPN] == Container(protocol_name_list=[selected.encode()])


@pytest.mark.parametrize("setup", FULL, ids=str)
def test_session_ticket_extension_follows_the_ticket_setting(setup: Setup) -> None:
    capture = _capture(setup)

    client_hello = _one(capture, "client", "client_hello")
    server_hello = _one(capture, "server", "server_hello")

    client_ext = _extensions(client_hello)
    server_ext = _extensions(server_hello)
    if setup.tickets:
        assert client_ext[SESSION_TICKET] == b""
        assert server_ext[SESSION_TICKET] == b""
        # A server that will issue a ticket leaves the session id empty.
        assert server_hello.session_id == b""
    else:
        assert SESSION_TICKET not in client_ext
        assert SESSION_TICKET not in server_ext
        assert len(server_hello.session_id) == SESSION_ID_SIZE


@pytest.mark.parametrize("setup", WITH_TICKETS, ids=str)
def test_new_session_ticket_hint_is_the_session_timeout(setup: Setup) -> None:
    capture = _capture(setup)

    ticket = _one(capture, "server", "new_session_ticket")

    assert ticket.ticket_lifetime_hint == OPENSSL_SESSION_TIMEOUT
    assert capture.pair.server.session.timeout == OPENSSL_SESSION_TIMEOUT
    assert capture.pair.client.session.has_ticket
    assert len(ticket.ticket) > 0


@pytest.mark.parametrize("setup", RESUMED, ids=str)
def test_resumed_hellos_carry_the_first_session(setup: Setup) -> None:
    capture = _capture(setup)
    assert capture.first is not None

    client_hello = _one(capture, "client", "client_hello")
    server_hello = _one(capture, "server", "server_hello")

    assert capture.pair.client.session_reused
    client_ext = _extensions(client_hello)
    server_ext = _extensions(server_hello)
    if setup.tickets:
        issued = _one(capture.first, "server", "new_session_ticket").ticket
        assert client_ext[SESSION_TICKET] == issued
        # RFC 5077 §3.4: the server echoes the id the client made up.
        assert len(client_hello.session_id) == SESSION_ID_SIZE
        assert server_hello.session_id == client_hello.session_id
        assert SESSION_TICKET not in server_ext
    else:
        first_id = _one(capture.first, "server", "server_hello").session_id
        assert len(first_id) == SESSION_ID_SIZE
        assert client_hello.session_id == first_id
        assert server_hello.session_id == first_id
        assert SESSION_TICKET not in client_ext


@pytest.mark.parametrize("setup", ALL, ids=str)
def test_padding_extension_fills_client_hello_to_512_bytes(setup: Setup) -> None:
    capture = _capture(setup)
    message = handshake_messages(capture.stream("client"))[0]

    extensions = _extensions(_decode(message).body)

    if PADDING in extensions:
        assert extensions[PADDING] == bytes(len(extensions[PADDING]))
        assert len(message) == PADDED_HELLO
    else:
        assert len(message) not in PADDING_WINDOW


@pytest.mark.parametrize("setup", FULL, ids=str)
def test_certificate_list_is_the_configured_leaf(setup: Setup) -> None:
    capture = _capture(setup)

    certificate = _one(capture, "server", "certificate")

    leaf = capture.identity.cert.public_bytes(serialization.Encoding.DER)
    assert certificate.certificate_list == [leaf]


@pytest.mark.parametrize("setup", FULL, ids=str)
def test_server_key_exchange_names_x25519_and_its_signature_verifies(
    setup: Setup,
) -> None:
    capture = _capture(setup)

    exchange = _one(capture, "server", "server_key_exchange")

    params = exchange.params
    assert params.curve_params.curve_type == NAMED_CURVE
    assert params.curve_params.namedcurve == X25519
    assert len(params.public.point) == X25519_SHARE
    # RFC 8422 §5.4: the signature covers both randoms and the params,
    # assembled here by hand from the decoded fields.
    signed = b"".join(
        [
            _one(capture, "client", "client_hello").random,
            _one(capture, "server", "server_hello").random,
            bytes([params.curve_params.curve_type]),
            params.curve_params.namedcurve.to_bytes(2, "big"),
            bytes([len(params.public.point)]),
            params.public.point,
        ]
    )
    scheme = exchange.signed_params.algorithm
    assert scheme == SIGNATURE_SCHEMES[setup.key]
    _verify(capture.identity, scheme, exchange.signed_params.signature, signed)


def _verify(identity: TlsIdentity, scheme: int, signature: bytes, data: bytes) -> None:
    key = identity.cert.public_key()
    if scheme == RSA_PSS_RSAE_SHA256:
        assert isinstance(key, rsa.RSAPublicKey)
        pss = padding.PSS(
            mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH
        )
        key.verify(signature, data, pss, hashes.SHA256())
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("setup", FULL, ids=str)
def test_client_key_exchange_sends_an_x25519_share(setup: Setup) -> None:
    capture = _capture(setup)

    exchange = _one(capture, "client", "client_key_exchange")

    assert len(exchange.exchange_keys.ecdh_Yc.point) == X25519_SHARE


def test_server_without_sni_callback_does_not_acknowledge_the_name() -> None:
    pair = run_openssl_pair(
        ssl_context("client"),
        ssl_context("server", make_rsa_identity()),
        server_hostname=SNI,
    )

    client_ext = _extensions(_one(pair, "client", "client_hello"))
    server_ext = _extensions(_one(pair, "server", "server_hello"))

    assert SERVER_NAME in client_ext
    assert SERVER_NAME not in server_ext


def test_rsa_key_exchange_carries_a_tls12_premaster_secret() -> None:
    identity = make_rsa_identity()
    suite = "AES128-GCM-SHA256"  # TLS_RSA_WITH_AES_128_GCM_SHA256
    pair = run_openssl_pair(
        ssl_context("client", ciphers=suite),
        ssl_context("server", identity, ciphers=suite),
    )
    params = {"key_exchange_algorithm": "rsa"}
    client = handshake_messages(pair.client_stream)
    server = handshake_messages(pair.server_stream)

    decoded = [Handshake.parse(m, **params) for m in client + server]

    for message, value in zip(client + server, decoded, strict=True):
        assert Handshake.build(value, **params) == message
    # RFC 5246 §7.3: no ServerKeyExchange with RSA key exchange.
    assert [v.msg_type.name for v in decoded] == [
        "client_hello",
        "client_key_exchange",
        "server_hello",
        "certificate",
        "server_hello_done",
        "new_session_ticket",
    ]
    assert decoded[2].body.cipher_suite == 0x009C
    # RFC 5246 §7.4.7.1: PKCS #1 v1.5 under the leaf key, holding the
    # client's offered version and 46 random bytes.
    encrypted = decoded[1].body.exchange_keys.pre_master_secret
    assert isinstance(identity.key, rsa.RSAPrivateKey)
    assert len(encrypted) == identity.key.key_size // 8
    secret = PreMasterSecret.parse(identity.key.decrypt(encrypted, padding.PKCS1v15()))
    assert secret.client_version == TLS1_2
    assert len(secret.random) == 46


# --------------------------------------------------------------------------
# Plaintext fatal alerts of handshakes provoked to fail
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A handshake that one side aborts with a fatal alert in the clear."""

    name: str
    contexts: Callable[[], tuple[ssl.SSLContext, ssl.SSLContext]]
    # The side that fails and sends the alert, and what it reports.
    sender: str
    reason: str
    description: int
    verify_code: int | None = None
    hostname: str | None = None

    def __str__(self) -> str:
        return self.name


def _no_shared_suite() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return (
        ssl_context("client", ciphers="ECDHE-RSA-AES128-SHA"),
        ssl_context(
            "server", make_rsa_identity(), ciphers="ECDHE-RSA-AES256-GCM-SHA384"
        ),
    )


def _untrusted_ca() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    stranger = make_ecdsa_identity()
    return (
        ssl_context("client", verify=True, cadata=stranger.ca_pem),
        ssl_context("server", make_rsa_identity()),
    )


def _trusted_ca() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    identity = make_rsa_identity()
    return (
        ssl_context("client", verify=True, cadata=identity.ca_pem),
        ssl_context("server", identity),
    )


def _client_certificate_required() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return (
        ssl_context("client"),
        ssl_context(
            "server",
            make_rsa_identity(),
            verify=True,
            cadata=make_ecdsa_identity().ca_pem,
        ),
    )


FAILURES = [
    Failure(
        "server_lacks_the_only_offered_suite",
        _no_shared_suite,
        sender="server",
        reason="NO_SHARED_CIPHER",
        description=40,  # handshake_failure
    ),
    Failure(
        "client_rejects_a_certificate_from_an_unknown_ca",
        _untrusted_ca,
        sender="client",
        reason="CERTIFICATE_VERIFY_FAILED",
        verify_code=20,  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        description=48,  # unknown_ca
        hostname="localhost",
    ),
    Failure(
        "client_rejects_a_certificate_for_another_name",
        _trusted_ca,
        sender="client",
        reason="CERTIFICATE_VERIFY_FAILED",
        verify_code=62,  # X509_V_ERR_HOSTNAME_MISMATCH
        description=42,  # bad_certificate
        hostname="wrong.test",
    ),
    Failure(
        "server_requires_a_certificate_the_client_lacks",
        _client_certificate_required,
        sender="server",
        reason="PEER_DID_NOT_RETURN_A_CERTIFICATE",
        description=40,  # handshake_failure
    ),
]
MAX_ROUNDS = 16


@dataclass(frozen=True)
class Aborted:
    streams: dict[str, bytes]
    errors: dict[str, ssl.SSLError]


@functools.cache
def _abort(failure: Failure) -> Aborted:
    # run_openssl_pair stops at the first error; here the alert is also
    # delivered, so the peer reports the alert it received.
    client_ctx, server_ctx = failure.contexts()
    endpoints = {
        "client": MemoryBioEndpoint(
            client_ctx, server_side=False, server_hostname=failure.hostname
        ),
        "server": MemoryBioEndpoint(server_ctx, server_side=True),
    }
    peers = {"client": "server", "server": "client"}
    sent: dict[str, list[bytes]] = {"client": [], "server": []}
    errors: dict[str, ssl.SSLError] = {}
    for _ in range(MAX_ROUNDS):
        moved = False
        for side, endpoint in endpoints.items():
            if side not in errors:
                try:
                    endpoint.step_handshake()
                except ssl.SSLError as exc:
                    errors[side] = exc
            data = endpoint.take()
            if data:
                sent[side].append(data)
                endpoints[peers[side]].feed(data)
                moved = True
        if not moved:
            break
    return Aborted({side: b"".join(chunks) for side, chunks in sent.items()}, errors)


@pytest.mark.parametrize("failure", FAILURES, ids=str)
def test_plaintext_alert_names_what_the_failing_side_reports(failure: Failure) -> None:
    aborted = _abort(failure)
    receiver = "client" if failure.sender == "server" else "server"

    records = _cleartext_records(aborted.streams[failure.sender])
    alerts = [TLSPlaintext.parse(raw) for raw in records if raw[0] == CONTENT_ALERT]

    assert len(alerts) == 1
    assert records[-1][0] == CONTENT_ALERT
    alert = Alert.parse(alerts[0].fragment)
    assert Alert.build(alert) == alerts[0].fragment
    assert alert.level == AlertLevel.fatal
    assert alert.description == failure.description
    error = aborted.errors[failure.sender]
    assert error.reason == failure.reason
    assert getattr(error, "verify_code", None) == failure.verify_code
    # OpenSSL names a received alert SSLV3_ALERT_<NAME> or TLSV1_ALERT_<NAME>.
    name = AlertDescription(alert.description).name.upper()
    assert aborted.errors[receiver].reason.endswith(f"_ALERT_{name}")


@pytest.mark.parametrize("failure", FAILURES, ids=str)
@pytest.mark.parametrize("side", ["client", "server"])
def test_aborted_handshake_records_rebuild_byte_identically(
    failure: Failure, side: str
) -> None:
    stream = _abort(failure).streams[side]

    records = _cleartext_records(stream)
    messages = handshake_messages(stream)

    for raw in records:
        assert TLSPlaintext.build(TLSPlaintext.parse(raw)) == raw
    for message in messages:
        value = _decode(message)
        assert Handshake.build(value, **PARAMS.get(message[0], {})) == message


def test_certificate_request_and_empty_client_certificate_decode() -> None:
    failure = FAILURES[-1]
    aborted = _abort(failure)

    server = [_decode(m) for m in handshake_messages(aborted.streams["server"])]
    client = [_decode(m) for m in handshake_messages(aborted.streams["client"])]

    request = next(m.body for m in server if m.msg_type.name == "certificate_request")
    # RFC 5246 §7.4.4 and RFC 8422 §5.5: rsa_sign, dss_sign, ecdsa_sign.
    assert request.certificate_types == [1, 2, 64]
    assert ECDSA_SECP256R1_SHA256 in request.supported_signature_algorithms
    # No CA list configured for client certificates: an empty list.
    assert request.certificate_authorities == []
    # RFC 5246 §7.4.6: a client without a certificate sends an empty list.
    assert [m.msg_type.name for m in client] == [
        "client_hello",
        "certificate",
        "client_key_exchange",
    ]
    assert client[1].body.certificate_list == []
