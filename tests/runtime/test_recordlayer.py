"""The record layer: records cut out of the stream, opened in place, framed.

The reader opens whole records where they lie in the caller's input and
keeps only the start of a record the input cuts off.  These tests check
that the cut never matters (every byte boundary, any number of pieces),
that what is kept stays within one record and ``capacity``, that each bad
header or record draws its exact alert wherever it sits in a batch, and
that no view of the caller's buffer outlives a call, even one that failed.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.record import (
    MAX_CIPHERTEXT_LENGTH,
    MAX_PLAINTEXT_LENGTH,
    RecordProtection,
    new_record_protection,
)
from tlsspec.runtime.recordlayer import (
    CONTENT_ALERT,
    CONTENT_APPLICATION_DATA,
    CONTENT_CHANGE_CIPHER_SPEC,
    CONTENT_HANDSHAKE,
    RecordReader,
    RecordWriter,
)
from tlsspec.runtime.suites import SUITES_BY_CODE, CipherSuite, split_key_block

_D = AlertDescription
TLS12: Final = 0x0303
HEADER: Final = struct.Struct("!BHH")
CAPACITY: Final = 2**16

# One suite per protection family, CBC both ways (RFC 7366 or not).
FAMILIES = [
    pytest.param(SUITES_BY_CODE[0xC02F], False, id="AES-GCM"),
    pytest.param(SUITES_BY_CODE[0xCCA8], False, id="ChaCha20-Poly1305"),
    pytest.param(SUITES_BY_CODE[0xC027], False, id="CBC-MtE"),
    pytest.param(SUITES_BY_CODE[0xC027], True, id="CBC-EtM"),
]
# Lengths that cross the cipher block and the header at different places.
MESSAGES: Final = [b"a", bytes(range(256)) * 2, b"", b"z" * 47]


def _protection(suite: CipherSuite, etm: bool) -> RecordProtection:
    pattern = bytes((7 * i + 3) % 256 for i in range(suite.key_block_length))
    keys = split_key_block(suite, pattern).client
    # A fixed IV source keeps CBC output identical from one call to the next.
    return new_record_protection(
        suite, keys, encrypt_then_mac=etm, random_bytes=lambda n: bytes(n)
    )


def _writer(suite: CipherSuite, etm: bool) -> RecordWriter:
    writer = RecordWriter()
    writer.set_protection(_protection(suite, etm))
    return writer


def _reader(
    suite: CipherSuite | None = None, etm: bool = False, capacity: int = CAPACITY
) -> RecordReader:
    reader = RecordReader(capacity=capacity)
    reader.version = TLS12
    if suite is not None:
        reader.set_protection(_protection(suite, etm))
    return reader


def _wire(suite: CipherSuite, etm: bool, messages: list[bytes]) -> bytes:
    writer = _writer(suite, etm)
    for message in messages:
        writer.write(CONTENT_APPLICATION_DATA, message)
    return writer.take()


def _read_in_pieces(reader: RecordReader, wire: bytes, cuts: list[int]) -> list[bytes]:
    opened = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        for content_type, fragment in reader.read(wire[start:end]):
            assert content_type == CONTENT_APPLICATION_DATA
            opened.append(fragment)
    return opened


def _plain(content_type: int, fragment: bytes, version: int = TLS12) -> bytes:
    return HEADER.pack(content_type, version, len(fragment)) + fragment


def _expect_alert(
    description: AlertDescription, action: Callable[[], object]
) -> LocalProtocolError:
    with pytest.raises(LocalProtocolError) as caught:
        action()
    assert caught.value.description == description
    return caught.value


# ----------------------------------------------------------------------
# Reading: where the input is cut does not matter
# ----------------------------------------------------------------------


@pytest.mark.parametrize(("suite", "etm"), FAMILIES)
def test_records_cut_at_every_byte_boundary_open_the_same(
    suite: CipherSuite, etm: bool
) -> None:
    wire = _wire(suite, etm, MESSAGES)

    for cut in range(len(wire) + 1):
        reader = _reader(suite, etm)
        assert _read_in_pieces(reader, wire, [cut]) == MESSAGES, cut
        assert reader.buffered == 0


@pytest.mark.parametrize(("suite", "etm"), FAMILIES)
def test_records_fed_one_byte_at_a_time_open_the_same(
    suite: CipherSuite, etm: bool
) -> None:
    wire = _wire(suite, etm, MESSAGES)
    reader = _reader(suite, etm)

    assert _read_in_pieces(reader, wire, list(range(1, len(wire)))) == MESSAGES
    assert reader.buffered == 0


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=1200), max_size=8))
def test_records_cut_anywhere_any_number_of_times_open_the_same(
    cuts: list[int],
) -> None:
    suite = SUITES_BY_CODE[0xC02F]
    wire = _wire(suite, False, MESSAGES)
    reader = _reader(suite)

    cuts = sorted(min(cut, len(wire)) for cut in cuts)
    assert _read_in_pieces(reader, wire, cuts) == MESSAGES


def test_many_records_in_one_input_come_out_in_order() -> None:
    suite = SUITES_BY_CODE[0xC02F]
    messages = [bytes([i]) * (i * 97 % 3000 + 1) for i in range(100)]
    messages.append(bytes(MAX_PLAINTEXT_LENGTH))
    wire = _wire(suite, False, messages)
    reader = _reader(suite)

    assert [fragment for _, fragment in reader.read(wire)] == messages
    assert reader.buffered == 0


# ----------------------------------------------------------------------
# Reading: what is kept between inputs
# ----------------------------------------------------------------------


def test_keeps_only_the_start_of_the_record_the_input_cuts_off() -> None:
    suite = SUITES_BY_CODE[0xC02F]
    wire = _wire(suite, False, [b"one", b"two", bytes(5000)])
    third = len(wire) - (5 + 8 + 5000 + 16)
    reader = _reader(suite)

    opened = list(reader.read(wire[: third + 100]))
    assert [fragment for _, fragment in opened] == [b"one", b"two"]
    assert reader.buffered == 100

    opened = list(reader.read(wire[third + 100 :]))
    assert opened == [(CONTENT_APPLICATION_DATA, bytes(5000))]
    assert reader.buffered == 0


def test_keeps_a_partial_header_until_it_is_whole() -> None:
    reader = _reader()
    record = _plain(CONTENT_HANDSHAKE, b"hello")

    for end in range(1, 5):
        assert list(reader.read(record[end - 1 : end])) == []
        assert reader.buffered == end
    assert list(reader.read(record[4:])) == [(CONTENT_HANDSHAKE, b"hello")]
    assert reader.buffered == 0


def test_what_is_kept_never_passes_capacity() -> None:
    capacity = 600
    reader = _reader(capacity=capacity)
    wire = b"".join(_plain(CONTENT_HANDSHAKE, bytes([i]) * 590) for i in range(8))

    opened = []
    for start in range(0, len(wire), 997):
        opened += reader.read(wire[start : start + 997])
        assert reader.buffered < capacity
    assert [fragment[0] for _, fragment in opened] == list(range(8))


def test_stopping_early_drops_the_rest_of_the_input() -> None:
    reader = _reader()
    wire = _plain(CONTENT_ALERT, b"\x01\x00") + _plain(CONTENT_HANDSHAKE, b"x" * 10)

    records = reader.read(wire[:-3])
    assert next(records) == (CONTENT_ALERT, b"\x01\x00")
    records.close()

    assert reader.buffered == 0


def test_protection_switched_after_a_record_opens_the_next_one() -> None:
    suite = SUITES_BY_CODE[0xCCA8]
    protected = _wire(suite, False, [b"under the new keys"])
    reader = _reader()

    opened = []
    for content_type, fragment in reader.read(
        _plain(CONTENT_CHANGE_CIPHER_SPEC, b"\x01") + protected
    ):
        opened.append(fragment)
        if content_type == CONTENT_CHANGE_CIPHER_SPEC:
            reader.set_protection(_protection(suite, False))

    assert opened == [b"\x01", b"under the new keys"]


def test_version_fixed_after_a_record_applies_to_the_next_one() -> None:
    reader = RecordReader(capacity=CAPACITY)
    wire = _plain(CONTENT_HANDSHAKE, b"hello", 0x0301) * 2

    records = reader.read(wire)
    assert next(records) == (CONTENT_HANDSHAKE, b"hello")
    reader.version = TLS12
    _expect_alert(_D.protocol_version, lambda: next(records))


# ----------------------------------------------------------------------
# Reading: bad records, alone or in the middle of a batch
# ----------------------------------------------------------------------

# A header, whether or not its body has arrived: the alert is drawn from the
# header alone.  Lengths are checked against a protected reader.
BAD_HEADERS = [
    pytest.param(HEADER.pack(24, TLS12, 10), _D.unexpected_message, id="heartbeat"),
    pytest.param(HEADER.pack(99, TLS12, 10), _D.unexpected_message, id="type-99"),
    pytest.param(
        HEADER.pack(CONTENT_APPLICATION_DATA, 0x0302, 40),
        _D.protocol_version,
        id="tls-1.1",
    ),
    pytest.param(
        HEADER.pack(CONTENT_APPLICATION_DATA, TLS12, MAX_CIPHERTEXT_LENGTH + 1),
        _D.record_overflow,
        id="overflow",
    ),
]


@pytest.mark.parametrize(("header", "alert"), BAD_HEADERS)
@pytest.mark.parametrize("body", ["whole", "missing"])
def test_bad_header_after_good_records_draws_its_alert(
    header: bytes, alert: AlertDescription, body: str
) -> None:
    suite = SUITES_BY_CODE[0xC02F]
    good = _wire(suite, False, [b"first", b"second"])
    length = HEADER.unpack(header)[2]
    bad = header + (bytes(length) if body == "whole" else b"")
    reader = _reader(suite)

    records = reader.read(good + bad + good)
    assert [next(records)[1], next(records)[1]] == [b"first", b"second"]
    _expect_alert(alert, lambda: next(records))


def test_plaintext_record_over_2_14_is_a_record_overflow() -> None:
    reader = _reader()
    header = HEADER.pack(CONTENT_HANDSHAKE, TLS12, MAX_PLAINTEXT_LENGTH + 1)
    error = _expect_alert(_D.record_overflow, lambda: list(reader.read(header)))
    assert str(error).startswith("TLSPlaintext.length: 16385, expected at most 16384")


def test_protected_record_over_2_14_plus_2048_names_the_ciphertext() -> None:
    reader = _reader(SUITES_BY_CODE[0xC02F])
    header = HEADER.pack(CONTENT_APPLICATION_DATA, TLS12, MAX_CIPHERTEXT_LENGTH + 1)
    error = _expect_alert(_D.record_overflow, lambda: list(reader.read(header)))
    assert str(error).startswith("TLSCiphertext.length: 18433, expected at most 18432")


def test_record_longer_than_capacity_is_refused_from_its_header() -> None:
    reader = _reader(capacity=1024)
    header = HEADER.pack(CONTENT_HANDSHAKE, TLS12, 1024)
    _expect_alert(_D.internal_error, lambda: list(reader.read(header)))
    assert reader.buffered <= 1024


@pytest.mark.parametrize(("suite", "etm"), FAMILIES)
@pytest.mark.parametrize("split", ["one input", "cut inside it"])
def test_tampered_record_in_a_batch_fails_after_the_good_ones(
    suite: CipherSuite, etm: bool, split: str
) -> None:
    wire = bytearray(_wire(suite, etm, [b"first", b"second", b"third"]))
    second = 5 + HEADER.unpack_from(wire, 0)[2]
    third = second + 5 + HEADER.unpack_from(wire, second)[2]
    wire[third - 1] ^= 0x01
    cuts = [third - 3] if split == "cut inside it" else []
    reader = _reader(suite, etm)

    opened: list[bytes] = []

    def read_all() -> None:
        for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
            opened.extend(fragment for _, fragment in reader.read(wire[start:end]))

    error = _expect_alert(_D.bad_record_mac, read_all)

    assert opened == [b"first"]
    # The read state is unusable now: the same error, whatever comes.
    again = _expect_alert(
        _D.bad_record_mac, lambda: list(reader.read(_wire(suite, etm, [b"x"])))
    )
    assert again is error


# ----------------------------------------------------------------------
# Reading: the caller's buffer is never held
# ----------------------------------------------------------------------


def test_input_buffer_can_be_resized_after_a_read() -> None:
    suite = SUITES_BY_CODE[0xC02F]
    wire = _wire(suite, False, [b"one", b"two"])
    data = bytearray(wire[:-4])
    reader = _reader(suite)

    assert [fragment for _, fragment in reader.read(data)] == [b"one"]
    data.clear()  # BufferError if a view of it were still alive
    assert [fragment for _, fragment in reader.read(wire[-4:])] == [b"two"]


def test_input_buffer_can_be_resized_after_a_failed_read() -> None:
    suite = SUITES_BY_CODE[0xC02F]
    data = bytearray(_wire(suite, False, [b"one", b"two"]))
    data[-1] ^= 0x01
    reader = _reader(suite)

    error = _expect_alert(_D.bad_record_mac, lambda: list(reader.read(data)))
    data.clear()
    # The error is kept (its traceback too), but holds no view of ``data``.
    assert error.__traceback__ is not None


def test_input_buffer_can_be_resized_after_stopping_early() -> None:
    data = bytearray(_plain(CONTENT_HANDSHAKE, b"a") * 3)
    reader = _reader()

    records = reader.read(data)
    next(records)
    records.close()
    data.clear()


# ----------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------


@pytest.mark.parametrize(("suite", "etm"), FAMILIES)
def test_sealed_record_is_its_header_then_the_encrypted_fragment(
    suite: CipherSuite, etm: bool
) -> None:
    writer = _writer(suite, etm)
    twin = _protection(suite, etm)

    writer.write(CONTENT_APPLICATION_DATA, b"framed")
    fragment = twin.encrypt(CONTENT_APPLICATION_DATA, b"framed")

    assert writer.take() == HEADER.pack(23, TLS12, len(fragment)) + fragment


@pytest.mark.parametrize(("suite", "etm"), FAMILIES)
@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_long_writes_are_cut_at_2_14_and_open_whole(
    suite: CipherSuite, etm: bool, kind: Callable[[bytes], bytes]
) -> None:
    message = bytes(range(256)) * (3 * MAX_PLAINTEXT_LENGTH // 256 + 5)
    data = kind(message)
    writer = _writer(suite, etm)

    writer.write(CONTENT_APPLICATION_DATA, data)
    opened = [fragment for _, fragment in _reader(suite, etm).read(writer.take())]

    assert [len(f) for f in opened] == [MAX_PLAINTEXT_LENGTH] * 3 + [1280]
    assert b"".join(opened) == message
    if isinstance(data, bytearray):
        data.clear()  # no view of the caller's buffer is left behind


def test_unprotected_long_writes_are_cut_at_2_14() -> None:
    writer = RecordWriter()
    writer.write(CONTENT_HANDSHAKE, bytes(MAX_PLAINTEXT_LENGTH + 1))

    opened = list(_reader().read(writer.take()))

    assert [len(f) for _, f in opened] == [MAX_PLAINTEXT_LENGTH, 1]


def test_writer_copies_a_bytearray_it_frames_unprotected() -> None:
    data = bytearray(b"mutable")
    writer = RecordWriter()

    writer.write(CONTENT_HANDSHAKE, data)
    data[:] = b"changed"

    assert writer.take() == _plain(CONTENT_HANDSHAKE, b"mutable")
