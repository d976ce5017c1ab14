"""The benchmark reference codecs agree with OpenSSL's bytes and each other.

Both references (plain construct, hand-written Python) must parse what
OpenSSL sends to equal values and rebuild it byte for byte, since the
generated codecs are checked against them. The hand-written one must also
reject every malformed input the RFC rules out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from construct import Construct, ConstructError, Container, ListContainer

from benchmarks import references as ref
from benchmarks.capture import SERVER_NAME, capture_hellos

HELLO_NAMES = ["ClientHello", "ServerHello", "NewSessionTicket"]

# RFC 6066 §3, RFC 7301 §3.1, RFC 5077 §3.2, RFC 7627 §5.1: extension types
# the captured ClientHello must carry given the capture's configuration.
SERVER_NAME_EXTENSION = 0
ALPN_EXTENSION = 16
SESSION_TICKET_EXTENSION = 35
EXTENDED_MASTER_SECRET_EXTENSION = 23
# RFC 5746 §3.3: the SCSV a TLS 1.2 client sends instead of an empty
# renegotiation_info extension.
EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF
TLS12 = 0x0303
# RFC 5077 §4 ticket fields around encrypted_state.
TICKET_FIXED_SIZE = 16 + 16 + 32
AES_BLOCK = 16


def _codecs(
    name: str,
) -> tuple[Construct, Callable[[bytes], Any], Callable[[Mapping[str, Any]], bytes]]:
    return (
        getattr(ref, f"construct_{name}"),
        getattr(ref, f"hand_parse_{name}"),
        getattr(ref, f"hand_build_{name}"),
    )


def _plain(value: Any) -> Any:
    # Containers carry construct's private "_io"; compare public fields only.
    if isinstance(value, Container | dict):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, ListContainer | list):
        return [_plain(item) for item in value]
    return value


@pytest.fixture(scope="module")
def hellos() -> dict[str, bytes]:
    return capture_hellos()


# -- real OpenSSL bytes -----------------------------------------------------


@pytest.mark.parametrize("name", HELLO_NAMES)
def test_both_references_parse_openssl_message_to_equal_values(
    hellos: dict[str, bytes], name: str
) -> None:
    construct_codec, hand_parse, _ = _codecs(name)
    body = hellos[name][4:]

    assert _plain(construct_codec.parse(body)) == hand_parse(body)


@pytest.mark.parametrize("name", HELLO_NAMES)
def test_both_references_rebuild_openssl_message_byte_for_byte(
    hellos: dict[str, bytes], name: str
) -> None:
    construct_codec, hand_parse, hand_build = _codecs(name)
    body = hellos[name][4:]

    assert construct_codec.build(construct_codec.parse(body)) == body
    assert hand_build(hand_parse(body)) == body


@pytest.mark.parametrize("name", HELLO_NAMES)
def test_references_build_each_others_values_identically(
    hellos: dict[str, bytes], name: str
) -> None:
    construct_codec, hand_parse, hand_build = _codecs(name)
    body = hellos[name][4:]

    assert construct_codec.build(hand_parse(body)) == body
    assert hand_build(_plain(construct_codec.parse(body))) == body


@pytest.mark.parametrize("name", HELLO_NAMES)
def test_handshake_wrapper_round_trips_openssl_message(
    hellos: dict[str, bytes], name: str
) -> None:
    message = hellos[name]

    parsed = ref.construct_Handshake.parse(message)
    hand_parsed = ref.hand_parse_Handshake(message)

    assert _plain(parsed) == hand_parsed
    assert hand_parsed["length"] == len(message) - 4
    assert ref.construct_Handshake.build(parsed) == message
    assert ref.hand_build_Handshake(hand_parsed) == message


def test_openssl_client_hello_fields_match_the_capture_configuration(
    hellos: dict[str, bytes],
) -> None:
    hello = ref.hand_parse_ClientHello(hellos["ClientHello"][4:])
    extensions = {e["extension_type"]: e["extension_data"] for e in hello["extensions"]}

    assert hello["client_version"] == TLS12
    assert hello["compression_methods"] == [0]
    assert EMPTY_RENEGOTIATION_INFO_SCSV in hello["cipher_suites"]
    assert SERVER_NAME.encode() in extensions[SERVER_NAME_EXTENSION]
    assert extensions[ALPN_EXTENSION] == b"\x00\x0c\x02h2\x08http/1.1"
    assert extensions[SESSION_TICKET_EXTENSION] == b""
    assert extensions[EXTENDED_MASTER_SECRET_EXTENSION] == b""


def test_openssl_ticket_omits_the_rfc5077_state_length(
    hellos: dict[str, bytes],
) -> None:
    # OpenSSL seals key_name || iv || AES-CBC(state) || HMAC with no
    # length prefix on the state, so it is not the RFC 5077 §4 layout:
    # whole AES blocks leave no room for a 2-byte prefix.
    ticket = ref.hand_parse_NewSessionTicket(hellos["NewSessionTicket"][4:])["ticket"]

    assert (len(ticket) - TICKET_FIXED_SIZE) % AES_BLOCK == 0


# -- synthetic values -------------------------------------------------------

SYNTHETIC = [
    ("Alert", {"level": 2, "description": 40}, b"\x02\x28"),
    ("Finished", {"verify_data": bytes(range(12))}, bytes(range(12))),
    (
        "ticket",
        {
            "key_name": b"K" * 16,
            "iv": b"I" * 16,
            "encrypted_state": b"state",
            "mac": b"M" * 32,
        },
        b"K" * 16 + b"I" * 16 + b"\x00\x05state" + b"M" * 32,
    ),
    (
        "ServerHello",
        {
            "server_version": TLS12,
            "random": bytes(32),
            "session_id": b"",
            "cipher_suite": 0xC02F,
            "compression_method": 0,
            "extensions": None,
        },
        b"\x03\x03" + bytes(32) + b"\x00\xc0\x2f\x00",
    ),
    (
        "ServerHello",
        {
            "server_version": TLS12,
            "random": bytes(32),
            "session_id": b"",
            "cipher_suite": 0xC02F,
            "compression_method": 0,
            "extensions": [],
        },
        b"\x03\x03" + bytes(32) + b"\x00\xc0\x2f\x00\x00\x00",
    ),
]


@pytest.mark.parametrize(
    ("name", "value", "encoded"),
    SYNTHETIC,
    ids=["alert", "finished", "ticket", "no-extensions", "empty-extensions"],
)
def test_references_encode_and_decode_known_bytes(
    name: str, value: dict[str, Any], encoded: bytes
) -> None:
    construct_codec, hand_parse, hand_build = _codecs(name)

    assert construct_codec.build(value) == encoded
    assert hand_build(value) == encoded
    assert _plain(construct_codec.parse(encoded)) == value
    assert hand_parse(encoded) == value


def test_handshake_keeps_unknown_body_as_bytes() -> None:
    message = b"\x0e\x00\x00\x00"  # server_hello_done, empty body

    assert ref.hand_parse_Handshake(message)["body"] == b""
    assert _plain(ref.construct_Handshake.parse(message))["body"] == b""
    assert ref.hand_build_Handshake({"msg_type": 14, "body": b""}) == message


# -- malformed input --------------------------------------------------------


def _client_hello(
    *,
    session_id: bytes = b"\x20" + bytes(32),
    suites: bytes = b"\x00\x02\xc0\x2f",
    methods: bytes = b"\x01\x00",
    extensions: bytes = b"\x00\x04\x00\x17\x00\x00",
) -> bytes:
    # Raw ClientHello body with each vector given already length-prefixed,
    # so a test can break exactly one of them.
    return b"\x03\x03" + bytes(32) + session_id + suites + methods + extensions


MALFORMED = [
    ("Alert", b"\x02", "truncated"),
    ("Alert", b"\x02\x28\x00", "trailing"),
    ("Finished", bytes(11), "truncated"),
    ("Finished", bytes(13), "trailing"),
    ("NewSessionTicket", b"\x00\x00\x1c", "truncated"),
    ("NewSessionTicket", b"\x00\x00\x1c\x20\x00\x03ab", "truncated"),
    ("NewSessionTicket", b"\x00\x00\x1c\x20\x00\x01ab", "trailing"),
    ("ticket", bytes(32) + b"\x00\x00" + bytes(31), "truncated"),
    ("ticket", bytes(32) + b"\x00\x00" + bytes(33), "trailing"),
    ("ClientHello", _client_hello()[:-1], "truncated"),
    ("ClientHello", _client_hello() + b"\x00", "trailing"),
    ("ClientHello", _client_hello(extensions=b"\x00"), "truncated"),
    ("ClientHello", _client_hello(session_id=b"\x21" + bytes(33)), "<0..32>"),
    ("ClientHello", _client_hello(suites=b"\x00\x00"), "<2..65534>"),
    ("ClientHello", _client_hello(suites=b"\x00\x03\xc0\x2f\x00"), "multiple"),
    (
        "ClientHello",
        _client_hello(suites=b"\x00\x04\xc0\x2f", methods=b"", extensions=b""),
        "truncated",
    ),
    ("ClientHello", _client_hello(methods=b"\x00"), "<1..255>"),
    ("ClientHello", _client_hello(extensions=b"\x00\x02\x00\x17\x00\x00"), "trail"),
    ("ClientHello", _client_hello(extensions=b"\x00\x04\x00\x17\x00\x01"), "trunc"),
    ("ClientHello", _client_hello(extensions=b"\x00\x03\x00\x17\x00"), "truncated"),
    ("ServerHello", b"\x03\x03" + bytes(32) + b"\x00\xc0\x2f", "truncated"),
    ("ServerHello", b"\x03\x03" + bytes(32) + b"\x00\xc0\x2f\x00\x00", "trunc"),
    ("Handshake", b"\x14\x00\x00", "truncated"),
    ("Handshake", b"\x14\x00\x00\x0d" + bytes(12), "truncated"),
    ("Handshake", b"\x14\x00\x00\x0c" + bytes(13), "trailing"),
    ("Handshake", b"\x14\x00\x00\x0b" + bytes(11), "Finished"),
]
MALFORMED_IDS = [
    "alert-short",
    "alert-trailing",
    "finished-short",
    "finished-overlong",
    "ticket-message-short-hint",
    "ticket-message-overlong-length",
    "ticket-message-trailing",
    "ticket-short-mac",
    "ticket-trailing",
    "client-hello-short",
    "client-hello-trailing",
    "client-hello-half-extensions-length",
    "client-hello-session-id-over-32",
    "client-hello-no-cipher-suites",
    "client-hello-odd-cipher-suites",
    "client-hello-cipher-suites-overrun",
    "client-hello-no-compression-methods",
    "client-hello-extensions-short-of-end",
    "client-hello-extension-overruns-block",
    "client-hello-partial-extension-header",
    "server-hello-no-compression-method",
    "server-hello-half-extensions-length",
    "handshake-short-header",
    "handshake-length-overruns",
    "handshake-trailing",
    "handshake-finished-too-short",
]


@pytest.mark.parametrize(("name", "data", "reason"), MALFORMED, ids=MALFORMED_IDS)
def test_hand_parser_rejects_malformed_input(
    name: str, data: bytes, reason: str
) -> None:
    _, hand_parse, _ = _codecs(name)

    with pytest.raises(ValueError, match=reason):
        hand_parse(data)


@pytest.mark.parametrize(("name", "data", "reason"), MALFORMED, ids=MALFORMED_IDS)
def test_construct_reference_rejects_malformed_input(
    name: str, data: bytes, reason: str
) -> None:
    construct_codec, _, _ = _codecs(name)

    with pytest.raises(ConstructError):
        construct_codec.parse(data)


@pytest.mark.parametrize("cut", [1, 2, 40])
def test_hand_parser_rejects_truncated_openssl_hellos(
    hellos: dict[str, bytes], cut: int
) -> None:
    for name in HELLO_NAMES:
        with pytest.raises(ValueError):
            ref.hand_parse_Handshake(hellos[name][:-cut])
        with pytest.raises(ValueError):
            ref.hand_parse_Handshake(hellos[name] + bytes(cut))


def _valid_client_hello(**changes: Any) -> dict[str, Any]:
    value = {
        "client_version": TLS12,
        "random": bytes(32),
        "session_id": b"",
        "cipher_suites": [0xC02F],
        "compression_methods": [0],
        "extensions": None,
    }
    value.update(changes)
    return value


UNENCODABLE = [
    ({"session_id": bytes(33)}, "session_id"),
    ({"random": bytes(31)}, "random"),
    ({"cipher_suites": []}, "cipher_suites"),
    ({"cipher_suites": [0x10000]}, "cipher_suites"),
    ({"compression_methods": []}, "compression_methods"),
    ({"compression_methods": [256]}, "compression_methods"),
    ({"client_version": -1}, "client_version"),
    (
        {"extensions": [{"extension_type": 0, "extension_data": bytes(65536)}]},
        r"extensions\[0\].extension_data",
    ),
]
UNENCODABLE_IDS = [
    "session-id-over-32",
    "short-random",
    "no-cipher-suites",
    "cipher-suite-over-uint16",
    "no-compression-methods",
    "compression-method-over-uint8",
    "negative-version",
    "extension-data-over-2^16-1",
]


@pytest.mark.parametrize(("changes", "field"), UNENCODABLE, ids=UNENCODABLE_IDS)
def test_both_builders_refuse_values_outside_rfc_bounds(
    changes: dict[str, Any], field: str
) -> None:
    value = _valid_client_hello(**changes)

    with pytest.raises(ValueError, match=rf"ClientHello\.{field}"):
        ref.hand_build_ClientHello(value)
    with pytest.raises(ConstructError):
        ref.construct_ClientHello.build(value)


def test_hand_builder_refuses_handshake_length_that_disagrees_with_body() -> None:
    value = {"msg_type": 20, "length": 13, "body": {"verify_data": bytes(12)}}

    with pytest.raises(ValueError, match=r"Handshake\.length"):
        ref.hand_build_Handshake(value)
