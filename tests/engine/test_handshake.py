"""Our client against our server, in memory: full handshakes and traffic."""

from __future__ import annotations

import gc
import io
import weakref

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.engine.support import (
    HANDSHAKE,
    SERVER_NAME,
    CountingRandom,
    client_config,
    client_hello,
    clock_for,
    default_client_extensions,
    extension,
    make_pair,
    record,
    server_config,
)
from tests.support.openssl import (
    TlsIdentity,
    handshake_messages,
    make_ecdsa_identity,
    make_rsa_identity,
)
from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.generated.extensions import ExtensionType, NamedGroup
from tlsspec.generated.handshake import Handshake
from tlsspec.runtime import ClientConfig, ClientConnection, ServerConnection
from tlsspec.runtime.alerts import LocalProtocolError, RemoteAlert
from tlsspec.runtime.events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    HandshakeComplete,
)
from tlsspec.runtime.keylog import KeyLogWriter
from tlsspec.runtime.state import State
from tlsspec.runtime.suites import ALL_SUITES, CipherSuite
from tlsspec.runtime.tickets import TicketKeyRing

IDENTITIES = {"rsa": make_rsa_identity, "ecdsa": make_ecdsa_identity}


def _identity_for(suite: CipherSuite) -> TlsIdentity:
    return IDENTITIES[suite.authentication.name.lower()]()


@pytest.mark.parametrize("suite", ALL_SUITES, ids=lambda s: s.name)
def test_full_handshake_carries_data_both_ways_and_closes_cleanly(
    suite: CipherSuite,
) -> None:
    identity = _identity_for(suite)
    pair = make_pair(
        client_config(identity, cipher_suites=[suite]), server_config(identity)
    )

    pair.handshake()
    pair.client.send_application_data(b"ping")
    pair.server.send_application_data(b"pong")
    pair.pump()
    pair.client.close()
    pair.pump()

    for side in ("client", "server"):
        complete = pair.complete(side)
        assert complete.cipher_suite is suite
        assert not complete.resumed
    assert [e for e in pair.server_events if isinstance(e, ApplicationData)] == [
        ApplicationData(data=b"ping")
    ]
    assert ApplicationData(data=b"pong") in pair.client_events
    assert pair.client_events[-1] == ConnectionClosed(clean=True)
    assert pair.server_events[-1] == ConnectionClosed(clean=True)
    assert pair.client.state is State.CLOSED
    assert pair.server.state is State.CLOSED


def test_finished_connections_are_freed_without_the_cycle_collector() -> None:
    # Nothing in a connection refers back to it, so its keys and buffers
    # go as soon as the caller drops it, not at some later collection.
    identity = make_ecdsa_identity()
    ring = TicketKeyRing.generate()
    pair = make_pair(client_config(identity), server_config(identity, ring=ring))
    pair.handshake()
    resumed = make_pair(
        client_config(identity),
        server_config(identity, ring=ring),
        session=pair.client.session,
    )
    resumed.handshake()
    assert resumed.complete("client").resumed
    connections = [pair.client, pair.server, resumed.client, resumed.server]
    refs = [weakref.ref(connection) for connection in connections]

    gc.disable()
    try:
        del pair, resumed, connections
        assert [ref() for ref in refs] == [None] * 4
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "group", [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1]
)
def test_negotiates_each_group(group: NamedGroup) -> None:
    identity = make_rsa_identity()
    log = io.StringIO()
    pair = make_pair(
        client_config(identity, groups=[group]),
        server_config(identity, keylog=KeyLogWriter(log)),
    )

    pair.handshake()

    assert pair.complete("server").cipher_suite.authentication.name == "RSA"
    server_key_exchange = handshake_messages(pair.server_wire[0])[2]
    assert int.from_bytes(server_key_exchange[5:7], "big") == group


def test_ecdsa_certificate_curve_must_be_among_the_client_groups() -> None:
    # RFC 8422 §5.1: supported_groups binds the certificate curve too.
    identity = make_ecdsa_identity()
    pair = make_pair(
        client_config(identity, groups=[NamedGroup.x25519]), server_config(identity)
    )
    pair.client.start_handshake()

    with pytest.raises(LocalProtocolError) as caught:
        pair.server.receive_data(pair.client.data_to_send())

    assert caught.value.description is AlertDescription.handshake_failure


