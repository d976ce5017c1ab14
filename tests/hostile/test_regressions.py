"""Cases the hostile tests turned up, pinned one by one.

* Bug fixed: a server certificate whose public key does not decode (an
  unknown curve OID, a point off the curve) loaded fine, because
  cryptography decodes the key only when it is read; reading it raised
  ValueError or UnsupportedAlgorithm, which the engine reported as
  internal_error instead of bad_certificate.
* Bug fixed: a certificate with a version other than v1 to v3 makes
  cryptography raise InvalidVersion, and one with an extension twice
  DuplicateExtension; neither is a ValueError, so both escaped as
  internal_error instead of bad_certificate (test_certificate_chain.py
  flips every bit of the leaf).
* Guarantee: a HelloRequest injected anywhere in the client's plaintext
  part of the handshake is ignored and kept out of the transcript (RFC
  5246 §7.4.1.1), so the handshake still completes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization

from tests.hostile.identity import fixed_ecdsa_identity
from tests.hostile.stepper import HANDSHAKE, Stepper, frame
from tests.hostile.transcripts import Setup
from tlsspec.generated.alert import AlertDescription
from tlsspec.generated.handshake import Handshake, HandshakeType
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.state import Message, State

# RFC 5280 §4.1: version [0] EXPLICIT INTEGER, 2 for v3.
VERSION_V3 = bytes.fromhex("a003020102")
# DER of the P-256 OID 1.2.840.10045.3.1.7 (RFC 5480 §2.1.1.1), and the
# SubjectPublicKey BIT STRING of a P-256 key: 66 bytes, no unused bits,
# then the uncompressed point (SEC 1 §2.3.3).
P256_OID = bytes.fromhex("06082a8648ce3d030107")
P256_POINT_START = bytes.fromhex("034200") + b"\x04"


def _run_to_the_end(stepper: Stepper) -> None:
    while any(stepper.inbox[role] for role in ("client", "server")):
        for role in ("client", "server"):
            if stepper.inbox[role]:
                stepper.deliver(role)


@pytest.mark.parametrize(
    "before",
    [
        Message.SERVER_HELLO,
        Message.CERTIFICATE,
        Message.SERVER_KEY_EXCHANGE,
        Message.SERVER_HELLO_DONE,
        Message.NEW_SESSION_TICKET,
        Message.CHANGE_CIPHER_SPEC,
    ],
    ids=lambda message: f"before-{message.name}",
)
def test_a_hello_request_during_the_handshake_is_not_hashed(before: Message) -> None:
    stepper = Stepper(Setup())
    inbox = stepper.inbox["client"]
    while not (inbox and inbox[0].kind is before):
        stepper.deliver("client" if inbox else "server")

    stepper.sides["client"].receive_data(stepper.forge("client", Message.HELLO_REQUEST))
    _run_to_the_end(stepper)

    assert stepper.sides["client"].state is State.EXPECT_SERVER_DATA
    assert stepper.sides["server"].state is State.EXPECT_CLIENT_DATA


def _other_curve(der: bytes) -> bytes:
    # The P-256 OID with its last arc changed: a curve nobody knows.
    assert der.count(P256_OID) == 1
    return der.replace(P256_OID, P256_OID[:-1] + b"\x63")


def _point_off_the_curve(der: bytes) -> bytes:
    at = der.index(P256_POINT_START) + len(P256_POINT_START)
    return der[:at] + bytes(64) + der[at + 64 :]


def _version_4(der: bytes) -> bytes:
    at = der.index(VERSION_V3)
    return der[:at] + VERSION_V3[:-1] + b"\x03" + der[at + len(VERSION_V3) :]


def _no_point_prefix(der: bytes) -> bytes:
    at = der.index(P256_POINT_START) + len(P256_POINT_START) - 1
    return der[:at] + b"\x05" + der[at + 1 :]


@pytest.mark.parametrize(
    "corrupt",
    [_other_curve, _point_off_the_curve, _no_point_prefix, _version_4],
    ids=lambda corrupt: corrupt.__name__.strip("_"),
)
def test_a_certificate_that_does_not_decode_is_bad_certificate(
    corrupt: Callable[[bytes], bytes],
) -> None:
    stepper = Stepper(Setup())
    stepper.deliver("server")
    stepper.deliver("client")  # ServerHello
    leaf = fixed_ecdsa_identity().cert.public_bytes(serialization.Encoding.DER)
    certificate = Handshake.build(
        {
            "msg_type": HandshakeType.certificate,
            "body": {"certificate_list": [corrupt(leaf)]},
        }
    )

    with pytest.raises(LocalProtocolError) as caught:
        stepper.sides["client"].receive_data(frame(HANDSHAKE, certificate))

    assert caught.value.description is AlertDescription.bad_certificate
    assert caught.value.__cause__ is None


def test_the_undisturbed_handshake_still_completes() -> None:
    stepper = Stepper(Setup())

    _run_to_the_end(stepper)

    for role in ("client", "server"):
        assert stepper.sides[role].handshake_complete
