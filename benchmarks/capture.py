"""Real handshake messages from OpenSSL, for benchmarks and cross-checks.

Benchmarks should measure codecs on bytes a real peer sends, not on
hand-made minimal messages: OpenSSL's ClientHello carries a dozen or more
cipher suites and several extensions, which is where vector parsing cost
shows.
"""

from __future__ import annotations

from tests.support.openssl import (
    handshake_messages,
    make_rsa_identity,
    run_openssl_pair,
    ssl_context,
)

__all__ = ["SERVER_NAME", "capture_hellos"]

SERVER_NAME = "example.com"
ALPN_PROTOCOLS = ("h2", "http/1.1")

# RFC 5246 §7.4: HandshakeType values of the messages captured.
_WANTED = {1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket"}


def capture_hellos() -> dict[str, bytes]:
    """Run one in-process TLS 1.2 handshake and return its hello messages.

    The client sends SNI ``example.com`` and ALPN ``h2``, ``http/1.1``; the
    server issues a session ticket. Each value is a complete handshake
    message: the 4-byte header (msg_type, uint24 length) and the body.

    Returns:
        ``{"ClientHello": ..., "ServerHello": ..., "NewSessionTicket": ...}``.

    Raises:
        RuntimeError: OpenSSL did not send one of the three messages.
    """
    identity = make_rsa_identity(common_name=SERVER_NAME, san=(SERVER_NAME,))
    client = ssl_context("client", alpn=ALPN_PROTOCOLS, tickets=True)
    server = ssl_context("server", identity, alpn=ALPN_PROTOCOLS, tickets=True)
    result = run_openssl_pair(client, server, server_hostname=SERVER_NAME)

    captured: dict[str, bytes] = {}
    for stream in (result.client_stream, result.server_stream):
        for message in handshake_messages(stream):
            name = _WANTED.get(message[0])
            if name is not None and name not in captured:
                captured[name] = message

    missing = sorted(set(_WANTED.values()) - captured.keys())
    if missing:
        raise RuntimeError(f"OpenSSL handshake lacked {', '.join(missing)}")
    return {name: captured[name] for name in _WANTED.values()}
