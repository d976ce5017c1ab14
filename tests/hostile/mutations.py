"""Mutations of a recorded byte stream, as hypothesis strategies.

A stream is first cut into records (:class:`Unit`); plaintext handshake
records are optionally re-cut to one message per record, so that record
operations act on single messages of the first flights as well as on the
encrypted records of the later ones.  Operations come in two layers:

* record operations (:class:`RecordOp`): split a record at a point, merge
  two neighbours, swap (reorder), duplicate, drop, insert a record, change
  a record's type, version or length field, or a handshake message's
  24-bit length;
* byte operations (:class:`ByteOp`) on the stream rebuilt from the
  records: flip bits, truncate, insert bytes.

Every index is taken modulo the current length, so any drawn operation
applies to any stream and shrinking stays meaningful.  The stream is then
fed in chunks whose sizes are drawn too.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import Final

from hypothesis import strategies as st

# RFC 5246 §6.2.1 content types, and RFC 6520's heartbeat.
CCS: Final = 20
ALERT: Final = 21
HANDSHAKE: Final = 22
APPLICATION_DATA: Final = 23
HEARTBEAT: Final = 24
_HEADER: Final = struct.Struct("!BHH")
_HANDSHAKE_HEADER: Final = 4
_UINT16_MAX: Final = 2**16 - 1
_UINT24_MAX: Final = 2**24 - 1


@dataclass(frozen=True)
class Unit:
    """One record: its header fields and payload.

    ``length`` overrides the header's length field (else ``len(payload)``).
    """

    content_type: int
    version: int
    payload: bytes
    protected: bool
    length: int | None = None

    def encode(self) -> bytes:
        length = len(self.payload) if self.length is None else self.length
        header = _HEADER.pack(self.content_type, self.version, length & _UINT16_MAX)
        return header + self.payload


def cut(stream: bytes, *, one_message_per_record: bool) -> list[Unit]:
    """Cut a well-formed stream into records, marking the protected ones."""
    units = []
    protected = False
    position = 0
    while position + _HEADER.size <= len(stream):
        content_type, version, length = _HEADER.unpack_from(stream, position)
        start = position + _HEADER.size
        payload = stream[start : start + length]
        position = start + length
        if content_type == HANDSHAKE and not protected and one_message_per_record:
            units += [
                Unit(content_type, version, message, protected)
                for message in _messages(payload)
            ]
        else:
            units.append(Unit(content_type, version, payload, protected))
        if content_type == CCS:
            protected = True
    return units


def _messages(payload: bytes) -> list[bytes]:
    # Whole handshake messages; a fragment that does not end on a message
    # boundary stays whole.
    messages = []
    position = 0
    while position + _HANDSHAKE_HEADER <= len(payload):
        length = int.from_bytes(payload[position + 1 : position + 4], "big")
        end = position + _HANDSHAKE_HEADER + length
        if end > len(payload):
            break
        messages.append(payload[position:end])
        position = end
    if position != len(payload):
        return [payload]
    return messages


def join(units: list[Unit]) -> bytes:
    """The stream the records make."""
    return b"".join(unit.encode() for unit in units)


# ----------------------------------------------------------------------
# Record operations
# ----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordOp:
    """Base of the operations on the list of records."""

    index: int

    def apply(self, units: list[Unit]) -> list[Unit]:
        if not units:
            return units
        return self._apply(units, self.index % len(units))

    def _apply(self, units: list[Unit], at: int) -> list[Unit]:
        raise NotImplementedError


@dataclass(frozen=True)
class Split(RecordOp):
    """Fragment one record in two at a point (RFC 5246 §6.2.1)."""

    point: int

    def _apply(self, units: list[Unit], at: int) -> list[Unit]:
        unit = units[at]
        point = self.point % (len(unit.payload) + 1)
        first = replace(unit, payload=unit.payload[:point], length=None)
        second = replace(unit, payload=unit.payload[point:], length=None)
        return [*units[:at], first, second, *units[at + 1 :]]


@dataclass(frozen=True)
class Merge(RecordOp):
    """Coalesce a record with the next one, keeping the first's header."""

    def _apply(self, units: list[Unit], at: int) -> list[Unit]:
        if at + 1 >= len(units):
            return units
        first, second = units[at], units[at + 1]
        merged = replace(first, payload=first.payload + second.payload, length=None)
        return [*units[:at], merged, *units[at + 2 :]]


