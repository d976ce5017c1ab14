"""Each limit of runtime/limits.py, one at a time, with its exact alert.

Every breach must raise a LocalProtocolError naming the limit, with the
alert the limit's table gives, after queuing that alert (the peer reads it
off the wire, decrypting it when need be); the connection's buffers are
then empty and every later call raises the same error at once.
"""

from __future__ import annotations

import dataclasses
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.engine.support import Pair, client_config, make_pair, record, server_config
from tests.hostile.identity import fixed_ecdsa_identity
from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.generated.handshake import HandshakeType
from tlsspec.runtime import ClientConfig, ServerConfig
from tlsspec.runtime.alerts import LocalProtocolError, alert_bytes
from tlsspec.runtime.events import AlertReceived, ApplicationData, Event
from tlsspec.runtime.limits import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_BUFFERED_CIPHERTEXT,
    DEFAULT_MAX_BUFFERED_PLAINTEXT,
    DEFAULT_MAX_CERTIFICATE_CHAIN,
    DEFAULT_MAX_EMPTY_RECORDS,
    DEFAULT_MAX_HANDSHAKE_MESSAGE,
    DEFAULT_MAX_WARNING_ALERTS,
    LARGEST_RECORD,
    BufferUse,
    Limits,
)
from tlsspec.runtime.state import State

_D = AlertDescription
# RFC 5246 §6.2.1 content types.
ALERT = 21
HANDSHAKE = 22
APPLICATION_DATA = 23
HELLO_REQUEST = bytes([HandshakeType.hello_request, 0, 0, 0])
EMPTY = BufferUse(ciphertext=0, handshake=0, plaintext=0)
SMALL = 512


def _pair(client: Limits = DEFAULT_LIMITS, server: Limits = DEFAULT_LIMITS) -> Pair:
    identity = fixed_ecdsa_identity()
    return make_pair(
        client_config(identity, limits=client),
        server_config(identity, limits=server),
    )


def _connected(
    client: Limits = DEFAULT_LIMITS, server: Limits = DEFAULT_LIMITS
) -> Pair:
    pair = _pair(client, server)
    pair.handshake()
    return pair


def _handshake_header(msg_type: HandshakeType, length: int) -> bytes:
    # The first record of a fragmented message: only its 4-byte header
    # (RFC 5246 §6.2.1 lets a message span records).
    return record(HANDSHAKE, bytes([msg_type]) + length.to_bytes(3, "big"))


def _server_writes(pair: Pair, content_type: int, payloads: list[bytes]) -> bytes:
    for payload in payloads:
        pair.server._writer.write(content_type, payload)
    return pair.server.data_to_send()


def _client_writes(pair: Pair, content_type: int, payloads: list[bytes]) -> bytes:
    for payload in payloads:
        pair.client._writer.write(content_type, payload)
    return pair.client.data_to_send()


Breach = tuple[str, Callable[[], object]]


def handshake_message_at_the_default_limit() -> tuple[Pair, Breach]:
    pair = _pair()
    data = _handshake_header(
        HandshakeType.client_hello, DEFAULT_MAX_HANDSHAKE_MESSAGE + 1
    )
    return pair, ("server", lambda: pair.server.receive_data(data))


def handshake_message_at_a_configured_limit() -> tuple[Pair, Breach]:
    pair = _pair(server=Limits(max_handshake_message=SMALL))
    data = _handshake_header(HandshakeType.client_hello, SMALL + 1)
    return pair, ("server", lambda: pair.server.receive_data(data))


def certificate_chain_at_a_configured_limit() -> tuple[Pair, Breach]:
    pair = _pair(client=Limits(max_certificate_chain=SMALL))
    pair.client.start_handshake()
    pair.server.receive_data(pair.client.data_to_send())
    flight = pair.server.data_to_send()
    hello_length = 4 + int.from_bytes(flight[6:9], "big")
    pair.client.receive_data(record(HANDSHAKE, flight[5 : 5 + hello_length]))
    data = _handshake_header(HandshakeType.certificate, SMALL + 1)
    return pair, ("client", lambda: pair.client.receive_data(data))


