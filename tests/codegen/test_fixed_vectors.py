"""Fixed-length vectors ``T x[n]`` (RFC 5246 §4.3): ``n`` counts bytes.

``n`` may be a number, a named constant or a parse parameter such as RFC 5246
§7.4.9's ``verify_data_length``.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

SPEC = """\
uint8 PAIR = 4;

struct {
    uint16 shorts[6];
    uint16 named[PAIR];
    uint24 triples[6];
} Fixed;

struct {
    opaque verify_data[verify_data_length];
} Finished;
"""

VERIFY_DATA = bytes.fromhex("1f2e3d4c5b6a79880796a5b4")


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


def test_size_counts_bytes_not_elements(spec: ModuleType) -> None:
    wire = bytes.fromhex("0001 0002 0003 0a0b 0c0d 000001 ffffff")
    value = {
        "shorts": [1, 2, 3],
        "named": [0x0A0B, 0x0C0D],
        "triples": [1, 0xFFFFFF],
    }
    assert spec.Fixed.parse(wire) == value
    assert spec.Fixed.build(value) == wire


def test_size_from_a_parse_parameter(spec: ModuleType) -> None:
    wire = VERIFY_DATA
    assert spec.Finished.parse(wire, verify_data_length=12) == {
        "verify_data": VERIFY_DATA
    }
    built = spec.Finished.build({"verify_data": VERIFY_DATA}, verify_data_length=12)
    assert built == wire


def test_missing_size_parameter_is_an_internal_error(spec: ModuleType) -> None:
    with pytest.raises(DecodeError) as info:
        spec.Finished.parse(VERIFY_DATA)
    assert (info.value.alert, info.value.path) == (
        "internal_error",
        "Finished.verify_data",
    )
    assert "verify_data_length" in str(info.value)


@pytest.mark.parametrize(
    ("name", "wire", "params", "path"),
    [
        ("Fixed", "0001 0002 0003 0a0b 0c", {}, "Fixed.named"),
        ("Fixed", "0001 0002 0003 0a0b 0c0d 000001", {}, "Fixed.triples"),
        (
            "Finished",
            VERIFY_DATA[:11].hex(),
            {"verify_data_length": 12},
            "Finished.verify_data",
        ),
        ("Finished", VERIFY_DATA.hex(), {"verify_data_length": 11}, "Finished"),
    ],
)
def test_rejects_vectors_shorter_or_longer_than_declared(
    spec: ModuleType, name: str, wire: str, params: dict[str, int], path: str
) -> None:
    with pytest.raises(DecodeError) as info:
        getattr(spec, name).parse(bytes.fromhex(wire), **params)
    assert (info.value.alert, info.value.path) == ("decode_error", path)


@pytest.mark.parametrize(
    ("name", "value", "params", "path"),
    [
        (
            "Fixed",
            {"shorts": [1, 2], "named": [1, 2], "triples": [1, 2]},
            {},
            "Fixed.shorts",
        ),
        (
            "Finished",
            {"verify_data": VERIFY_DATA[:11]},
            {"verify_data_length": 12},
            "Finished.verify_data",
        ),
        ("Finished", {"verify_data": VERIFY_DATA}, {}, "Finished.verify_data"),
    ],
)
def test_refuses_to_build_a_vector_of_the_wrong_size(
    spec: ModuleType, name: str, value: object, params: dict[str, int], path: str
) -> None:
    with pytest.raises(EncodeError) as info:
        getattr(spec, name).build(value, **params)
    assert info.value.path == path


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ("struct { uint16 odd[3]; } S;\n", 1, 20),
        ("uint8 N = 5;\nstruct {\n    uint32 odd[N];\n} S;\n", 3, 15),
        ("uint24 Triple[4];\n", 1, 14),
    ],
)
def test_size_not_a_multiple_of_the_element_is_a_compile_error(
    compile_error, text: str, line: int, col: int
) -> None:
    err = compile_error(text)
    assert (err.pos.line, err.pos.col) == (line, col)
    assert "not a multiple" in err.message


@pytest.mark.parametrize(
    ("length", "data"),
    [(12.0, VERIFY_DATA), (True, VERIFY_DATA[:1]), ("12", VERIFY_DATA), (-1, b"")],
    ids=["float", "bool", "str", "negative"],
)
def test_build_checks_the_size_parameter_as_parse_does(
    spec: ModuleType, length: object, data: bytes
) -> None:
    # 12.0 and True compare equal to lengths; parse refuses them all the same.
    reason = f"parameter verify_data_length={length!r} must be a non-negative int"
    with pytest.raises(EncodeError) as built:
        spec.Finished.build({"verify_data": data}, verify_data_length=length)
    with pytest.raises(DecodeError) as parsed:
        spec.Finished.parse(data, verify_data_length=length)
    assert (built.value.path, built.value.reason) == ("Finished.verify_data", reason)
    assert (parsed.value.path, parsed.value.reason) == ("Finished.verify_data", reason)