@dataclass(frozen=True)
class Swap(RecordOp):
    """Reorder: exchange two records."""

    other: int

    def _apply(self, units: list[Unit], at: int) -> list[Unit]:
        other = self.other % len(units)
        out = list(units)
        out[at], out[other] = out[other], out[at]
        return out


@dataclass(frozen=True)
class Duplicate(RecordOp):
    """Send a record twice (a replay)."""

    def _apply(self, units: list[Unit], at: int) -> list[Unit]:
        return [*units[: at + 1], units[at], *units[at + 1 :]]


@dataclass(frozen=True)
class Drop(RecordOp):
    """Leave a record out."""

    def _apply(self, units: list[Unit], at: int) -> list[Unit]:
        return [*units[:at], *units[at + 1 :]]


@dataclass(frozen=True)
class Insert(RecordOp):
    """Insert a plaintext record of any type before a record."""

    content_type: int
    payload: bytes

    def _apply(self, units: list[Unit], at: int) -> list[Unit]:
        unit = Unit(self.content_type, units[at].version, self.payload, False)
        return [*units[:at], unit, *units[at:]]


@dataclass(frozen=True)
class SetType(RecordOp):
    """Change a record's content type."""

    content_type: int

    def _apply(self, units: list[Unit], at: int) -> list[Unit]:
        changed = replace(units[at], content_type=self.content_type)
        return [*units[:at], changed, *units[at + 1 :]]


@dataclass(frozen=True)
class SetVersion(RecordOp):
    """Change a record's version field."""

    version: int

    def _apply(self, units: list[Unit], at: int) -> list[Unit]:
        changed = replace(units[at], version=self.version)
        return [*units[:at], changed, *units[at + 1 :]]


@dataclass(frozen=True)
class SetRecordLength(RecordOp):
    """Make a record's length field lie: ``delta`` or an absolute value."""

    delta: int
    absolute: int | None

    def _apply(self, units: list[Unit], at: int) -> list[Unit]:
        unit = units[at]
        length = self.absolute
        if length is None:
            length = max(0, len(unit.payload) + self.delta)
        return [*units[:at], replace(unit, length=length), *units[at + 1 :]]


@dataclass(frozen=True)
class SetHandshakeLength(RecordOp):
    """Change the 24-bit length of the handshake message a record starts."""

    delta: int
    absolute: int | None

    def _apply(self, units: list[Unit], at: int) -> list[Unit]:
        unit = units[at]
        if unit.protected or len(unit.payload) < _HANDSHAKE_HEADER:
            return units
        old = int.from_bytes(unit.payload[1:4], "big")
        length = self.absolute
        if length is None:
            length = min(max(0, old + self.delta), _UINT24_MAX)
        payload = unit.payload[:1] + length.to_bytes(3, "big") + unit.payload[4:]
        return [*units[:at], replace(unit, payload=payload), *units[at + 1 :]]


# ----------------------------------------------------------------------
# Byte operations
# ----------------------------------------------------------------------


@dataclass(frozen=True)
class ByteOp:
    """Base of the operations on the rebuilt stream."""

    position: int

    def apply(self, stream: bytes) -> bytes:
        raise NotImplementedError


@dataclass(frozen=True)
class Flip(ByteOp):
    """XOR one byte with a non-zero mask."""

    mask: int

    def apply(self, stream: bytes) -> bytes:
        if not stream:
            return stream
        at = self.position % len(stream)
        return stream[:at] + bytes([stream[at] ^ self.mask]) + stream[at + 1 :]


@dataclass(frozen=True)
class Truncate(ByteOp):
    """End the stream early."""

    def apply(self, stream: bytes) -> bytes:
        return stream[: self.position % (len(stream) + 1)]


