"""Interoperability with the ``openssl`` command over loopback TCP.

A few cases only, each bounded by socket timeouts: our client against
``openssl s_server`` (full handshake, then a resumption with the ticket),
``openssl s_client`` against our server (``-sess_out`` then ``-sess_in``),
and s_client's renegotiation command against our refusal.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

from tests.engine.support import SERVER_NAME, client_config, server_config
from tests.support.openssl import (
    CLI_TIMEOUT,
    LOOPBACK,
    make_ecdsa_identity,
    make_rsa_identity,
    openssl_s_client,
    openssl_s_server,
    requires_openssl_cli,
)
from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.runtime import ClientConnection, ServerConfig, ServerConnection, Session
from tlsspec.runtime.alerts import TLSError
from tlsspec.runtime.events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    NewSession,
)
from tlsspec.runtime.tickets import TicketKeyRing

pytestmark = requires_openssl_cli

SOCKET_TIMEOUT: Final = 5.0


def _exchange(
    sock: socket.socket,
    tls: ClientConnection | ServerConnection,
    until: Callable[[list[Event]], bool],
) -> list[Event]:
    # Move bytes between socket and connection until `until(events)`.
    events: list[Event] = []
    while True:
        outgoing = tls.data_to_send()
        if outgoing:
            sock.sendall(outgoing)
        if until(events):
            return events
        events += tls.receive_data(sock.recv(65536))


def _has(kind: type) -> Callable[[list[Event]], bool]:
    return lambda events: any(isinstance(e, kind) for e in events)


def _data(events: list[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, ApplicationData))


def _our_client_session(port: int, session: Session | None) -> tuple[bool, Session]:
    identity = make_rsa_identity()
    client = ClientConnection(
        client_config(identity), server_name=SERVER_NAME, session=session
    )
    with socket.create_connection((LOOPBACK, port), SOCKET_TIMEOUT) as sock:
        client.start_handshake()
        events = _exchange(sock, client, _has(HandshakeComplete))
        (complete,) = [e for e in events if isinstance(e, HandshakeComplete)]

        # s_server -rev answers each line reversed.
        client.send_application_data(b"tlsspec\n")
        events = _exchange(sock, client, lambda ev: b"\n" in _data(ev))
        assert _data(events) == b"tlsspec"[::-1] + b"\n"
        client.close()
        sock.sendall(client.data_to_send())
    assert client.session is not None
    return complete.resumed, client.session


def test_our_client_resumes_with_openssl_s_server() -> None:
    with openssl_s_server(make_rsa_identity(), args=("-rev",)) as server:
        resumed, session = _our_client_session(server.port, None)
        assert not resumed
        resumed, _ = _our_client_session(server.port, session)
        assert resumed


class _OneConnectionServer:
    # Our server on 127.0.0.1: accepts one connection per serve() call and
    # echoes what it receives until the client closes.
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(CLI_TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.events: list[Event] = []
        self.error: BaseException | None = None

    def serve(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        self.events = []
        tls = ServerConnection(self.config)
        try:
            connection, _ = self.listener.accept()
            with connection:
                connection.settimeout(SOCKET_TIMEOUT)
                self._echo(connection, tls)
        except (OSError, TLSError) as error:
            self.error = error

    def _echo(self, connection: socket.socket, tls: ServerConnection) -> None:
        while True:
            events = tls.receive_data(connection.recv(65536))
            self.events += events
            for event in events:
                if isinstance(event, ApplicationData):
                    tls.send_application_data(b"echo: " + event.data)
            outgoing = tls.data_to_send()
            if outgoing:
                connection.sendall(outgoing)
            if any(isinstance(e, ConnectionClosed) for e in events):
                return

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def ecdsa_server() -> _OneConnectionServer:
    identity = make_ecdsa_identity()
    server = _OneConnectionServer(
        server_config(identity, ring=TicketKeyRing.generate())
    )
    yield server  # type: ignore[misc]
    server.close()


def _s_client_round(
    server: _OneConnectionServer, args: tuple[str, ...], marker: str
) -> str:
    thread = server.serve()
    with openssl_s_client(
        server.port,
        servername=SERVER_NAME,
        trust=make_ecdsa_identity(),
        args=args,
    ) as client:
        client.wait_for(marker)
        client.send(b"hello\n")
        output = client.wait_for("echo: hello")
    thread.join(CLI_TIMEOUT)
    assert server.error is None
    return output


def test_openssl_s_client_resumes_with_our_ticket(
    ecdsa_server: _OneConnectionServer, tmp_path: Path
) -> None:
    session_file = tmp_path / "session.pem"

    first = _s_client_round(
        ecdsa_server, ("-sess_out", str(session_file)), "New, TLSv1.2"
    )
    assert "Verify return code: 0 (ok)" in first
    assert session_file.exists()
    second = _s_client_round(
        ecdsa_server, ("-sess_in", str(session_file)), "Reused, TLSv1.2"
    )

    assert "Reused, TLSv1.2" in second
    (complete,) = [e for e in ecdsa_server.events if isinstance(e, HandshakeComplete)]
    assert complete.resumed


def test_openssl_s_client_renegotiation_is_refused(
    ecdsa_server: _OneConnectionServer,
) -> None:
    thread = ecdsa_server.serve()
    with openssl_s_client(
        ecdsa_server.port, servername=SERVER_NAME, trust=make_ecdsa_identity()
    ) as client:
        client.wait_for("New, TLSv1.2")
        # s_client's "R" command starts a renegotiation handshake.
        client.send(b"R\n")
        output = client.wait_for("no renegotiation")
    thread.join(CLI_TIMEOUT)

    # OpenSSL reads our warning no_renegotiation and gives up on the
    # connection with a fatal handshake_failure.
    assert "RENEGOTIATING" in output
    kinds = [type(e) for e in ecdsa_server.events]
    assert kinds.count(HandshakeComplete) == 1
    assert (
        AlertReceived(
            level=AlertLevel.fatal, description=AlertDescription.handshake_failure
        )
        in ecdsa_server.events
    )


def test_our_client_gets_a_ticket_from_s_server_only_after_finished() -> None:
    with openssl_s_server(make_rsa_identity(), args=("-rev",)) as server:
        identity = make_rsa_identity()
        client = ClientConnection(client_config(identity), server_name=SERVER_NAME)
        with socket.create_connection((LOOPBACK, server.port), SOCKET_TIMEOUT) as sock:
            client.start_handshake()
            events = _exchange(sock, client, _has(HandshakeComplete))
    kinds = [type(e) for e in events]
    assert kinds.index(NewSession) < kinds.index(HandshakeComplete)
