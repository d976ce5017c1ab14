"""Variable-length vectors ``T x<floor..ceiling>`` and ``T x<ceiling>``.

RFC 5246 §4.3: the length prefix is as wide as the ceiling needs and counts
bytes; the body is consumed exactly; fixed-size elements must fill the length
evenly; elements of variable size are read until the declared bytes are used,
and never past them.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

SPEC = """\
struct {
    opaque one<255>;
    opaque two<2..2^16-1>;
    opaque three<0..2^24-1>;
    opaque four<0..2^24>;
} Prefixes;

struct { uint16 shorts<2..6>; } Shorts;

struct { uint8 a; uint16 b; } Pair;
struct { Pair pairs<0..255>; } Pairs;

opaque ProtocolName<1..2^8-1>;
struct { ProtocolName protocol_name_list<2..2^16-1>; uint8 after; } Names;
"""


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


def test_prefix_width_follows_the_ceiling(spec: ModuleType) -> None:
    wire = bytes.fromhex("01 aa  0002 bbcc  000001 dd  00000001 ee")
    value = {"one": b"\xaa", "two": b"\xbb\xcc", "three": b"\xdd", "four": b"\xee"}
    assert spec.Prefixes.parse(wire) == value
    assert spec.Prefixes.build(value) == wire


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ("02 0001", [1]),
        ("06 0001 0002 0003", [1, 2, 3]),
    ],
)
def test_length_counts_bytes_of_fixed_size_elements(
    spec: ModuleType, wire: str, value: list[int]
) -> None:
    assert spec.Shorts.parse(bytes.fromhex(wire)) == {"shorts": value}
    assert spec.Shorts.build({"shorts": value}) == bytes.fromhex(wire)


def test_struct_elements_are_read_until_the_length_is_used(spec: ModuleType) -> None:
    wire = bytes.fromhex("06 010002 030004")
    value = {"pairs": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}
    assert spec.Pairs.parse(wire) == value
    assert spec.Pairs.build(value) == wire


def test_vector_of_vectors_as_in_alpn(spec: ModuleType) -> None:
    # RFC 7301 §3.1: "h2" and "http/1.1".
    wire = bytes.fromhex("000c 02 6832 08 687474702f312e31 09")
    value = {"protocol_name_list": [b"h2", b"http/1.1"], "after": 9}
    assert spec.Names.parse(wire) == value
    assert spec.Names.build(value) == wire


@pytest.mark.parametrize(
    ("name", "wire", "path"),
    [
        # two's floor is 2.
        ("Prefixes", "00 0001 bb 000000 00000000", "Prefixes.two"),
        # one's length runs past the end of the input.
        ("Prefixes", "05 aa", "Prefixes.one"),
        # uint16 elements cannot fill 3 bytes.
        ("Shorts", "03 000100", "Shorts.shorts"),
        # below the floor, above the ceiling.
        ("Shorts", "00", "Shorts.shorts"),
        ("Shorts", "08 0001000200030004", "Shorts.shorts"),
        # 4 bytes of 3-byte Pairs.
        ("Pairs", "04 010002 03", "Pairs.pairs"),
        # the second name's length reaches past the list's 11 bytes.
        ("Names", "000b 02 6832 08 687474702f312e31 09", "Names.protocol_name_list[1]"),
        # an empty name is below ProtocolName's floor.
        ("Names", "0003 00 6832 09", "Names.protocol_name_list[0]"),
        # the list's one name leaves a byte of the list over.
        ("Names", "0004 02 6832 09", "Names.protocol_name_list[1]"),
    ],
)
def test_rejects_vectors_that_break_their_bounds(
    spec: ModuleType, name: str, wire: str, path: str
) -> None:
    with pytest.raises(DecodeError) as info:
        getattr(spec, name).parse(bytes.fromhex(wire))
    assert (info.value.alert, info.value.path) == ("decode_error", path)


@pytest.mark.parametrize(
    ("name", "value", "path"),
    [
        ("Shorts", {"shorts": []}, "Shorts.shorts"),
        ("Shorts", {"shorts": [1, 2, 3, 4]}, "Shorts.shorts"),
        (
            "Prefixes",
            {"one": bytes(256), "two": b"ab", "three": b"", "four": b""},
            "Prefixes.one",
        ),
        (
            "Prefixes",
            {"one": b"", "two": b"a", "three": b"", "four": b""},
            "Prefixes.two",
        ),
        ("Pairs", {"pairs": [{"a": 1, "b": 2}, {"a": 3}]}, "Pairs.pairs[1].b"),
        ("Names", {"protocol_name_list": [], "after": 0}, "Names.protocol_name_list"),
    ],
)
def test_refuses_to_build_vectors_outside_their_bounds(
    spec: ModuleType, name: str, value: object, path: str
) -> None:
    with pytest.raises(EncodeError) as info:
        getattr(spec, name).build(value)
    assert info.value.path == path


@pytest.mark.parametrize(
    ("name", "value", "path", "reason"),
    [
        (
            "Prefixes",
            {"one": bytes(256), "two": b"ab", "three": b"", "four": b""},
            "Prefixes.one",
            "length 256 does not fit in 1 byte",
        ),
        (
            "Pairs",
            {"pairs": [{"a": 1, "b": 2}] * 86},
            "Pairs.pairs",
            "length 258 does not fit in 1 byte",
        ),
    ],
    ids=["opaque", "elements"],
)
def test_refuses_to_build_a_length_its_prefix_cannot_hold(
    spec: ModuleType, name: str, value: object, path: str, reason: str
) -> None:
    with pytest.raises(EncodeError) as info:
        getattr(spec, name).build(value)
    assert (info.value.path, info.value.reason) == (path, reason)


ELEMENTS = """\
enum { one(1), (255) } Narrow;
enum { big(0x1301), (0xFFFF) } Wide;
struct { uint8 a; } Single;

