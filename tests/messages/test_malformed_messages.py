"""Malformed hellos fail with the field path, offset and alert RFC 5246 asks
for; what TLS says to ignore still parses.

Every input is a real OpenSSL ClientHello or ServerHello (data file
``data/openssl_hellos.json``, which names its source) with a few bytes
changed by hand. Each change names the bytes it replaces, so the table
reads as a hex diff against the capture. Offsets count from the first byte
of the handshake header; a length error points at the first byte after the
length prefix it blames.

Layout of the ClientHello capture (196 bytes):

====== =========================================================
offset field
====== =========================================================
0      msg_type 01, uint24 length 0000c0 (192)
4      client_version 0303, random (32 bytes)
38     session_id: length 00
39     cipher_suites: length 001e, 15 suites from 41
71     compression_methods: 01 00
73     extensions: length 0079 (121), first extension at 75
75     [0] server_name 0000, length 0011, list 000f at 79
96     [1] ec_point_formats 000b
104    [2] supported_groups 000a, length 000c, list 000a at 108
120    [3] session_ticket 0023, empty
124    [4] ALPN 0010, length 000e, list 000c at 128
142    [5] encrypt_then_mac 0016; 146 [6] extended_master_secret 0017
150    [7] signature_algorithms 000d, length 002a, data at 154
====== =========================================================

ServerHello capture (80 bytes): header 0200004c, server_version at 4,
random at 6, session_id 00 at 38, cipher_suite c030 at 39, compression 00
at 41, extensions length 0024 at 42; renegotiation_info at 44,
ec_point_formats at 49, session_ticket at 57, ALPN at 61 (list 000b at 65,
one name), extended_master_secret at 76.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from construct import Container

from tlsspec import DecodeError
from tlsspec.codec import Codec
from tlsspec.generated.alert import Alert
from tlsspec.generated.ccs import ChangeCipherSpec
from tlsspec.generated.handshake import Handshake
from tlsspec.generated.record import TLSPlaintext

_CAPTURE = json.loads(
    (Path(__file__).parent / "data" / "openssl_hellos.json").read_text()
)
CLIENT_HELLO = bytes.fromhex(_CAPTURE["client_hello"])
SERVER_HELLO = bytes.fromhex(_CAPTURE["server_hello"])
CLIENT_HELLO_RECORD = bytes.fromhex(_CAPTURE["client_hello_record_header"]) + (
    CLIENT_HELLO
)

CIPHER_SUITES = (
    "001e c02c c030 c02b c02f cca9 cca8 c024 c028"
    + " c023 c027 009f 009e 006b 0067 00ff"
)
SUPPORTED_GROUPS_BODY = "000c 000a 001d 0017 001e 0019 0018"
SERVER_NAME_BODY = "0011 000f 00 000c" + b"example.test".hex()
ALPN_BODY = "000e 000c 02 6832 08" + b"http/1.1".hex()

Edit = tuple[int, str, str]


def mutate(message: bytes, *edits: Edit, reframe: bool = True) -> bytes:
    """Apply ``(offset, old hex, new hex)`` edits to a handshake message.

    Offsets refer to the unmodified message; each edit checks the bytes it
    replaces. With ``reframe`` the uint24 handshake length is set to the
    new body size, so only the edited field is wrong.
    """
    data = bytearray(message)
    for offset, old, new in sorted(edits, reverse=True):
        old_bytes = bytes.fromhex(old)
        found = bytes(data[offset : offset + len(old_bytes)])
        assert found == old_bytes, f"@{offset}: {found.hex()} is not {old}"
        data[offset : offset + len(old_bytes)] = bytes.fromhex(new)
    if reframe:
        data[1:4] = (len(data) - 4).to_bytes(3, "big")
    return bytes(data)


@dataclass(frozen=True)
class Malformed:
    name: str
    data: bytes
    path: str
    offset: int
    alert: str = "decode_error"
    codec: Codec = Handshake
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


MALFORMED = [
    # RFC 5246 §4.3: a vector's length is a multiple of its element size.
    Malformed(
        "odd_length_cipher_suites",
        mutate(CLIENT_HELLO, (39, "001e", "001d"), (70, "ff", "")),
        "Handshake.body.cipher_suites",
        41,
    ),
    # RFC 5246 §7.4.1.2: cipher_suites<2..2^16-2>.
    Malformed(
        "empty_cipher_suites",
        mutate(CLIENT_HELLO, (39, CIPHER_SUITES, "0000")),
        "Handshake.body.cipher_suites",
        41,
    ),
    # RFC 5246 §7.4.1.2: compression_methods<1..2^8-1>.
    Malformed(
        "empty_compression_methods",
        mutate(CLIENT_HELLO, (71, "0100", "00")),
        "Handshake.body.compression_methods",
        72,
    ),
    # RFC 5246 §7.4.1.2: SessionID<0..32>.
    Malformed(
        "session_id_of_33_bytes",
        mutate(CLIENT_HELLO, (38, "00", "21" + "ab" * 33)),
        "Handshake.body.session_id",
        39,
    ),
    # A stray byte counted by the extensions block: a ninth extension that
    # stops after one byte of its type.
    Malformed(
        "stray_byte_inside_extensions_block",
        mutate(CLIENT_HELLO, (73, "0079", "007a"), (196, "", "00")),
        "Handshake.body.extensions[8].extension_type",
        196,
    ),
    # A stray byte after the extensions block, inside the handshake length.
    Malformed(
        "stray_byte_after_extensions_block",
        mutate(CLIENT_HELLO, (196, "", "00")),
        "Handshake.body",
        196,
    ),
    # Duplicated field: the whole extensions block twice.
    Malformed(
        "extensions_block_twice",
        mutate(CLIENT_HELLO, (196, "", CLIENT_HELLO[73:].hex())),
        "Handshake.body",
        196,
    ),
    # The extensions length prefix itself cut short.
    Malformed(
        "extensions_length_cut_after_one_byte",
        mutate(CLIENT_HELLO, (73, CLIENT_HELLO[73:].hex(), "00")),
        "Handshake.body.extensions",
        73,
    ),
    # RFC 5246 §7.4: the uint24 length runs past the bytes there are.
    Malformed(
        "handshake_length_past_the_end",
        mutate(CLIENT_HELLO, (1, "0000c0", "0000c1"), reframe=False),
        "Handshake.body",
        4,
    ),
    Malformed(
        "handshake_length_of_2_pow_24_minus_1",
        mutate(CLIENT_HELLO, (1, "0000c0", "ffffff"), reframe=False),
        "Handshake.body",
        4,
    ),
    # A length one short of the body: the last vector inside it overruns.
    Malformed(
        "handshake_length_one_short_of_the_body",
        mutate(CLIENT_HELLO, (1, "0000c0", "0000bf"), reframe=False),
        "Handshake.body.extensions",
        75,
    ),
    Malformed(
        "handshake_length_ends_inside_cipher_suites",
        mutate(CLIENT_HELLO, (1, "0000c0", "000030"), reframe=False),
        "Handshake.body.cipher_suites",
        41,
    ),
    # RFC 6066 §3: a client's server_name carries ServerNameList<1..2^16-1>.
    Malformed(
        "client_server_name_with_empty_body",
        mutate(CLIENT_HELLO, (73, "0079", "0068"), (77, SERVER_NAME_BODY, "0000")),
        "Handshake.body.extensions[0].extension_data.server_name_list",
        79,
    ),
    Malformed(
        "client_server_name_with_empty_list",
        mutate(CLIENT_HELLO, (73, "0079", "006a"), (77, SERVER_NAME_BODY, "0002 0000")),
        "Handshake.body.extensions[0].extension_data.server_name_list",
        81,
    ),
    # RFC 6066 §3: HostName<1..2^16-1>.
    Malformed(
        "server_name_with_empty_host_name",
        mutate(
            CLIENT_HELLO,
            (73, "0079", "006d"),
            (77, SERVER_NAME_BODY, "0005 0003 00 0000"),
        ),
        "Handshake.body.extensions[0].extension_data.server_name_list[0].name",
        84,
    ),
    # RFC 8446 §4.2.7: named_group_list<2..2^16-1>.
    Malformed(
        "supported_groups_with_empty_list",
        mutate(
            CLIENT_HELLO,
            (73, "0079", "006f"),
            (106, SUPPORTED_GROUPS_BODY, "0002 0000"),
        ),
        "Handshake.body.extensions[2].extension_data.named_group_list",
        110,
    ),
    Malformed(
        "supported_groups_with_empty_body",
        mutate(
            CLIENT_HELLO, (73, "0079", "006d"), (106, SUPPORTED_GROUPS_BODY, "0000")
        ),
        "Handshake.body.extensions[2].extension_data.named_group_list",
        108,
    ),
    # RFC 7301 §3.1: ProtocolName<1..2^8-1>.
    Malformed(
        "alpn_with_empty_protocol_name",
        mutate(
            CLIENT_HELLO, (73, "0079", "0071"), (126, ALPN_BODY, "0006 0004 026832 00")
        ),
        "Handshake.body.extensions[4].extension_data.protocol_name_list[1]",
        134,
    ),
    # An extension whose length runs past the extensions block.
    Malformed(
        "last_extension_length_past_the_block",
        mutate(CLIENT_HELLO, (152, "002a", "002b")),
        "Handshake.body.extensions[7].extension_data",
        154,
    ),
    Malformed(
        "first_extension_length_past_the_block",
        mutate(CLIENT_HELLO, (77, "0011", "00ff")),
        "Handshake.body.extensions[0].extension_data",
        79,
    ),
    # RFC 5246 §7.4: no body type for an unassigned HandshakeType.
    Malformed(
        "unknown_handshake_type",
        mutate(CLIENT_HELLO, (0, "01", "63")),
        "Handshake.body",
        4,
        alert="illegal_parameter",
    ),
    # RFC 6066 §3: a server's server_name extension_data is empty.
    Malformed(
        "server_server_name_with_a_body",
        mutate(SERVER_HELLO, (42, "0024", "0029"), (80, "", "0000 0001 00")),
        "Handshake.body.extensions[5].extension_data",
        84,
    ),
    # RFC 7301 §3.1: protocol_name_list<2..2^16-1>.
    Malformed(
        "server_alpn_with_empty_list",
        mutate(
            SERVER_HELLO,
            (42, "0024", "001b"),
            (63, "000b 0009 08" + b"http/1.1".hex(), "0002 0000"),
        ),
        "Handshake.body.extensions[3].extension_data.protocol_name_list",
        67,
    ),
    Malformed(
        "server_hello_extensions_block_cut_short",
        mutate(SERVER_HELLO, (79, "00", "")),
        "Handshake.body.extensions",
        44,
    ),
    Malformed(
        "server_hello_cut_inside_cipher_suite",
        mutate(SERVER_HELLO, (40, SERVER_HELLO[40:].hex(), "")),
        "Handshake.body.cipher_suite",
        39,
    ),
    Malformed(
        "server_hello_with_trailing_byte",
        mutate(SERVER_HELLO, (80, "", "00")),
        "Handshake.body",
        80,
    ),
    # RFC 5246 §6.2.1: the 5-byte record header, cut inside its length.
    Malformed(
        "record_header_cut_inside_length",
        CLIENT_HELLO_RECORD[:4],
        "TLSPlaintext.length",
        3,
        codec=TLSPlaintext,
    ),
    Malformed(
        "record_fragment_shorter_than_its_length",
        CLIENT_HELLO_RECORD[:15],
        "TLSPlaintext.fragment",
        5,
        codec=TLSPlaintext,
    ),
    Malformed(
        "record_with_trailing_byte",
        CLIENT_HELLO_RECORD + b"\x16",
        "TLSPlaintext",
        201,
        codec=TLSPlaintext,
    ),
    # RFC 5246 §7.1: the ChangeCipherSpec byte is 1.
    Malformed(
        "change_cipher_spec_of_2",
        b"\x02",
        "ChangeCipherSpec.type",
        0,
        alert="illegal_parameter",
        codec=ChangeCipherSpec,
    ),
    Malformed("alert_of_one_byte", b"\x02", "Alert.description", 1, codec=Alert),
    Malformed(
        "change_cipher_spec_empty",
        b"",
        "ChangeCipherSpec.type",
        0,
        codec=ChangeCipherSpec,
    ),
    Malformed(
        "change_cipher_spec_of_two_bytes",
        b"\x01\x01",
        "ChangeCipherSpec",
        1,
        codec=ChangeCipherSpec,
    ),
    # RFC 5246 §7.4.2: ASN.1Cert<1..2^24-1>.
    Malformed(
        "certificate_list_with_an_empty_certificate",
        bytes.fromhex("0b 000006 000003 000000"),
        "Handshake.body.certificate_list[0]",
        10,
    ),
    # RFC 5077 §3.3: ticket<0..2^16-1> running past the message.
    Malformed(
        "new_session_ticket_length_past_the_end",
        bytes.fromhex("04 000008 00001c20 0005 6162"),
        "Handshake.body.ticket",
        10,
    ),
    # RFC 8422 §5.4: only named curves have a case; explicit_prime has none.
    Malformed(
        "server_key_exchange_with_explicit_prime_curve",
        bytes.fromhex("0c 000008 01 001d 01 00 0403 0000"),
        "Handshake.body.params.curve_params",
        5,
        alert="illegal_parameter",
        params={"key_exchange_algorithm": "ec_diffie_hellman"},
    ),
    # RFC 8422 §5.4 and §5.7: point<1..2^8-1>.
    Malformed(
        "server_key_exchange_with_empty_point",
        bytes.fromhex("0c 000008 03 001d 00 0403 0000"),
        "Handshake.body.params.public.point",
        8,
        params={"key_exchange_algorithm": "ec_diffie_hellman"},
    ),
    Malformed(
        "client_key_exchange_with_empty_point",
        bytes.fromhex("10 000001 00"),
        "Handshake.body.exchange_keys.ecdh_Yc.point",
        5,
        params={"key_exchange_algorithm": "ec_diffie_hellman"},
    ),
    # RFC 5246 §7.4.5: ServerHelloDone is empty.
    Malformed(
        "server_hello_done_with_a_body",
        bytes.fromhex("0e 000001 00"),
        "Handshake.body",
        4,
    ),
    # RFC 5246 §7.4.9: verify_data is 12 bytes in TLS 1.2.
    Malformed(
        "finished_of_11_bytes",
        bytes.fromhex("14 00000b") + bytes(11),
        "Handshake.body.verify_data",
        4,
        params={"verify_data_length": 12},
    ),
]


def test_captured_hellos_parse_and_rebuild_unchanged() -> None:
    for message in (CLIENT_HELLO, SERVER_HELLO):
        assert Handshake.build(Handshake.parse(message)) == message
    assert TLSPlaintext.build(TLSPlaintext.parse(CLIENT_HELLO_RECORD)) == (
        CLIENT_HELLO_RECORD
    )


@pytest.mark.parametrize("case", MALFORMED, ids=str)
def test_rejects_malformed_message_naming_path_offset_and_alert(
    case: Malformed,
) -> None:
    with pytest.raises(DecodeError) as info:
        case.codec.parse(case.data, **case.params)

    error = info.value
    assert (error.path, error.offset, error.alert) == (
        case.path,
        case.offset,
        case.alert,
    )
    assert str(error).startswith(f"{case.path}: ")


# --------------------------------------------------------------------------
# What RFC 5246 §7.4.1.4 and the registries say to tolerate
# --------------------------------------------------------------------------

UNKNOWN_EXTENSION = "fefe 0005" + b"garbg".hex()
GREASE_EXTENSION = "0a0a 0000"


@dataclass(frozen=True)
class Tolerated:
    name: str
    data: bytes
    # A path into the decoded value: attribute names and list indexes.
    where: tuple[str | int, ...]
    expected: Any

    def __str__(self) -> str:
        return self.name


TOLERATED = [
    # RFC 5246 §7.4.1.4: unknown extension types are ignored; their body
    # is kept as bytes, whatever it holds.
    Tolerated(
        "unknown_extension_with_garbage",
        mutate(CLIENT_HELLO, (73, "0079", "0082"), (196, "", UNKNOWN_EXTENSION)),
        ("body", "extensions", 8),
        Container(extension_type=0xFEFE, extension_data=b"garbg"),
    ),
    # RFC 8701 §2: a GREASE extension type with an empty body.
    Tolerated(
        "grease_extension_first",
        mutate(CLIENT_HELLO, (73, "0079", "007d"), (75, "", GREASE_EXTENSION)),
        ("body", "extensions", 0),
        Container(extension_type=0x0A0A, extension_data=b""),
    ),
    # RFC 5246 §7.4.1.2: the server ignores suites it does not recognize.
    Tolerated(
        "grease_cipher_suite_first",
        mutate(CLIENT_HELLO, (39, "001e", "0020"), (41, "", "0a0a")),
        ("body", "cipher_suites", 0),
        0x0A0A,
    ),
    Tolerated(
        "unknown_server_hello_suite",
        mutate(SERVER_HELLO, (39, "c030", "1337")),
        ("body", "cipher_suite"),
        0x1337,
    ),
    Tolerated(
        "unknown_compression_method",
        mutate(SERVER_HELLO, (41, "00", "40")),
        ("body", "compression_method"),
        0x40,
    ),
    Tolerated(
        "unknown_named_group",
        mutate(CLIENT_HELLO, (108, "000a 001d", "000a 1234")),
        ("body", "extensions", 2, "extension_data", "named_group_list", 0),
        0x1234,
    ),
    # RFC 5246 §7.4.1.2: a hello may end before the extensions.
    Tolerated(
        "client_hello_without_extensions",
        mutate(CLIENT_HELLO, (73, CLIENT_HELLO[73:].hex(), "")),
        ("body", "extensions"),
        None,
    ),
    Tolerated(
        "empty_extensions_block",
        mutate(CLIENT_HELLO, (73, CLIENT_HELLO[73:].hex(), "0000")),
        ("body", "extensions"),
        [],
    ),
    # RFC 6066 §3: the server's acknowledgement of SNI is empty.
    Tolerated(
        "server_server_name_acknowledgement",
        mutate(SERVER_HELLO, (42, "0024", "0028"), (80, "", "0000 0000")),
        ("body", "extensions", 5, "extension_data"),
        Container(),
    ),
]


def _at(value: Any, where: tuple[str | int, ...]) -> Any:
    for step in where:
        value = value[step]
    return value


@pytest.mark.parametrize("case", TOLERATED, ids=str)
def test_tolerated_value_parses_and_rebuilds_byte_identically(
    case: Tolerated,
) -> None:
    value = Handshake.parse(case.data)

    decoded = _at(value, case.where)

    assert decoded == case.expected
    assert Handshake.build(value) == case.data


_TOLERATED = {case.name: case for case in TOLERATED}
# The values of TOLERATED that no enum of the specs names.
UNKNOWN_ENUM_VALUES = [
    (
        _TOLERATED["unknown_extension_with_garbage"],
        ("body", "extensions", 8, "extension_type"),
    ),
    (_TOLERATED["grease_extension_first"], ("body", "extensions", 0, "extension_type")),
    (_TOLERATED["grease_cipher_suite_first"], ("body", "cipher_suites", 0)),
    (_TOLERATED["unknown_server_hello_suite"], ("body", "cipher_suite")),
    (_TOLERATED["unknown_compression_method"], ("body", "compression_method")),
    (
        _TOLERATED["unknown_named_group"],
        ("body", "extensions", 2, "extension_data", "named_group_list", 0),
    ),
]


@pytest.mark.parametrize(
    ("case", "where"), UNKNOWN_ENUM_VALUES, ids=[str(c) for c, _ in UNKNOWN_ENUM_VALUES]
)
def test_unknown_enum_values_stay_plain_integers(
    case: Tolerated, where: tuple[str | int, ...]
) -> None:
    value = _at(Handshake.parse(case.data), where)

    assert type(value) is int