def record_longer_than_the_ciphertext_buffer() -> tuple[Pair, Breach]:
    # Legal (below 2^14) but longer than the memory set aside.
    pair = _pair(server=Limits(max_buffered_ciphertext=1024))
    header = bytes([HANDSHAKE, 3, 3]) + (1024).to_bytes(2, "big")
    return pair, ("server", lambda: pair.server.receive_data(header))


def plaintext_of_one_call() -> tuple[Pair, Breach]:
    pair = _connected(client=Limits(max_buffered_plaintext=4096))
    data = _server_writes(pair, APPLICATION_DATA, [bytes(2000)] * 3)
    return pair, ("client", lambda: pair.client.receive_data(data))


def plaintext_queued_before_the_handshake() -> tuple[Pair, Breach]:
    pair = _pair(client=Limits(max_buffered_plaintext=4096))
    pair.client.start_handshake()
    pair.client.send_application_data(bytes(4096))
    return pair, ("client", lambda: pair.client.send_application_data(b"!"))


def warning_alerts_in_a_row() -> tuple[Pair, Breach]:
    pair = _connected(client=Limits(max_warning_alerts=2))
    warning = alert_bytes(_D.unrecognized_name, AlertLevel.warning)
    data = _server_writes(pair, ALERT, [warning] * 3)
    return pair, ("client", lambda: pair.client.receive_data(data))


def hello_requests_when_connected() -> tuple[Pair, Breach]:
    # Each is refused with a warning no_renegotiation: a flood of them
    # must not grow what we send.
    pair = _connected(client=Limits(max_warning_alerts=2))
    data = _server_writes(pair, HANDSHAKE, [HELLO_REQUEST] * 3)
    return pair, ("client", lambda: pair.client.receive_data(data))


def hello_requests_during_the_handshake() -> tuple[Pair, Breach]:
    pair = _pair(client=Limits(max_warning_alerts=2))
    pair.client.start_handshake()
    pair.server.receive_data(pair.client.data_to_send())
    pair.server.data_to_send()
    data = record(HANDSHAKE, HELLO_REQUEST * 3)
    return pair, ("client", lambda: pair.client.receive_data(data))


def renegotiating_client_hellos() -> tuple[Pair, Breach]:
    pair = _connected(server=Limits(max_warning_alerts=2))
    hello = pair.client_wire[0][5:]
    data = _client_writes(pair, HANDSHAKE, [hello] * 3)
    return pair, ("server", lambda: pair.server.receive_data(data))


def empty_records_in_a_row() -> tuple[Pair, Breach]:
    pair = _connected(client=Limits(max_empty_records=2))
    data = _server_writes(pair, APPLICATION_DATA, [b""] * 3)
    return pair, ("client", lambda: pair.client.receive_data(data))


@dataclass(frozen=True)
class Case:
    build: Callable[[], tuple[Pair, Breach]]
    limit: str
    alert: AlertDescription


CASES = [
    Case(
        handshake_message_at_the_default_limit, "max_handshake_message", _D.decode_error
    ),
    Case(
        handshake_message_at_a_configured_limit,
        "max_handshake_message",
        _D.decode_error,
    ),
    Case(
        certificate_chain_at_a_configured_limit,
        "max_certificate_chain",
        _D.decode_error,
    ),
    Case(
        record_longer_than_the_ciphertext_buffer,
        "max_buffered_ciphertext",
        _D.internal_error,
    ),
    Case(plaintext_of_one_call, "max_buffered_plaintext", _D.internal_error),
    Case(
        plaintext_queued_before_the_handshake,
        "max_buffered_plaintext",
        _D.internal_error,
    ),
    Case(warning_alerts_in_a_row, "max_warning_alerts", _D.unexpected_message),
    Case(hello_requests_when_connected, "max_warning_alerts", _D.unexpected_message),
    Case(
        hello_requests_during_the_handshake, "max_warning_alerts", _D.unexpected_message
    ),
    Case(renegotiating_client_hellos, "max_warning_alerts", _D.unexpected_message),
    Case(empty_records_in_a_row, "max_empty_records", _D.unexpected_message),
]


def _peer_reads(pair: Pair, victim_role: str) -> list[Event]:
    victim = pair.client if victim_role == "client" else pair.server
    peer = pair.server if victim_role == "client" else pair.client
    return peer.receive_data(victim.data_to_send())


