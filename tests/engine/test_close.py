"""close() before the handshake completes: the handshake is cancelled.

RFC 5246 §7.2.1: after close_notify "the sender will not send any more
messages on this connection"; §7.2.2: a cancelled handshake is a warning
user_canceled followed by close_notify.  So a connection closed mid-way
sends exactly those two alerts, then nothing, whatever the peer sends.
"""

from __future__ import annotations

import ssl

import pytest

from tests.engine.support import (
    Pair,
    client_config,
    make_pair,
    server_config,
    split_records,
)
from tests.hostile.identity import fixed_ecdsa_identity
from tests.support.openssl import MemoryBioEndpoint, ssl_context
from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.runtime import ClientConnection, ServerConnection
from tlsspec.runtime.alerts import alert_bytes
from tlsspec.runtime.events import AlertReceived, ConnectionClosed, HandshakeComplete
from tlsspec.runtime.state import State
from tlsspec.runtime.tickets import TicketKeyRing

ALERT = 21
HANDSHAKE = 22
USER_CANCELED = alert_bytes(AlertDescription.user_canceled, AlertLevel.warning)
CLOSE_NOTIFY = alert_bytes(AlertDescription.close_notify)
CANCELLED = [(ALERT, USER_CANCELED), (ALERT, CLOSE_NOTIFY)]


def _pair() -> Pair:
    identity = fixed_ecdsa_identity()
    return make_pair(
        client_config(identity),
        server_config(identity, ring=TicketKeyRing.generate()),
    )


def test_a_client_closing_before_the_server_answers_cancels_the_handshake() -> None:
    pair = _pair()
    pair.client.start_handshake()
    pair.client.send_application_data(b"never sent")
    hello = pair.client.data_to_send()
    pair.client.close()
    cancel = pair.client.data_to_send()

    assert split_records(cancel) == CANCELLED
    assert pair.client.state is State.CLOSED
    # The server's whole first flight gets no answer, and nothing later
    # leaves: not the queued data, not a ClientKeyExchange.
    pair.server.receive_data(hello)
    assert pair.client.receive_data(pair.server.data_to_send()) == []
    assert pair.client.data_to_send() == b""
    assert pair.client.buffer_use().plaintext == 0

    events = pair.server.receive_data(cancel)
    assert events == [
        AlertReceived(
            level=AlertLevel.warning, description=AlertDescription.user_canceled
        ),
        ConnectionClosed(clean=True),
    ]
    # The server answers the close_notify alone: it cancels nothing itself.
    assert split_records(pair.server.data_to_send()) == [(ALERT, CLOSE_NOTIFY)]
    assert pair.server.state is State.CLOSED


def test_a_server_closing_after_its_first_flight_sends_nothing_more() -> None:
    pair = _pair()
    pair.client.start_handshake()
    pair.server.receive_data(pair.client.data_to_send())
    flight = pair.server.data_to_send()
    pair.server.close()
    cancel = pair.server.data_to_send()

    assert split_records(cancel) == CANCELLED
    pair.client.receive_data(flight)
    second_flight = pair.client.data_to_send()
    assert split_records(second_flight)[0][0] == HANDSHAKE
    # ClientKeyExchange, ChangeCipherSpec and Finished get no
    # NewSessionTicket, ChangeCipherSpec or Finished back.
    assert pair.server.receive_data(second_flight) == []
    assert pair.server.data_to_send() == b""
    assert not pair.server.handshake_complete

    events = pair.client.receive_data(cancel)
    assert events[-1] == ConnectionClosed(clean=True)
    assert not any(isinstance(event, HandshakeComplete) for event in events)
    assert pair.client.session is None


def test_a_server_closing_before_any_hello_answers_none() -> None:
    pair = _pair()
    pair.server.close()
    assert split_records(pair.server.data_to_send()) == CANCELLED
    pair.client.start_handshake()
    assert pair.server.receive_data(pair.client.data_to_send()) == []
    assert pair.server.data_to_send() == b""


def test_a_client_that_never_started_sends_nothing_on_close() -> None:
    client = ClientConnection(
        client_config(fixed_ecdsa_identity()), server_name="localhost"
    )
    client.close()

    assert client.data_to_send() == b""
    assert client.state is State.CLOSED
    with pytest.raises(RuntimeError, match=r"^start_handshake: the connection was"):
        client.start_handshake()
    with pytest.raises(RuntimeError, match="closed"):
        client.send_application_data(b"x")


def test_a_client_that_saw_eof_before_starting_cannot_start() -> None:
    client = ClientConnection(
        client_config(fixed_ecdsa_identity()), server_name="localhost"
    )

    assert client.receive_data(b"") == [ConnectionClosed(clean=False)]
    with pytest.raises(RuntimeError, match=r"^start_handshake: the peer closed"):
        client.start_handshake()
    assert client.data_to_send() == b""


def test_close_after_the_handshake_still_reads_until_the_peers_close() -> None:
    # The cancel path is for unfinished handshakes only: a complete one
    # sends close_notify alone and keeps reading (RFC 5246 §7.2.1).
    pair = _pair()
    pair.handshake()
    pair.server.send_application_data(b"in flight")
    in_flight = pair.server.data_to_send()
    pair.client.close()

    assert len(split_records(pair.client.data_to_send())) == 1
    assert pair.client.state is State.EXPECT_SERVER_DATA
    assert [e.data for e in pair.client.receive_data(in_flight)] == [b"in flight"]


def test_openssl_takes_a_cancel_after_its_flight_as_a_clean_close() -> None:
    identity = fixed_ecdsa_identity()
    theirs = MemoryBioEndpoint(ssl_context("server", identity), server_side=True)
    client = ClientConnection(client_config(identity), server_name="localhost")
    client.start_handshake()
    client.close()
    theirs.feed(client.data_to_send())

    # OpenSSL answers the ClientHello, skips the warning and stops at the
    # close_notify, as at the end of any connection.
    with pytest.raises(ssl.SSLZeroReturnError):
        theirs.step_handshake()
    flight = theirs.take()
    assert flight[0] == HANDSHAKE
    assert client.receive_data(flight) == []
    assert client.data_to_send() == b""


def test_an_openssl_client_sees_our_servers_cancel_as_a_clean_close() -> None:
    identity = fixed_ecdsa_identity()
    theirs = MemoryBioEndpoint(
        ssl_context("client"), server_side=False, server_hostname="localhost"
    )
    server = ServerConnection(server_config(identity))
    theirs.step_handshake()
    server.receive_data(theirs.take())
    server.close()
    theirs.feed(server.data_to_send())

    with pytest.raises(ssl.SSLZeroReturnError):
        theirs.step_handshake()
    assert server.receive_data(theirs.take()) == []
    assert server.data_to_send() == b""
