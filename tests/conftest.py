"""Shared fixtures: the cached test identities from :mod:`tests.support.openssl`."""

from __future__ import annotations

import pytest

from tests.support.openssl import TlsIdentity, make_ecdsa_identity, make_rsa_identity


@pytest.fixture(scope="session")
def rsa_identity() -> TlsIdentity:
    """RSA-2048 leaf for ``localhost`` and 127.0.0.1, signed by a test CA."""
    return make_rsa_identity()


@pytest.fixture(scope="session")
def ecdsa_identity() -> TlsIdentity:
    """ECDSA P-256 leaf for ``localhost`` and 127.0.0.1, signed by a test CA."""
    return make_ecdsa_identity()
