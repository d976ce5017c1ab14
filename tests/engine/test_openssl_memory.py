"""Interoperability with OpenSSL in this process, through memory BIOs.

Every suite, with the certificate type it needs, in both directions: our
client against an OpenSSL server and an OpenSSL client against our server.
Each connection runs a full handshake, carries data both ways and closes
with close_notify; a second connection then resumes with the ticket of the
first.  CBC suites run with encrypt-then-MAC (RFC 7366) and, with OpenSSL's
SSL_OP_NO_ENCRYPT_THEN_MAC, without it.
"""

from __future__ import annotations

import ssl

import pytest

from tests.engine.support import (
    OP_NO_ENCRYPT_THEN_MAC,
    OPENSSL_NAMES,
    SERVER_NAME,
    client_config,
    pump_openssl,
    server_config,
)
from tests.support.openssl import (
    MemoryBioEndpoint,
    TlsIdentity,
    handshake_messages,
    make_ecdsa_identity,
    make_rsa_identity,
    ssl_context,
)
from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.generated.extensions import ExtensionType
from tlsspec.generated.handshake import Handshake
from tlsspec.runtime import ClientConnection, ServerConnection
from tlsspec.runtime.alerts import RemoteAlert
from tlsspec.runtime.events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    NewSession,
)
from tlsspec.runtime.suites import ALL_SUITES, BulkCipher, CipherSuite
from tlsspec.runtime.tickets import TicketKeyRing

DATA_UP = b"ping " * 1000
DATA_DOWN = b"pong " * 4000  # more than one record


def _identity(suite: CipherSuite) -> TlsIdentity:
    if suite.authentication.name == "RSA":
        return make_rsa_identity()
    return make_ecdsa_identity()


def _matrix() -> list[tuple[CipherSuite, bool]]:
    cases = []
    for suite in ALL_SUITES:
        cases.append((suite, True))
        if suite.bulk_cipher is BulkCipher.AES_CBC:
            cases.append((suite, False))
    return cases


MATRIX = _matrix()
IDS = [f"{s.name}-{'etm' if etm else 'no_etm'}" for s, etm in MATRIX]


def _events_of(events: list[Event], kind: type) -> list[Event]:
    return [e for e in events if isinstance(e, kind)]


def _server_hello_extensions(server_bytes: bytes) -> set[int]:
    hello = Handshake.parse(handshake_messages(server_bytes)[0])
    return {int(e["extension_type"]) for e in hello["body"]["extensions"]}


def _our_client_connection(
    identity: TlsIdentity,
    suite: CipherSuite,
    context: ssl.SSLContext,
    session: object,
) -> tuple[ClientConnection, MemoryBioEndpoint, list[Event], bytes]:
    client = ClientConnection(
        client_config(identity, cipher_suites=[suite]),
        server_name=SERVER_NAME,
        session=session,  # type: ignore[arg-type]
    )
    server = MemoryBioEndpoint(context, server_side=True)
    client.start_handshake()
    first_flight: list[bytes] = []

    # Capture the server's first flight to read its ServerHello.
    server.feed(client.data_to_send())
    server.step_handshake()
    first_flight.append(server.take())
    events = client.receive_data(first_flight[0])
    server.feed(client.data_to_send())
    events += pump_openssl(client, server)
    return client, server, events, first_flight[0]


@pytest.mark.parametrize(("suite", "etm"), MATRIX, ids=IDS)
def test_our_client_with_openssl_server(suite: CipherSuite, etm: bool) -> None:
    identity = _identity(suite)
    context = ssl_context(
        "server",
        identity,
        ciphers=OPENSSL_NAMES[suite.name],
        options=0 if etm else OP_NO_ENCRYPT_THEN_MAC,
    )

    # Full handshake, data both ways, close_notify from us.
    client, server, events, flight = _our_client_connection(
        identity, suite, context, None
    )
    (complete,) = _events_of(events, HandshakeComplete)
    assert complete.cipher_suite is suite and not complete.resumed
    negotiated_etm = ExtensionType.encrypt_then_mac in _server_hello_extensions(flight)
    assert negotiated_etm == (etm and suite.bulk_cipher is BulkCipher.AES_CBC)
    (new_session,) = _events_of(events, NewSession)

    client.send_application_data(DATA_UP)
    server.feed(client.data_to_send())
    assert server.read() == DATA_UP
    server.write(DATA_DOWN)
    received = client.receive_data(server.take())
    assert b"".join(e.data for e in received) == DATA_DOWN  # type: ignore[attr-defined]

    client.close()
    server.feed(client.data_to_send())
    assert server.unwrap()
    assert client.receive_data(server.take()) == [ConnectionClosed(clean=True)]

    # Resumption with the ticket.
    client, server, events, _ = _our_client_connection(
        identity, suite, context, new_session.session
    )
    (complete,) = _events_of(events, HandshakeComplete)
    assert complete.resumed
    assert server.ssl_object.session_reused
    client.send_application_data(b"again")
    server.feed(client.data_to_send())
    assert server.read() == b"again"


