"""Selects with many arms, each one type, as ``Handshake.body`` is.

RFC 5246 §7.4. Such a select finds the arm for its tag in one lookup
rather than a comparison per arm; the wire format, the values and every
error (path, offset, alert) are those of any other select. Arm types may be
defined further down the spec or in another spec file.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

SPEC = """\
enum { k0(0), k1(1), k2(2), k3(3), k4(4), k5(5), k6(6), k9(9), (255) } Kind;

struct { } Empty;
struct { uint8 a; } One;
struct { uint16 b; } Two;
struct { opaque data<0..2^16-1>; } Data;
struct { One first; Two second; } Nested;
struct { uint8 c; uint8 d; } Pair;
opaque Blob<1..2^8-1>;
Blob Name;

/* Every arm a type defined above, with a function of its own. */
struct {
    Kind kind;
    select (kind) {
        case k0: Empty;
        case k1: One;
        case k2: Two;
        case k3: Data;
        case k4: Nested;
        case k5: Name;
        case k6: Pair;
    } body;
} Message;

/* An arm read in place (an opaque alias) and a type defined below. */
struct {
    Kind kind;
    select (kind) {
        case k0: Empty;
        case k1: One;
        case k2: Two;
        case k3: Data;
        case k4: Nested;
        case k5: Blob;
        case k6: Later;
    } body;
} Mixed;

struct {
    Kind kind;
    select (kind) {
        case k0: Empty;
        case k1: One;
        case k2: Two;
        case k3: Data;
        case k4: Nested;
        case k5: Pair;
        default: Data;
    } body;
} WithDefault;

struct { uint8 c; uint8 d; } Later;
"""

NAMES = ["Message", "Mixed"]


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


CASES = [
    ("00", {"kind": 0, "body": {}}),
    ("01 07", {"kind": 1, "body": {"a": 7}}),
    ("02 0102", {"kind": 2, "body": {"b": 0x0102}}),
    ("03 0001 ee", {"kind": 3, "body": {"data": b"\xee"}}),
    ("04 01 0002", {"kind": 4, "body": {"first": {"a": 1}, "second": {"b": 2}}}),
    ("05 02 abcd", {"kind": 5, "body": b"\xab\xcd"}),
    ("06 0304", {"kind": 6, "body": {"c": 3, "d": 4}}),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("wire", "value"), CASES, ids=[c[0][:2] for c in CASES])
def test_each_arm_parses_and_builds(
    spec: ModuleType, name: str, wire: str, value: dict[str, object]
) -> None:
    codec = getattr(spec, name)
    data = bytes.fromhex(wire)
    assert codec.parse(data) == value
    assert codec.build(value) == data


@pytest.mark.parametrize("name", NAMES)
def test_tag_names_select_arms_on_build(spec: ModuleType, name: str) -> None:
    value = {"kind": "k2", "body": {"b": 5}}
    assert getattr(spec, name).build(value) == bytes.fromhex("02 0005")


@pytest.mark.parametrize("name", NAMES)
def test_tag_without_an_arm_is_illegal_parameter(spec: ModuleType, name: str) -> None:
    with pytest.raises(DecodeError) as info:
        getattr(spec, name).parse(bytes.fromhex("09 00"))
    error = info.value
    assert (error.alert, error.path, error.offset) == (
        "illegal_parameter",
        f"{name}.body",
        1,
    )
    assert error.reason == "no case for Kind k9 (9)"


@pytest.mark.parametrize("name", NAMES)
def test_refuses_to_build_a_tag_without_an_arm(spec: ModuleType, name: str) -> None:
    with pytest.raises(EncodeError) as info:
        getattr(spec, name).build({"kind": 7, "body": {}})
    assert (info.value.path, info.value.reason) == (
        f"{name}.body",
        "no case for Kind 7",
    )


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("wire", "path", "offset"),
    [
        ("01", "body.a", 1),
        ("03 0002 ee", "body.data", 3),
        ("04 01 00", "body.second.b", 2),
        ("05 00", "body", 2),
        ("06 03", "body.d", 2),
    ],
)
def test_errors_inside_an_arm_name_the_arm_field(
    spec: ModuleType, name: str, wire: str, path: str, offset: int
) -> None:
    with pytest.raises(DecodeError) as info:
        getattr(spec, name).parse(bytes.fromhex(wire))
    error = info.value
    assert (error.alert, error.path, error.offset) == (
        "decode_error",
        f"{name}.{path}",
        offset,
    )


@pytest.mark.parametrize("name", NAMES)
def test_build_errors_inside_an_arm_name_the_arm_field(
    spec: ModuleType, name: str
) -> None:
    value = {"kind": 4, "body": {"first": {"a": 1}, "second": {}}}
    with pytest.raises(EncodeError) as info:
        getattr(spec, name).build(value)
    assert info.value.path == f"{name}.body.second.b"
    assert info.value.reason == "missing field 'b'"


@pytest.mark.parametrize("kind", [6, 9, 200])
def test_default_arm_takes_every_other_tag(spec: ModuleType, kind: int) -> None:
    data = bytes([kind]) + bytes.fromhex("0002 abcd")
    value = spec.WithDefault.parse(data)
    assert value == {"kind": kind, "body": {"data": b"\xab\xcd"}}
    assert spec.WithDefault.build(value) == data


def test_arm_types_may_come_from_another_spec_file(compile_spec) -> None:
    modules = compile_spec(
        {
            "bodies.tls": "struct { uint8 a; } One;\nstruct { uint16 b; } Two;\n",
            "message.tls": SPEC.replace("struct { uint8 a; } One;\n", "").replace(
                "struct { uint16 b; } Two;\n", ""
            ),
        }
    )
    message = modules["message"].Message
    for wire, value in CASES:
        assert message.parse(bytes.fromhex(wire)) == value
        assert message.build(value) == bytes.fromhex(wire)
