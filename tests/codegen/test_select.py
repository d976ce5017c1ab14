"""Variants, ``select (tag) { case ...: ... } [name];``.

RFC 5246 §4.6.1 and RFC 8446 §3.8.

The tag is a field of the struct, a qualified field of the enclosing struct,
the type of an earlier field, or (when no field has that name or type) a
parse-time parameter named after the enum. A tag with no case and no
``default`` is a well-formed but wrong value: ``illegal_parameter``.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

SPEC = """\
enum { a(1), b(2), c(3), d(4), e(5), (255) } Tag;

struct { uint8 x; } X;

/* Nameless: the chosen arm's fields merge into the struct. */
struct {
    Tag tag;
    select (tag) {
        case a: uint8 one;
        case b: case c: uint16 two; uint8 three;
        case d, e: struct {};
    };
} Merged;

/* Named, qualified tag, a type-only arm and a default. */
struct {
    Tag tag;
    select (Named.tag) {
        case a: X;
        case b, c: uint16 two; uint8 three;
        case d: struct {};
        default: opaque rest<0..255>;
    } body;
} Named;

/* The tag is the type of an earlier field. */
struct {
    Tag kind;
    select (Tag) {
        case a: uint8 one;
        case b: uint16 two;
    } value;
} ByType;

/* No field named or typed KeyExchangeAlgorithm: a parse parameter. */
enum { rsa(1), dhe_rsa(2), (255) } KeyExchangeAlgorithm;
struct {
    select (KeyExchangeAlgorithm) {
        case rsa: opaque encrypted<0..2^16-1>;
        case dhe_rsa: opaque dh_Yc<1..2^16-1>;
    };
} ClientKeys;

