"""Client and server configuration: validation and normalization."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding

from tests.support.openssl import make_ecdsa_identity, make_rsa_identity
from tlsspec.generated.handshake import Handshake, HandshakeType
from tlsspec.runtime import ClientConfig, ServerConfig
from tlsspec.runtime.suites import (
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    Authentication,
)


def test_client_suites_accept_rows_names_and_codes() -> None:
    config = ClientConfig(
        verify=False,
        cipher_suites=[
            TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            0xC02F,
        ],
    )

    assert config.cipher_suites == (
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    )


@pytest.mark.parametrize(
    "options",
    [
        {"cipher_suites": ["TLS_RSA_WITH_AES_128_CBC_SHA"]},
        {"cipher_suites": []},
        {"alpn_protocols": ["x" * 256]},
        {"alpn_protocols": [""]},
        {"groups": [0x0100]},
    ],
)
def test_client_config_refuses_what_it_cannot_do(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ClientConfig(verify=False, **options)  # type: ignore[arg-type]


def test_server_keeps_only_suites_fitting_its_key() -> None:
    identity = make_ecdsa_identity()

    config = ServerConfig([identity.cert], identity.key)

    assert config.cipher_suites
    assert {s.authentication for s in config.cipher_suites} == {Authentication.ECDSA}


def test_server_refuses_a_key_that_does_not_match_the_leaf() -> None:
    identity = make_rsa_identity()

    with pytest.raises(ValueError, match="does not match"):
        ServerConfig([identity.cert], make_ecdsa_identity().key)


def test_server_refuses_an_unsupported_key_type() -> None:
    identity = make_rsa_identity()

    with pytest.raises(ValueError, match="private_key"):
        ServerConfig([identity.cert], ed25519.Ed25519PrivateKey.generate())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="private_key"):
        ServerConfig([identity.cert], ec.generate_private_key(ec.SECP521R1()))


def test_server_refuses_suites_none_of_which_fit_the_key() -> None:
    identity = make_rsa_identity()

    with pytest.raises(ValueError, match="none fits"):
        ServerConfig(
            [identity.cert],
            identity.key,
            cipher_suites=[TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256],
        )


def test_server_encodes_its_certificate_message_once() -> None:
    identity = make_rsa_identity()
    config = ServerConfig([identity.cert, identity.ca_cert], identity.key)

    message = Handshake.parse(config.certificate_message)

    assert message["msg_type"] == HandshakeType.certificate
    assert message["body"]["certificate_list"] == [
        identity.cert.public_bytes(Encoding.DER),
        identity.ca_cert.public_bytes(Encoding.DER),
    ]


def test_server_refuses_a_chain_too_large_for_a_certificate_message() -> None:
    # RFC 5246 §7.4.2: certificate_list<0..2^24-1>; past that no
    # handshake could send the chain, so the config is refused.
    identity = make_rsa_identity()
    ca_size = len(identity.ca_cert.public_bytes(Encoding.DER))
    copies = (1 << 24) // (ca_size + 3) + 1
    chain = [identity.cert] + [identity.ca_cert] * copies

    with pytest.raises(ValueError, match="certificate_chain: does not fit"):
        ServerConfig(chain, identity.key)


def test_server_refuses_an_empty_chain() -> None:
    with pytest.raises(ValueError, match="empty"):
        ServerConfig([], make_rsa_identity().key)


@pytest.mark.parametrize("name", ["h2", b"h2"])
def test_a_bare_alpn_name_is_refused_not_split_into_letters(name: object) -> None:
    identity = make_ecdsa_identity()

    with pytest.raises(TypeError, match="expected a sequence of names"):
        ClientConfig(verify=False, alpn_protocols=name)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a sequence of names"):
        ServerConfig([identity.cert], identity.key, alpn_protocols=name)  # type: ignore[arg-type]
