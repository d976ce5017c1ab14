"""RFC definition blocks, pasted as printed, through the compiler.

``tests/data/rfc/`` holds the blocks of RFC 5246 §7 and Appendix A, RFC 5077
§3.3/§4, RFC 8422 §5 and RFC 8446 §4; its ``NOTES.md`` lists where the RFC
text itself is malformed. Each such spot must be reported at its exact line
and column; with only that spot corrected, the rest of the file compiles;
with every spot corrected, the codecs decode and re-encode real messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.codegen.conftest import write_specs
from tlsspec import DecodeError
from tlsspec.codegen.generate import compile_files

RFC_DIR = Path(__file__).parents[1] / "data" / "rfc"

# RFC 5246 §6.2.1 defines ProtocolVersion, which §7 uses.
RFC5246_S6 = "struct { uint8 major; uint8 minor; } ProtocolVersion;\n"

# The RFC 5246 types RFC 5077 uses. new_session_ticket(4) is the name IANA
# registered for RFC 5077's message (RFC 8446 §4); the bodies that RFC 5077
# does not look into are reduced to one opaque field.
RFC5246_FOR_5077 = """\
enum {
    hello_request(0), client_hello(1), server_hello(2),
    new_session_ticket(4),
    certificate(11), server_key_exchange (12),
    certificate_request(13), server_hello_done(14),
    certificate_verify(15), client_key_exchange(16),
    finished(20), (255)
} HandshakeType;
struct { uint8 major; uint8 minor; } ProtocolVersion;
uint8 CipherSuite[2];
enum { null(0), (255) } CompressionMethod;
opaque ASN.1Cert<1..2^24-1>;
struct { } HelloRequest;
struct { opaque body<0..2^16-1>; } ClientHello;
struct { opaque body<0..2^16-1>; } ServerHello;
struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
struct { opaque body<0..2^16-1>; } ServerKeyExchange;
struct { opaque body<0..2^16-1>; } CertificateRequest;
struct { } ServerHelloDone;
struct { opaque body<0..2^16-1>; } CertificateVerify;
struct { opaque body<0..2^16-1>; } ClientKeyExchange;
struct { opaque verify_data[12]; } Finished;
"""

PASTES = {
    "rfc5246_s7.txt": {"rfc5246_s6.tls": RFC5246_S6},
    "rfc5246_appA.txt": {},
    "rfc5077_s3_3_s4.txt": {"rfc5246_for_5077.tls": RFC5246_FOR_5077},
    "rfc8422_s5.txt": {},
    "rfc8446_s4.txt": {},
}


@dataclass(frozen=True)
class Defect:
    """A spot where NOTES.md says the RFC text is malformed, and its fix.

    The diagnostic must point at ``line``:``col``. The fix replaces ``old``
    with ``new`` at ``fix_at`` (the diagnostic's spot unless given).
    """

    file: str
    line: int
    col: int
    phrase: str
    old: str
    new: str
    fix_at: tuple[int, int] | None = None

    def apply(self, text: str) -> str:
        line, col = self.fix_at or (self.line, self.col)
        lines = text.splitlines(keepends=True)
        row = lines[line - 1]
        assert row[col - 1 : col - 1 + len(self.old)] == self.old, row
        lines[line - 1] = row[: col - 1] + self.new + row[col - 1 + len(self.old) :]
        return "".join(lines)


DEFECTS = [
    # CertificateVerify: the inner digitally-signed struct ends in a bare '}'.
    Defect("rfc5246_s7.txt", 222, 13, "missing ';'", "", ";"),
    # HandshakeType: no ',' between finished(20) and (255).
    Defect("rfc5246_appA.txt", 107, 20, "missing ','", "", ","),
    # ServerKeyExchange: the select is never closed, so the struct opened at
    # line 210 runs to the end of the file.
    Defect("rfc5246_appA.txt", 210, 11, "never closed", "", "}; ", fix_at=(228, 4)),
    # CertificateVerify, as in §7.
    Defect("rfc5246_appA.txt", 280, 10, "missing ';'", "", ";"),
    # CompressionMethod is printed in both A.4.1 and A.6.
    Defect(
        "rfc5246_appA.txt",
        328,
        4,
        "duplicate definition of 'CompressionMethod'",
        "enum { null(0), (255) } CompressionMethod;",
        "",
    ),
    # RFC 5077 never defines the member for its message type 4.
    Defect(
        "rfc5077_s3_3_s4.txt",
        17,
        20,
        "case label 'session_ticket' is not a member of enum HandshakeType",
        "session_ticket",
        "new_session_ticket",
    ),
    # NamedCurveList and ECPointFormatList: no ';' after the field.
    Defect("rfc8422_s5.txt", 18, 54, "missing ';'", "", ";"),
    Defect("rfc8422_s5.txt", 27, 60, "missing ';'", "", ";"),
    # SignatureAlgorithm: no ',' between ed25519(7) and ed448(8).
    Defect("rfc8422_s5.txt", 65, 23, "missing ','", "", ","),
]

UNREPORTED: dict[tuple[str, int], str] = {}


def _paste(name: str, fixed: list[Defect]) -> dict[str, str]:
    text = (RFC_DIR / name).read_text(encoding="utf-8")
    for defect in fixed:
        text = defect.apply(text)
    return {name.replace(".txt", ".tls"): text, **PASTES[name]}


def _corrected(name: str) -> dict[str, str]:
    return _paste(name, [d for d in DEFECTS if d.file == name])


def _defect_param(defect: Defect) -> object:
    reason = UNREPORTED.get((defect.file, defect.line))
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(defect, id=f"{defect.file}:{defect.line}", marks=marks)


@pytest.mark.parametrize("defect", [_defect_param(d) for d in DEFECTS])
def test_rfc_defect_is_reported_at_its_spot(compile_error, defect: Defect) -> None:
    others = [d for d in DEFECTS if d.file == defect.file and d != defect]
    err = compile_error(_paste(defect.file, others))
    assert Path(err.pos.file).name == defect.file.replace(".txt", ".tls")
    assert (err.pos.line, err.pos.col) == (defect.line, defect.col)
    assert defect.phrase in err.message


@pytest.mark.parametrize("name", sorted(PASTES))
def test_rfc_paste_compiles_once_its_defects_are_corrected(
    tmp_path: Path, name: str
) -> None:
    sources = compile_files(write_specs(tmp_path, _corrected(name)))
    assert name.replace(".txt", ".py") in sources


def test_rfc5077_handshake_redefines_rfc5246s(compile_error) -> None:
    # Why RFC 5077 is compiled with a prelude, not with RFC 5246 A.4.
    appendix = _corrected("rfc5246_appA.txt")
    err = compile_error(
        {
            **appendix,
            "rfc5077_s3_3_s4.tls": (RFC_DIR / "rfc5077_s3_3_s4.txt").read_text(),
        }
    )
    assert (Path(err.pos.file).name, err.pos.line, err.pos.col) == (
        "rfc5077_s3_3_s4.tls",
        3,
        7,
    )
    assert "duplicate definition of 'Handshake'" in err.message
    assert "rfc5246_appA.tls:111:4" in err.message


# -- real messages through the corrected pastes ------------------------------

RANDOM = bytes(range(32))
X25519_KEY = bytes.fromhex(
    "9fd7ad6dcff4298dd3f96d5b1b2af910a0535b1488d7f8fabb349a982880b615"
)


@dataclass(frozen=True)
class Message:
    file: str
    type: str
    wire: bytes
    value: object
    params: tuple[tuple[str, object], ...] = ()


CLIENT_HELLO_12 = (
    bytes.fromhex("0303")
    + RANDOM
    + bytes.fromhex("00 0004 c02f 009c 01 00")
    + bytes.fromhex("000d ff01 0001 00 000d 0004 0002 0401")
)
CLIENT_HELLO_12_VALUE = {
    "random": {"gmt_unix_time": 0x00010203, "random_bytes": RANDOM[4:]},
    "session_id": b"",
    "cipher_suites": [[0xC0, 0x2F], [0x00, 0x9C]],
    "compression_methods": [0],
    "extensions": [
        {"extension_type": 0xFF01, "extension_data": b"\x00"},
        {"extension_type": 13, "extension_data": bytes.fromhex("00020401")},
    ],
}
CLIENT_HELLO_13 = (
    bytes.fromhex("0303")
    + RANDOM
    + bytes.fromhex("00 0002 1301 01 00")
    + bytes.fromhex("000f 002b 0003 02 0304 000a 0004 0002 001d")
)

MESSAGES = [
    Message(
        "rfc5246_s7.txt",
        "Handshake",
        b"\x01" + len(CLIENT_HELLO_12).to_bytes(3, "big") + CLIENT_HELLO_12,
        {
            "msg_type": 1,
            "length": len(CLIENT_HELLO_12),
            "body": {
                "client_version": {"major": 3, "minor": 3},
                **CLIENT_HELLO_12_VALUE,
            },
        },
    ),
    Message(
        "rfc5246_s7.txt",
        "ServerKeyExchange",
        bytes.fromhex("0001 17 0001 02 0002 abcd 0401 0002 5151"),
        {
            "params": {"dh_p": b"\x17", "dh_g": b"\x02", "dh_Ys": b"\xab\xcd"},
            "signed_params": {
                "algorithm": {"hash": 4, "signature": 1},
                "signature": b"QQ",
            },
        },
        (("key_exchange_algorithm", "dhe_rsa"),),
    ),
    Message(
        "rfc5246_s7.txt",
        "ClientKeyExchange",
        bytes.fromhex("0004 deadbeef"),
        {"exchange_keys": {"pre_master_secret": b"\xde\xad\xbe\xef"}},
        (("key_exchange_algorithm", "rsa"),),
    ),
    Message(
        "rfc5246_appA.txt",
        "TLSPlaintext",
        bytes.fromhex("16 0303 0004 0e000000"),
        {
            "type": 22,
            "version": {"major": 3, "minor": 3},
            "length": 4,
            "fragment": b"\x0e\x00\x00\x00",
        },
    ),
    Message(
        "rfc5246_appA.txt",
        "Handshake",
        b"\x01" + len(CLIENT_HELLO_12).to_bytes(3, "big") + CLIENT_HELLO_12,
        {
            "msg_type": 1,
            "length": len(CLIENT_HELLO_12),
            "body": {
                "client_version": {"major": 3, "minor": 3},
                **CLIENT_HELLO_12_VALUE,
            },
        },
    ),
    Message(
        "rfc5077_s3_3_s4.txt",
        "Handshake",
        bytes.fromhex("04 000008 00001c20 0002 abcd"),
        {
            "msg_type": 4,
            "length": 8,
            "body": {"ticket_lifetime_hint": 7200, "ticket": b"\xab\xcd"},
        },
    ),
    Message(
        "rfc5077_s3_3_s4.txt",
        "ClientIdentity",
        bytes.fromhex("02 0003 616263"),
        {"client_authentication_type": 2, "psk_identity": b"abc"},
    ),
    Message(
        "rfc5077_s3_3_s4.txt",
        "StatePlaintext",
        bytes.fromhex("0303 c02f 00") + bytes(48) + bytes.fromhex("00 5f5e1000"),
        {
            "protocol_version": {"major": 3, "minor": 3},
            "cipher_suite": [0xC0, 0x2F],
            "compression_method": 0,
            "master_secret": bytes(48),
            "client_identity": {"client_authentication_type": 0},
            "timestamp": 1600000000,
        },
    ),
    # RFC 8422 §5.1.1 and §5.1.2 print these two extension bodies.
    Message(
        "rfc8422_s5.txt",
        "NamedCurveList",
        bytes.fromhex("00 04 00 17 00 18"),
        {"named_curve_list": [23, 24]},
    ),
    Message(
        "rfc8422_s5.txt",
        "ECPointFormatList",
        bytes.fromhex("01 00"),
        {"ec_point_format_list": [0]},
    ),
    Message(
        "rfc8422_s5.txt",
        "ServerKeyExchange",
        bytes.fromhex("03 001d 20") + X25519_KEY + bytes.fromhex("0403 0002 5151"),
        {
            "params": {
                "curve_params": {"curve_type": 3, "namedcurve": 29},
                "public": {"point": X25519_KEY},
            },
            "signed_params": {"algorithm": 0x0403, "signature": b"QQ"},
        },
        (
            ("key_exchange_algorithm", "ec_diffie_hellman"),
            ("signature_algorithm", "ecdsa"),
        ),
    ),
    Message(
        "rfc8446_s4.txt",
        "Handshake",
        b"\x01" + len(CLIENT_HELLO_13).to_bytes(3, "big") + CLIENT_HELLO_13,
        {
            "msg_type": 1,
            "length": len(CLIENT_HELLO_13),
            "body": {
                "legacy_version": 0x0303,
                "random": RANDOM,
                "legacy_session_id": b"",
                "cipher_suites": [[0x13, 0x01]],
                "legacy_compression_methods": b"\x00",
                "extensions": [
                    {"extension_type": 43, "extension_data": bytes.fromhex("020304")},
                    {"extension_type": 10, "extension_data": bytes.fromhex("0002001d")},
                ],
            },
        },
    ),
    Message(
        "rfc8446_s4.txt",
        "Handshake",
        bytes.fromhex("0b 00000a 00 000006 000001aa 0000"),
        {
            "msg_type": 11,
            "length": 10,
            "body": {
                "certificate_request_context": b"",
                "certificate_list": [{"cert_data": b"\xaa", "extensions": []}],
            },
        },
        (("certificate_type", "X509"),),
    ),
    Message(
        "rfc8446_s4.txt",
        "SupportedVersions",
        bytes.fromhex("0304"),
        {"selected_version": 0x0304},
        (("msg_type", "server_hello"),),
    ),
]


def _message_param(message: Message) -> object:
    return pytest.param(message, id=f"{message.file}:{message.type}")


@pytest.mark.parametrize("message", [_message_param(m) for m in MESSAGES])
def test_corrected_rfc_paste_decodes_and_encodes_real_messages(
    compile_spec, message: Message
) -> None:
    modules = compile_spec(_corrected(message.file))
    codec = getattr(modules[message.file.removesuffix(".txt")], message.type)
    params = dict(message.params)
    assert codec.parse(message.wire, **params) == message.value
    assert codec.build(message.value, **params) == message.wire


@dataclass(frozen=True)
class BadMessage:
    file: str
    type: str
    wire: str
    alert: str
    path: str
    params: tuple[tuple[str, object], ...] = ()


BAD_MESSAGES = [
    # supported_signature_algorithms holds 2-byte pairs; 3 bytes is malformed.
    BadMessage(
        "rfc5246_s7.txt",
        "CertificateRequest",
        "01 01 0003 040102 0000",
        "decode_error",
        "CertificateRequest.supported_signature_algorithms",
    ),
    BadMessage(
        "rfc5246_appA.txt",
        "TLSPlaintext",
        "16 0303 0005 0e000000",
        "decode_error",
        "TLSPlaintext.fragment",
    ),
    BadMessage(
        "rfc5077_s3_3_s4.txt",
        "ClientIdentity",
        "03",
        "illegal_parameter",
        "ClientIdentity",
    ),
    BadMessage(
        "rfc5077_s3_3_s4.txt",
        "Handshake",
        "04 000009 00001c20 0002 abcd",
        "decode_error",
        "Handshake.body",
    ),
    # deprecated(1..2) explicit curves have no arm.
    BadMessage(
        "rfc8422_s5.txt",
        "ECParameters",
        "01",
        "illegal_parameter",
        "ECParameters",
    ),
    # RFC 8446 §4.1.3: legacy_compression_method MUST be 0.
    BadMessage(
        "rfc8446_s4.txt",
        "ServerHello",
        "0303" + RANDOM.hex() + "00 1301 01 0006 002b00020304",
        "illegal_parameter",
        "ServerHello.legacy_compression_method",
    ),
    # A ClientHello's extensions are at least 8 bytes.
    BadMessage(
        "rfc8446_s4.txt",
        "ClientHello",
        "0303" + RANDOM.hex() + "00 0002 1301 01 00 0007 002b0003020304",
        "decode_error",
        "ClientHello.extensions",
    ),
    BadMessage(
        "rfc8446_s4.txt",
        "Handshake",
        "fe 000000",
        "illegal_parameter",
        "Handshake.body",
    ),
]


def _bad_param(message: BadMessage) -> object:
    return pytest.param(message, id=f"{message.file}:{message.type}")


@pytest.mark.parametrize("message", [_bad_param(m) for m in BAD_MESSAGES])
def test_corrected_rfc_paste_rejects_malformed_messages(
    compile_spec, message: BadMessage
) -> None:
    modules = compile_spec(_corrected(message.file))
    codec = getattr(modules[message.file.removesuffix(".txt")], message.type)
    with pytest.raises(DecodeError) as info:
        codec.parse(bytes.fromhex(message.wire), **dict(message.params))
    assert (info.value.alert, info.value.path) == (message.alert, message.path)