def _openssl_client_connection(
    context: ssl.SSLContext,
    server: ServerConnection,
    session: ssl.SSLSession | None,
) -> tuple[MemoryBioEndpoint, list[Event], bytes]:
    client = MemoryBioEndpoint(
        context, server_side=False, server_hostname=SERVER_NAME, session=session
    )
    client.step_handshake()
    events = server.receive_data(client.take())
    flight = server.data_to_send()
    client.feed(flight)
    events += pump_openssl(server, client)
    return client, events, flight


@pytest.mark.parametrize(("suite", "etm"), MATRIX, ids=IDS)
def test_openssl_client_with_our_server(suite: CipherSuite, etm: bool) -> None:
    identity = _identity(suite)
    config = server_config(
        identity, ring=TicketKeyRing.generate(), cipher_suites=[suite]
    )
    context = ssl_context(
        "client",
        ciphers=OPENSSL_NAMES[suite.name],
        options=0 if etm else OP_NO_ENCRYPT_THEN_MAC,
        verify=True,
        cadata=identity.ca_pem,
    )

    # Full handshake, data both ways, close_notify from OpenSSL.
    server = ServerConnection(config)
    client, events, flight = _openssl_client_connection(context, server, None)
    (complete,) = _events_of(events, HandshakeComplete)
    assert complete.cipher_suite is suite and not complete.resumed
    assert complete.server_name == SERVER_NAME
    assert not client.ssl_object.session_reused
    negotiated_etm = ExtensionType.encrypt_then_mac in _server_hello_extensions(flight)
    assert negotiated_etm == (etm and suite.bulk_cipher is BulkCipher.AES_CBC)

    client.write(DATA_UP)
    received = server.receive_data(client.take())
    assert b"".join(e.data for e in received) == DATA_UP  # type: ignore[attr-defined]
    server.send_application_data(DATA_DOWN)
    client.feed(server.data_to_send())
    assert client.read() == DATA_DOWN

    assert not client.unwrap()
    assert server.receive_data(client.take()) == [ConnectionClosed(clean=True)]
    client.feed(server.data_to_send())
    assert client.unwrap()

    # Resumption with the ticket we issued.
    session = client.ssl_object.session
    server = ServerConnection(config)
    client, events, _ = _openssl_client_connection(context, server, session)
    (complete,) = _events_of(events, HandshakeComplete)
    assert complete.resumed
    assert client.ssl_object.session_reused
    client.write(b"again")
    assert _events_of(server.receive_data(client.take()), ApplicationData) == [
        ApplicationData(data=b"again")
    ]


def test_alpn_with_openssl_in_both_directions() -> None:
    identity = make_rsa_identity()

    server = ServerConnection(server_config(identity, alpn_protocols=["h2"]))
    context = ssl_context("client", alpn=["http/1.1", "h2"])
    client, events, _ = _openssl_client_connection(context, server, None)
    assert client.ssl_object.selected_alpn_protocol() == "h2"
    assert _events_of(events, HandshakeComplete)[0].alpn_protocol == "h2"  # type: ignore[attr-defined]

    context = ssl_context("server", identity, alpn=["http/1.1"])
    ours = ClientConnection(
        client_config(identity, alpn_protocols=["h2", "http/1.1"]),
        server_name=SERVER_NAME,
    )
    theirs = MemoryBioEndpoint(context, server_side=True)
    ours.start_handshake()
    theirs.feed(ours.data_to_send())
    events = pump_openssl(ours, theirs)
    assert _events_of(events, HandshakeComplete)[0].alpn_protocol == "http/1.1"  # type: ignore[attr-defined]
    assert theirs.ssl_object.selected_alpn_protocol() == "http/1.1"


def test_our_client_accepts_the_sentinel_of_a_tls13_capable_server() -> None:
    # RFC 8446 §4.1.3: a TLS 1.3 server negotiating TLS 1.2 ends its
    # random with DOWNGRD\x01 even for a TLS 1.2-only client like ours.
    identity = make_ecdsa_identity()
    context = ssl_context("server", identity, tls12_only=False)
    client = ClientConnection(client_config(identity), server_name=SERVER_NAME)
    server = MemoryBioEndpoint(context, server_side=True)
    client.start_handshake()
    server.feed(client.data_to_send())
    server.step_handshake()
    flight = server.take()
    events = client.receive_data(flight)
    server.feed(client.data_to_send())
    events += pump_openssl(client, server)

    random = Handshake.parse(handshake_messages(flight)[0])["body"]["random"]
    assert random.endswith(b"DOWNGRD\x01")
    assert _events_of(events, HandshakeComplete)


