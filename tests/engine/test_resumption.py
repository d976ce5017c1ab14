"""Session tickets between our client and our server (RFC 5077)."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes

from tests.engine.support import (
    HANDSHAKE,
    SERVER_NAME,
    CountingRandom,
    FixedClock,
    Pair,
    client_config,
    client_hello,
    clock_for,
    default_client_extensions,
    extension,
    make_pair,
    record,
    server_config,
    split_records,
)
from tests.support.openssl import (
    TlsIdentity,
    handshake_messages,
    make_ecdsa_identity,
    make_rsa_identity,
)
from tlsspec.generated.alert import AlertDescription
from tlsspec.generated.handshake import Handshake, HandshakeType
from tlsspec.runtime import ClientConfig, ClientConnection, ServerConnection, Session
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.events import NewSession
from tlsspec.runtime.suites import (
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
)
from tlsspec.runtime.tickets import SessionState, TicketKeyRing, seal_session

LIFETIME = 7200


def _ring() -> TicketKeyRing:
    return TicketKeyRing.generate(random=CountingRandom(b"ticket keys"))


def _first_session(
    identity: TlsIdentity, ring: TicketKeyRing, clock: FixedClock
) -> Session:
    pair = make_pair(
        client_config(identity, clock=clock),
        server_config(identity, ring=ring, clock=clock),
    )
    pair.handshake()
    (new_session,) = [e for e in pair.client_events if isinstance(e, NewSession)]
    assert pair.complete("client").session == new_session.session
    return new_session.session


def _resume(
    identity: TlsIdentity,
    ring: TicketKeyRing | None,
    clock: FixedClock,
    session: Session | None,
    *,
    client: ClientConfig | None = None,
    **server_options: object,
) -> Pair:
    pair = make_pair(
        client or client_config(identity, clock=clock),
        server_config(identity, ring=ring, clock=clock, **server_options),
        session=session,
    )
    pair.handshake()
    return pair


def test_resumes_with_the_ticket_of_a_full_handshake() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = _first_session(identity, ring, clock)

    pair = _resume(identity, ring, clock, session)

    assert pair.complete("client").resumed
    assert pair.complete("server").resumed
    assert pair.complete("client").session == session
    # The abbreviated handshake sends no certificate.
    assert len(pair.server_wire[0]) < 300


def test_server_echoes_the_session_id_sent_with_the_ticket() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = _first_session(identity, ring, clock)

    pair = _resume(identity, ring, clock, session)

    client_hello_body = Handshake.parse(split_records(pair.client_wire[0])[0][1])
    server_hello_body = Handshake.parse(split_records(pair.server_wire[0])[0][1])
    session_id = client_hello_body["body"]["session_id"]
    assert len(session_id) == 32
    assert server_hello_body["body"]["session_id"] == session_id


def test_resumes_from_a_session_that_went_through_bytes() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = Session.from_bytes(_first_session(identity, ring, clock).to_bytes())

    assert _resume(identity, ring, clock, session).complete("client").resumed


def test_resumes_with_ticket_from_previous_key_and_renews_it() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = _first_session(identity, ring, clock)
    ring.rotate()

    pair = _resume(identity, ring, clock, session)

    assert pair.complete("client").resumed
    (renewed,) = [e for e in pair.client_events if isinstance(e, NewSession)]
    assert renewed.session.ticket != session.ticket
    assert renewed.session.master_secret == session.master_secret
    again = _resume(identity, ring, clock, renewed.session)
    assert again.complete("client").resumed
    assert not [e for e in again.client_events if isinstance(e, NewSession)]


def _garbage(session: Session, ring: TicketKeyRing) -> Session:
    return dataclasses.replace(session, ticket=b"\x00" * 120)


def _flipped_mac(session: Session, ring: TicketKeyRing) -> Session:
    ticket = bytearray(session.ticket)
    ticket[-1] ^= 0x01
    return dataclasses.replace(session, ticket=bytes(ticket))


def _other_key(session: Session, ring: TicketKeyRing) -> Session:
    # A ticket sealed by a server with another key ring.
    other = TicketKeyRing.generate(random=CountingRandom(b"other keys"))
    state = SessionState(
        version=0x0303,
        cipher_suite=session.cipher_suite.code,
        master_secret=session.master_secret,
        extended_master_secret=True,
        creation_time=session.received_at,
        lifetime=LIFETIME,
        server_name=SERVER_NAME,
    )
    return dataclasses.replace(session, ticket=seal_session(other, state))


def _without_ems(session: Session, ring: TicketKeyRing) -> Session:
    # RFC 7627 §5.3: a session without EMS is never resumed by a client
    # that now offers it.  (The client believes it has EMS; only the
    # server, which reads the ticket, can tell.)
    state = SessionState(
        version=0x0303,
        cipher_suite=session.cipher_suite.code,
        master_secret=session.master_secret,
        extended_master_secret=False,
        creation_time=session.received_at,
        lifetime=LIFETIME,
        server_name=SERVER_NAME,
    )
    return dataclasses.replace(session, ticket=seal_session(ring, state))


def _other_suite_state(session: Session, ring: TicketKeyRing) -> Session:
    # A ticket for a suite the client no longer offers.
    state = SessionState(
        version=0x0303,
        cipher_suite=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.code,
        master_secret=session.master_secret,
        extended_master_secret=True,
        creation_time=session.received_at,
        lifetime=LIFETIME,
        server_name=SERVER_NAME,
    )
    return dataclasses.replace(session, ticket=seal_session(ring, state))


def _other_server_name(session: Session, ring: TicketKeyRing) -> Session:
    # RFC 6066 §3: sealed for another name than the one now sent.
    state = SessionState(
        version=0x0303,
        cipher_suite=session.cipher_suite.code,
        master_secret=session.master_secret,
        extended_master_secret=True,
        creation_time=session.received_at,
        lifetime=LIFETIME,
        server_name="other.example",
    )
    return dataclasses.replace(session, ticket=seal_session(ring, state))


Spoiler = Callable[[Session, TicketKeyRing], Session]

#: How a ticket is spoiled, and the reason the server logs for refusing it.
UNUSABLE_TICKETS: dict[str, tuple[Spoiler, str]] = {
    "garbage": (_garbage, "malformed ticket"),
    "flipped-mac": (_flipped_mac, "bad MAC"),
    "other-key": (_other_key, "unknown key name"),
    "ems-mismatch": (_without_ems, "extended master secret"),
    "suite-not-offered": (_other_suite_state, "no longer offers"),
    "other-server-name": (_other_server_name, "server name differs"),
}


@pytest.mark.parametrize(
    ("spoil", "reason"), UNUSABLE_TICKETS.values(), ids=UNUSABLE_TICKETS
)
def test_unusable_ticket_falls_back_to_a_full_handshake(
    spoil: Spoiler, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tlsspec")
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = spoil(_first_session(identity, ring, clock), ring)

    pair = make_pair(
        client_config(
            identity,
            clock=clock,
            cipher_suites=[TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256],
        ),
        server_config(identity, ring=ring, clock=clock),
        session=session,
    )
    pair.handshake()

    assert not pair.complete("client").resumed
    assert not pair.complete("server").resumed
    assert reason in caplog.text
    # A fresh ticket replaces the unusable one.
    (fresh,) = [e for e in pair.client_events if isinstance(e, NewSession)]
    assert _resume(identity, ring, clock, fresh.session).complete("client").resumed


def test_expired_ticket_falls_back_to_a_full_handshake() -> None:
    identity = make_rsa_identity()
    ring = _ring()
    server_clock, client_clock = clock_for(identity), clock_for(identity)
    session = _first_session(identity, ring, server_clock)
    server_clock.advance(LIFETIME + 1)

    pair = make_pair(
        client_config(identity, clock=client_clock),
        server_config(identity, ring=ring, clock=server_clock),
        session=session,
    )
    pair.handshake()

    assert not pair.complete("server").resumed


def test_client_does_not_offer_an_expired_session() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = _first_session(identity, ring, clock)
    clock.advance(LIFETIME)

    client = ClientConnection(
        client_config(identity, clock=clock), server_name=SERVER_NAME, session=session
    )
    client.start_handshake()

    hello = Handshake.parse(split_records(client.data_to_send())[0][1])["body"]
    assert hello["session_id"] == b""
    tickets = [e for e in hello["extensions"] if e["extension_type"] == 35]
    assert tickets[0]["extension_data"] == b""


def test_client_does_not_offer_a_session_without_ems() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = dataclasses.replace(
        _first_session(identity, ring, clock), extended_master_secret=False
    )

    client = ClientConnection(
        client_config(identity, clock=clock), server_name=SERVER_NAME, session=session
    )
    client.start_handshake()

    hello = Handshake.parse(split_records(client.data_to_send())[0][1])["body"]
    assert hello["session_id"] == b""


def _offered_ticket(client: ClientConnection) -> bytes:
    client.start_handshake()
    # A ClientHello with a large ticket spans several records.
    hello = Handshake.parse(handshake_messages(client.data_to_send())[0])["body"]
    (ticket,) = [e for e in hello["extensions"] if e["extension_type"] == 35]
    return bytes(ticket["extension_data"])


def test_client_offers_the_largest_ticket_its_client_hello_holds() -> None:
    # RFC 5077 §3.3 lets a ticket be 2^16-1 bytes, but the ClientHello's
    # extensions<0..2^16-1> must hold it with every other extension.
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = _first_session(identity, ring, clock)
    config = client_config(identity, clock=clock)
    probe = ClientConnection(config, server_name=SERVER_NAME)
    room = probe._ticket_room()
    assert 65_000 < room < 65_535

    def client_with(size: int) -> ClientConnection:
        big = dataclasses.replace(session, ticket=b"\xab" * size)
        return ClientConnection(config, server_name=SERVER_NAME, session=big)

    assert _offered_ticket(client_with(room)) == b"\xab" * room
    assert _offered_ticket(client_with(room + 1)) == b""
    assert _offered_ticket(client_with(65_535)) == b""


def test_client_does_not_offer_a_session_for_another_name() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = _first_session(identity, ring, clock)

    client = ClientConnection(
        client_config(identity, clock=clock), server_name="127.0.0.1", session=session
    )
    client.start_handshake()

    hello = Handshake.parse(split_records(client.data_to_send())[0][1])["body"]
    assert hello["session_id"] == b""


def test_server_without_ticket_keys_neither_issues_nor_resumes() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = _first_session(identity, ring, clock)

    pair = _resume(identity, None, clock, session)

    assert not pair.complete("client").resumed
    assert pair.complete("client").session is None
    assert not [e for e in pair.client_events if isinstance(e, NewSession)]


def test_empty_ticket_ring_sends_an_empty_new_session_ticket() -> None:
    identity = make_rsa_identity()
    pair = make_pair(
        client_config(identity), server_config(identity, ring=TicketKeyRing())
    )

    pair.handshake()

    assert not [e for e in pair.client_events if isinstance(e, NewSession)]
    assert pair.complete("client").session is None
    assert pair.client.session is None


def test_server_declines_a_ticket_whose_client_hello_lacks_ems() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = _first_session(identity, ring, clock)
    server = ServerConnection(server_config(identity, ring=ring, clock=clock))
    extensions = [e for e in default_client_extensions() if e["extension_type"] != 23]
    extensions.append(extension(35, session.ticket))

    server.receive_data(
        record(HANDSHAKE, client_hello(session_id=b"\x07" * 32, extensions=extensions))
    )

    messages = handshake_messages(server.data_to_send())
    hello = Handshake.parse(messages[0])
    assert hello["body"]["session_id"] == b""
    assert messages[1][0] == HandshakeType.certificate


class _LyingServer(ServerConnection):
    # Sends a Finished whose verify_data is all zeros.
    def _send_finished(self) -> None:
        self._send_handshake(HandshakeType.finished, {"verify_data": bytes(12)})


def test_ticket_is_not_handed_out_before_the_server_finished_verifies() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    client = ClientConnection(
        client_config(identity, clock=clock), server_name=SERVER_NAME
    )
    server = _LyingServer(server_config(identity, ring=ring, clock=clock))
    client.start_handshake()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())

    with pytest.raises(LocalProtocolError) as caught:
        client.receive_data(server.data_to_send())

    assert caught.value.description is AlertDescription.decrypt_error
    assert client.session is None


def test_client_drops_its_session_after_a_fatal_alert() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    pair = make_pair(
        client_config(identity, clock=clock),
        server_config(identity, ring=ring, clock=clock),
    )
    pair.handshake()
    assert pair.client.session is not None
    pair.server.send_application_data(b"data")
    tampered = bytearray(pair.server.data_to_send())
    tampered[-1] ^= 0x80

    with pytest.raises(LocalProtocolError):
        pair.client.receive_data(bytes(tampered))

    assert pair.client.session is None


def test_a_session_records_the_anchors_that_verified_the_server() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = _first_session(identity, ring, clock)

    fingerprint = identity.ca_cert.fingerprint(hashes.SHA256())
    assert session.trust_digest == hashlib.sha256(fingerprint).digest()
    assert session.trust_digest == client_config(identity).trust_digest


def test_a_session_from_an_unverified_connection_is_not_resumed_by_a_verifier(
    caplog: pytest.LogCaptureFixture,
) -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    pair = make_pair(
        client_config(identity, clock=clock, verify=False),
        server_config(identity, ring=ring, clock=clock),
    )
    pair.handshake()
    unverified = pair.complete("client").session
    assert unverified is not None and unverified.trust_digest == b""

    with caplog.at_level(logging.DEBUG, logger="tlsspec"):
        pair = _resume(
            identity,
            ring,
            clock,
            unverified,
            client=client_config(identity, clock=clock),
        )

    # A full handshake, so the certificate is verified this time.
    assert not pair.complete("client").resumed
    assert "not verified against these trust anchors" in caplog.text


def test_a_session_verified_under_other_anchors_is_not_resumed() -> None:
    identity, other = make_rsa_identity(), make_ecdsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = _first_session(identity, ring, clock)
    wider = client_config(identity, clock=clock)
    wider = dataclasses.replace(wider, trust_anchors=(identity.ca_cert, other.ca_cert))

    pair = _resume(identity, ring, clock, session, client=wider)

    assert not pair.complete("client").resumed
    assert pair.complete("client").session is not None
    assert pair.complete("client").session.trust_digest == wider.trust_digest


def test_the_same_anchors_in_another_order_still_resume() -> None:
    identity, other = make_rsa_identity(), make_ecdsa_identity()
    ring, clock = _ring(), clock_for(identity)
    first = dataclasses.replace(
        client_config(identity, clock=clock),
        trust_anchors=(identity.ca_cert, other.ca_cert),
    )
    pair = _resume(identity, ring, clock, None, client=first)
    session = pair.complete("client").session
    assert session is not None

    again = dataclasses.replace(first, trust_anchors=(other.ca_cert, identity.ca_cert))
    pair = _resume(identity, ring, clock, session, client=again)

    assert pair.complete("client").resumed


def test_a_client_that_does_not_verify_may_resume_a_verified_session() -> None:
    identity = make_rsa_identity()
    ring, clock = _ring(), clock_for(identity)
    session = _first_session(identity, ring, clock)
    lax = client_config(identity, clock=clock, verify=False)

    pair = _resume(identity, ring, clock, session, client=lax)

    assert pair.complete("client").resumed
    # Still verified once: a verifying client may take it back.
    assert pair.complete("client").session.trust_digest == session.trust_digest
