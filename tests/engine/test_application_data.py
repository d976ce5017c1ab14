"""Application data on an established connection, as the transport cuts it.

Our client and server, connected in memory.  Records are opened where they
lie in the bytes ``receive_data`` gets, so these tests cut those bytes at
every boundary, batch many records in one call, put a hostile record in
the middle of a batch, and check that the caller's buffer is free after
every call, whether it succeeded or failed.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

import pytest

from tests.engine.support import Pair, client_config, make_pair, server_config
from tests.hostile.identity import fixed_ecdsa_identity
from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    Event,
    received_application_data,
)
from tlsspec.runtime.record import MAX_CIPHERTEXT_LENGTH
from tlsspec.runtime.state import State
from tlsspec.runtime.suites import SUITES_BY_CODE, CipherSuite

_D = AlertDescription
HEADER: Final = struct.Struct("!BHH")
APPLICATION_DATA: Final = 23

# One suite per record family our pair negotiates (CBC with RFC 7366).
SUITES = [
    pytest.param(SUITES_BY_CODE[0xC02B], id="AES-GCM"),
    pytest.param(SUITES_BY_CODE[0xCCA9], id="ChaCha20-Poly1305"),
    pytest.param(SUITES_BY_CODE[0xC023], id="CBC"),
]
MESSAGES: Final = [b"a", bytes(range(256)), b"tail" * 9]


def _connected(suite: CipherSuite = SUITES_BY_CODE[0xC02B]) -> Pair:
    identity = fixed_ecdsa_identity()
    pair = make_pair(
        client_config(identity, cipher_suites=[suite]), server_config(identity)
    )
    pair.handshake()
    return pair


def _sent(pair: Pair, messages: list[bytes]) -> bytes:
    for message in messages:
        pair.client.send_application_data(message)
    return pair.client.data_to_send()


def _data(events: list[Event]) -> list[bytes]:
    assert all(isinstance(e, ApplicationData) for e in events), events
    return [e.data for e in events if isinstance(e, ApplicationData)]


def _record_starts(wire: bytes) -> list[int]:
    starts, offset = [], 0
    while offset < len(wire):
        starts.append(offset)
        offset += HEADER.size + HEADER.unpack_from(wire, offset)[2]
    return starts


# ----------------------------------------------------------------------
# However the bytes are cut
# ----------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_records_split_across_calls_at_every_byte_boundary_still_decrypt(
    suite: CipherSuite,
) -> None:
    pair = _connected(suite)
    wire = _sent(pair, MESSAGES)
    length = len(wire)
    assert _data(pair.server.receive_data(wire)) == MESSAGES

    # Each round sends the same records afresh: same layout, next sequence
    # numbers, cut at the next byte.
    for cut in range(1, length):
        wire = _sent(pair, MESSAGES)
        events = pair.server.receive_data(wire[:cut])
        events += pair.server.receive_data(wire[cut:])
        assert _data(events) == MESSAGES, cut
        assert pair.server.buffer_use().ciphertext == 0


def test_records_fed_one_byte_at_a_time_still_decrypt() -> None:
    pair = _connected()
    wire = _sent(pair, MESSAGES)

    events = []
    for index in range(len(wire)):
        events += pair.server.receive_data(wire[index : index + 1])
        assert pair.server.buffer_use().ciphertext <= index + 1

    assert _data(events) == MESSAGES


def test_many_records_in_one_call_each_make_one_event_in_order() -> None:
    pair = _connected()
    messages = [b"%d:" % i + bytes(i * 131 % 2000) for i in range(200)]

    events = pair.server.receive_data(_sent(pair, messages))

    assert _data(events) == messages


def test_only_the_record_cut_off_at_the_end_is_held() -> None:
    pair = _connected()
    wire = _sent(pair, [b"one", b"two", bytes(9000)])
    third = _record_starts(wire)[2]

    events = pair.server.receive_data(wire[: third + 4000])

    assert _data(events) == [b"one", b"two"]
    assert pair.server.buffer_use().ciphertext == 4000
    assert _data(pair.server.receive_data(wire[third + 4000 :])) == [bytes(9000)]


# ----------------------------------------------------------------------
# A hostile record in the middle of a batch
# ----------------------------------------------------------------------


def _flip_last_byte(record: bytearray) -> None:
    record[-1] ^= 0x01


def _overflow_length(record: bytearray) -> None:
    HEADER.pack_into(record, 0, APPLICATION_DATA, 0x0303, MAX_CIPHERTEXT_LENGTH + 1)


def _tls11_version(record: bytearray) -> None:
    record[1:3] = b"\x03\x02"


def _heartbeat_type(record: bytearray) -> None:
    record[0] = 24


def _handshake_type(record: bytearray) -> None:
    # A protected record of another type fails authentication: the type is
    # in the additional data (RFC 5246 §6.2.3.3).
    record[0] = 22


HOSTILE = [
    pytest.param(_flip_last_byte, _D.bad_record_mac, id="tampered"),
    pytest.param(_overflow_length, _D.record_overflow, id="overflow"),
    pytest.param(_tls11_version, _D.protocol_version, id="tls-1.1"),
    pytest.param(_heartbeat_type, _D.unexpected_message, id="heartbeat"),
    pytest.param(_handshake_type, _D.bad_record_mac, id="retyped"),
]


@pytest.mark.parametrize(("mutate", "alert"), HOSTILE)
@pytest.mark.parametrize("kind", [bytes, bytearray])
def test_hostile_record_in_a_batch_draws_its_alert_and_stays_failed(
    mutate: Callable[[bytearray], None],
    alert: AlertDescription,
    kind: Callable[[bytes], bytes],
) -> None:
    pair = _connected()
    wire = _sent(pair, [b"before", b"hostile", b"after"])
    second, third = _record_starts(wire)[1:]
    hostile = bytearray(wire[second:third])
    mutate(hostile)
    data = kind(wire[:second] + hostile + wire[third:])

    with pytest.raises(LocalProtocolError) as caught:
        pair.server.receive_data(data)

    assert caught.value.description == alert
    assert pair.server.state is State.FAILED
    # Sticky: every later call raises the same error at once.
    for call in (
        lambda: pair.server.receive_data(_sent(pair, [b"more"])),
        lambda: pair.server.send_application_data(b"reply"),
    ):
        with pytest.raises(LocalProtocolError) as again:
            call()
        assert again.value is caught.value
    # The alert went out, protected, and the peer reads it.
    events = pair.client.receive_data(pair.server.data_to_send())
    assert [type(e) for e in events] == [AlertReceived, ConnectionClosed]
    assert isinstance(events[0], AlertReceived)
    assert events[0].description == alert
    if isinstance(data, bytearray):
        data.clear()  # no view of the caller's buffer outlived the failure


def test_records_after_close_notify_in_the_same_call_are_not_read() -> None:
    pair = _connected()
    pair.client.send_application_data(b"last words")
    pair.client.close()
    wire = pair.client.data_to_send()

    events = pair.server.receive_data(wire + b"\xff" * 40)

    assert events == [ApplicationData(data=b"last words"), ConnectionClosed(clean=True)]
    assert pair.server.buffer_use().ciphertext == 0


# ----------------------------------------------------------------------
# The caller's buffer
# ----------------------------------------------------------------------


def test_caller_buffer_is_free_after_each_call() -> None:
    pair = _connected()
    wire = _sent(pair, MESSAGES)
    cut = _record_starts(wire)[2] + 3
    first, rest = bytearray(wire[:cut]), bytearray(wire[cut:])

    events = pair.server.receive_data(first)
    first.clear()
    events += pair.server.receive_data(rest)
    rest.clear()

    assert _data(events) == MESSAGES


def test_sent_bytearray_is_free_and_copied_before_the_handshake_completes() -> None:
    identity = fixed_ecdsa_identity()
    pair = make_pair(client_config(identity), server_config(identity))
    early = bytearray(b"early")
    pair.client.send_application_data(early)
    early[:] = b"later"

    pair.handshake()
    big = bytearray(70000)
    pair.client.send_application_data(big)
    big.clear()

    events = pair.server.receive_data(pair.client.data_to_send())
    assert b"".join(_data(events)) == bytes(70000)
    assert ApplicationData(data=b"early") in pair.server_events


def test_engine_built_event_equals_one_built_the_usual_way() -> None:
    event = received_application_data(b"payload")

    assert event == ApplicationData(data=b"payload")
    assert hash(event) == hash(ApplicationData(data=b"payload"))
    assert repr(event) == repr(ApplicationData(data=b"payload"))


@pytest.mark.parametrize("value", [None, "text", 12345, [1, 2]])
def test_a_value_that_is_not_bytes_is_refused_and_the_connection_lives(
    value: object,
) -> None:
    pair = _connected()
    wire = _sent(pair, [b"after"])

    with pytest.raises(TypeError, match="receive_data: expected bytes"):
        pair.server.receive_data(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="send_application_data: expected bytes"):
        pair.client.send_application_data(value)  # type: ignore[arg-type]

    assert pair.server.data_to_send() == b""  # no alert was queued
    assert _data(pair.server.receive_data(wire)) == [b"after"]


def test_memoryviews_of_any_item_size_or_stride_are_read_as_octets() -> None:
    pair = _connected()
    # A GCM record is its plaintext and 29 bytes: 3 + 3 + 31 + 3 * 29 = 124.
    messages = [b"one", b"two", b"three!" + bytes(25)]
    wire = _sent(pair, messages)
    assert len(wire) % 4 == 0
    words = memoryview(bytearray(wire)).cast("I")

    assert _data(pair.server.receive_data(words)) == messages

    wire = _sent(pair, [b"four"])
    spread = bytearray(2 * len(wire))
    spread[::2] = wire
    assert _data(pair.server.receive_data(memoryview(spread)[::2])) == [b"four"]
