"""Enumerateds (RFC 5246 §4.5, RFC 8446 §3.5).

Width comes from the marker (``(255)``, ``(65535)``, ``(0xFFFF)``) or, with
none, from the largest value. Ranges are not members; they are listed in
``ENUM_RANGES``. Enums are open: an unknown value parses to a plain int and
rebuilds to the same bytes (RFC 8446 §4.2: unknown values are ignored, not
rejected).
"""

from __future__ import annotations

import enum
from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

SPEC = """\
enum { warning(1), fatal(2), (255) } AlertLevel;
enum { rsa_pkcs1_sha256(0x0401), ed25519(0x0807), (0xFFFF) } SignatureScheme;
enum { server_name(0), (65535) } ExtensionType;
enum { small(1), large(0x0100) } Unmarked;

/* RFC 8422 §5.1.1: a name repeated across ranges. */
enum {
    deprecated(1..22),
    secp256r1 (23), x25519(29),
    reserved (0xFE00..0xFEFF),
    deprecated(0xFF01..0xFF02),
    (0xFFFF)
} NamedCurve;

/* RFC 5246 A.6: no values; numbered from 0. */
enum { null, rc4, 3des, aes } BulkCipherAlgorithm;

/* RFC 6066 §4 */
enum { 2^9(1), 2^10(2), 2^11(3), 2^12(4), (255) } MaxFragmentLength;

enum { class(1), None(2), def(3), (255) } Keywords;

struct {
    AlertLevel level;
    SignatureScheme scheme;
    ExtensionType type;
    Unmarked unmarked;
    NamedCurve curve;
    BulkCipherAlgorithm cipher;
} Enums;
"""

KNOWN = "02 0807 0000 0100 001d 01"
UNKNOWN = "09 fe01 1234 0005 ff01 07"


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


def test_members_are_int_enums_named_as_in_the_spec(spec: ModuleType) -> None:
    assert issubclass(spec.SignatureScheme, enum.IntEnum)
    assert {m.name: m.value for m in spec.SignatureScheme} == {
        "rsa_pkcs1_sha256": 0x0401,
        "ed25519": 0x0807,
    }
    assert [m.name for m in spec.NamedCurve] == ["secp256r1", "x25519"]


def test_members_without_values_count_from_zero(spec: ModuleType) -> None:
    assert [(m.name, m.value) for m in spec.BulkCipherAlgorithm] == [
        ("null", 0),
        ("rc4", 1),
        ("_3des", 2),
        ("aes", 3),
    ]


def test_member_names_that_are_not_identifiers_are_spelled_out(
    spec: ModuleType,
) -> None:
    assert [(m.name, m.value) for m in spec.MaxFragmentLength] == [
        ("_2_pow_9", 1),
        ("_2_pow_10", 2),
        ("_2_pow_11", 3),
        ("_2_pow_12", 4),
    ]
    assert [m.name for m in spec.Keywords] == ["class_", "None_", "def_"]


def test_ranges_are_listed_not_members(spec: ModuleType) -> None:
    assert spec.ENUM_RANGES["NamedCurve"] == (
        ("deprecated", 1, 22),
        ("deprecated", 0xFF01, 0xFF02),
        ("reserved", 0xFE00, 0xFEFF),
    )
    assert "deprecated" not in spec.NamedCurve.__members__


def test_width_comes_from_the_marker_or_the_largest_value(spec: ModuleType) -> None:
    value = spec.Enums.parse(bytes.fromhex(KNOWN))
    assert value == {
        "level": spec.AlertLevel.fatal,
        "scheme": spec.SignatureScheme.ed25519,
        "type": spec.ExtensionType.server_name,
        "unmarked": spec.Unmarked.large,
        "curve": spec.NamedCurve.x25519,
        "cipher": spec.BulkCipherAlgorithm.rc4,
    }
    assert type(value.scheme) is spec.SignatureScheme
    assert spec.Enums.build(value) == bytes.fromhex(KNOWN)


def test_unknown_values_parse_as_int_and_rebuild_identically(
    spec: ModuleType,
) -> None:
    value = spec.Enums.parse(bytes.fromhex(UNKNOWN))
    assert value == {
        "level": 9,
        "scheme": 0xFE01,
        "type": 0x1234,
        "unmarked": 5,
        "curve": 0xFF01,
        "cipher": 7,
    }
    assert all(type(v) is int for v in value.values())
    assert spec.Enums.build(value) == bytes.fromhex(UNKNOWN)


@pytest.mark.parametrize(
    "level",
    ["fatal", 2],
    ids=["name", "int"],
)
def test_build_accepts_member_name_or_int(spec: ModuleType, level: object) -> None:
    value = spec.Enums.parse(bytes.fromhex(KNOWN))
    value.level = level
    value.cipher = "rc4"
    assert spec.Enums.build(value) == bytes.fromhex(KNOWN)


