"""Misused config arguments are refused by the constructor, naming the field.

Each of these used to be accepted and fail later, on every connection, as
an internal_error alert or an unrelated exception.
"""

from __future__ import annotations

import copy
import pickle
import re

import pytest

from tests.support.openssl import TlsIdentity, make_ecdsa_identity, make_rsa_identity
from tlsspec.generated.extensions import NamedGroup
from tlsspec.runtime import ClientConfig, ServerConfig
from tlsspec.runtime.config import ConfigError
from tlsspec.runtime.keylog import KeyLogWriter
from tlsspec.runtime.limits import Limits
from tlsspec.runtime.tickets import TicketKeyRing

_SUITE = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"


def _identity() -> TlsIdentity:
    return make_rsa_identity()


def _server(**options: object) -> ServerConfig:
    identity = _identity()
    return ServerConfig([identity.cert], identity.key, **options)  # type: ignore[arg-type]


def _client(**options: object) -> ClientConfig:
    return ClientConfig(trust_anchors=[_identity().ca_cert], **options)  # type: ignore[arg-type]


# (options, message): refused the same way by ClientConfig and ServerConfig.
_SHARED_TYPE_ERRORS = [
    (
        {"cipher_suites": _SUITE},
        "cipher_suites: expected a sequence of suites, got a str",
    ),
    (
        {"cipher_suites": [None]},
        r"cipher_suites\[0\]: NoneType, expected a CipherSuite",
    ),
    (
        {"cipher_suites": [49199.9]},
        r"cipher_suites\[0\]: float, expected a CipherSuite",
    ),
    ({"cipher_suites": [True]}, r"cipher_suites\[0\]: bool, expected a CipherSuite"),
    ({"cipher_suites": 49199}, "cipher_suites: expected a sequence of suites, got int"),
    ({"groups": "x25519"}, "groups: expected a sequence of groups, got a str"),
    ({"groups": [None]}, r"groups\[0\]: NoneType, expected a NamedGroup"),
    ({"groups": [29.0]}, r"groups\[0\]: float, expected a NamedGroup"),
    ({"groups": [True]}, r"groups\[0\]: bool, expected a NamedGroup"),
    ({"alpn_protocols": [1]}, r"alpn_protocols\[0\]: int, expected a str or bytes"),
    ({"alpn_protocols": None}, "alpn_protocols: expected a sequence of names"),
    ({"keylog": "/tmp/x.log"}, "keylog: expected a KeyLogWriter or None, got str"),
    ({"clock": 0.0}, "clock: expected a callable, got float"),
    ({"random": b"\x00" * 32}, "random: expected a callable, got bytes"),
]

_SHARED_VALUE_ERRORS = [
    ({"groups": ["x448"]}, "groups: 'x448' is not implemented; expected one of"),
    ({"groups": ["X25519"]}, "groups: 'X25519' is not implemented"),
    ({"groups": [25]}, "groups: 25 is not implemented"),
    (
        # RFC 7301 §3.1: protocol_name_list<2..2^16-1> inside
        # extension_data<0..2^16-1>; 300 * 256 bytes.
        {"alpn_protocols": ["x" * 255] * 300},
        "alpn_protocols: 76800 bytes encoded, expected at most 65533",
    ),
]