def test_tls13_capable_openssl_client_gets_tls12_from_our_server() -> None:
    identity = make_ecdsa_identity()
    server = ServerConnection(server_config(identity))
    context = ssl_context("client", tls12_only=False)

    client, events, _ = _openssl_client_connection(context, server, None)

    assert client.ssl_object.version() == "TLSv1.2"
    assert _events_of(events, HandshakeComplete)


def _openssl_client_aborts(
    context: ssl.SSLContext, server: ServerConnection
) -> list[Event]:
    # Run until the OpenSSL client refuses our first flight; return what
    # our server makes of its alert.
    client = MemoryBioEndpoint(context, server_side=False, server_hostname=SERVER_NAME)
    client.step_handshake()
    server.receive_data(client.take())
    client.feed(server.data_to_send())
    with pytest.raises(ssl.SSLError):
        client.step_handshake()
    return server.receive_data(client.take())


def test_downgrade_sentinel_option_makes_a_tls13_client_abort() -> None:
    # With the sentinel, a TLS 1.3 client concludes that an attacker
    # removed TLS 1.3 from the handshake: exactly RFC 8446 §4.1.3's point.
    identity = make_ecdsa_identity()
    server = ServerConnection(server_config(identity, tls13_downgrade_sentinel=True))

    events = _openssl_client_aborts(ssl_context("client", tls12_only=False), server)

    assert events == [
        AlertReceived(
            level=AlertLevel.fatal, description=AlertDescription.illegal_parameter
        ),
        ConnectionClosed(clean=False),
    ]


def test_openssl_server_without_tickets_gives_no_session() -> None:
    identity = make_rsa_identity()
    context = ssl_context("server", identity, tickets=False)
    client = ClientConnection(client_config(identity), server_name=SERVER_NAME)
    server = MemoryBioEndpoint(context, server_side=True)
    client.start_handshake()
    server.feed(client.data_to_send())

    events = pump_openssl(client, server)

    assert not _events_of(events, NewSession)
    assert _events_of(events, HandshakeComplete)[0].session is None  # type: ignore[attr-defined]


def test_openssl_client_that_distrusts_our_chain_sends_unknown_ca() -> None:
    identity = make_rsa_identity()
    server = ServerConnection(server_config(identity))
    context = ssl_context("client", verify=True, cadata=make_ecdsa_identity().ca_pem)

    events = _openssl_client_aborts(context, server)

    assert events == [
        AlertReceived(level=AlertLevel.fatal, description=AlertDescription.unknown_ca),
        ConnectionClosed(clean=False),
    ]
    with pytest.raises(RemoteAlert):
        server.receive_data(b"")


@pytest.mark.parametrize("curve", ["X25519", "prime256v1", "secp384r1"])
def test_each_group_with_openssl_in_both_directions(curve: str) -> None:
    # RSA certificates: an ECDSA one would also need its curve offered.
    identity = make_rsa_identity()

    context = ssl_context("server", identity, ecdh_curve=curve)
    client = ClientConnection(client_config(identity), server_name=SERVER_NAME)
    theirs = MemoryBioEndpoint(context, server_side=True)
    client.start_handshake()
    theirs.feed(client.data_to_send())
    assert _events_of(pump_openssl(client, theirs), HandshakeComplete)

    server = ServerConnection(server_config(identity))
    context = ssl_context("client", ecdh_curve=curve)
    _, events, _ = _openssl_client_connection(context, server, None)
    assert _events_of(events, HandshakeComplete)


def _server_asking_for_a_certificate(mode: ssl.VerifyMode) -> MemoryBioEndpoint:
    context = ssl_context("server", make_rsa_identity())
    context.load_verify_locations(cadata=make_rsa_identity().ca_pem.decode())
    context.verify_mode = mode
    return MemoryBioEndpoint(context, server_side=True)


def test_certificate_request_is_answered_with_an_empty_certificate() -> None:
    identity = make_rsa_identity()
    server = _server_asking_for_a_certificate(ssl.CERT_OPTIONAL)
    client = ClientConnection(client_config(identity), server_name=SERVER_NAME)
    client.start_handshake()
    server.feed(client.data_to_send())

    events = pump_openssl(client, server)

    assert _events_of(events, HandshakeComplete)
    assert server.ssl_object.getpeercert() is None


def test_server_requiring_a_client_certificate_ends_the_handshake() -> None:
    identity = make_rsa_identity()
    server = _server_asking_for_a_certificate(ssl.CERT_REQUIRED)
    client = ClientConnection(client_config(identity), server_name=SERVER_NAME)
    client.start_handshake()
    server.feed(client.data_to_send())
    server.step_handshake()
    client.receive_data(server.take())
    server.feed(client.data_to_send())

    with pytest.raises(ssl.SSLError):
        server.step_handshake()
    events = client.receive_data(server.take())

    assert events[-1] == ConnectionClosed(clean=False)
    assert isinstance(events[0], AlertReceived)
    assert events[0].level is AlertLevel.fatal