struct { uint16 v<0..254>; } Shorts16;
struct { Wide v<0..254>; } Wides;
struct { uint24 v<0..255>; } Triples;
struct { uint32 v[8]; } FixedWords;
struct { Single v<0..255>; } Singles;

struct { opaque v<0..255>; } Raw;
struct { uint8 v<0..255>; } Octets;
struct { Narrow v<0..255>; } Narrows;
"""


@pytest.mark.parametrize(
    "name", ["Shorts16", "Wides", "Triples", "FixedWords", "Singles"]
)
@pytest.mark.parametrize(
    "given",
    [bytes(8), bytearray(8), memoryview(bytes(8)), "\x00" * 8],
    ids=["bytes", "bytearray", "memoryview", "str"],
)
def test_refuses_bytes_for_a_vector_of_elements_wider_than_a_byte(
    compile_spec, name: str, given: object
) -> None:
    # Iterated, bytes give one element per byte: b"\x00\x17" would build
    # the elements 0 and 23 rather than 0x0017.
    spec = compile_spec(ELEMENTS)
    with pytest.raises(EncodeError) as info:
        getattr(spec, name).build({"v": given})
    assert (info.value.path, info.value.reason) == (
        f"{name}.v",
        f"expected a list or tuple of elements, got {type(given).__name__}",
    )


@pytest.mark.parametrize("name", ["Raw", "Octets", "Narrows"])
@pytest.mark.parametrize(
    "given",
    [b"\x01\x02", bytearray(b"\x01\x02"), memoryview(b"\x01\x02")],
    ids=["bytes", "bytearray", "memoryview"],
)
def test_bytes_still_build_a_vector_of_one_byte_elements(
    compile_spec, name: str, given: object
) -> None:
    spec = compile_spec(ELEMENTS)
    assert getattr(spec, name).build({"v": given}) == b"\x02\x01\x02"


@pytest.mark.parametrize("name", ["Octets", "Narrows"])
def test_refuses_a_str_for_a_vector_of_one_byte_integers(
    compile_spec, name: str
) -> None:
    spec = compile_spec(ELEMENTS)
    with pytest.raises(EncodeError) as info:
        getattr(spec, name).build({"v": "\x01\x02"})
    assert (info.value.path, info.value.reason) == (
        f"{name}.v",
        "expected a list or tuple of elements, got str",
    )


def test_a_tuple_builds_like_a_list(compile_spec) -> None:
    spec = compile_spec(ELEMENTS)
    assert spec.Wides.build({"v": (0x1301, "big")}) == bytes.fromhex("04 1301 1301")


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        (
            "struct { uint16 x<3..3>; } A;\n",
            "no whole number of uint16 elements (2 bytes each) fits <3..3>",
            "the bounds count bytes, not elements: take in a multiple of 2, "
            "e.g. <2..4>",
        ),
        (
            "struct { uint32 y<1..3>; } B;\n",
            "no whole number of uint32 elements (4 bytes each) fits <1..3>",
            "the bounds count bytes, not elements: take in a multiple of 4, "
            "e.g. <0..4>",
        ),
    ],
    ids=["uint16-3..3", "uint32-1..3"],
)
def test_bounds_no_whole_number_of_elements_fits_are_a_compile_error(
    compile_error, text: str, message: str, hint: str
) -> None:
    # Parse would refuse every length and build every list.
    err = compile_error(text)
    assert (err.pos.line, err.pos.col) == (1, 18)
    assert (err.message, err.hint) == (message, hint)


@pytest.mark.parametrize(
    "text",
    ["struct { uint16 x<3..4>; } A;\n", "struct { uint32 y<0..3>; } B;\n"],
    ids=["one-element-fits", "only-empty-fits"],
)
def test_bounds_a_whole_number_of_elements_fits_compile(
    compile_spec, text: str
) -> None:
    assert compile_spec(text) is not None


@pytest.mark.parametrize("name", ["Octets", "Narrows", "Wides", "Triples", "Singles"])
@pytest.mark.parametrize(
    "given",
    [{1, 2}, frozenset({1, 2}), {1: "a", 2: "b"}],
    ids=["set", "frozenset", "dict"],
)
def test_refuses_unordered_collections_for_any_vector(
    compile_spec, name: str, given: object
) -> None:
    # A preference list built from a set would go out in hash order.
    spec = compile_spec(ELEMENTS)
    with pytest.raises(EncodeError) as info:
        getattr(spec, name).build({"v": given})
    assert (info.value.path, info.value.reason) == (
        f"{name}.v",
        f"expected a list or tuple of elements, got {type(given).__name__}",
    )
