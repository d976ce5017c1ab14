"""Timeouts and early closes of ``tlsspec serve`` and ``tlsspec connect``.

The commands run in process with their timeouts shortened; peers are
plain sockets on 127.0.0.1 driven by the engine or by nothing at all.
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.engine.support import split_records
from tests.support.openssl import PemFiles, TlsIdentity, make_ecdsa_identity
from tlsspec import net, netbase, serve
from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.runtime import (
    ClientConfig,
    ClientConnection,
    ServerConfig,
    ServerConnection,
)
from tlsspec.runtime.alerts import alert_bytes
from tlsspec.runtime.events import ConnectionClosed, Event, HandshakeComplete

SHORT = 0.3
BOUND = 10.0
SERVER_NAME = "localhost"
ALERT = 21
HANDSHAKE = 22
USER_CANCELED = alert_bytes(AlertDescription.user_canceled, AlertLevel.warning)
CLOSE_NOTIFY = alert_bytes(AlertDescription.close_notify)


@pytest.fixture(scope="module")
def identity() -> TlsIdentity:
    return make_ecdsa_identity(common_name=SERVER_NAME, san=(SERVER_NAME,))


@pytest.fixture
def pem(identity: TlsIdentity, tmp_path: Path) -> PemFiles:
    return identity.write_pem_files(tmp_path)


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netbase, "IDLE_TIMEOUT", SHORT)
    monkeypatch.setattr(serve, "HANDSHAKE_TIMEOUT", SHORT)


def read_to_eof(sock: socket.socket) -> bytes:
    data = bytearray()
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return bytes(data)


# ----------------------------------------------------------------------
# serve
# ----------------------------------------------------------------------


@contextlib.contextmanager
def serving_one(pem: PemFiles) -> Iterator[int]:
    """``tlsspec serve`` for one connection, in a thread; yields its port."""
    options = net.ServeOptions(cert=pem.cert, key=pem.key, port=0, max_connections=1)
    config = net.server_config(options)
    out = io.StringIO()
    thread = threading.Thread(
        target=lambda: asyncio.run(serve._serve(options, config, out)), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + BOUND
    while "listening on" not in out.getvalue():
        assert time.monotonic() < deadline, "serve did not start"
        time.sleep(0.01)
    port = int(out.getvalue().split("listening on 127.0.0.1:")[1].split()[0])
    try:
        yield port
    finally:
        thread.join(BOUND)
        assert not thread.is_alive(), "serve did not finish its one connection"


def handshake_over(sock: socket.socket, client: ClientConnection) -> list[Event]:
    client.start_handshake()
    events: list[Event] = []
    while not client.handshake_complete:
        sock.sendall(client.data_to_send())
        events += client.receive_data(sock.recv(65536))
    sock.sendall(client.data_to_send())
    return events


def our_client(identity: TlsIdentity) -> ClientConnection:
    config = ClientConfig(trust_anchors=[identity.ca_cert])
    return ClientConnection(config, server_name=SERVER_NAME)


def test_serve_cancels_a_handshake_that_does_not_finish_in_time(
    pem: PemFiles, short_timeouts: None, caplog: pytest.LogCaptureFixture
) -> None:
    with serving_one(pem) as port:
        with socket.create_connection(("127.0.0.1", port), BOUND) as sock:
            sock.settimeout(BOUND)
            data = read_to_eof(sock)

    # RFC 5246 §7.2.2: user_canceled, then close_notify, not a bare close.
    assert split_records(data) == [(ALERT, USER_CANCELED), (ALERT, CLOSE_NOTIFY)]
    assert "handshake timed out, closing" in caplog.text


def test_serve_sends_close_notify_to_an_idle_connection(
    pem: PemFiles,
    identity: TlsIdentity,
    short_timeouts: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = our_client(identity)
    with serving_one(pem) as port:
        with socket.create_connection(("127.0.0.1", port), BOUND) as sock:
            sock.settimeout(BOUND)
            handshake_over(sock, client)
            events = client.receive_data(read_to_eof(sock))

    assert events == [ConnectionClosed(clean=True)]
    assert "connection timed out, closing" in caplog.text


def test_serve_drops_a_peer_that_stops_reading(
    pem: PemFiles,
    identity: TlsIdentity,
    short_timeouts: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    client = our_client(identity)
    sent = 0
    with serving_one(pem) as port:
        sock = socket.create_connection(("127.0.0.1", port), BOUND)
        with sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(BOUND)
            handshake_over(sock, client)
            # Send data to echo and never read the echo: once the socket
            # buffers are full, the server's writes wait on us.
            sock.setblocking(False)
            chunk = bytes(16384)
            deadline = time.monotonic() + BOUND
            while "read nothing" not in caplog.text and time.monotonic() < deadline:
                client.send_application_data(chunk)
                pending = client.data_to_send()
                while pending and time.monotonic() < deadline:
                    try:
                        pending = pending[sock.send(pending) :]
                    except BlockingIOError:
                        time.sleep(0.01)
                    except OSError:
                        pending = b""
                        deadline = 0.0
                sent += len(chunk)

    assert "the peer read nothing for 0 s, closing" in caplog.text
    assert sent > 0


# ----------------------------------------------------------------------
# connect
# ----------------------------------------------------------------------


@contextlib.contextmanager
def peer(
    behaviour: Callable[[socket.socket], bytes],
) -> Iterator[tuple[int, list[bytes]]]:
    """A one-connection server on 127.0.0.1; yields its port and what it read."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(BOUND)
    received: list[bytes] = []

    def run() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(BOUND)
                received.append(behaviour(conn))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], received
    finally:
        thread.join(BOUND)


