"""Structs (RFC 5246 §4.6): nested, nameless, empty; and the names they take.

A named inline struct is a nested value; a nameless one merges its fields
into the parent. Names may be dotted as in RFC 5246's ``ASN.1Cert`` and may
sit on the line after the closing brace, as the RFCs print them.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

SPEC = """\
struct {} Empty;

struct {
    uint8 first;
    struct {
        uint8 b;
        uint16 c;
    } inner;
    struct { uint8 merged; };
    Empty nothing;
    uint8 last;
} Outer;

opaque ASN.1Cert<1..2^24-1>;

struct {
    ASN.1Cert certificate_list<0..2^24-1>;
}
Certificate;
"""


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


def test_empty_struct_is_zero_bytes(spec: ModuleType) -> None:
    assert spec.Empty.parse(b"") == {}
    assert spec.Empty.build({}) == b""


def test_named_inline_struct_nests_and_nameless_one_merges(spec: ModuleType) -> None:
    wire = bytes.fromhex("01 02 0003 04 05")
    value = {
        "first": 1,
        "inner": {"b": 2, "c": 3},
        "merged": 4,
        "nothing": {},
        "last": 5,
    }
    assert spec.Outer.parse(wire) == value
    assert spec.Outer.build(value) == wire


def test_dotted_name_is_a_python_name_and_codes_its_vector(spec: ModuleType) -> None:
    assert spec.ASN_1Cert.parse(bytes.fromhex("000002 3082")) == b"\x30\x82"
    assert "ASN_1Cert" in spec.__all__


def test_name_after_the_closing_brace_line_names_the_struct(spec: ModuleType) -> None:
    wire = bytes.fromhex("00000a 000002 3082 000002 3081")
    value = {"certificate_list": [b"\x30\x82", b"\x30\x81"]}
    assert spec.Certificate.parse(wire) == value
    assert spec.Certificate.build(value) == wire


@pytest.mark.parametrize(
    ("name", "wire", "path"),
    [
        ("Empty", "00", "Empty"),
        ("Outer", "01 02 00", "Outer.inner.c"),
        ("Outer", "01 02 0003", "Outer.merged"),
        ("Certificate", "000003 000000", "Certificate.certificate_list[0]"),
    ],
)
def test_rejects_structs_cut_short_or_overlong(
    spec: ModuleType, name: str, wire: str, path: str
) -> None:
    with pytest.raises(DecodeError) as info:
        getattr(spec, name).parse(bytes.fromhex(wire))
    assert (info.value.alert, info.value.path) == ("decode_error", path)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (
            {"first": 1, "inner": {"b": 2}, "merged": 4, "nothing": {}, "last": 5},
            "Outer.inner.c",
        ),
        (
            {"first": 1, "inner": {"b": 2, "c": 3}, "nothing": {}, "last": 5},
            "Outer.merged",
        ),
    ],
)
def test_refuses_to_build_without_every_field(
    spec: ModuleType, value: dict[str, object], path: str
) -> None:
    with pytest.raises(EncodeError) as info:
        spec.Outer.build(value)
    assert info.value.path == path


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", "an empty struct takes an empty mapping, got bytes"),
        (b"\x01\x02\x03", "an empty struct takes an empty mapping, got bytes"),
        (12345, "an empty struct takes an empty mapping, got int"),
        ("totally wrong", "an empty struct takes an empty mapping, got str"),
        (None, "an empty struct takes an empty mapping, got NoneType"),
        ({"x": 5}, "unknown field 'x'"),
    ],
    ids=["empty-bytes", "bytes", "int", "str", "none", "a-field"],
)
def test_empty_struct_refuses_any_value_but_an_empty_mapping(
    spec: ModuleType, value: object, reason: str
) -> None:
    # Such a value would otherwise vanish from the output without a word.
    with pytest.raises(EncodeError) as info:
        spec.Empty.build(value)
    assert (info.value.path, info.value.reason) == ("Empty", reason)
    outer = {"first": 1, "inner": {"b": 2, "c": 3}, "merged": 4, "last": 5}
    with pytest.raises(EncodeError) as info:
        spec.Outer.build({**outer, "nothing": value})
    assert (info.value.path, info.value.reason) == ("Outer.nothing", reason)


def test_empty_struct_builds_what_parse_returns(spec: ModuleType) -> None:
    assert spec.Empty.build(spec.Empty.parse(b"")) == b""


@pytest.mark.parametrize(
    ("value", "path", "reason"),
    [
        ({"x": 5}, "Outer", "unknown field 'x'"),
        ({"y": 1, "x": 5}, "Outer", "unknown fields 'x', 'y'"),
        ({"inner": {"b": 2, "c": 3, "bb": 4}}, "Outer.inner", "unknown field 'bb'"),
    ],
    ids=["extra", "two", "nested"],
)
def test_refuses_to_build_a_field_the_struct_does_not_have(
    spec: ModuleType, value: dict[str, object], path: str, reason: str
) -> None:
    # Parse gives exactly the spec's fields, so a stray key is a typo that
    # would otherwise be dropped in silence.
    outer = {
        "first": 1,
        "inner": {"b": 2, "c": 3},
        "merged": 4,
        "nothing": {},
        "last": 5,
    }
    with pytest.raises(EncodeError) as info:
        spec.Outer.build({**outer, **value})
    assert (info.value.path, info.value.reason) == (path, reason)


def test_keys_starting_with_an_underscore_are_constructs_own(
    spec: ModuleType,
) -> None:
    # A Container parsed by construct carries `_io`; its equality skips such
    # keys, and so does build.
    value = {
        "first": 1,
        "inner": {"b": 2, "c": 3, "_io": None},
        "merged": 4,
        "nothing": {"_io": None},
        "last": 5,
        "_io": None,
    }
    assert spec.Outer.build(value) == bytes.fromhex("01 02 0003 04 05")


def test_refuses_a_value_that_is_no_mapping(spec: ModuleType) -> None:
    with pytest.raises(EncodeError) as info:
        spec.Outer.build("first, inner, merged, nothing, last")
    assert (info.value.path, info.value.reason) == (
        "Outer",
        "expected a mapping of fields, got str",
    )


BARE_OPAQUE_HINT = (
    "write 'opaque name<floor..ceiling>;' or 'opaque name[n];'; "
    "'opaque;' stands alone only as a select arm ('case x: opaque;')"
)


@pytest.mark.parametrize(
    ("text", "spot"),
    [
        pytest.param("struct { uint8 a; opaque; } X;\n", (1, 19), id="struct-member"),
        pytest.param(
            "enum { a(1), (255) } T;\n"
            "struct {\n"
            "    T t;\n"
            "    select (t) { case a: uint8 x; opaque; } v<0..9>;\n"
            "} X;\n",
            (4, 35),
            id="beside-a-field-in-an-arm",
        ),
        pytest.param(
            "struct {\n"
            "    uint8 a;\n"
            "    select (extensions_present) {\n"
            "        case false: struct {};\n"
            "        case true: opaque;\n"
            "    };\n"
            "} X;\n",
            (5, 20),
            id="optional-tail",
        ),
    ],
)
def test_a_bare_opaque_outside_a_select_arm_of_its_own_is_a_compile_error(
    compile_error, text: str, spot: tuple[int, int]
) -> None:
    # It used to compile into a module calling an undefined _parse_opaque.
    err = compile_error(text)
    assert (err.pos.line, err.pos.col) == spot
    assert err.message == "a bare 'opaque;' has no name and no size"
    assert err.hint == BARE_OPAQUE_HINT
