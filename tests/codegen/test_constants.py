"""Top-level value declarations (RFC 5246 §4.8, A.5) become module attributes."""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError

SPEC = """\
uint8 CipherSuite[2];    /* Cryptographic suite selector */
struct { uint8 major; uint8 minor; } ProtocolVersion;

ProtocolVersion version = { 3, 3 };     /* TLS v1.2*/

CipherSuite TLS_NULL_WITH_NULL_NULL               = { 0x00,0x00 };
CipherSuite TLS_RSA_WITH_NULL_MD5                 = { 0x00,0x01 };
CipherSuite TLS_RSA_WITH_AES_128_CBC_SHA256       = { 0x00,0x3C };

struct { CipherSuite cipher_suites<2..2^16-2>; } Offer;
"""


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TLS_NULL_WITH_NULL_NULL", [0x00, 0x00]),
        ("TLS_RSA_WITH_NULL_MD5", [0x00, 0x01]),
        ("TLS_RSA_WITH_AES_128_CBC_SHA256", [0x00, 0x3C]),
        ("version", {"major": 3, "minor": 3}),
    ],
)
def test_constant_is_an_exported_attribute(
    spec: ModuleType, name: str, value: object
) -> None:
    assert getattr(spec, name) == value
    assert name in spec.__all__


def test_constants_build_into_messages(spec: ModuleType) -> None:
    offer = {
        "cipher_suites": [
            spec.TLS_RSA_WITH_AES_128_CBC_SHA256,
            spec.TLS_RSA_WITH_NULL_MD5,
        ]
    }
    wire = bytes.fromhex("0004 003c 0001")
    assert spec.Offer.build(offer) == wire
    assert spec.Offer.parse(wire) == offer
    assert spec.ProtocolVersion.build(spec.version) == b"\x03\x03"


def test_rejects_an_odd_length_cipher_suite_list(spec: ModuleType) -> None:
    with pytest.raises(DecodeError) as info:
        spec.Offer.parse(bytes.fromhex("0003 003c 00"))
    assert (info.value.alert, info.value.path) == (
        "decode_error",
        "Offer.cipher_suites",
    )
