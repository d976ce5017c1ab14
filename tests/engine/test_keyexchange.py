"""ECDHE key pairs and the signatures over them (RFC 8422)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.engine.support import CountingRandom
from tests.support.openssl import make_ecdsa_identity, make_rsa_identity
from tlsspec.generated.alert import AlertDescription
from tlsspec.generated.extensions import NamedGroup, SignatureScheme
from tlsspec.runtime import ServerConfig
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.keyexchange import (
    DEFAULT_SIGNATURE_SCHEMES,
    certificate_group,
    choose_signature_scheme,
    generate_ephemeral_key,
    sign,
    signature_preference,
    verify_signature,
)

_S = SignatureScheme
RSA_SCHEMES = [
    _S.rsa_pss_rsae_sha256,
    _S.rsa_pss_rsae_sha384,
    _S.rsa_pss_rsae_sha512,
    _S.rsa_pkcs1_sha256,
    _S.rsa_pkcs1_sha384,
    _S.rsa_pkcs1_sha512,
]
ECDSA_SCHEMES = [_S.ecdsa_secp256r1_sha256, _S.ecdsa_secp384r1_sha384]


@pytest.mark.parametrize(
    "group", [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1]
)
def test_both_sides_derive_the_same_premaster_secret(group: NamedGroup) -> None:
    ours = generate_ephemeral_key(group, CountingRandom(b"a"))
    theirs = generate_ephemeral_key(group, CountingRandom(b"b"))

    assert ours.exchange(theirs.public_bytes) == theirs.exchange(ours.public_bytes)


def test_same_random_bytes_give_the_same_key() -> None:
    first = generate_ephemeral_key(NamedGroup.secp256r1, CountingRandom(b"x"))
    second = generate_ephemeral_key(NamedGroup.secp256r1, CountingRandom(b"x"))

    assert first.public_bytes == second.public_bytes


@pytest.mark.parametrize(
    ("group", "point"),
    [
        (NamedGroup.x25519, bytes(32)),
        (NamedGroup.x25519, bytes(31)),
        (NamedGroup.secp256r1, b"\x04" + bytes(64)),
        (NamedGroup.secp256r1, b"\x02" + bytes(32)),  # compressed
        (NamedGroup.secp384r1, b"\x04" + bytes(64)),  # P-256 length
    ],
    ids=[
        "x25519-zero",
        "x25519-short",
        "p256-off-curve",
        "p256-compressed",
        "p384-short",
    ],
)
def test_bad_peer_point_is_illegal_parameter(group: NamedGroup, point: bytes) -> None:
    key = generate_ephemeral_key(group, CountingRandom())

    with pytest.raises(LocalProtocolError) as caught:
        key.exchange(point)

    assert caught.value.description is AlertDescription.illegal_parameter


@pytest.mark.parametrize("scheme", RSA_SCHEMES, ids=lambda s: s.name)
def test_every_rsa_scheme_signs_and_verifies(scheme: SignatureScheme) -> None:
    key = make_rsa_identity().key

    signature = sign(key, scheme, b"params")

    verify_signature(
        key.public_key(), scheme, signature, b"params", offered=RSA_SCHEMES
    )


@pytest.mark.parametrize("scheme", ECDSA_SCHEMES, ids=lambda s: s.name)
@pytest.mark.parametrize("curve", [ec.SECP256R1, ec.SECP384R1], ids=["p256", "p384"])
def test_every_ecdsa_scheme_signs_and_verifies_on_either_curve(
    scheme: SignatureScheme, curve: type[ec.EllipticCurve]
) -> None:
    # TLS 1.2 binds only the hash, not the curve, to an ECDSA scheme.
    key = make_ecdsa_identity(curve=curve).key

    signature = sign(key, scheme, b"params")

    verify_signature(
        key.public_key(), scheme, signature, b"params", offered=ECDSA_SCHEMES
    )


@pytest.mark.parametrize("scheme", RSA_SCHEMES, ids=lambda s: s.name)
def test_server_signs_with_the_only_scheme_offered(scheme: SignatureScheme) -> None:
    assert choose_signature_scheme(make_rsa_identity().key, [scheme]) is scheme


def test_ecdsa_key_prefers_the_hash_of_its_curve() -> None:
    p256 = make_ecdsa_identity().key
    p384 = make_ecdsa_identity(curve=ec.SECP384R1).key

    assert choose_signature_scheme(p256, ECDSA_SCHEMES) is _S.ecdsa_secp256r1_sha256
    assert choose_signature_scheme(p384, ECDSA_SCHEMES) is _S.ecdsa_secp384r1_sha384


@pytest.mark.parametrize(
    "offered",
    [None, [_S.rsa_pkcs1_sha1, _S.ecdsa_sha1], [_S.ecdsa_secp256r1_sha256]],
    ids=["absent-means-sha1", "sha1-only", "wrong-key-type"],
)
def test_server_refuses_sha1_and_unfit_schemes(
    offered: list[SignatureScheme] | None,
) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        choose_signature_scheme(make_rsa_identity().key, offered)

    assert caught.value.description is AlertDescription.handshake_failure


def test_an_unfit_offer_is_answered_with_the_schemes_of_the_key_type() -> None:
    with pytest.raises(LocalProtocolError) as caught:
        choose_signature_scheme(make_ecdsa_identity().key, [_S.rsa_pkcs1_sha256])

    assert str(caught.value) == (
        "ClientHello.extensions.signature_algorithms: no scheme usable with the "
        "ECDSA certificate key; expected one of ecdsa_secp256r1_sha256, "
        "ecdsa_secp384r1_sha384"
    )


def test_sha1_signature_from_a_server_is_illegal_parameter() -> None:
    key = make_rsa_identity().key

    with pytest.raises(LocalProtocolError) as caught:
        verify_signature(
            key.public_key(),
            _S.rsa_pkcs1_sha1,
            b"sig",
            b"params",
            offered=DEFAULT_SIGNATURE_SCHEMES,
        )

    assert caught.value.description is AlertDescription.illegal_parameter


def test_scheme_of_the_wrong_key_type_is_illegal_parameter() -> None:
    key = make_ecdsa_identity().key
    signature = sign(key, _S.ecdsa_secp256r1_sha256, b"params")

    with pytest.raises(LocalProtocolError) as caught:
        verify_signature(
            key.public_key(),
            _S.rsa_pss_rsae_sha256,
            signature,
            b"params",
            offered=DEFAULT_SIGNATURE_SCHEMES,
        )

    assert caught.value.description is AlertDescription.illegal_parameter


def test_wrong_signature_is_decrypt_error() -> None:
    key = make_rsa_identity().key
    signature = sign(key, _S.rsa_pss_rsae_sha256, b"params")

    with pytest.raises(LocalProtocolError) as caught:
        verify_signature(
            key.public_key(),
            _S.rsa_pss_rsae_sha256,
            signature,
            b"other params",
            offered=DEFAULT_SIGNATURE_SCHEMES,
        )

    assert caught.value.description is AlertDescription.decrypt_error


def test_signature_preference_lists_what_each_key_signs_with() -> None:
    rsa_key = make_rsa_identity().key
    p256 = ec.generate_private_key(ec.SECP256R1())
    p384 = ec.generate_private_key(ec.SECP384R1())

    assert signature_preference(rsa_key) == tuple(RSA_SCHEMES)
    assert signature_preference(p256) == tuple(ECDSA_SCHEMES)
    # The scheme whose hash matches the curve comes first.
    assert signature_preference(p384) == tuple(reversed(ECDSA_SCHEMES))
    assert signature_preference(ec.generate_private_key(ec.SECP521R1())) == ()


def test_server_config_keeps_the_key_facts_it_works_out_once() -> None:
    identity = make_ecdsa_identity()
    config = ServerConfig([identity.cert], identity.key)

    assert config.certificate_group == certificate_group(identity.key)
    assert config.signature_preference == signature_preference(identity.key)
    assert choose_signature_scheme(
        identity.key, ECDSA_SCHEMES, preference=config.signature_preference
    ) == choose_signature_scheme(identity.key, ECDSA_SCHEMES)
