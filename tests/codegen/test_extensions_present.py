"""``select (extensions_present)`` (RFC 5246 §7.4.1.2).

"A server can tell if extensions are present by looking at whether there
are bytes following the compression_methods": the extensions are present
when bytes remain, and ``None`` when none do. Build leaves them out when the
value is ``None`` or missing.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

SPEC = """\
enum { server_name(0), renegotiation_info(0xff01), (65535) } ExtensionType;

struct {
    ExtensionType extension_type;
    opaque extension_data<0..2^16-1>;
} Extension;

struct {
    uint8 compression_method;
    select (extensions_present) {
        case false:
            struct {};
        case true:
            Extension extensions<0..2^16-1>;
    };
} Hello;
"""

RENEGOTIATION_INFO = {"extension_type": 0xFF01, "extension_data": b"\x00"}


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ("00", {"compression_method": 0, "extensions": None}),
        ("00 0000", {"compression_method": 0, "extensions": []}),
        (
            "00 0005 ff01 0001 00",
            {"compression_method": 0, "extensions": [RENEGOTIATION_INFO]},
        ),
    ],
    ids=["absent", "empty", "renegotiation-info"],
)
def test_extensions_are_present_exactly_when_bytes_remain(
    spec: ModuleType, wire: str, value: dict[str, object]
) -> None:
    assert spec.Hello.parse(bytes.fromhex(wire)) == value
    assert spec.Hello.build(value) == bytes.fromhex(wire)


def test_build_omits_extensions_that_are_not_given(spec: ModuleType) -> None:
    assert spec.Hello.build({"compression_method": 0}) == b"\x00"


@pytest.mark.parametrize(
    ("wire", "path"),
    [
        # one byte remains: too few for the 2-byte length.
        ("00 00", "Hello.extensions"),
        ("00 0006 ff01 0001 00", "Hello.extensions"),
        ("00 0005 ff01 0002 00", "Hello.extensions[0].extension_data"),
    ],
)
def test_rejects_extensions_that_do_not_fill_the_rest(
    spec: ModuleType, wire: str, path: str
) -> None:
    with pytest.raises(DecodeError) as info:
        spec.Hello.parse(bytes.fromhex(wire))
    assert (info.value.alert, info.value.path) == ("decode_error", path)


def test_refuses_to_build_an_extension_without_its_type(spec: ModuleType) -> None:
    with pytest.raises(EncodeError) as info:
        spec.Hello.build(
            {"compression_method": 0, "extensions": [{"extension_data": b""}]}
        )
    assert info.value.path == "Hello.extensions[0].extension_type"
