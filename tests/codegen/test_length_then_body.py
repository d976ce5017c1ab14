"""A length field followed by the body it measures (RFC 5246 §7.4, §6.2.1).

``Handshake.length`` is computed on build (a given value is ignored) and
checked on parse: a length past the end and a body that stops short of it are
both ``decode_error``. ``TLSPlaintext`` sizes its fragment by its own length
field.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tlsspec import DecodeError, EncodeError

SPEC = """\
enum {
    hello_request(0), client_hello(1), finished(20), (255)
} HandshakeType;

struct { } HelloRequest;
struct { uint8 legacy; opaque session_id<0..32>; } ClientHello;
struct { opaque verify_data[verify_data_length]; } Finished;

struct {
    HandshakeType msg_type;    /* handshake type */
    uint24 length;             /* bytes in message */
    select (HandshakeType) {
        case hello_request:       HelloRequest;
        case client_hello:        ClientHello;
        case finished:            Finished;
    } body;
} Handshake;

enum { alert(21), handshake(22), (255) } ContentType;

struct {
    ContentType type;
    uint16 length;
    opaque fragment[TLSPlaintext.length];
} TLSPlaintext;
"""

VERIFY_DATA = bytes.fromhex("1f2e3d4c5b6a79880796a5b4")


@pytest.fixture
def spec(compile_spec) -> ModuleType:
    return compile_spec(SPEC)


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ("00 000000", {"msg_type": 0, "length": 0, "body": {}}),
        (
            "01 000004 03 02 abcd",
            {
                "msg_type": 1,
                "length": 4,
                "body": {"legacy": 3, "session_id": b"\xab\xcd"},
            },
        ),
    ],
    ids=["hello_request", "client_hello"],
)
def test_handshake_round_trips(
    spec: ModuleType, wire: str, value: dict[str, object]
) -> None:
    assert spec.Handshake.parse(bytes.fromhex(wire)) == value
    assert spec.Handshake.build(value) == bytes.fromhex(wire)


@pytest.mark.parametrize("given", [None, 0, 99], ids=["missing", "zero", "wrong"])
def test_build_computes_the_length(spec: ModuleType, given: int | None) -> None:
    value: dict[str, object] = {
        "msg_type": "client_hello",
        "body": {"legacy": 3, "session_id": b"\xab\xcd"},
    }
    if given is not None:
        value["length"] = given
    assert spec.Handshake.build(value) == bytes.fromhex("01 000004 03 02 abcd")


def test_body_parameters_pass_through_the_length(spec: ModuleType) -> None:
    wire = bytes.fromhex("14 00000c") + VERIFY_DATA
    value = {"msg_type": 20, "length": 12, "body": {"verify_data": VERIFY_DATA}}
    assert spec.Handshake.parse(wire, verify_data_length=12) == value
    assert spec.Handshake.build(value, verify_data_length=12) == wire


@pytest.mark.parametrize(
    ("wire", "alert", "path"),
    [
        # length 5, four bytes follow.
        ("01 000005 03 02 abcd", "decode_error", "Handshake.body"),
        # length 5, the ClientHello ends after four.
        ("01 000005 03 02 abcd ee", "decode_error", "Handshake.body"),
        # length 3 cuts the session_id short.
        ("01 000003 03 02 abcd", "decode_error", "Handshake.body.session_id"),
        # HelloRequest is empty, the length says 1.
        ("00 000001 ee", "decode_error", "Handshake.body"),
        ("01 0000", "decode_error", "Handshake.length"),
        ("02 000000", "illegal_parameter", "Handshake.body"),
    ],
)
def test_rejects_a_length_that_disagrees_with_the_body(
    spec: ModuleType, wire: str, alert: str, path: str
) -> None:
    with pytest.raises(DecodeError) as info:
        spec.Handshake.parse(bytes.fromhex(wire))
    assert (info.value.alert, info.value.path) == (alert, path)


def test_refuses_to_build_a_body_its_type_has_no_case_for(spec: ModuleType) -> None:
    with pytest.raises(EncodeError) as info:
        spec.Handshake.build({"msg_type": 2, "body": {}})
    assert info.value.path == "Handshake.body"


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ("16 0002 abcd", {"type": 22, "length": 2, "fragment": b"\xab\xcd"}),
        ("15 0000", {"type": 21, "length": 0, "fragment": b""}),
    ],
)
def test_record_fragment_is_sized_by_the_length_field(
    spec: ModuleType, wire: str, value: dict[str, object]
) -> None:
    assert spec.TLSPlaintext.parse(bytes.fromhex(wire)) == value
    assert spec.TLSPlaintext.build(value) == bytes.fromhex(wire)


def test_record_build_computes_the_length(spec: ModuleType) -> None:
    value = {"type": "handshake", "length": 7, "fragment": b"\xab\xcd"}
    assert spec.TLSPlaintext.build(value) == bytes.fromhex("16 0002 abcd")


@pytest.mark.parametrize(
    ("wire", "path"),
    [
        ("16 0003 abcd", "TLSPlaintext.fragment"),
        ("16 0001 abcd", "TLSPlaintext"),
        ("16 00", "TLSPlaintext.length"),
    ],
)
def test_rejects_a_record_length_that_disagrees_with_the_fragment(
    spec: ModuleType, wire: str, path: str
) -> None:
    with pytest.raises(DecodeError) as info:
        spec.TLSPlaintext.parse(bytes.fromhex(wire))
    assert (info.value.alert, info.value.path) == ("decode_error", path)


# RFC 6961 §2.2 as printed: the length is named after the select it counts.
STATUS_REQUEST_V2 = """\
enum { ocsp(1), ocsp_multi(2), (255) } CertificateStatusType;
struct { opaque responder_id_list<0..2^16-1>; } OCSPStatusRequest;