/* One value inside a 2-byte length; `opaque;` takes every byte of it. */
struct {
    Tag tag;
    select (tag) {
        case a: opaque;
        case b: uint16 n;
    } data<0..2^16-1>;
} Wrapped;
"""


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ("01 07", {"tag": 1, "one": 7}),
        ("02 0009 08", {"tag": 2, "two": 9, "three": 8}),
        ("03 0009 08", {"tag": 3, "two": 9, "three": 8}),
        ("04", {"tag": 4}),
        ("05", {"tag": 5}),
    ],
    ids=["one-field", "stacked-labels-b", "stacked-labels-c", "comma-d", "comma-e"],
)
def test_nameless_select_merges_the_chosen_arm(
    spec: ModuleType, wire: str, value: dict[str, int]
) -> None:
    assert spec.Merged.parse(bytes.fromhex(wire)) == value
    assert spec.Merged.build(value) == bytes.fromhex(wire)


@pytest.mark.parametrize(
    ("wire", "body"),
    [
        ("01 07", {"x": 7}),
        ("02 0009 08", {"two": 9, "three": 8}),
        ("03 0009 08", {"two": 9, "three": 8}),
        ("04", {}),
        ("05 02 abcd", {"rest": b"\xab\xcd"}),
        ("fe 00", {"rest": b""}),
    ],
    ids=["type-only", "two-fields-b", "two-fields-c", "empty", "default", "unknown"],
)
def test_named_select_holds_the_chosen_arm(
    spec: ModuleType, wire: str, body: dict[str, object]
) -> None:
    value = spec.Named.parse(bytes.fromhex(wire))
    assert value == {"tag": bytes.fromhex(wire)[0], "body": body}
    assert spec.Named.build(value) == bytes.fromhex(wire)


def test_tag_may_be_the_type_of_an_earlier_field(spec: ModuleType) -> None:
    wire = bytes.fromhex("02 0102")
    value = {"kind": spec.Tag.b, "value": {"two": 0x0102}}
    assert spec.ByType.parse(wire) == value
    assert spec.ByType.build(value) == wire


@pytest.mark.parametrize(
    "algorithm",
    ["dhe_rsa", 2],
    ids=["member-name", "int-value"],
)
def test_enum_tag_without_a_field_is_a_parse_parameter(
    spec: ModuleType, algorithm: object
) -> None:
    wire = bytes.fromhex("0002 abcd")
    value = spec.ClientKeys.parse(wire, key_exchange_algorithm=algorithm)
    assert value == {"dh_Yc": b"\xab\xcd"}
    assert spec.ClientKeys.build(value, key_exchange_algorithm=algorithm) == wire
    assert spec.ClientKeys.params == ("key_exchange_algorithm",)


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ("01 0003 aabbcc", {"tag": 1, "data": b"\xaa\xbb\xcc"}),
        ("01 0000", {"tag": 1, "data": b""}),
        ("02 0002 0102", {"tag": 2, "data": {"n": 0x0102}}),
    ],
)
def test_select_with_a_vector_declarator_is_one_value_in_a_length(
    spec: ModuleType, wire: str, value: dict[str, object]
) -> None:
    assert spec.Wrapped.parse(bytes.fromhex(wire)) == value
    assert spec.Wrapped.build(value) == bytes.fromhex(wire)


@pytest.mark.parametrize(
    ("name", "wire", "params", "alert", "path"),
    [
        ("Merged", "06", {}, "illegal_parameter", "Merged"),
        ("Merged", "01", {}, "decode_error", "Merged.one"),
        ("Merged", "02 0009", {}, "decode_error", "Merged.three"),
        ("ByType", "03 00", {}, "illegal_parameter", "ByType.value"),
        ("Named", "05 03 abcd", {}, "decode_error", "Named.body.rest"),
        ("ClientKeys", "0000", {}, "internal_error", "ClientKeys"),
        (
            "ClientKeys",
            "0000",
            {"key_exchange_algorithm": 7},
            "illegal_parameter",
            "ClientKeys",
        ),
        (
            "ClientKeys",
            "0000",
            {"key_exchange_algorithm": "ecdhe"},
            "internal_error",
            "ClientKeys",
        ),
        (
            "ClientKeys",
            "0000",
            {"key_exchange_algorithm": "dhe_rsa"},
            "decode_error",
            "ClientKeys.dh_Yc",
        ),
        ("Wrapped", "02 0001 01", {}, "decode_error", "Wrapped.data.n"),
        ("Wrapped", "01 0004 aabbcc", {}, "decode_error", "Wrapped.data"),
        ("Wrapped", "03 0000", {}, "illegal_parameter", "Wrapped.data"),
    ],
)
def test_rejects_bad_variants(
    spec: ModuleType,
    name: str,
    wire: str,
    params: dict[str, object],
    alert: str,
    path: str,
) -> None:
    with pytest.raises(DecodeError) as info:
        getattr(spec, name).parse(bytes.fromhex(wire), **params)
    assert (info.value.alert, info.value.path) == (alert, path)


def test_leftover_bytes_in_a_wrapped_select_are_reported_at_the_select(
    spec: ModuleType,
) -> None:
    with pytest.raises(DecodeError) as info:
        spec.Wrapped.parse(bytes.fromhex("02 0003 010203"))
    assert (info.value.alert, info.value.path) == ("decode_error", "Wrapped.data")


@pytest.mark.parametrize(
    ("name", "value", "params", "path"),
    [
        ("Merged", {"tag": 6}, {}, "Merged"),
        ("Merged", {"tag": "b", "two": 1}, {}, "Merged.three"),
        ("Named", {"tag": "a", "body": {"two": 1}}, {}, "Named.body.x"),
        ("ClientKeys", {"dh_Yc": b"\x01"}, {}, "ClientKeys"),
        (
            "ClientKeys",
            {"dh_Yc": b""},
            {"key_exchange_algorithm": "dhe_rsa"},
            "ClientKeys.dh_Yc",
        ),
    ],
)
def test_refuses_to_build_a_variant_its_tag_does_not_select(
    spec: ModuleType,
    name: str,
    value: dict[str, object],
    params: dict[str, object],
    path: str,
) -> None:
    with pytest.raises(EncodeError) as info:
        getattr(spec, name).build(value, **params)
    assert info.value.path == path


@pytest.mark.parametrize(
    ("name", "value", "path", "reason"),
    [
        (
            "Named",
            {"tag": 4, "body": b"\x01\x02\x03"},
            "Named.body",
            "an empty struct takes an empty mapping, got bytes",
        ),
        (
            "Named",
            {"tag": 4, "body": 12345},
            "Named.body",
            "an empty struct takes an empty mapping, got int",
        ),
        (
            "Named",
            {"tag": 4, "body": {"two": 9}},
            "Named.body",
            "unknown field 'two'",
        ),
        (
            "Named",
            {"tag": 2, "body": {"two": 9, "three": 8, "x": 1}},
            "Named.body",
            "unknown field 'x'",
        ),
        (
            "Merged",
            {"tag": 1, "one": 7, "x": 1},
            "Merged",
            "unknown field 'x'",
        ),
        (
            "Merged",
            {"tag": 4, "one": 7},
            "Merged",
            "unknown field 'one'",
        ),
        (
            "Merged",
            {"tag": 1, "one": 7, "two": 9},
            "Merged",
            "unknown field 'two'",
        ),
    ],
    ids=[
        "empty-arm-bytes",
        "empty-arm-int",
        "empty-arm-field",
        "arm",
        "nameless",
        "nameless-empty-arm-another-arms-field",
        "nameless-another-arms-field",
    ],
)
def test_refuses_to_build_fields_the_chosen_arm_does_not_have(
    spec: ModuleType, name: str, value: dict[str, object], path: str, reason: str
) -> None:
    with pytest.raises(EncodeError) as info:
        getattr(spec, name).build(value)
    assert (info.value.path, info.value.reason) == (path, reason)


TOP_LEVEL = """\
enum { ecdsa(3), ed25519(7), (255) } SignatureAlgorithm;
select (SignatureAlgorithm) {
    case ecdsa: uint8 r; uint8 s;
    case ed25519: opaque sig[4];
} Signature;
"""


def test_select_may_stand_as_a_type_of_its_own(compile_spec) -> None:
    # RFC 8422 §5.4 writes whole types as a select outside any struct.
    spec = compile_spec(TOP_LEVEL)
    wire = bytes.fromhex("0102")
    value = spec.Signature.parse(wire, signature_algorithm="ecdsa")
    assert value == {"r": 1, "s": 2}
    assert spec.Signature.build(value, signature_algorithm="ecdsa") == wire


def test_top_level_select_paths_name_only_spec_fields(compile_spec) -> None:
    spec = compile_spec(TOP_LEVEL)
    with pytest.raises(DecodeError) as info:
        spec.Signature.parse(b"\x01", signature_algorithm="ecdsa")
    assert info.value.path == "Signature.s"


def test_top_level_select_refuses_a_field_its_arm_does_not_have(
    compile_spec,
) -> None:
    spec = compile_spec(TOP_LEVEL)
    with pytest.raises(EncodeError) as info:
        spec.Signature.build({"r": 1, "s": 2, "t": 3}, signature_algorithm="ecdsa")
    assert (info.value.path, info.value.reason) == ("Signature", "unknown field 't'")


EMPTY_SELECT_HINT = (
    "add a case, e.g. 'case a: uint8 x;', here or from another spec file "
    "with 'extend select'"
)


@pytest.mark.parametrize(
    ("text", "spot"),
    [
        pytest.param(
            "enum {a(1),(255)} F; struct { F t; select (t) { } b; } Y;\n",
            (1, 36),
            id="in-a-struct",
        ),
        pytest.param(
            "enum { a(1), (255) } F;\nselect (F) { } Q;\n", (2, 1), id="a-type"
        ),
        pytest.param(
            "enum { a(1), (255) } F;\n"
            "struct {\n"
            "    F t;\n"
            "    select (t) { case a: select (t) { }; } b;\n"
            "} Y;\n",
            (4, 26),
            id="inside-an-arm",
        ),
    ],
)
def test_a_select_without_arms_is_a_compile_error(
    compile_error, text: str, spot: tuple[int, int]
) -> None:
    # It used to compile into a module reading an undefined variable.
    err = compile_error(text)
    assert (err.pos.line, err.pos.col) == spot
    assert err.message == "a select needs at least one arm"
    assert err.hint == EMPTY_SELECT_HINT


def test_a_select_without_arms_of_its_own_takes_those_an_extend_gives(
    compile_spec,
) -> None:
    specs = compile_spec(
        {
            "base.tls": "enum { a(1), (255) } F;\n"
            "struct { F t; select (t) { } b<0..255>; } Y;\n",
            "more.tls": "struct { uint8 x; } X;\nextend select Y.b { case a: X; };\n",
        }
    )
    assert specs["base"].Y.build({"t": "a", "b": {"x": 5}}) == bytes.fromhex("010105")


@pytest.mark.parametrize(
    ("arms", "col"),
    [
        pytest.param("", 5, id="no-arms"),
        pytest.param("case false: struct {};", 5, id="no-true-arm"),
        pytest.param("case false: struct {}; case true: struct {};", 58, id="empty"),
    ],
)
def test_an_optional_tail_without_optional_fields_is_a_compile_error(
    compile_error, arms: str, col: int
) -> None:
    # It used to make an unparsable module, and a traceback from ruff.
    err = compile_error(
        "struct {\n"
        "    uint8 a;\n"
        f"    select (extensions_present) {{ {arms} }};\n"
        "} Z;\n"
    )
    assert (err.pos.line, err.pos.col) == (3, col)
    assert err.message == "select (extensions_present) has no optional fields"
    assert err.hint == (
        "list the fields that may follow under 'case true:', or remove the select"
    )
