"""``extend enum`` and ``extend select`` from another spec file.

A later RFC adds a member (RFC 5077's session ticket message, RFC 8422's
elliptic curve key exchange) and the case that goes with it, without
editing the original definitions.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.codegen.conftest import write_specs
from tlsspec import DecodeError
from tlsspec.codegen.generate import compile_files, write_output

BASE = """\
enum { hello_request(0), client_hello(1), (255) } HandshakeType;
struct { uint8 legacy; } ClientHello;
struct {
    HandshakeType msg_type;
    uint24 length;
    select (HandshakeType) {
        case hello_request: struct {};
        case client_hello: ClientHello;
    } body;
} Handshake;
"""

TICKETS = """\
/* RFC 5077 §3.3 */
extend enum HandshakeType { new_session_ticket(4) };
struct {
    uint32 ticket_lifetime_hint;
    opaque ticket<0..2^16-1>;
} NewSessionTicket;
extend select Handshake.body { case new_session_ticket: NewSessionTicket; };
"""


@pytest.fixture
def specs(compile_spec) -> dict[str, ModuleType]:
    return compile_spec({"base.tls": BASE, "tickets.tls": TICKETS})


def test_extended_enum_gains_the_member(specs: dict[str, ModuleType]) -> None:
    members = {m.name: m.value for m in specs["base"].HandshakeType}
    assert members == {"hello_request": 0, "client_hello": 1, "new_session_ticket": 4}


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        (
            "04 000008 00001c20 0002 abcd",
            {
                "msg_type": 4,
                "length": 8,
                "body": {"ticket_lifetime_hint": 7200, "ticket": b"\xab\xcd"},
            },
        ),
        ("01 000001 03", {"msg_type": 1, "length": 1, "body": {"legacy": 3}}),
    ],
    ids=["added-case", "original-case"],
)
def test_extended_select_parses_and_builds_the_added_case(
    specs: dict[str, ModuleType], wire: str, value: dict[str, object]
) -> None:
    handshake = specs["base"].Handshake
    assert handshake.parse(bytes.fromhex(wire)) == value
    assert handshake.build(value) == bytes.fromhex(wire)


def test_added_case_builds_from_the_member_name(specs: dict[str, ModuleType]) -> None:
    value = {
        "msg_type": "new_session_ticket",
        "body": {"ticket_lifetime_hint": 7200, "ticket": b"\xab\xcd"},
    }
    wire = bytes.fromhex("04 000008 00001c20 0002 abcd")
    assert specs["base"].Handshake.build(value) == wire


@pytest.mark.parametrize(
    ("wire", "alert", "path"),
    [
        ("04 000006 00001c20 0002", "decode_error", "Handshake.body.ticket"),
        ("05 000000", "illegal_parameter", "Handshake.body"),
    ],
)
def test_rejects_malformed_or_unextended_messages(
    specs: dict[str, ModuleType], wire: str, alert: str, path: str
) -> None:
    with pytest.raises(DecodeError) as info:
        specs["base"].Handshake.parse(bytes.fromhex(wire))
    assert (info.value.alert, info.value.path) == (alert, path)


def test_top_level_select_can_be_extended(compile_spec) -> None:
    # RFC 8422 §5.4 prints Signature as a select of its own.
    specs = compile_spec(
        {
            "base.tls": "enum { ecdsa(3), (255) } SignatureAlgorithm;\n"
            "select (SignatureAlgorithm) {\n"
            "    case ecdsa: opaque sig<0..255>;\n"
            "} Signature;\n",
            "eddsa.tls": "extend enum SignatureAlgorithm { ed25519(7) };\n"
            "extend select Signature { case ed25519: opaque sig[64]; };\n",
        }
    )
    signature = bytes(range(64))
    value = specs["base"].Signature.parse(signature, signature_algorithm="ed25519")
    assert value == {"sig": signature}


# -- mistakes in extensions: each named once, in the file that made it -------


def test_a_repeated_case_is_named_once_however_many_extends_follow(
    compile_errors,
) -> None:
    # Each extend re-checks the whole select; the repeat is still one error.
    errors = compile_errors(
        {
            "base.tls": BASE,
            "more.tls": (
                "extend enum HandshakeType { a(7), b(8) };\n"
                "extend select Handshake.body { case client_hello: struct {}; };\n"
                "extend select Handshake.body { case a: struct {}; };\n"
                "extend select Handshake.body { case b: struct {}; };\n"
            ),
        }
    )
    (error,) = errors
    assert (error.pos.file.rpartition("/")[2], error.pos.line) == ("more.tls", 2)
    assert error.message.startswith("case client_hello (1) appears twice (first at ")
    assert error.message.endswith("base.tls:8:9)")


def test_an_extend_that_adds_a_default_arm_gets_one_error(compile_error) -> None:
    err = compile_error(
        {
            "base.tls": BASE,
            "more.tls": "extend select Handshake.body { default: struct {}; };\n",
        }
    )
    assert err.message == "'extend select' cannot add a default arm"


def test_a_member_given_again_by_an_extend_leaves_the_base_file_alone(
    compile_error,
) -> None:
    # The first value stands: case labels in the base file still resolve.
    err = compile_error(
        {
            "base.tls": BASE,
            "more.tls": "extend enum HandshakeType { client_hello(9) };\n",
        }
    )
    assert err.pos.file.endswith("more.tls")
    assert err.message.startswith("enum member 'client_hello' is given twice")


# -- an extension in its own file that reuses the extended file's types -------

BASE_EXTENSIONS = """\
enum { server_name(0), status_request(5), (65535) } ExtensionType;
enum { client_hello(1), server_hello(2), (255) } HandshakeType;
enum { ocsp(1), (255) } CertificateStatusType;
struct { opaque responder_id_list<0..2^16-1>; } OCSPStatusRequest;
struct {
    ExtensionType extension_type;
    select (extension_type) {
        case server_name: opaque;
        case status_request: OCSPStatusRequest;
    } extension_data<0..2^16-1>;
} Extension;
"""

# RFC 6961 §2.2: the extension's types use CertificateStatusType and
# OCSPStatusRequest of the file it extends, so each generated module needs
# the other.
STATUS_REQUEST_V2 = """\
extend enum ExtensionType { status_request_v2(17) };
extend enum CertificateStatusType { ocsp_multi(2) };
struct {
    CertificateStatusType status_type;
    uint16 request_length;
    select (status_type) {
        case ocsp: OCSPStatusRequest;
        case ocsp_multi: OCSPStatusRequest;
    } request;
} CertificateStatusRequestItemV2;
struct {
    CertificateStatusRequestItemV2 certificate_status_req_list<1..2^16-1>;
} CertificateStatusRequestListV2;
extend select Extension.extension_data {
    case status_request_v2: CertificateStatusRequestListV2;
};
"""

ROUND_TRIP = """\
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(f"codecs_out.{name}")
from codecs_out.base import Extension
wire = bytes.fromhex("0011 0009 0007 02 0004 0002 abcd")
value = Extension.parse(wire)
item = value.extension_data.certificate_status_req_list[0]
assert (item.status_type.name, item.request_length) == ("ocsp_multi", 4), item
assert item.request.responder_id_list == b"\\xab\\xcd"
assert Extension.build(value) == wire
print("ok")
"""


@pytest.mark.parametrize("first", ["base", "status_v2"])
def test_an_extension_file_may_use_the_types_of_the_file_it_extends(
    tmp_path: Path, first: str
) -> None:
    paths = write_specs(
        tmp_path / "specs",
        {"base.tls": BASE_EXTENSIONS, "status_v2.tls": STATUS_REQUEST_V2},
    )
    write_output(tmp_path / "codecs_out", compile_files(paths))
    # Whichever module is imported first, both load and work together.
    result = subprocess.run(
        [sys.executable, "-c", ROUND_TRIP, first],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"


# -- an extend may not change how wide an enum is on the wire -----------------


@pytest.mark.parametrize(
    ("extension", "col", "message", "hint"),
    [
        pytest.param(
            "extend enum E { c(300) };\n",
            17,
            "'extend enum' value 300 of 'c' would widen E from 1 byte to 2 bytes",
            "add a width marker to E's declaration: (65535) makes it 2 bytes; "
            "with (255) it stays 1 byte and the value must fit",
            id="value",
        ),
        pytest.param(
            "extend enum E { c(3), private(256..70000) };\n",
            23,
            "'extend enum' value 70000 of 'private' would widen E from 1 byte "
            "to 3 bytes",
            "add a width marker to E's declaration: (16777215) makes it 3 "
            "bytes; with (255) it stays 1 byte and the value must fit",
            id="range",
        ),
    ],
)
def test_an_extend_that_would_widen_an_enum_without_a_marker_is_an_error(
    compile_error, extension: str, col: int, message: str, hint: str
) -> None:
    # The base file's struct S would silently go from 1 to 2 bytes.
    err = compile_error(
        {
            "a.tls": "enum { a(1), b(200) } E; struct { E e; } S;\n",
            "b.tls": extension,
        }
    )
    assert (Path(err.pos.file).name, err.pos.line, err.pos.col) == ("b.tls", 1, col)
    assert err.message == message
    assert err.hint == hint


def test_an_extend_within_the_inferred_width_keeps_it(compile_spec) -> None:
    specs = compile_spec(
        {
            "a.tls": "enum { a(1), b(200) } E; struct { E e; } S;\n",
            "b.tls": "extend enum E { c(255) };\n",
        }
    )
    assert specs["a"].S.build({"e": "c"}) == b"\xff"


def test_a_width_marker_alone_takes_values_from_extends(compile_spec) -> None:
    specs = compile_spec(
        {
            "a.tls": "enum { (65535) } E; struct { E e; } S;\n",
            "b.tls": "extend enum E { c(300) };\n",
        }
    )
    assert specs["a"].S.build({"e": "c"}) == b"\x01\x2c"
