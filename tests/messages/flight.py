"""What the message tests capture from one real OpenSSL handshake."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.openssl import (
    handshake_messages,
    make_rsa_identity,
    run_openssl_pair,
    ssl_context,
)

# The SNI name and ALPN list the captured client is configured with.
SNI = "example.test"
ALPN = ("h2", "http/1.1")


@dataclass(frozen=True)
class OpenSSLFlight:
    """Handshake messages (header included) of one OpenSSL connection."""

    client_hello: bytes
    server_key_exchange: bytes


def capture_flight() -> OpenSSLFlight:
    """Run an in-memory OpenSSL pair, TLS 1.2 forced, ECDHE-RSA.

    Returns:
        The ClientHello (SNI example.test, ALPN h2, http/1.1) and the
        server's ServerKeyExchange.
    """
    pair = run_openssl_pair(
        ssl_context("client", alpn=ALPN),
        ssl_context("server", make_rsa_identity(), alpn=ALPN),
        server_hostname=SNI,
    )
    client = handshake_messages(pair.client_stream)
    server = handshake_messages(pair.server_stream)
    # RFC 5246 §7.3: ServerHello, Certificate, ServerKeyExchange, ...
    return OpenSSLFlight(client_hello=client[0], server_key_exchange=server[2])