@pytest.mark.parametrize(
    ("wire", "path"),
    [
        ("02 0807 0000 01", "Enums.unmarked"),
        ("02 08", "Enums.scheme"),
        (KNOWN + "00", "Enums"),
    ],
)
def test_rejects_truncated_enum_fields(spec: ModuleType, wire: str, path: str) -> None:
    with pytest.raises(DecodeError) as info:
        spec.Enums.parse(bytes.fromhex(wire))
    assert (info.value.alert, info.value.path) == ("decode_error", path)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("level", "critical"),
        ("level", 256),
        ("scheme", 0x10000),
        ("cipher", "4des"),
    ],
)
def test_refuses_to_build_names_that_are_not_members_or_values_too_wide(
    spec: ModuleType, field: str, bad: object
) -> None:
    value = spec.Enums.parse(bytes.fromhex(KNOWN))
    value[field] = bad
    with pytest.raises(EncodeError) as info:
        spec.Enums.build(value)
    assert info.value.path == f"Enums.{field}"


def test_builds_members_from_their_spec_names_too(spec: ModuleType) -> None:
    # `3des` is the Python member `_3des`; the spec's own name also builds.
    value = spec.Enums.parse(bytes.fromhex(KNOWN))
    value["cipher"] = "3des"
    by_spec_name = spec.Enums.build(value)
    value["cipher"] = "_3des"
    assert by_spec_name == spec.Enums.build(value)


@pytest.mark.parametrize(
    "items",
    [["a", "b", 9], [1, 2, 9], ["a", 2, 9]],
    ids=["names", "ints", "mixed"],
)
def test_builds_lists_of_names_and_ints_alike(
    compile_spec, items: list[object]
) -> None:
    spec = compile_spec(LIST_SPEC)
    assert spec.Listed.build({"items": items}) == bytes.fromhex("06 0001 0002 0009")


@pytest.mark.parametrize(
    ("items", "reason"),
    [
        (["a", "zz"], "'zz' is not a member of Small"),
        ([1, 0x10000], "integer out of range for the field: expected 0 to 65535"),
    ],
    ids=["unknown-name", "too-wide"],
)
def test_refuses_to_build_lists_with_bad_elements(
    compile_spec, items: list[object], reason: str
) -> None:
    spec = compile_spec(LIST_SPEC)
    with pytest.raises(EncodeError) as info:
        spec.Listed.build({"items": items})
    assert (info.value.path, info.value.reason) == ("Listed.items", reason)


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (True, "expected an int or a name from AlertLevel, got bool"),
        (2.0, "expected an int or a name from AlertLevel, got float"),
        (b"fatal", "expected an int or a name from AlertLevel, got bytes"),
    ],
    ids=["bool", "float", "bytes"],
)
def test_refuses_to_build_an_enum_field_from_another_type(
    spec: ModuleType, given: object, reason: str
) -> None:
    value = spec.Enums.parse(bytes.fromhex(KNOWN))
    value["level"] = given
    with pytest.raises(EncodeError) as info:
        spec.Enums.build(value)
    assert (info.value.path, info.value.reason) == ("Enums.level", reason)


def test_refuses_to_build_a_list_element_of_another_type(compile_spec) -> None:
    spec = compile_spec(LIST_SPEC)
    with pytest.raises(EncodeError) as info:
        spec.Listed.build({"items": ["a", 2.5]})
    assert (info.value.path, info.value.reason) == (
        "Listed.items",
        "expected an int or a name from Small, got float",
    )


LIST_SPEC = """\
enum { a(1), b(2), (0xFFFF) } Small;
struct { Small items<0..2^8-1>; } Listed;
"""


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ("mro", "enum member 'mro' is a name Python's enum refuses"),
        ("_x", "enum member '_x' starts with '_', which Python's enum reserves"),
    ],
)
def test_member_names_python_enums_refuse_are_compile_errors(
    compile_error, member: str, message: str
) -> None:
    # The module would compile and then fail to import.
    err = compile_error(f"enum {{ {member}(1), (255) }} K;\n")
    assert err.message == message
    assert (err.pos.line, err.pos.col) == (1, 8)


@pytest.mark.parametrize("member", ["name", "value", "to_bytes", "class"])
def test_member_names_that_python_enums_take_compile_and_import(
    compile_spec, member: str
) -> None:
    spec = compile_spec(f"enum {{ {member}(1), (255) }} K;\n")
    (only,) = list(spec.K)
    assert int(only) == 1


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"items": [-1]}, "integer out of range for the field"),
        ({"items": [2**70]}, "integer out of range for the field"),
        ({"items": 5}, "value of the wrong type or shape ("),
    ],
)
def test_build_errors_speak_of_the_field_not_of_struct_codes(
    compile_spec, value: dict[str, object], reason: str
) -> None:
    spec = compile_spec(LIST_SPEC)
    with pytest.raises(EncodeError) as info:
        spec.Listed.build(value)
    assert info.value.path == "Listed.items"
    assert info.value.reason.startswith(reason)
    assert "format" not in info.value.reason


@pytest.mark.parametrize(
    ("text", "spot"),
    [
        pytest.param("enum { } E;\n", (1, 1), id="empty"),
        pytest.param("enum { (255) } E;\n", (1, 1), id="width-marker-only"),
        pytest.param("struct { enum { } kind; } S;\n", (1, 10), id="inline"),
    ],
)
def test_an_enum_without_values_is_a_compile_error(
    compile_error, text: str, spot: tuple[int, int]
) -> None:
    err = compile_error(text)
    assert (err.pos.line, err.pos.col) == spot
    assert err.message == "an enum needs at least one value"
    assert err.hint == "give it a member, e.g. 'enum { a(0), (255) } E;'"