def test_signs_with_p384_key_under_sha384() -> None:
    identity = make_ecdsa_identity(curve=ec.SECP384R1)
    pair = make_pair(client_config(identity), server_config(identity))

    pair.handshake()

    assert pair.complete("client").server_name == SERVER_NAME


def test_same_randomness_gives_the_same_bytes() -> None:
    identity = make_ecdsa_identity()

    def run() -> list[bytes]:
        pair = make_pair(client_config(identity), server_config(identity))
        pair.handshake()
        return pair.client_wire + pair.server_wire

    assert run() == run()


def test_reports_alpn_and_server_name_on_both_sides() -> None:
    identity = make_rsa_identity()
    pair = make_pair(
        client_config(identity, alpn_protocols=["h2", "http/1.1"]),
        server_config(identity, alpn_protocols=["http/1.1", "h2"]),
    )

    pair.handshake()

    for side in ("client", "server"):
        assert pair.complete(side).alpn_protocol == "http/1.1"
        assert pair.complete(side).server_name == SERVER_NAME


def test_no_common_alpn_protocol_is_a_fatal_no_application_protocol() -> None:
    identity = make_rsa_identity()
    pair = make_pair(
        client_config(identity, alpn_protocols=["h2"]),
        server_config(identity, alpn_protocols=["http/1.1"]),
    )
    pair.client.start_handshake()

    with pytest.raises(LocalProtocolError) as caught:
        pair.server.receive_data(pair.client.data_to_send())

    assert caught.value.description is AlertDescription.no_application_protocol
    assert str(caught.value) == (
        "ClientHello.extensions.application_layer_protocol_negotiation: "
        "offers h2, expected one of http/1.1"
    )


def test_ip_literal_is_verified_but_not_sent_as_sni() -> None:
    identity = make_rsa_identity()
    pair = make_pair(
        client_config(identity), server_config(identity), server_name="127.0.0.1"
    )

    pair.handshake()

    assert pair.complete("client").server_name == "127.0.0.1"
    assert pair.complete("server").server_name is None


def test_application_data_sent_before_completion_waits_for_it() -> None:
    identity = make_rsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    pair.client.send_application_data(b"early")
    pair.server.send_application_data(b"eager")

    pair.handshake()

    assert ApplicationData(data=b"early") in pair.server_events
    assert ApplicationData(data=b"eager") in pair.client_events


def test_large_writes_are_cut_into_records_of_at_most_2_14_bytes() -> None:
    identity = make_rsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    pair.handshake()
    data = bytes(range(256)) * 300  # 76800 bytes

    pair.client.send_application_data(data)
    wire = pair.client.data_to_send()
    events = pair.server.receive_data(wire)

    received = b"".join(e.data for e in events if isinstance(e, ApplicationData))
    assert received == data
    assert len(events) == 5  # ceil(76800 / 16384)


def test_handshake_survives_one_byte_at_a_time() -> None:
    identity = make_rsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    pair.client.start_handshake()

    for _ in range(4):
        for byte in pair.client.data_to_send():
            pair.server_events += pair.server.receive_data(bytes([byte]))
        for byte in pair.server.data_to_send():
            pair.client_events += pair.client.receive_data(bytes([byte]))

    assert pair.client.handshake_complete
    assert pair.server.handshake_complete


def test_handshake_messages_split_over_records_reassemble() -> None:
    identity = make_rsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    pair.client.start_handshake()
    hello = pair.client.data_to_send()[5:]

    # The ClientHello arrives in three records, cut mid-header and mid-body.
    chunks = [hello[:2], hello[2:50], hello[50:]]
    pair.server.receive_data(b"".join(record(HANDSHAKE, c) for c in chunks))
    pair.pump()

    assert pair.client.handshake_complete


