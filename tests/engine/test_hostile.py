"""Hostile and malformed input, each with the alert it must draw.

Every case puts a real client/server pair into some state, feeds one side
("the victim") crafted bytes, and checks two things: the alert the victim
raises or sends, and that its legitimate peer reads exactly that alert off
the wire (so encrypted alerts are checked too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.engine.support import (
    ALERT,
    APPLICATION_DATA,
    CCS,
    HANDSHAKE,
    SERVER_NAME,
    Pair,
    client_config,
    client_hello,
    default_client_extensions,
    extension,
    make_pair,
    record,
    server_config,
    split_records,
)
from tests.support.openssl import handshake_messages, make_rsa_identity
from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.generated.extensions import ExtensionType
from tlsspec.generated.handshake import Handshake, HandshakeType
from tlsspec.runtime import ClientConnection, ServerConnection
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.events import AlertReceived
from tlsspec.runtime.recordlayer import RecordReader
from tlsspec.runtime.suites import TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256

_D = AlertDescription
_E = ExtensionType

Victim = ClientConnection | ServerConnection


def _pair() -> Pair:
    identity = make_rsa_identity()
    return make_pair(client_config(identity), server_config(identity))


def _client_hello(pair: Pair) -> bytes:
    pair.client.start_handshake()
    return pair.client.data_to_send()


def _server_flight(pair: Pair) -> bytes:
    pair.server.receive_data(_client_hello(pair))
    return pair.server.data_to_send()


def _client_flight(pair: Pair) -> bytes:
    pair.client.receive_data(_server_flight(pair))
    return pair.client.data_to_send()


def _connected(pair: Pair) -> Pair:
    pair.handshake()
    return pair


def _server_hello_only(pair: Pair) -> bytes:
    return handshake_messages(_server_flight(pair))[0]


def _hello_with(extensions: list[dict[str, object]], **kwargs: object) -> bytes:
    return record(HANDSHAKE, client_hello(extensions=extensions, **kwargs))  # type: ignore[arg-type]


def _server_hello(pair: Pair, **changes: object) -> bytes:
    # The real ServerHello, re-encoded with some fields changed.
    message = Handshake.parse(_server_hello_only(pair))
    message["body"].update(changes)
    return record(HANDSHAKE, Handshake.build(message))


# ----------------------------------------------------------------------
# The cases: each returns the victim and the bytes to feed it
# ----------------------------------------------------------------------


def early_ccs_after_server_hello(pair: Pair) -> tuple[Victim, bytes]:
    # CVE-2014-0224: a CCS before the key exchange, to make the client
    # switch to keys derived from an empty master secret.
    return pair.client, record(HANDSHAKE, _server_hello_only(pair)) + record(
        CCS, b"\x01"
    )


def early_ccs_after_client_hello(pair: Pair) -> tuple[Victim, bytes]:
    return pair.server, _client_hello(pair) + record(CCS, b"\x01")


def finished_without_ccs(pair: Pair) -> tuple[Victim, bytes]:
    key_exchange = split_records(_client_flight(pair))[0][1]
    finished = Handshake.build(
        {"msg_type": HandshakeType.finished, "body": {"verify_data": bytes(12)}},
        verify_data_length=12,
    )
    return pair.server, record(HANDSHAKE, key_exchange) + record(HANDSHAKE, finished)


class _TamperingClient(ClientConnection):
    # A client whose Finished.verify_data has one bit flipped.
    def _send_finished(self) -> None:
        handshake = self._handshake
        assert handshake is not None and handshake.schedule is not None
        good = handshake.schedule.verify_data("client", handshake.transcript)
        bad = bytes([good[0] ^ 1]) + good[1:]
        self._send_handshake(HandshakeType.finished, {"verify_data": bad})


def tampered_finished(pair: Pair) -> tuple[Victim, bytes]:
    pair.client = _TamperingClient(
        client_config(make_rsa_identity()), server_name=SERVER_NAME
    )
    return pair.server, _client_flight(pair)


def tampered_record(pair: Pair) -> tuple[Victim, bytes]:
    _connected(pair).client.send_application_data(b"hello")
    wire = bytearray(pair.client.data_to_send())
    wire[-3] ^= 0x10
    return pair.server, bytes(wire)


def oversized_plaintext_record(pair: Pair) -> tuple[Victim, bytes]:
    # RFC 5246 §6.2.1: at most 2^14 bytes; refused from the header alone.
    return pair.server, bytes([HANDSHAKE, 3, 3]) + (2**14 + 1).to_bytes(2, "big")


def oversized_protected_record(pair: Pair) -> tuple[Victim, bytes]:
    _connected(pair)
    header = bytes([APPLICATION_DATA, 3, 3]) + (2**14 + 2049).to_bytes(2, "big")
    return pair.server, header


def handshake_length_past_the_message(pair: Pair) -> tuple[Victim, bytes]:
    # The header claims 100 bytes more than the record holds; the CCS that
    # follows lands inside the unfinished message.
    hello = bytearray(client_hello())
    length = int.from_bytes(hello[1:4], "big") + 100
    hello[1:4] = length.to_bytes(3, "big")
    return pair.server, record(HANDSHAKE, bytes(hello)) + record(CCS, b"\x01")


def ccs_inside_a_partial_message(pair: Pair) -> tuple[Victim, bytes]:
    # Legal where it stands, but a handshake message has begun before it.
    key_exchange = split_records(_client_flight(pair))[0][1]
    partial = record(HANDSHAKE, key_exchange + bytes([20, 0]))
    return pair.server, partial + record(CCS, b"\x01")


def server_hello_done_with_a_body(pair: Pair) -> tuple[Victim, bytes]:
    messages = handshake_messages(_server_flight(pair))
    messages[3] = bytes([HandshakeType.server_hello_done, 0, 0, 2, 0, 0])
    return pair.client, record(HANDSHAKE, b"".join(messages))


def extensions_past_the_body(pair: Pair) -> tuple[Victim, bytes]:
    hello = bytearray(client_hello())
    # header(4) version(2) random(32) session_id(1) two suites(2 + 4)
    # null compression(1 + 1), then the extensions' 2-byte length.
    at = 4 + 2 + 32 + 1 + 2 + 4 + 1 + 1
    hello[at : at + 2] = (0xFFFF).to_bytes(2, "big")
    return pair.server, record(HANDSHAKE, bytes(hello))


def unknown_handshake_type(pair: Pair) -> tuple[Victim, bytes]:
    return pair.server, record(HANDSHAKE, bytes([99, 0, 0, 1, 0]))


def renegotiation_attempt(pair: Pair) -> tuple[Victim, bytes]:
    _connected(pair)
    pair.client._writer.write(HANDSHAKE, client_hello())
    return pair.server, pair.client.data_to_send()


def hello_request_when_connected(pair: Pair) -> tuple[Victim, bytes]:
    _connected(pair)
    pair.server._writer.write(HANDSHAKE, bytes(4))
    return pair.client, pair.server.data_to_send()


def tls10_client_hello(pair: Pair) -> tuple[Victim, bytes]:
    return pair.server, record(HANDSHAKE, client_hello(version=0x0301), 0x0301)


def fallback_scsv_below_tls12(pair: Pair) -> tuple[Victim, bytes]:
    hello = client_hello(version=0x0302, suites=(0xC02F, 0x5600))
    return pair.server, record(HANDSHAKE, hello, 0x0302)


def supported_versions_without_tls12(pair: Pair) -> tuple[Victim, bytes]:
    versions = extension(_E.supported_versions, b"\x02\x03\x04")
    return pair.server, _hello_with([*default_client_extensions(), versions])


def no_common_suite(pair: Pair) -> tuple[Victim, bytes]:
    # RSA key exchange only, which we do not implement.
    return pair.server, record(HANDSHAKE, client_hello(suites=(0x002F, 0x009C)))


def ecdsa_suites_only_against_rsa_key(pair: Pair) -> tuple[Victim, bytes]:
    suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.code
    return pair.server, record(HANDSHAKE, client_hello(suites=(suite,)))


def duplicate_extension(pair: Pair) -> tuple[Victim, bytes]:
    ems = extension(_E.extended_master_secret, {})
    return pair.server, _hello_with([*default_client_extensions(), ems])


def no_null_compression(pair: Pair) -> tuple[Victim, bytes]:
    return pair.server, record(HANDSHAKE, client_hello(compression=(1,)))


def non_empty_renegotiation_info(pair: Pair) -> tuple[Victim, bytes]:
    info = extension(_E.renegotiation_info, {"renegotiated_connection": b"x" * 12})
    return pair.server, _hello_with([*default_client_extensions(), info])


def point_formats_without_uncompressed(pair: Pair) -> tuple[Victim, bytes]:
    extensions = [
        e
        for e in default_client_extensions()
        if e["extension_type"] != _E.ec_point_formats
    ]
    formats = extension(_E.ec_point_formats, {"ec_point_format_list": [1]})
    return pair.server, _hello_with([*extensions, formats])


def no_signature_algorithms(pair: Pair) -> tuple[Victim, bytes]:
    extensions = [
        e
        for e in default_client_extensions()
        if e["extension_type"] != _E.signature_algorithms
    ]
    return pair.server, _hello_with(extensions)


def no_common_group(pair: Pair) -> tuple[Victim, bytes]:
    extensions = [
        e
        for e in default_client_extensions()
        if e["extension_type"] != _E.supported_groups
    ]
    groups = extension(_E.supported_groups, {"named_group_list": [0x0100]})
    return pair.server, _hello_with([*extensions, groups])


def _hello_naming(pair: Pair, *names: bytes) -> tuple[Victim, bytes]:
    entries = [{"name_type": 0, "name": name} for name in names]
    sni = extension(_E.server_name, {"server_name_list": entries})
    return pair.server, _hello_with([sni, *default_client_extensions()])


def two_host_names(pair: Pair) -> tuple[Victim, bytes]:
    return _hello_naming(pair, b"a.example", b"b")


def host_name_with_nul(pair: Pair) -> tuple[Victim, bytes]:
    return _hello_naming(pair, b"local\x00host")


def host_name_with_newline(pair: Pair) -> tuple[Victim, bytes]:
    # A forged log line after the name, then an escape clearing a terminal.
    return _hello_naming(pair, b"evil\nFAKE LOG LINE\x1b[2J")


def host_name_with_space(pair: Pair) -> tuple[Victim, bytes]:
    return _hello_naming(pair, b"local host")


def host_name_not_ascii(pair: Pair) -> tuple[Victim, bytes]:
    return _hello_naming(pair, "bücher.example".encode())


def zero_x25519_point(pair: Pair) -> tuple[Victim, bytes]:
    pair.client.receive_data(_server_flight(pair))
    key_exchange = Handshake.build(
        {
            "msg_type": HandshakeType.client_key_exchange,
            "body": {"exchange_keys": {"ecdh_Yc": {"point": bytes(32)}}},
        },
        key_exchange_algorithm="ec_diffie_hellman",
    )
    return pair.server, record(HANDSHAKE, key_exchange)


def wrong_ccs_payload(pair: Pair) -> tuple[Victim, bytes]:
    key_exchange = split_records(_client_flight(pair))[0][1]
    return pair.server, record(HANDSHAKE, key_exchange) + record(CCS, b"\x02")


def record_version_changes_after_hello(pair: Pair) -> tuple[Victim, bytes]:
    key_exchange = split_records(_client_flight(pair))[0][1]
    return pair.server, record(HANDSHAKE, key_exchange, 0x0301)


def empty_handshake_record(pair: Pair) -> tuple[Victim, bytes]:
    return pair.server, record(HANDSHAKE, b"")


def empty_alert_record(pair: Pair) -> tuple[Victim, bytes]:
    return pair.server, record(ALERT, b"")


def heartbeat_record(pair: Pair) -> tuple[Victim, bytes]:
    # RFC 6520 content type 24, never negotiated.
    return pair.server, record(24, b"\x01\x00\x10" + bytes(16))


def application_data_before_handshake(pair: Pair) -> tuple[Victim, bytes]:
    return pair.server, record(APPLICATION_DATA, b"GET / HTTP/1.1\r\n")


def alert_with_unknown_level(pair: Pair) -> tuple[Victim, bytes]:
    return pair.server, record(ALERT, b"\x03\x00")


def server_hello_with_unoffered_extension(pair: Pair) -> tuple[Victim, bytes]:
    heartbeat = extension(_E.heartbeat, b"\x01")
    message = Handshake.parse(_server_hello_only(pair))
    message["body"]["extensions"].append(heartbeat)
    return pair.client, record(HANDSHAKE, Handshake.build(message))


def server_hello_with_signature_algorithms(pair: Pair) -> tuple[Victim, bytes]:
    # Offered by the client, but RFC 5246 §7.4.1.4.1: "Servers MUST NOT
    # send this extension".
    schemes = {"supported_signature_algorithms": [0x0403]}
    message = Handshake.parse(_server_hello_only(pair))
    message["body"]["extensions"].append(extension(_E.signature_algorithms, schemes))
    return pair.client, record(HANDSHAKE, Handshake.build(message))


def second_certificate_request(pair: Pair) -> tuple[Victim, bytes]:
    # RFC 5246 §7.3: at most one CertificateRequest, before ServerHelloDone.
    request = Handshake.build(
        {
            "msg_type": "certificate_request",
            "body": {
                "certificate_types": ["ecdsa_sign"],
                "supported_signature_algorithms": [0x0403],
                "certificate_authorities": [],
            },
        }
    )
    *head, done = handshake_messages(_server_flight(pair))
    return pair.client, record(HANDSHAKE, b"".join([*head, request, request, done]))


def server_hello_without_renegotiation_info(pair: Pair) -> tuple[Victim, bytes]:
    message = Handshake.parse(_server_hello_only(pair))
    extensions = message["body"]["extensions"]
    message["body"]["extensions"] = [
        e for e in extensions if e["extension_type"] != _E.renegotiation_info
    ]
    return pair.client, record(HANDSHAKE, Handshake.build(message))


def server_hello_tls11(pair: Pair) -> tuple[Victim, bytes]:
    return pair.client, _server_hello(pair, server_version=0x0302)


def server_hello_tls11_downgrade_sentinel(pair: Pair) -> tuple[Victim, bytes]:
    return pair.client, _server_hello(pair, random=bytes(24) + b"DOWNGRD\x00")


def server_hello_unoffered_suite(pair: Pair) -> tuple[Victim, bytes]:
    return pair.client, _server_hello(pair, cipher_suite=0x009C)


def bad_server_key_exchange_signature(pair: Pair) -> tuple[Victim, bytes]:
    messages = handshake_messages(_server_flight(pair))
    key_exchange = bytearray(messages[2])
    key_exchange[-5] ^= 0x01
    messages[2] = bytes(key_exchange)
    return pair.client, record(HANDSHAKE, b"".join(messages))


@dataclass(frozen=True)
class Case:
    build: Callable[[Pair], tuple[Victim, bytes]]
    alert: AlertDescription
    level: AlertLevel = AlertLevel.fatal


CASES = [
    Case(early_ccs_after_server_hello, _D.unexpected_message),
    Case(early_ccs_after_client_hello, _D.unexpected_message),
    Case(finished_without_ccs, _D.unexpected_message),
    Case(tampered_finished, _D.decrypt_error),
    Case(tampered_record, _D.bad_record_mac),
    Case(oversized_plaintext_record, _D.record_overflow),
    Case(oversized_protected_record, _D.record_overflow),
    Case(handshake_length_past_the_message, _D.unexpected_message),
    Case(ccs_inside_a_partial_message, _D.unexpected_message),
    Case(server_hello_done_with_a_body, _D.decode_error),
    Case(extensions_past_the_body, _D.decode_error),
    Case(unknown_handshake_type, _D.unexpected_message),
    Case(renegotiation_attempt, _D.no_renegotiation, AlertLevel.warning),
    Case(hello_request_when_connected, _D.no_renegotiation, AlertLevel.warning),
    Case(tls10_client_hello, _D.protocol_version),
    Case(fallback_scsv_below_tls12, _D.inappropriate_fallback),
    Case(supported_versions_without_tls12, _D.protocol_version),
    Case(no_common_suite, _D.handshake_failure),
    Case(ecdsa_suites_only_against_rsa_key, _D.handshake_failure),
    Case(duplicate_extension, _D.illegal_parameter),
    Case(no_null_compression, _D.handshake_failure),
    Case(non_empty_renegotiation_info, _D.handshake_failure),
    Case(point_formats_without_uncompressed, _D.illegal_parameter),
    Case(no_signature_algorithms, _D.handshake_failure),
    Case(no_common_group, _D.handshake_failure),
    Case(two_host_names, _D.illegal_parameter),
    Case(host_name_with_nul, _D.unrecognized_name),
    Case(host_name_with_newline, _D.unrecognized_name),
    Case(host_name_with_space, _D.unrecognized_name),
    Case(host_name_not_ascii, _D.illegal_parameter),
    Case(zero_x25519_point, _D.illegal_parameter),
    Case(wrong_ccs_payload, _D.illegal_parameter),
    Case(record_version_changes_after_hello, _D.protocol_version),
    Case(empty_handshake_record, _D.unexpected_message),
    Case(empty_alert_record, _D.unexpected_message),
    Case(heartbeat_record, _D.unexpected_message),
    Case(application_data_before_handshake, _D.unexpected_message),
    Case(alert_with_unknown_level, _D.decode_error),
    Case(server_hello_with_unoffered_extension, _D.unsupported_extension),
    Case(server_hello_with_signature_algorithms, _D.illegal_parameter),
    Case(second_certificate_request, _D.unexpected_message),
    Case(server_hello_without_renegotiation_info, _D.handshake_failure),
    Case(server_hello_tls11, _D.protocol_version),
    Case(server_hello_tls11_downgrade_sentinel, _D.illegal_parameter),
    Case(server_hello_unoffered_suite, _D.illegal_parameter),
    Case(bad_server_key_exchange_signature, _D.decrypt_error),
]


@pytest.mark.parametrize("case", CASES, ids=[c.build.__name__ for c in CASES])
def test_hostile_input_draws_its_alert(case: Case) -> None:
    pair = _pair()
    victim, data = case.build(pair)
    peer = pair.server if victim is pair.client else pair.client

    if case.level is AlertLevel.fatal:
        with pytest.raises(LocalProtocolError) as caught:
            victim.receive_data(data)
        assert caught.value.description is case.alert
        # Sticky: the next call raises the same error at once.
        with pytest.raises(LocalProtocolError) as again:
            victim.receive_data(b"")
        assert again.value is caught.value
    else:
        victim.receive_data(data)

    # The peer reads the alert off the wire, decrypting it if need be.
    events = peer.receive_data(victim.data_to_send())
    assert AlertReceived(level=case.level, description=case.alert) in events


def test_alert_records_carry_one_alert_each() -> None:
    reader = RecordReader()
    records = list(reader.read(record(ALERT, b"\x01\x00\x01\x00")))

    assert records == [(ALERT, b"\x01\x00\x01\x00")]
    pair = _pair()
    with pytest.raises(LocalProtocolError) as caught:
        pair.server.receive_data(record(ALERT, b"\x01\x00\x01\x00"))
    assert caught.value.description is _D.unexpected_message
