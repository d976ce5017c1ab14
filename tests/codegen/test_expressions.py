"""Comments, numbers, size expressions and named constants (RFC 5246 §4.1, §4.8).

One spec uses every form a size may take: decimal and hex numbers, ``2^n``,
``2^n-k``, ``+`` and ``*``, and a named constant, with comments between
fields and after ``;``.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

SPEC = """\
/* Sizes written every way the RFCs write them. */
uint16 MAX_LEN = 300; /* a named constant */
uint8 COUNT = 0x04;

struct {
    uint8 tag;           /* decimal field, comment after ';' */
    /* a comment between fields */
    opaque name<0..MAX_LEN>;
    uint16 pair[2^2];
    opaque small<0x0..2^8-1>;
    uint8 five[1+2*2];
    uint8 quad[COUNT];
} Sizes;
"""

WIRE = "07 0002 6869 0001 0002 01 ff 0102030405 0a0b0c0d"
VALUE = {
    "tag": 7,
    "name": b"hi",
    "pair": [1, 2],
    "small": b"\xff",
    "five": [1, 2, 3, 4, 5],
    "quad": [10, 11, 12, 13],
}


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


def test_expressions_give_the_sizes_they_spell(spec: ModuleType) -> None:
    assert spec.Sizes.parse(bytes.fromhex(WIRE)) == VALUE
    assert spec.Sizes.build(VALUE) == bytes.fromhex(WIRE)


def test_named_constants_become_module_attributes(spec: ModuleType) -> None:
    assert (spec.MAX_LEN, spec.COUNT) == (300, 4)


def test_constant_ceiling_takes_a_two_byte_prefix_and_is_enforced(
    spec: ModuleType,
) -> None:
    longest = dict(VALUE, name=bytes(300))
    wire = spec.Sizes.build(longest)
    assert wire[1:3] == b"\x01\x2c"
    assert spec.Sizes.parse(wire) == longest

    with pytest.raises(EncodeError) as info:
        spec.Sizes.build(dict(VALUE, name=bytes(301)))
    assert info.value.path == "Sizes.name"


@pytest.mark.parametrize(
    ("wire", "alert", "path"),
    [
        # name's length 301 is above MAX_LEN.
        ("07 012d" + "00" * 301, "decode_error", "Sizes.name"),
        # pair is 2^2 bytes; three are left.
        ("07 0000 000100", "decode_error", "Sizes.pair"),
        # five is 1+2*2 bytes; four are left.
        ("07 0000 00010002 00 01020304", "decode_error", "Sizes.five"),
        # quad is COUNT bytes; three are left.
        ("07 0000 00010002 00 0102030405 0a0b0c", "decode_error", "Sizes.quad"),
        # one byte after the last field.
        (WIRE + "ee", "decode_error", "Sizes"),
    ],
)
def test_rejects_sizes_that_disagree_with_the_expression(
    spec: ModuleType, wire: str, alert: str, path: str
) -> None:
    with pytest.raises(DecodeError) as info:
        spec.Sizes.parse(bytes.fromhex(wire))
    assert (info.value.alert, info.value.path) == (alert, path)