@pytest.mark.parametrize(("options", "message"), _SHARED_TYPE_ERRORS)
def test_both_configs_refuse_arguments_of_the_wrong_type(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        _client(**options)
    with pytest.raises(TypeError, match=message):
        _server(**options)


@pytest.mark.parametrize(("options", "message"), _SHARED_VALUE_ERRORS)
def test_both_configs_refuse_wrong_values(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _client(**options)
    with pytest.raises(ValueError, match=message):
        _server(**options)


def test_groups_accept_names_codes_and_members() -> None:
    config = _client(groups=["x25519", 23, NamedGroup.secp384r1])

    assert config.groups == (
        NamedGroup.x25519,
        NamedGroup.secp256r1,
        NamedGroup.secp384r1,
    )


@pytest.mark.parametrize(("last", "accepted"), [(252, True), (253, False)])
def test_alpn_list_must_fit_one_extension(last: int, accepted: bool) -> None:
    # 255 names of 255 bytes, and one of `last`, each behind its length
    # byte; with the list's own 2-byte length, 252 fills extension_data.
    names = ["x" * 255] * 255 + ["y" * last]
    total = sum(1 + len(name) for name in names)

    if accepted:
        assert 2 + total == 2**16 - 1
        assert len(_server(alpn_protocols=names).alpn_protocols) == 256
    else:
        with pytest.raises(ValueError, match=f"{total} bytes encoded"):
            _server(alpn_protocols=names)


def test_configs_accept_a_key_log_writer(tmp_path: object) -> None:
    writer = KeyLogWriter(f"{tmp_path}/keys.log")

    assert _client(keylog=writer).keylog is writer
    assert _server(keylog=writer).keylog is writer


@pytest.mark.parametrize(
    ("anchors", "message"),
    [
        (
            lambda identity: [identity.ca_pem],
            r"trust_anchors\[0\]: bytes, expected an x509.Certificate "
            r"\(parse PEM with x509.load_pem_x509_certificate\)",
        ),
        (
            lambda identity: identity.ca_cert,
            r"trust_anchors: one Certificate; expected a list of x509.Certificate",
        ),
        (
            lambda identity: identity.ca_pem,
            r"trust_anchors: expected a list of x509.Certificate, got bytes",
        ),
    ],
    ids=["pem-in-list", "bare-certificate", "pem"],
)
def test_client_refuses_trust_anchors_that_are_not_certificates(
    anchors: object, message: str
) -> None:
    identity = _identity()

    with pytest.raises(TypeError, match=message):
        ClientConfig(trust_anchors=anchors(identity))  # type: ignore[operator]


def test_client_refuses_a_verify_flag_that_is_not_a_bool() -> None:
    # "no" is true: it would silently leave verification on.
    with pytest.raises(TypeError, match="verify: expected a bool, got str"):
        _client(verify="no")


@pytest.mark.parametrize(
    ("chain", "key", "message"),
    [
        (
            lambda i: [i.cert_pem],
            lambda i: i.key,
            r"certificate_chain\[0\]: bytes, expected an x509.Certificate",
        ),
        (
            lambda i: i.cert,
            lambda i: i.key,
            r"certificate_chain: one Certificate; expected a list",
        ),
        (
            lambda i: None,
            lambda i: i.key,
            "certificate_chain: expected a list of x509.Certificate, got NoneType",
        ),
        (
            lambda i: [i.cert],
            lambda i: i.key.public_key(),
            "private_key: RSAPublicKey is a public key; expected the leaf's private",
        ),
        (
            lambda i: [i.cert],
            lambda i: i.key_pem,
            r"private_key: expected a private key object, got bytes \(parse PEM "
            r"with serialization.load_pem_private_key\)",
        ),
        (
            lambda i: [i.cert],
            lambda i: None,
            "private_key: expected a private key object, got NoneType",
        ),
    ],
    ids=[
        "pem-chain",
        "bare-certificate",
        "no-chain",
        "public-key",
        "pem-key",
        "no-key",
    ],
)
def test_server_refuses_a_chain_or_key_of_the_wrong_type(
    chain: object, key: object, message: str
) -> None:
    identity = _identity()

    with pytest.raises(TypeError, match=message):
        ServerConfig(chain(identity), key(identity))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("ticket_keys", "message"),
    [
        ("abc", "ticket_keys: expected a TicketKeyRing or None, got str$"),
        (
            TicketKeyRing.generate().current,
            re.escape(
                "ticket_keys: expected a TicketKeyRing or None, got TicketKey "
                "(wrap it: TicketKeyRing([key]))"
            ),
        ),
    ],
    ids=["str", "one-key"],
)
def test_server_refuses_ticket_keys_that_are_not_a_ring(
    ticket_keys: object, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        _server(ticket_keys=ticket_keys)


@pytest.mark.parametrize(
    ("lifetime", "error", "message"),
    [
        (
            1.5,
            TypeError,
            "ticket_lifetime: expected an int number of seconds, got float",
        ),
        (
            True,
            TypeError,
            "ticket_lifetime: expected an int number of seconds, got bool",
        ),
        (
            "7200",
            TypeError,
            "ticket_lifetime: expected an int number of seconds, got str",
        ),
        (None, TypeError, "ticket_lifetime: expected an int number of seconds"),
        # RFC 5077 §3.3: a hint of 0 means "unspecified", so clients would
        # keep offering tickets the server has stopped opening.
        (0, ValueError, "ticket_lifetime: 0, expected at least 1 second"),
        (-1, ValueError, "ticket_lifetime: -1, expected at least 1 second"),
        (2**32, ValueError, r"ticket_lifetime: 4294967296, .* 4294967295 \(a uint32\)"),
    ],
)
def test_server_refuses_a_ticket_lifetime_that_is_not_whole_seconds(
    lifetime: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        _server(ticket_keys=TicketKeyRing.generate(), ticket_lifetime=lifetime)


@pytest.mark.parametrize("lifetime", [1, 2**32 - 1])
def test_server_accepts_ticket_lifetimes_at_the_bounds(lifetime: int) -> None:
    assert _server(ticket_lifetime=lifetime).ticket_lifetime == lifetime


def test_server_refuses_a_downgrade_flag_that_is_not_a_bool() -> None:
    with pytest.raises(TypeError, match="tls13_downgrade_sentinel: expected a bool"):
        _server(tls13_downgrade_sentinel=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"max_buffered_ciphertext": -1},
            "max_buffered_ciphertext: -1, expected at least 6$",
        ),
        (
            {"max_buffered_plaintext": 0},
            "max_buffered_plaintext: 0, expected at least 1$",
        ),
        ({"max_warning_alerts": -1}, "max_warning_alerts: -1, expected at least 0$"),
        ({"max_empty_records": -1}, "max_empty_records: -1, expected at least 0$"),
        (
            {"max_handshake_message": 0},
            "max_handshake_message: 0, expected 1 to 16777215$",
        ),
    ],
)
def test_limits_say_which_bound_a_value_breaks(
    changes: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=rf"^Limits\.{message}"):
        Limits(**changes)  # type: ignore[arg-type]


