"""The OpenSSL test harness does what the interoperability tests rely on."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

from tests.support.openssl import (
    CLI_TIMEOUT,
    CONTENT_ALERT,
    CONTENT_HANDSHAKE,
    LOOPBACK,
    OpenSSLPairError,
    TlsIdentity,
    handshake_messages,
    make_ecdsa_identity,
    make_rsa_identity,
    openssl_s_client,
    openssl_s_server,
    requires_openssl_cli,
    run_openssl_pair,
    split_records,
    ssl_context,
)

CLIENT_HELLO = 1
SERVER_HELLO = 2
NEW_SESSION_TICKET = 4
TLS12 = 0x0303
SOCKET_TIMEOUT = 5.0


def test_identity_is_cached_and_names_localhost_and_loopback() -> None:
    identity = make_rsa_identity()

    san = identity.cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value
    assert make_rsa_identity(san=["localhost"]) is identity
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == [LOOPBACK]
    assert identity.cert.issuer == identity.ca_cert.subject


def test_identity_writes_loadable_pem_files(
    tmp_path: Path, ecdsa_identity: TlsIdentity
) -> None:
    files = ecdsa_identity.write_pem_files(tmp_path)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    assert files.ca.read_bytes() == ecdsa_identity.ca_pem


@pytest.mark.parametrize(
    ("authentication", "make_identity"),
    [("RSA", make_rsa_identity), ("ECDSA", make_ecdsa_identity)],
)
def test_verified_tls12_handshake_completes(
    authentication: str, make_identity: Callable[[], TlsIdentity]
) -> None:
    identity = make_identity()
    client = ssl_context("client", verify=True, cadata=identity.ca_pem)
    server = ssl_context("server", identity)

    result = run_openssl_pair(client, server, server_hostname="localhost")

    assert result.client.version() == "TLSv1.2"
    assert result.server.version() == "TLSv1.2"
    peer = result.client.getpeercert()
    cipher = result.client.cipher()
    assert peer is not None
    assert peer["subject"]
    assert cipher is not None
    assert f"-{authentication}-" in cipher[0]


def test_client_first_record_is_client_hello(rsa_identity: TlsIdentity) -> None:
    result = run_openssl_pair(
        ssl_context("client"), ssl_context("server", rsa_identity)
    )

    sender, first_chunk = result.transcript[0]
    content_type, _, fragment = split_records(first_chunk)[0]
    assert sender == "client"
    assert content_type == CONTENT_HANDSHAKE
    assert fragment[0] == CLIENT_HELLO


def test_transcript_lists_each_sides_chunks_in_order(
    rsa_identity: TlsIdentity,
) -> None:
    result = run_openssl_pair(
        ssl_context("client"), ssl_context("server", rsa_identity)
    )

    senders = [sender for sender, _ in result.transcript]
    assert senders[:2] == ["client", "server"]
    assert result.client_bytes == [
        data for sender, data in result.transcript if sender == "client"
    ]
    assert result.server_bytes == [
        data for sender, data in result.transcript if sender == "server"
    ]


def test_server_flight_carries_ticket_before_change_cipher_spec(
    rsa_identity: TlsIdentity,
) -> None:
    result = run_openssl_pair(
        ssl_context("client"), ssl_context("server", rsa_identity)
    )

    types = [message[0] for message in handshake_messages(result.server_stream)]
    assert types[0] == SERVER_HELLO
    assert types[-1] == NEW_SESSION_TICKET


def test_resumes_with_ticket(rsa_identity: TlsIdentity) -> None:
    client = ssl_context("client")
    server = ssl_context("server", rsa_identity)
    first = run_openssl_pair(client, server)

    session = first.client.session
    assert session is not None

    second = run_openssl_pair(client, server, session=session)

    assert session.has_ticket
    assert not first.client.session_reused
    assert second.client.session_reused
    assert second.server.session_reused


def test_resumes_with_session_id_when_tickets_are_off(
    rsa_identity: TlsIdentity,
) -> None:
    client = ssl_context("client", tickets=False)
    server = ssl_context("server", rsa_identity, tickets=False)
    first = run_openssl_pair(client, server)

    session = first.client.session
    assert session is not None

    second = run_openssl_pair(client, server, session=session)

    assert not session.has_ticket
    assert second.client.session_reused


def test_negotiates_alpn_and_echoes_application_data(
    rsa_identity: TlsIdentity,
) -> None:
    client = ssl_context("client", alpn=["h2", "http/1.1"])
    server = ssl_context("server", rsa_identity, alpn=["http/1.1"])

    result = run_openssl_pair(client, server, app_data=b"ping")

    assert result.client.selected_alpn_protocol() == "http/1.1"
    assert result.server_received == b"ping"
    assert result.client_received == b"ping"


def test_keylog_holds_only_this_connections_master_secret(
    tmp_path: Path, rsa_identity: TlsIdentity
) -> None:
    keylog = tmp_path / "keys.log"
    client = ssl_context("client", keylog=keylog)
    server = ssl_context("server", rsa_identity, keylog=keylog)
    run_openssl_pair(client, server)

    result = run_openssl_pair(client, server)

    client_hello = handshake_messages(result.client_stream)[0]
    assert len(result.keylog) == 1
    assert result.keylog[0].label == "CLIENT_RANDOM"
    assert result.keylog[0].client_random == client_hello[6:38]
    assert len(result.keylog[0].secret) == 48


def test_pair_error_keeps_the_alert_and_chains_ssl_error(
    rsa_identity: TlsIdentity,
) -> None:
    client = ssl_context("client", ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
    server = ssl_context("server", rsa_identity)

    with pytest.raises(OpenSSLPairError) as caught:
        run_openssl_pair(client, server)

    assert isinstance(caught.value.__cause__, ssl.SSLError)
    sender, last = caught.value.transcript[-1]
    assert sender == "server"
    assert split_records(last)[0][0] == CONTENT_ALERT


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(b"\x16\x03\x03\x00", id="short-header"),
        pytest.param(b"\x16\x03\x03\x00\x02\x01", id="short-fragment"),
        pytest.param(b"\x15\x03\x03\x00\x02\x01\x00\x16", id="trailing-byte"),
    ],
)
def test_split_records_rejects_truncated_record(stream: bytes) -> None:
    with pytest.raises(ValueError, match="truncated"):
        split_records(stream)


def test_split_records_returns_type_version_fragment() -> None:
    stream = b"\x15\x03\x03\x00\x02\x02\x28\x17\x03\x03\x00\x00"

    assert split_records(stream) == [(21, TLS12, b"\x02\x28"), (23, TLS12, b"")]


def test_handshake_messages_joins_a_message_split_across_records() -> None:
    message = b"\x14\x00\x00\x0c" + bytes(range(12))
    stream = (
        b"\x16\x03\x03\x00\x05"
        + message[:5]
        + b"\x16\x03\x03\x00\x0b"
        + message[5:]
        + b"\x14\x03\x03\x00\x01\x01"
        + b"\x16\x03\x03\x00\x01\xff"
    )

    assert handshake_messages(stream) == [message]


@requires_openssl_cli
def test_s_server_accepts_python_client(rsa_identity: TlsIdentity) -> None:
    context = ssl_context("client", verify=True, cadata=rsa_identity.ca_pem)

    with (
        openssl_s_server(rsa_identity, args=("-www",)) as server,
        socket.create_connection((LOOPBACK, server.port), SOCKET_TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
        reply = tls.recv(4096)
        version = tls.version()

    assert version == "TLSv1.2"
    assert reply.startswith(b"HTTP/1.0 200")


@requires_openssl_cli
def test_s_client_connects_to_python_server(ecdsa_identity: TlsIdentity) -> None:
    context = ssl_context("server", ecdsa_identity)

    with socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(SOCKET_TIMEOUT)
        port = listener.getsockname()[1]
        with openssl_s_client(
            port, servername="localhost", trust=ecdsa_identity
        ) as client:
            raw, _ = listener.accept()
            raw.settimeout(SOCKET_TIMEOUT)
            with context.wrap_socket(raw, server_side=True) as tls:
                tls.sendall(b"hello from python\n")
                output = client.wait_for("hello from python")
                version = tls.version()

    assert version == "TLSv1.2"
    assert "Verify return code: 0 (ok)" in output


@requires_openssl_cli
def test_s_server_that_exits_early_raises_without_waiting_out_the_timeout() -> None:
    started = time.monotonic()

    with (
        pytest.raises(TimeoutError, match="did not print 'ACCEPT'"),
        openssl_s_server(args=("-no-such-option",), timeout=CLI_TIMEOUT),
    ):
        pass

    assert time.monotonic() - started < CLI_TIMEOUT / 2
