"""Integer types, ``opaque`` and type aliases (RFC 5246 §4.3, §4.4, §7.4.1.2)."""

from __future__ import annotations

import enum
from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

SPEC = """\
opaque Random[32];
uint8 CipherSuite[2];
uint16 ProtocolVersion;
opaque DistinguishedName<1..2^16-1>;

struct {
    uint8 u8;
    uint16 u16;
    uint24 u24;
    uint32 u32;
    uint64 u64;
} Widths;

struct {
    ProtocolVersion version;
    CipherSuite suite;
    DistinguishedName name;
} UsesAliases;
"""


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


def test_integers_are_big_endian_of_their_width(spec: ModuleType) -> None:
    wire = bytes.fromhex("01 0203 040506 0708090a 0b0c0d0e0f101112")
    value = {
        "u8": 0x01,
        "u16": 0x0203,
        "u24": 0x040506,
        "u32": 0x0708090A,
        "u64": 0x0B0C0D0E0F101112,
    }
    assert spec.Widths.parse(wire) == value
    assert spec.Widths.build(value) == wire


@pytest.mark.parametrize(
    ("name", "wire", "value"),
    [
        ("Random", bytes(range(32)).hex(), bytes(range(32))),
        ("CipherSuite", "c02f", [0xC0, 0x2F]),
        ("ProtocolVersion", "0303", 0x0303),
        ("DistinguishedName", "0003 434e3d", b"CN="),
    ],
)
def test_alias_codes_like_its_target(
    spec: ModuleType, name: str, wire: str, value: object
) -> None:
    codec = getattr(spec, name)
    assert codec.parse(bytes.fromhex(wire)) == value
    assert codec.build(value) == bytes.fromhex(wire)


def test_struct_field_of_alias_type_uses_the_alias(spec: ModuleType) -> None:
    wire = bytes.fromhex("0303 009c 0001 41")
    value = {"version": 0x0303, "suite": [0x00, 0x9C], "name": b"A"}
    assert spec.UsesAliases.parse(wire) == value
    assert spec.UsesAliases.build(value) == wire


@pytest.mark.parametrize(
    ("name", "wire", "path"),
    [
        ("Random", "00" * 31, "Random"),
        ("CipherSuite", "c0", "CipherSuite"),
        ("ProtocolVersion", "03", "ProtocolVersion"),
        ("DistinguishedName", "0000", "DistinguishedName"),
        ("UsesAliases", "0303 009c 0000", "UsesAliases.name"),
        ("Widths", "01 0203 0405", "Widths.u24"),
    ],
)
def test_rejects_malformed_alias_bytes(
    spec: ModuleType, name: str, wire: str, path: str
) -> None:
    with pytest.raises(DecodeError) as info:
        getattr(spec, name).parse(bytes.fromhex(wire))
    assert (info.value.alert, info.value.path) == ("decode_error", path)


@pytest.mark.parametrize(
    ("name", "value", "path"),
    [
        ("Random", bytes(31), "Random"),
        ("CipherSuite", [0xC0], "CipherSuite"),
        ("ProtocolVersion", 0x10000, "ProtocolVersion"),
        ("DistinguishedName", b"", "DistinguishedName"),
        (
            "Widths",
            {"u8": 256, "u16": 0, "u24": 0, "u32": 0, "u64": 0},
            "Widths.u8",
        ),
        (
            "Widths",
            {"u8": 0, "u16": 0, "u24": 1 << 24, "u32": 0, "u64": 0},
            "Widths.u24",
        ),
    ],
)
def test_refuses_to_build_values_that_do_not_fit(
    spec: ModuleType, name: str, value: object, path: str
) -> None:
    with pytest.raises(EncodeError) as info:
        getattr(spec, name).build(value)
    assert info.value.path == path


@pytest.mark.parametrize("field", ["u8", "u16", "u24", "u32", "u64"])
@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("5", "expected an int, got str"),
        (5.5, "expected an int, got float"),
        (5.0, "expected an int, got float"),
        (True, "expected an int, got bool"),
        (None, "expected an int, got NoneType"),
    ],
    ids=["str", "float", "integral-float", "bool", "none"],
)
def test_refuses_to_build_an_integer_field_from_another_type(
    spec: ModuleType, field: str, given: object, reason: str
) -> None:
    # Not "out of range": the value is no integer at all. A bool is refused
    # too, though Python counts it as one.
    value = {"u8": 0, "u16": 0, "u24": 0, "u32": 0, "u64": 0, field: given}
    with pytest.raises(EncodeError) as info:
        spec.Widths.build(value)
    assert (info.value.path, info.value.reason) == (f"Widths.{field}", reason)


def test_an_int_enum_member_builds_an_integer_field(spec: ModuleType) -> None:
    class Version(enum.IntEnum):
        tls12 = 0x0303

    value = {"u8": 1, "u16": Version.tls12, "u24": 0, "u32": 0, "u64": 0}
    assert spec.Widths.build(value)[1:3] == b"\x03\x03"