def test_config_errors_name_their_fields_for_front_ends() -> None:
    identity, other = make_rsa_identity(), make_ecdsa_identity()
    with pytest.raises(ConfigError) as mismatch:
        ServerConfig([identity.cert], other.key)
    assert str(mismatch.value) == "private_key: does not match the leaf certificate"
    assert mismatch.value.fields == ("private_key", "certificate_chain")
    assert mismatch.value.reason == "does not match the leaf certificate"

    with pytest.raises(ConfigError) as alpn:
        ClientConfig(verify=False, alpn_protocols=[""])
    assert alpn.value.field == "alpn_protocols"
    assert str(alpn.value) == (
        "alpn_protocols: '' is 0 bytes, expected 1 to 255 (RFC 7301 §3.1)"
    )


def test_an_alpn_name_that_is_not_utf8_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        ClientConfig(verify=False, alpn_protocols=["\udcff"])
    assert str(caught.value) == ("alpn_protocols: '\\udcff' is not encodable as UTF-8")


def test_config_errors_survive_pickling_and_copying() -> None:
    error = ConfigError("private_key", "does not match", also=("certificate_chain",))
    for twin in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert isinstance(twin, ConfigError)
        assert (twin.field, twin.reason, twin.fields) == (
            error.field,
            error.reason,
            error.fields,
        )
        assert str(twin) == str(error)


def test_an_empty_trust_store_is_refused_unless_nothing_is_verified(
    ecdsa_identity: TlsIdentity,
) -> None:
    # With verify on, no server could pass: every handshake would end in
    # unknown_ca.  Without verification the anchors are never read.
    with pytest.raises(ConfigError) as caught:
        ClientConfig(trust_anchors=[])
    assert caught.value.field == "trust_anchors"
    assert str(caught.value) == (
        "trust_anchors: empty, so no server certificate can be verified; pass "
        "anchors, None for the system bundle, or verify=False"
    )
    assert ClientConfig(trust_anchors=[], verify=False).trust_anchors == ()
    anchor = ecdsa_identity.ca_cert
    assert ClientConfig(trust_anchors=[anchor]).trust_anchors == (anchor,)


def test_an_rsa_key_too_small_for_every_signature_scheme_is_refused() -> None:
    # 1024 bits cannot sign rsa_pss_rsae_sha512 (RFC 8017 §9.1.1 needs
    # 130 bytes of modulus); a client offering only that would otherwise
    # meet internal_error.
    identity = make_rsa_identity(key_size=1024)
    with pytest.raises(ConfigError) as small:
        ServerConfig([identity.cert], identity.key)
    assert (
        str(small.value) == "private_key: RSA key of 1024 bits; expected at least 2048"
    )
