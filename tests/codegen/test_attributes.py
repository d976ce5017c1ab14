"""Cryptographic attributes (RFC 5246 §4.7).

``digitally-signed`` puts an algorithm (SignatureAndHashAlgorithm,
SignatureScheme, or a uint16 when neither is defined) and an
``opaque signature<0..2^16-1>`` on the wire; ``public-key-encrypted T`` is an
``opaque<0..2^16-1>``; ``*-ciphered`` structs are all the remaining bytes.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

PLAIN = """\
struct { uint8 major; uint8 minor; } ProtocolVersion;
struct { ProtocolVersion client_version; opaque random[46]; } PreMasterSecret;

struct {
    digitally-signed struct {
        opaque client_random[32];
        opaque server_random[32];
    } signed_params;
} Signed;

struct {
    public-key-encrypted PreMasterSecret pre_master_secret;
} EncryptedPreMasterSecret;

struct {
    opaque IV[2];
    block-ciphered struct {
        opaque content[4];
        uint8 padding_length;
    };
} BlockCiphered;

struct {
    stream-ciphered struct { opaque content<0..255>; } data;
} StreamCiphered;

struct {
    opaque nonce_explicit[8];
    aead-ciphered struct {
        opaque content[TLSCompressed.length];
    };
} GenericAEADCipher;
"""

WITH_PAIR = """\
enum { sha256(4), sha384(5), (255) } HashAlgorithm;
enum { rsa(1), ecdsa(3), (255) } SignatureAlgorithm;
struct {
    HashAlgorithm hash;
    SignatureAlgorithm signature;
} SignatureAndHashAlgorithm;
struct {
    digitally-signed struct { opaque handshake_messages<0..255>; };
} CertificateVerify;
"""

WITH_SCHEME = """\
enum { rsa_pss_rsae_sha256(0x0804), (0xFFFF) } SignatureScheme;
struct {
    digitally-signed struct { opaque handshake_messages<0..255>; };
} CertificateVerify;
"""


@pytest.fixture
def plain(compile_spec) -> ModuleType:
    return compile_spec(PLAIN)


def test_digitally_signed_is_algorithm_then_signature(plain: ModuleType) -> None:
    wire = bytes.fromhex("0401 0003 aabbcc")
    value = {"signed_params": {"algorithm": 0x0401, "signature": b"\xaa\xbb\xcc"}}
    assert plain.Signed.parse(wire) == value
    assert plain.Signed.build(value) == wire


def test_algorithm_is_the_signature_and_hash_pair_when_defined(compile_spec) -> None:
    spec = compile_spec(WITH_PAIR)
    wire = bytes.fromhex("0401 0002 5151")
    value = spec.CertificateVerify.parse(wire)
    assert value == {"algorithm": {"hash": 4, "signature": 1}, "signature": b"QQ"}
    assert value.algorithm.hash is spec.HashAlgorithm.sha256
    assert spec.CertificateVerify.build(value) == wire


def test_algorithm_is_the_signature_scheme_when_defined(compile_spec) -> None:
    spec = compile_spec(WITH_SCHEME)
    wire = bytes.fromhex("0804 0001 51")
    value = spec.CertificateVerify.parse(wire)
    assert value == {
        "algorithm": spec.SignatureScheme.rsa_pss_rsae_sha256,
        "signature": b"Q",
    }
    built = spec.CertificateVerify.build(
        {"algorithm": "rsa_pss_rsae_sha256", "signature": b"Q"}
    )
    assert built == wire


def test_public_key_encrypted_is_an_opaque_vector(plain: ModuleType) -> None:
    wire = bytes.fromhex("0004 deadbeef")
    value = {"pre_master_secret": b"\xde\xad\xbe\xef"}
    assert plain.EncryptedPreMasterSecret.parse(wire) == value
    assert plain.EncryptedPreMasterSecret.build(value) == wire


@pytest.mark.parametrize(
    ("name", "wire", "value"),
    [
        (
            "BlockCiphered",
            "0a0b 0102030405",
            {"IV": b"\x0a\x0b", "block_ciphered": b"\x01\x02\x03\x04\x05"},
        ),
        ("BlockCiphered", "0a0b", {"IV": b"\x0a\x0b", "block_ciphered": b""}),
        ("StreamCiphered", "ffeedd", {"data": b"\xff\xee\xdd"}),
        (
            "GenericAEADCipher",
            "0000000000000001 c0ffee",
            {
                "nonce_explicit": bytes.fromhex("0000000000000001"),
                "aead_ciphered": b"\xc0\xff\xee",
            },
        ),
    ],
)
def test_ciphered_struct_is_all_the_remaining_bytes(
    plain: ModuleType, name: str, wire: str, value: dict[str, bytes]
) -> None:
    codec = getattr(plain, name)
    assert codec.parse(bytes.fromhex(wire)) == value
    assert codec.build(value) == bytes.fromhex(wire)


@pytest.mark.parametrize(
    ("name", "wire", "path"),
    [
        ("Signed", "0401 0004 aabbcc", "Signed.signed_params"),
        ("Signed", "04", "Signed.signed_params"),
        (
            "EncryptedPreMasterSecret",
            "0005 deadbeef",
            "EncryptedPreMasterSecret.pre_master_secret",
        ),
        ("BlockCiphered", "0a", "BlockCiphered.IV"),
    ],
)
def test_rejects_truncated_protected_values(
    plain: ModuleType, name: str, wire: str, path: str
) -> None:
    with pytest.raises(DecodeError) as info:
        getattr(plain, name).parse(bytes.fromhex(wire))
    assert (info.value.alert, info.value.path) == ("decode_error", path)


@pytest.mark.parametrize(
    ("name", "value", "path"),
    [
        (
            "Signed",
            {"signed_params": {"algorithm": 0x0401, "signature": bytes(1 << 16)}},
            "Signed.signed_params",
        ),
        ("Signed", {"signed_params": {"algorithm": 0x0401}}, "Signed.signed_params"),
        (
            "EncryptedPreMasterSecret",
            {"pre_master_secret": bytes(1 << 16)},
            "EncryptedPreMasterSecret.pre_master_secret",
        ),
    ],
)
def test_refuses_to_build_protected_values_that_do_not_fit(
    plain: ModuleType, name: str, value: dict[str, object], path: str
) -> None:
    with pytest.raises(EncodeError) as info:
        getattr(plain, name).build(value)
    assert info.value.path == path