def test_data_before_close_notify_is_delivered_first() -> None:
    identity = make_rsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    pair.handshake()

    pair.server.send_application_data(b"last words")
    pair.server.close()
    events = pair.client.receive_data(pair.server.data_to_send())

    assert events == [
        ApplicationData(data=b"last words"),
        ConnectionClosed(clean=True),
    ]
    # The client answered the close_notify (RFC 5246 §7.2.1).
    assert pair.server.receive_data(pair.client.data_to_send()) == [
        ConnectionClosed(clean=True)
    ]


def test_transport_eof_without_close_notify_is_unclean() -> None:
    identity = make_rsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    pair.handshake()

    assert pair.client.receive_data(b"") == [ConnectionClosed(clean=False)]
    assert pair.client.receive_data(b"more") == []


def test_sending_after_close_is_refused() -> None:
    identity = make_rsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    pair.handshake()
    pair.client.close()

    with pytest.raises(RuntimeError):
        pair.client.send_application_data(b"late")


def test_fatal_alert_from_peer_is_reported_then_sticky() -> None:
    identity = make_rsa_identity()
    pair = make_pair(
        client_config(identity, alpn_protocols=["h2"]),
        server_config(identity, alpn_protocols=["http/1.1"]),
    )
    pair.client.start_handshake()
    with pytest.raises(LocalProtocolError):
        pair.server.receive_data(pair.client.data_to_send())

    events = pair.client.receive_data(pair.server.data_to_send())

    assert events == [
        AlertReceived(
            level=AlertLevel.fatal,
            description=AlertDescription.no_application_protocol,
        ),
        ConnectionClosed(clean=False),
    ]
    with pytest.raises(RemoteAlert):
        pair.client.receive_data(b"anything")
    with pytest.raises(RemoteAlert):
        pair.client.send_application_data(b"anything")


def test_warning_level_decrypt_error_still_ends_the_connection() -> None:
    # RFC 5246 §7.2.2 calls decrypt_error "always fatal", whatever level
    # the peer wrote on it.
    identity = make_rsa_identity()
    server = ServerConnection(server_config(identity))
    client = ClientConnection(client_config(identity), server_name="localhost")
    client.start_handshake()
    server.receive_data(client.data_to_send())
    server.data_to_send()

    events = server.receive_data(record(21, b"\x01\x33"))

    assert events == [
        AlertReceived(
            level=AlertLevel.warning, description=AlertDescription.decrypt_error
        ),
        ConnectionClosed(clean=False),
    ]
    assert server.data_to_send() == b""
    with pytest.raises(RemoteAlert):
        server.receive_data(b"anything")


def test_local_error_is_sticky_and_queues_one_fatal_alert() -> None:
    identity = make_rsa_identity()
    server = ServerConnection(server_config(identity))

    with pytest.raises(LocalProtocolError) as first:
        server.receive_data(record(23, b"too early"))
    with pytest.raises(LocalProtocolError) as second:
        server.receive_data(b"whatever follows")

    assert second.value is first.value
    assert server.data_to_send() == record(21, b"\x02\x0a")
    assert server.data_to_send() == b""


def test_server_refuses_renegotiation_with_a_warning() -> None:
    identity = make_rsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    pair.handshake()
    hello = ClientConnection(client_config(identity), server_name=SERVER_NAME)
    hello.start_handshake()
    renegotiation = hello.data_to_send()[5:]

    # The client's writer protects the ClientHello like any record now.
    pair.client._writer.write(HANDSHAKE, renegotiation)
    pair.pump()

    assert (
        AlertReceived(
            level=AlertLevel.warning, description=AlertDescription.no_renegotiation
        )
        in pair.client_events
    )
    assert pair.server.handshake_complete


def test_client_refuses_hello_request_with_a_warning() -> None:
    identity = make_rsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    pair.handshake()

    pair.server._writer.write(HANDSHAKE, b"\x00\x00\x00\x00")
    pair.pump()

    assert (
        AlertReceived(
            level=AlertLevel.warning, description=AlertDescription.no_renegotiation
        )
        in pair.server_events
    )
    pair.client.send_application_data(b"still open")
    pair.pump()
    assert ApplicationData(data=b"still open") in pair.server_events


