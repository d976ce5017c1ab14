"""Fixtures of the message tests: one real OpenSSL handshake per session."""

from __future__ import annotations

import pytest

from tests.messages.flight import OpenSSLFlight, capture_flight


@pytest.fixture(scope="session")
def openssl_flight() -> OpenSSLFlight:
    """ClientHello and ServerKeyExchange of a real OpenSSL TLS 1.2 handshake."""
    return capture_flight()
