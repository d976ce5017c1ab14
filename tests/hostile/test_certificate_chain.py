"""Every corruption of the server's certificate draws a certificate alert.

The certificate is parsed by cryptography, which decodes some fields only
when they are first read and raises several exception classes besides
ValueError; each must become the alert RFC 5246 §7.2.2 names, never
internal_error and never acceptance.  Every single-bit flip of the leaf
(3,240 of them) goes through the client's chain check.
"""

from __future__ import annotations

import warnings
from collections import Counter

from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning

from tests.engine.support import clock_for
from tests.hostile.identity import SERVER_NAME, fixed_ecdsa_identity
from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.certificates import verify_server_chain

_D = AlertDescription
CERTIFICATE_ALERTS = {
    _D.bad_certificate,
    _D.unsupported_certificate,
    _D.certificate_expired,
    _D.unknown_ca,
}


def _flips(der: bytes) -> list[bytes]:
    out = []
    for bit in range(len(der) * 8):
        flipped = bytearray(der)
        flipped[bit // 8] ^= 0x80 >> (bit % 8)
        out.append(bytes(flipped))
    return out


def test_every_bit_flip_of_the_leaf_draws_a_certificate_alert() -> None:
    identity = fixed_ecdsa_identity()
    leaf = identity.cert.public_bytes(serialization.Encoding.DER)
    now = clock_for(identity)()
    alerts: Counter[object] = Counter()

    with warnings.catch_warnings():
        # Some flips make the serial number negative, which cryptography
        # still loads with a deprecation warning.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        for der in _flips(leaf):
            try:
                verify_server_chain(
                    [der],
                    server_name=SERVER_NAME,
                    trust_anchors=(identity.ca_cert,),
                    now=now,
                )
            except LocalProtocolError as error:
                alerts[error.description] += 1
            else:
                alerts["accepted"] += 1

    assert set(alerts) <= CERTIFICATE_ALERTS, alerts
    assert sum(alerts.values()) == len(leaf) * 8