@pytest.mark.parametrize("case", CASES, ids=[c.build.__name__ for c in CASES])
def test_exceeding_a_limit_sends_its_alert_frees_buffers_and_sticks(case: Case) -> None:
    pair, (role, breach) = case.build()
    victim = pair.client if role == "client" else pair.server

    with pytest.raises(LocalProtocolError) as caught:
        breach()

    error = caught.value
    assert error.description is case.alert
    assert f"Limits.{case.limit}" in str(error)
    # The alert is the error's description; the text does not repeat it.
    assert case.alert.name not in str(error)
    assert victim.buffer_use() == EMPTY
    assert victim._events == []
    assert victim.state is State.FAILED
    # The alert left before anything else could: the peer reads it.
    fatal = AlertReceived(level=AlertLevel.fatal, description=case.alert)
    assert fatal in _peer_reads(pair, role)
    for call in (lambda: victim.receive_data(b"\x16"), breach):
        with pytest.raises(LocalProtocolError) as again:
            call()
        assert again.value is error
    assert victim.data_to_send() == b""


def test_a_handshake_message_is_refused_from_its_header_alone() -> None:
    pair = _pair(server=Limits(max_handshake_message=SMALL))
    data = _handshake_header(HandshakeType.client_hello, SMALL + 1)

    # One record holding the 4-byte message header, no body.
    assert len(data) == 5 + 4
    with pytest.raises(LocalProtocolError, match="max_handshake_message"):
        pair.server.receive_data(data)


def test_a_message_the_state_forbids_is_refused_before_its_body_arrives() -> None:
    pair = _pair()
    data = _handshake_header(HandshakeType.finished, 12)

    with pytest.raises(LocalProtocolError, match="not allowed") as caught:
        pair.server.receive_data(data)
    assert caught.value.description is _D.unexpected_message


def test_a_certificate_may_exceed_the_message_limit_within_the_chain_limit() -> None:
    # The P-256 leaf alone is over 400 bytes; every other message fits 300.
    limits = Limits(max_handshake_message=300, max_certificate_chain=2048)
    pair = _pair(client=limits)

    pair.handshake()

    assert pair.client.handshake_complete


# ----------------------------------------------------------------------
# At the limit, and resets
# ----------------------------------------------------------------------


def test_exactly_the_limit_of_warnings_is_accepted() -> None:
    pair = _connected(client=Limits(max_warning_alerts=2))
    warning = alert_bytes(_D.unrecognized_name, AlertLevel.warning)

    events = pair.client.receive_data(_server_writes(pair, ALERT, [warning] * 2))

    assert len(events) == 2
    assert pair.client.handshake_complete


def test_application_data_resets_the_warning_count() -> None:
    pair = _connected(client=Limits(max_warning_alerts=2))
    warning = alert_bytes(_D.unrecognized_name, AlertLevel.warning)

    for _ in range(3):
        pair.client.receive_data(_server_writes(pair, ALERT, [warning] * 2))
        pair.client.receive_data(_server_writes(pair, APPLICATION_DATA, [b"x"]))

    assert pair.client.handshake_complete


def test_exactly_the_limit_of_empty_records_is_accepted() -> None:
    pair = _connected(client=Limits(max_empty_records=2))

    events = pair.client.receive_data(
        _server_writes(pair, APPLICATION_DATA, [b"", b"", b"data", b"", b""])
    )

    assert events == [ApplicationData(data=b"data")]


def test_plaintext_limit_applies_to_one_call_not_the_connection() -> None:
    pair = _connected(client=Limits(max_buffered_plaintext=4096))

    for _ in range(4):
        data = _server_writes(pair, APPLICATION_DATA, [bytes(3000)])
        assert pair.client.receive_data(data) == [ApplicationData(data=bytes(3000))]


# ----------------------------------------------------------------------
# Memory, measured
# ----------------------------------------------------------------------


