"""Fields with a fixed value: ``T name = value;`` (RFC 8446 §3.7, RFC 5246 A.1).

Parse checks the value (a different one is ``illegal_parameter``); build
fills it in when the key is missing or ``None`` and refuses a different one.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

SPEC = """\
enum { handshake(22), application_data(23), (255) } ContentType;
struct { uint8 major; uint8 minor; } ProtocolVersion;
uint16 LegacyVersion;

struct {
    ProtocolVersion version = { 3, 3 };     /* TLS v1.2 */
    LegacyVersion legacy_version = 0x0303;
    uint8 legacy_form = 4;
    ContentType opaque_type = application_data;
    uint16 length;
} Fixed;
"""

WIRE = "0303 0303 04 17 0010"
VALUE = {
    "version": {"major": 3, "minor": 3},
    "legacy_version": 0x0303,
    "legacy_form": 4,
    "opaque_type": 23,
    "length": 16,
}


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


def test_fixed_values_round_trip(spec: ModuleType) -> None:
    value = spec.Fixed.parse(bytes.fromhex(WIRE))
    assert value == VALUE
    assert value.opaque_type is spec.ContentType.application_data
    assert spec.Fixed.build(value) == bytes.fromhex(WIRE)


@pytest.mark.parametrize(
    "value",
    [
        {"length": 16},
        {
            "version": None,
            "legacy_version": None,
            "legacy_form": None,
            "opaque_type": None,
            "length": 16,
        },
        {"opaque_type": "application_data", "length": 16},
        {"opaque_type": 23, "legacy_version": 0x0303, "length": 16},
    ],
    ids=["missing", "none", "same-by-name", "same-by-int"],
)
def test_build_fills_in_or_accepts_the_fixed_value(
    spec: ModuleType, value: dict[str, object]
) -> None:
    assert spec.Fixed.build(value) == bytes.fromhex(WIRE)


@pytest.mark.parametrize(
    ("wire", "path"),
    [
        ("0301 0303 04 17 0010", "Fixed.version"),
        ("0303 0302 04 17 0010", "Fixed.legacy_version"),
        ("0303 0303 00 17 0010", "Fixed.legacy_form"),
        ("0303 0303 04 16 0010", "Fixed.opaque_type"),
    ],
)
def test_rejects_a_different_value_as_illegal_parameter(
    spec: ModuleType, wire: str, path: str
) -> None:
    with pytest.raises(DecodeError) as info:
        spec.Fixed.parse(bytes.fromhex(wire))
    assert (info.value.alert, info.value.path) == ("illegal_parameter", path)


def test_truncated_fixed_value_is_a_decode_error(spec: ModuleType) -> None:
    with pytest.raises(DecodeError) as info:
        spec.Fixed.parse(bytes.fromhex("0303 03"))
    assert (info.value.alert, info.value.path) == (
        "decode_error",
        "Fixed.legacy_version",
    )


@pytest.mark.parametrize(
    ("field", "given"),
    [
        ("version", {"major": 3, "minor": 1}),
        ("legacy_version", 0x0301),
        ("legacy_form", 2),
        ("opaque_type", "handshake"),
    ],
)
def test_refuses_to_build_a_different_value(
    spec: ModuleType, field: str, given: object
) -> None:
    with pytest.raises(EncodeError) as info:
        spec.Fixed.build({field: given, "length": 16})
    assert info.value.path == f"Fixed.{field}"


def test_braced_value_fills_a_uint16_alias(compile_spec) -> None:
    # RFC 5246 A.1 writes { 3, 3 }; RFC 8446 §5.1 makes ProtocolVersion a uint16.
    spec = compile_spec(
        "uint16 ProtocolVersion;\n"
        "struct { ProtocolVersion version = { 3, 3 }; } Hello;\n"
    )
    assert spec.Hello.build({}) == b"\x03\x03"
    assert spec.Hello.parse(b"\x03\x03") == {"version": 0x0303}
    with pytest.raises(DecodeError) as info:
        spec.Hello.parse(b"\x03\x01")
    assert (info.value.alert, info.value.path) == ("illegal_parameter", "Hello.version")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("struct { uint8 x = 300; } A;\n", "value 300 does not fit uint8 (1 byte)"),
        (
            "struct { uint16 x = 70000; } A;\n",
            "value 70000 does not fit uint16 (2 bytes)",
        ),
    ],
    ids=["one-byte", "two-bytes"],
)
def test_fixed_value_too_large_for_its_type_is_a_compile_error(
    compile_error, text: str, message: str
) -> None:
    err = compile_error(text)
    assert (err.message, err.hint) == (message, "use a smaller value")
