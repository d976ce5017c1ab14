"""Tags read from the enclosing message: ``select (Handshake.msg_type)``.

RFC 8446 §4.2.1 selects SupportedVersions' shape on the message that carries
it. Handshake passes its ``msg_type`` down; a type parsed alone takes it as
the parameter ``msg_type``, except that a type that is the single-type arm of
exactly one case of Handshake's select gets that case's value by default.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError

SPEC = """\
enum {
    client_hello(1), server_hello(2), hello_retry_request(6), (255)
} HandshakeType;

uint16 ProtocolVersion;

struct {
    select (Handshake.msg_type) {
        case client_hello:
            ProtocolVersion versions<2..254>;
        case server_hello, hello_retry_request:
            ProtocolVersion selected_version;
    };
} SupportedVersions;

struct { opaque random[2]; SupportedVersions supported_versions; } ClientHello;
struct { opaque random[2]; SupportedVersions supported_versions; } ServerHello;

struct {
    HandshakeType msg_type;
    uint24 length;
    select (Handshake.msg_type) {
        case client_hello: ClientHello;
        case server_hello: ServerHello;
        case hello_retry_request: ServerHello;
    };
} Handshake;
"""

CLIENT_HELLO = bytes.fromhex("abcd 04 0304 0303")
SERVER_HELLO = bytes.fromhex("abcd 0304")


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


@pytest.mark.parametrize(
    ("msg_type", "body", "value"),
    [
        (
            1,
            CLIENT_HELLO,
            {
                "random": b"\xab\xcd",
                "supported_versions": {"versions": [0x0304, 0x0303]},
            },
        ),
        (
            2,
            SERVER_HELLO,
            {"random": b"\xab\xcd", "supported_versions": {"selected_version": 0x0304}},
        ),
        (
            6,
            SERVER_HELLO,
            {"random": b"\xab\xcd", "supported_versions": {"selected_version": 0x0304}},
        ),
    ],
    ids=["client_hello", "server_hello", "hello_retry_request"],
)
def test_handshake_passes_msg_type_to_the_types_it_contains(
    spec: ModuleType, msg_type: int, body: bytes, value: dict[str, object]
) -> None:
    wire = bytes([msg_type]) + len(body).to_bytes(3, "big") + body
    message = {"msg_type": msg_type, "length": len(body), "body": value}
    assert spec.Handshake.parse(wire) == message
    assert spec.Handshake.build(message) == wire


def test_single_arm_type_defaults_to_its_case(spec: ModuleType) -> None:
    value = spec.ClientHello.parse(CLIENT_HELLO)
    assert value.supported_versions == {"versions": [0x0304, 0x0303]}
    assert spec.ClientHello.build(value) == CLIENT_HELLO


@pytest.mark.parametrize(
    ("msg_type", "value"),
    [
        ("client_hello", {"versions": [0x0304]}),
        ("server_hello", {"selected_version": 0x0304}),
        (6, {"selected_version": 0x0304}),
    ],
)
def test_inner_type_alone_takes_msg_type_as_a_parameter(
    spec: ModuleType, msg_type: object, value: dict[str, object]
) -> None:
    wire = spec.SupportedVersions.build(value, msg_type=msg_type)
    assert spec.SupportedVersions.parse(wire, msg_type=msg_type) == value
    assert wire == bytes.fromhex("02 0304" if "versions" in value else "0304")


@pytest.mark.parametrize(
    ("name", "wire", "params", "alert", "path"),
    [
        # Not an arm of Handshake: needs msg_type.
        ("SupportedVersions", "0304", {}, "internal_error", "SupportedVersions"),
        # The arm of two cases: which one is not known.
        (
            "ServerHello",
            "abcd 0304",
            {},
            "internal_error",
            "ServerHello.supported_versions",
        ),
        # A Handshake type with no case.
        ("Handshake", "04 000000", {}, "illegal_parameter", "Handshake.body"),
        # msg_type reaches SupportedVersions: 0304 is one version, not a list.
        (
            "Handshake",
            "01 000004 abcd 0304",
            {},
            "decode_error",
            "Handshake.body.supported_versions.versions",
        ),
    ],
)
def test_rejects_a_msg_type_that_is_missing_or_has_no_case(
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
