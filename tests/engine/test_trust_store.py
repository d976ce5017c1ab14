"""The system CA bundle: read certificate by certificate, quietly."""

from __future__ import annotations

import logging
import ssl
import warnings
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tests.support.openssl import make_ecdsa_identity, make_rsa_identity
from tlsspec.runtime import ClientConfig
from tlsspec.runtime.certificates import load_system_trust_anchors

NEGATIVE_SERIAL = Path(__file__).parent.parent / "data" / "negative_serial.pem"
# Armour whose base64 is not a certificate: the block parses as PEM, then
# fails as DER.
BROKEN_BLOCK = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"


def _use_bundle(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    paths = ssl.DefaultVerifyPaths(str(path), None, str(path), "", str(path), "")
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: paths)


def test_one_broken_certificate_does_not_cost_the_others(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = make_rsa_identity().ca_cert, make_ecdsa_identity().ca_cert
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(
        b"# comment lines between blocks are ignored\n"
        + first.public_bytes(Encoding.PEM)
        + BROKEN_BLOCK
        + second.public_bytes(Encoding.PEM)
    )
    _use_bundle(monkeypatch, bundle)

    with caplog.at_level(logging.DEBUG, logger="tlsspec.runtime.certificates"):
        anchors = load_system_trust_anchors()

    assert anchors == (first, second)
    assert f"CA bundle {bundle}: certificate 1 skipped" in caplog.text


def test_deprecation_warnings_of_the_bundle_are_logged_not_shown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(NEGATIVE_SERIAL.read_bytes())
    _use_bundle(monkeypatch, bundle)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.DEBUG, logger="tlsspec.runtime.certificates"):
            (anchor,) = load_system_trust_anchors()
            config = ClientConfig()

    assert anchor.subject.rfc4514_string() == "CN=neg"
    assert config.trust_anchors == (anchor,)
    assert "certificate 0: Parsed a serial number which wasn't positive" in (
        caplog.text
    )


def test_a_bundle_without_certificates_gives_no_anchors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(BROKEN_BLOCK)
    _use_bundle(monkeypatch, bundle)

    assert load_system_trust_anchors() == ()