@dataclass(frozen=True)
class InsertBytes(ByteOp):
    """Insert bytes anywhere, across record boundaries."""

    data: bytes

    def apply(self, stream: bytes) -> bytes:
        at = self.position % (len(stream) + 1)
        return stream[:at] + self.data + stream[at:]


@dataclass(frozen=True)
class Mutation:
    """Everything drawn for one example."""

    one_message_per_record: bool
    record_ops: tuple[RecordOp, ...]
    byte_ops: tuple[ByteOp, ...]
    chunk_sizes: tuple[int, ...]

    def apply(self, stream: bytes) -> bytes:
        units = cut(stream, one_message_per_record=self.one_message_per_record)
        for op in self.record_ops:
            units = op.apply(units)
        out = join(units)
        for byte_op in self.byte_ops:
            out = byte_op.apply(out)
        return out

    def chunks(self, stream: bytes) -> list[bytes]:
        """``stream`` cut with the drawn sizes, cycled."""
        out = []
        position = 0
        turn = 0
        while position < len(stream):
            size = self.chunk_sizes[turn % len(self.chunk_sizes)]
            out.append(stream[position : position + size])
            position += size
            turn += 1
        return out


# ----------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------

_INDEX = st.integers(0, 63)
_TYPES = st.sampled_from([CCS, ALERT, HANDSHAKE, APPLICATION_DATA, HEARTBEAT, 0, 255])
# Payloads a peer might plausibly inject: a warning and a fatal alert, a
# HelloRequest, a CCS, nothing, or random bytes.
_PAYLOADS = st.one_of(
    st.sampled_from([b"\x01\x00", b"\x01\x70", b"\x02\x28", b"\x00\x00\x00\x00"]),
    st.sampled_from([b"\x01", b""]),
    st.binary(max_size=40),
)
_RECORD_LENGTHS = st.sampled_from(
    [0, 1, 2**14, 2**14 + 1, 2**14 + 2048, 2**14 + 2049, _UINT16_MAX]
)
_HANDSHAKE_LENGTHS = st.sampled_from([0, 1, 2**11, 2**12 + 1, 2**14, _UINT24_MAX])
_DELTAS = st.integers(-5, 5)


def _maybe(values: st.SearchStrategy[int]) -> st.SearchStrategy[int | None]:
    return st.one_of(st.none(), values)


RECORD_OPS: Final[st.SearchStrategy[RecordOp]] = st.one_of(
    st.builds(Split, _INDEX, st.integers(0, 2**14)),
    st.builds(Merge, _INDEX),
    st.builds(Swap, _INDEX, _INDEX),
    st.builds(Duplicate, _INDEX),
    st.builds(Drop, _INDEX),
    st.builds(Insert, _INDEX, _TYPES, _PAYLOADS),
    st.builds(SetType, _INDEX, _TYPES),
    st.builds(SetVersion, _INDEX, st.sampled_from([0x0300, 0x0301, 0x0304, 0x0203])),
    st.builds(SetRecordLength, _INDEX, _DELTAS, _maybe(_RECORD_LENGTHS)),
    st.builds(SetHandshakeLength, _INDEX, _DELTAS, _maybe(_HANDSHAKE_LENGTHS)),
)
BYTE_OPS: Final[st.SearchStrategy[ByteOp]] = st.one_of(
    st.builds(Flip, st.integers(0, 2**12), st.integers(1, 255)),
    st.builds(Truncate, st.integers(0, 2**12)),
    st.builds(InsertBytes, st.integers(0, 2**12), st.binary(min_size=1, max_size=16)),
)
CHUNK_SIZES: Final = st.lists(st.integers(1, 2048), min_size=1, max_size=6).map(tuple)


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    """At least one change, record-level, byte-level or both."""
    record_ops = tuple(draw(st.lists(RECORD_OPS, max_size=3)))
    byte_ops = tuple(
        draw(st.lists(BYTE_OPS, min_size=0 if record_ops else 1, max_size=2))
    )
    return Mutation(
        one_message_per_record=draw(st.booleans()),
        record_ops=record_ops,
        byte_ops=byte_ops,
        chunk_sizes=draw(CHUNK_SIZES),
    )