struct {
    CertificateStatusType status_type;
    uint16 request_length; /* Length of request field in bytes */
    select (status_type) {
        case ocsp: OCSPStatusRequest;
        case ocsp_multi: OCSPStatusRequest;
    } request;
} CertificateStatusRequestItemV2;
"""


@pytest.fixture
def status_request(compile_spec) -> ModuleType:
    return compile_spec(STATUS_REQUEST_V2)


def test_a_length_named_after_its_select_counts_the_selects_bytes(
    status_request: ModuleType,
) -> None:
    item = status_request.CertificateStatusRequestItemV2
    wire = bytes.fromhex("01 0004 0002 abcd")
    value = {
        "status_type": 1,
        "request_length": 4,
        "request": {"responder_id_list": b"\xab\xcd"},
    }
    assert item.parse(wire) == value
    # Computed on build whatever the caller gives.
    assert item.build({**value, "request_length": 0}) == wire


@pytest.mark.parametrize("length", ["0000", "0003", "ffff"])
def test_a_length_named_after_its_select_is_checked_on_parse(
    status_request: ModuleType, length: str
) -> None:
    with pytest.raises(DecodeError) as info:
        status_request.CertificateStatusRequestItemV2.parse(
            bytes.fromhex(f"01 {length} 0002 abcd")
        )
    assert info.value.alert == "decode_error"


SHARED_SIZE = """\
struct { uint8 n; opaque d[F.n]; opaque e[F.n]; } F;
"""


def test_two_vectors_sized_by_one_field_build_and_parse(compile_spec) -> None:
    spec = compile_spec(SHARED_SIZE)
    wire = bytes.fromhex("02 6162 6364")
    assert spec.F.build({"n": 0, "d": b"ab", "e": b"cd"}) == wire
    assert spec.F.parse(wire) == {"n": 2, "d": b"ab", "e": b"cd"}
    # The first vector sets the size; the second must match it.
    with pytest.raises(EncodeError) as info:
        spec.F.build({"n": 0, "d": b"ab", "e": b"c"})
    assert info.value.path == "F.e"


ARM_SIZED = """\
enum { p(1), q(2), (255) } Mode;
struct {
    uint8 n;
    select (Mode) { case p: opaque x[PS.n]; case q: struct {}; } m;
} PS;
"""


def test_a_size_field_used_inside_a_select_arm_is_given_not_computed(
    compile_spec,
) -> None:
    spec = compile_spec(ARM_SIZED)
    wire = bytes.fromhex("03 616263")
    assert spec.PS.build({"n": 3, "m": {"x": b"abc"}}, mode="p") == wire
    assert spec.PS.parse(wire, mode="p") == {"n": 3, "m": {"x": b"abc"}}
    # The other arm keeps the given value: nothing computes it away.
    assert spec.PS.build({"n": 7, "m": {}}, mode="q") == b"\x07"
    with pytest.raises(EncodeError) as info:
        spec.PS.build({"n": 0, "m": {"x": b"abc"}}, mode="p")
    assert info.value.path == "PS.m.x"