def engine_server(
    identity: TlsIdentity, *, then: str
) -> Callable[[socket.socket], bytes]:
    """Complete a handshake, then close with close_notify or a bare close.

    ``then="close_notify"`` sends the close_notify in the same write as the
    Finished; ``then="eof"`` reads the client's first record and closes the
    socket without answering.
    """

    def behaviour(sock: socket.socket) -> bytes:
        server = ServerConnection(ServerConfig([identity.cert], identity.key))
        while True:
            events = server.receive_data(sock.recv(65536))
            if any(isinstance(e, HandshakeComplete) for e in events):
                break
            sock.sendall(server.data_to_send())
        if then == "close_notify":
            server.close()
        sock.sendall(server.data_to_send())
        if then == "close_notify":
            return read_to_eof(sock)
        return sock.recv(65536)

    return behaviour


def connect_options(port: int, pem: PemFiles, **extra: object) -> net.ConnectOptions:
    return net.ConnectOptions(
        host="127.0.0.1",
        port=port,
        servername=SERVER_NAME,
        cafile=pem.ca,
        out=io.StringIO(),
        **extra,  # type: ignore[arg-type]
    )


def test_connect_send_after_the_server_closed_is_an_error_not_a_traceback(
    pem: PemFiles, identity: TlsIdentity, capsys: pytest.CaptureFixture[str]
) -> None:
    with peer(engine_server(identity, then="close_notify")) as (port, _):
        options = connect_options(port, pem, send="hi")
        status = net.connect(options)

    err = capsys.readouterr().err
    assert status == 1
    assert err == (
        "tlsspec connect: the server closed the connection before TEXT was sent\n"
    )
    assert "Resumed   : no" in options.out.getvalue()  # type: ignore[attr-defined]


def test_connect_reports_a_reply_cut_off_without_close_notify(
    pem: PemFiles, identity: TlsIdentity, capsys: pytest.CaptureFixture[str]
) -> None:
    with peer(engine_server(identity, then="eof")) as (port, _):
        options = connect_options(port, pem, send="hi")
        status = net.connect(options)

    assert status == 1
    assert capsys.readouterr().err == (
        "tlsspec connect: the server closed the connection without close_notify: "
        "the reply may be truncated\n"
    )
    assert "Reply     : \n" in options.out.getvalue()  # type: ignore[attr-defined]


def test_connect_cancels_its_handshake_when_the_server_stays_silent(
    pem: PemFiles, short_timeouts: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with peer(read_to_eof) as (port, received):
        status = net.connect(connect_options(port, pem))

    assert status == 1
    assert capsys.readouterr().err == "tlsspec connect: no answer within 0 s\n"
    records = split_records(received[0])
    assert [kind for kind, _ in records] == [HANDSHAKE, ALERT, ALERT]
    assert records[1:] == [(ALERT, USER_CANCELED), (ALERT, CLOSE_NOTIFY)]


def reset_after_hello(sock: socket.socket) -> bytes:
    hello = sock.recv(65536)
    # Linger 0: close() sends a TCP reset instead of a FIN.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return hello


def test_connect_names_a_reset_connection_plainly(
    pem: PemFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    with peer(reset_after_hello) as (port, _):
        status = net.connect(connect_options(port, pem))

    assert status == 1
    assert capsys.readouterr().err == (
        "tlsspec connect: connection lost: Connection reset by peer\n"
    )