def test_keylog_writer_records_the_master_secret() -> None:
    identity = make_rsa_identity()
    log = io.StringIO()
    pair = make_pair(
        client_config(identity, keylog=KeyLogWriter(log)), server_config(identity)
    )

    pair.handshake()

    label, random_hex, secret_hex = log.getvalue().split()
    assert label == "CLIENT_RANDOM"
    assert len(bytes.fromhex(random_hex)) == 32
    assert len(bytes.fromhex(secret_hex)) == 48


@pytest.mark.parametrize(
    ("server_name", "trusted", "shift", "alert"),
    [
        ("example.com", "own", 0, AlertDescription.bad_certificate),
        (SERVER_NAME, "other", 0, AlertDescription.unknown_ca),
        (SERVER_NAME, "own", 90 * 86400, AlertDescription.certificate_expired),
    ],
    ids=["wrong-host-name", "unknown-ca", "expired"],
)
def test_client_rejects_a_certificate_it_cannot_verify(
    server_name: str, trusted: str, shift: float, alert: AlertDescription
) -> None:
    identity = make_rsa_identity()
    anchor = identity.ca_cert if trusted == "own" else make_ecdsa_identity().ca_cert
    clock = clock_for(identity)
    clock.advance(shift)
    client = ClientConnection(
        ClientConfig(trust_anchors=[anchor], clock=clock), server_name=server_name
    )
    server = ServerConnection(server_config(identity))
    client.start_handshake()
    server.receive_data(client.data_to_send())

    with pytest.raises(LocalProtocolError) as caught:
        client.receive_data(server.data_to_send())

    assert caught.value.description is alert
    assert "<Certificate(" not in str(caught.value)
    if server_name == "example.com":
        assert str(caught.value) == (
            "Certificate.certificate_list: does not verify for 'example.com': "
            "validation failed: leaf certificate has no matching subjectAltName "
            f"(leaf {identity.cert.subject.rfc4514_string()})"
        )


def test_verify_false_accepts_an_untrusted_chain_by_explicit_choice() -> None:
    identity = make_rsa_identity()
    client = ClientConnection(
        ClientConfig(verify=False, random=CountingRandom()), server_name=None
    )
    server = ServerConnection(server_config(identity))
    client.start_handshake()
    server.receive_data(client.data_to_send())
    events = client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    events += client.receive_data(server.data_to_send())

    assert any(isinstance(e, HandshakeComplete) for e in events)


def test_verifying_client_needs_a_server_name() -> None:
    identity = make_rsa_identity()
    with pytest.raises(ValueError, match="server_name"):
        ClientConnection(client_config(identity))


def _server_hello_for(hello: bytes, **options: object) -> dict[str, object]:
    server = ServerConnection(server_config(make_rsa_identity(), **options))
    server.receive_data(record(HANDSHAKE, hello))
    first = handshake_messages(server.data_to_send())[0]
    return Handshake.parse(first)["body"]


def _extension_types(body: dict[str, object]) -> set[int]:
    return {int(e["extension_type"]) for e in body["extensions"]}  # type: ignore[attr-defined]


def test_server_neither_echoes_nor_uses_heartbeat() -> None:
    heartbeat = extension(ExtensionType.heartbeat, b"\x01")
    hello = client_hello(extensions=[*default_client_extensions(), heartbeat])

    body = _server_hello_for(hello)

    assert ExtensionType.heartbeat not in _extension_types(body)


def test_tls13_offer_is_answered_with_tls12_and_no_sentinel_by_default() -> None:
    versions = extension(ExtensionType.supported_versions, b"\x04\x03\x04\x03\x03")
    hello = client_hello(extensions=[*default_client_extensions(), versions])

    body = _server_hello_for(hello)

    assert body["server_version"] == 0x0303
    assert not body["random"].endswith(b"DOWNGRD\x01")  # type: ignore[attr-defined]
    assert ExtensionType.supported_versions not in _extension_types(body)


def test_tls13_offer_gets_the_downgrade_sentinel_when_configured() -> None:
    versions = extension(ExtensionType.supported_versions, b"\x04\x03\x04\x03\x03")
    hello = client_hello(extensions=[*default_client_extensions(), versions])

    body = _server_hello_for(hello, tls13_downgrade_sentinel=True)

    assert body["server_version"] == 0x0303
    assert body["random"].endswith(b"DOWNGRD\x01")  # type: ignore[attr-defined]