def _peak_during(call: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        call()
    except LocalProtocolError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def test_a_huge_input_is_never_copied_whole() -> None:
    # 4 MiB of application data in one call: the reader takes a bounded
    # slice at a time and the plaintext limit ends it after 1 MiB, so the
    # peak stays near that, far below the input's size.
    pair = _connected()
    data = _server_writes(pair, APPLICATION_DATA, [bytes(2**14)] * 256)
    assert len(data) > 4 * 2**20

    peak = _peak_during(lambda: pair.client.receive_data(data))

    assert peak < DEFAULT_MAX_BUFFERED_PLAINTEXT + 4 * DEFAULT_MAX_BUFFERED_CIPHERTEXT
    assert pair.client.state is State.FAILED


def test_many_tiny_fragments_hold_no_more_than_the_message_limit() -> None:
    # A ServerHello announced at 64 KiB, sent one byte per record: 384 KiB
    # on the wire, one call.  What is held is the message so far, within
    # the limit, never the wire bytes.
    limits = Limits(max_handshake_message=2**16)
    pair = _pair(client=limits)
    pair.client.start_handshake()
    message = bytes([HandshakeType.server_hello]) + (2**16).to_bytes(3, "big")
    message += bytes(2**16)
    data = b"".join(record(HANDSHAKE, message[i : i + 1]) for i in range(len(message)))
    most, last = data[:-6], data[-6:]

    peak = _peak_during(lambda: pair.client.receive_data(most))

    assert pair.client.buffer_use().handshake == len(message) - 1
    assert peak < 3 * 2**16
    with pytest.raises(LocalProtocolError) as caught:
        pair.client.receive_data(last)
    assert caught.value.description is _D.decode_error
    assert pair.client.buffer_use() == EMPTY


def test_ciphertext_held_between_calls_stays_below_one_record() -> None:
    pair = _connected()
    data = _server_writes(pair, APPLICATION_DATA, [bytes(2**14)] * 3)

    for start in range(0, len(data), 7000):
        pair.client.receive_data(data[start : start + 7000])
        assert pair.client.buffer_use().ciphertext < LARGEST_RECORD


# ----------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------


def test_default_limits_are_the_documented_values() -> None:
    assert DEFAULT_LIMITS == Limits(
        max_handshake_message=2**17,
        max_certificate_chain=2**18,
        max_buffered_ciphertext=2**16,
        max_buffered_plaintext=2**20,
        max_warning_alerts=8,
        max_empty_records=16,
    )
    assert DEFAULT_MAX_HANDSHAKE_MESSAGE >= 4 + 2 + 2**16 - 1  # a full ticket
    assert DEFAULT_MAX_CERTIFICATE_CHAIN > DEFAULT_MAX_HANDSHAKE_MESSAGE
    assert DEFAULT_MAX_BUFFERED_CIPHERTEXT >= LARGEST_RECORD
    assert (DEFAULT_MAX_WARNING_ALERTS, DEFAULT_MAX_EMPTY_RECORDS) == (8, 16)


@pytest.mark.parametrize(
    "changes",
    [
        {"max_handshake_message": 0},
        {"max_handshake_message": 2**24},
        {"max_certificate_chain": -1},
        {"max_buffered_ciphertext": 5},
        {"max_buffered_plaintext": 0},
        {"max_warning_alerts": -1},
        {"max_empty_records": -1},
    ],
    ids=lambda changes: "-".join(f"{k}={v}" for k, v in changes.items()),
)
def test_limits_refuse_values_out_of_range(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"Limits\."):
        Limits(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"max_empty_records": True},
        {"max_warning_alerts": 1.5},
        {"max_handshake_message": "x"},
    ],
    ids=lambda changes: "-".join(f"{k}={v}" for k, v in changes.items()),
)
def test_limits_refuse_values_that_are_not_ints(changes: dict[str, object]) -> None:
    with pytest.raises(TypeError, match=r"Limits\..*expected an int"):
        Limits(**changes)  # type: ignore[arg-type]


def test_configs_carry_limits_and_refuse_anything_else() -> None:
    identity = fixed_ecdsa_identity()
    limits = Limits(max_empty_records=0)

    assert ClientConfig(verify=False, limits=limits).limits is limits
    assert ServerConfig([identity.cert], identity.key).limits is DEFAULT_LIMITS
    with pytest.raises(TypeError, match="limits"):
        ClientConfig(verify=False, limits={"max_empty_records": 0})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="limits"):
        dataclasses.replace(
            ServerConfig([identity.cert], identity.key),
            limits=None,  # type: ignore[arg-type]
        )