def test_tls12_only_offer_never_gets_the_sentinel() -> None:
    body = _server_hello_for(client_hello(), tls13_downgrade_sentinel=True)

    assert not body["random"].endswith(b"DOWNGRD\x01")  # type: ignore[attr-defined]


def test_secure_renegotiation_and_ems_are_acknowledged() -> None:
    hello = client_hello(suites=(0xC02F, 0x00FF))

    body = _server_hello_for(hello)

    assert body["extensions"][0] == {  # type: ignore[index]
        "extension_type": ExtensionType.renegotiation_info,
        "extension_data": {"renegotiated_connection": b""},
    }
    assert ExtensionType.extended_master_secret in _extension_types(body)


def test_empty_application_data_records_are_allowed_and_silent() -> None:
    identity = make_rsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    pair.handshake()

    pair.client._writer.write(23, b"")
    assert pair.server.receive_data(pair.client.data_to_send()) == []
    pair.client.send_application_data(b"after")
    assert pair.server.receive_data(pair.client.data_to_send()) == [
        ApplicationData(data=b"after")
    ]


def test_fatal_alert_from_the_server_drops_the_clients_session() -> None:
    identity = make_rsa_identity()
    pair = make_pair(
        client_config(identity),
        server_config(identity, ring=TicketKeyRing.generate()),
    )
    pair.handshake()
    assert pair.client.session is not None

    with pytest.raises(LocalProtocolError):
        pair.server.receive_data(record(HANDSHAKE, b""))
    events = pair.client.receive_data(pair.server.data_to_send())

    assert events[-1] == ConnectionClosed(clean=False)
    assert pair.client.session is None


@pytest.mark.parametrize(
    "name",
    [
        "",
        "localhost.",
        "bücher.example",
        " localhost",
        "a..b",
        "[::1]",
        "*.localhost",
        "localhost:443",
        "local host",
        "-localhost",
        "localhost-",
        "localhost\x00evil",
        "a" * 64 + ".example",
        ".".join(["a" * 63] * 4),
    ],
)
def test_client_refuses_a_server_name_sni_cannot_carry(name: str) -> None:
    # RFC 6066 §3: an ASCII host name without a trailing dot.
    with pytest.raises(ValueError, match="server_name"):
        ClientConnection(ClientConfig(verify=False), server_name=name)


@pytest.mark.parametrize(
    "name", ["localhost", "xn--bcher-kva.example", "a-b.c0", "127.0.0.1", "::1"]
)
def test_client_accepts_host_names_and_ip_literals(name: str) -> None:
    ClientConnection(ClientConfig(verify=False), server_name=name).start_handshake()


def test_connections_refuse_a_config_of_the_wrong_kind() -> None:
    identity = make_rsa_identity()
    with pytest.raises(TypeError, match="config: expected a ServerConfig"):
        ServerConnection(client_config(identity))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="config: expected a ClientConfig"):
        ClientConnection(server_config(identity), server_name=SERVER_NAME)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="session: expected a Session"):
        ClientConnection(
            client_config(identity),
            server_name=SERVER_NAME,
            session="abc",  # type: ignore[arg-type]
        )


def test_a_closed_client_does_not_start_a_handshake() -> None:
    client = ClientConnection(ClientConfig(verify=False), server_name=SERVER_NAME)
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.start_handshake()


def test_close_after_transport_eof_sends_nothing() -> None:
    identity = make_rsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    pair.client.start_handshake()
    pair.server.receive_data(pair.client.data_to_send())

    assert pair.client.receive_data(b"") == [ConnectionClosed(clean=False)]
    pair.client.close()

    assert pair.client.data_to_send() == b""


def test_client_refuses_a_server_name_that_is_not_a_string() -> None:
    with pytest.raises(TypeError, match="server_name"):
        ClientConnection(ClientConfig(verify=False), server_name=b"localhost")  # type: ignore[arg-type]
