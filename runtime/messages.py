"""Records to handshake messages.

RFC 5246 §6.2.1: a handshake message may be fragmented over several
records, and several messages may share one record. :class:`HandshakeBuffer`
takes handshake-record fragments as they arrive and yields whole messages
(4-byte header and body, the bytes the transcript hashes).
:func:`split_records` cuts a byte stream into TLSPlaintext records with the
generated codec.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tlsspec.errors import DecodeError
from tlsspec.generated.record import ContentType, TLSPlaintext

__all__ = [
    "HANDSHAKE_HEADER_LENGTH",
    "RECORD_HEADER_LENGTH",
    "HandshakeBuffer",
    "Record",
    "split_records",
]

RECORD_HEADER_LENGTH = 5
HANDSHAKE_HEADER_LENGTH = 4


@dataclass(frozen=True, slots=True)
class Record:
    """One TLSPlaintext record and where it starts in the stream."""

    offset: int
    content_type: ContentType | int
    version: int
    fragment: bytes


def split_records(data: bytes) -> tuple[list[Record], bytes]:
    """Cut a stream into whole records.

    Args:
        data: Bytes as read from the transport.

    Returns:
        The whole records, and the bytes of an incomplete record at the end
        (empty when the stream ends on a record boundary).

    Raises:
        DecodeError: A record header is malformed.
    """
    records = []
    pos = 0
    while len(data) - pos >= RECORD_HEADER_LENGTH:
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        end = pos + RECORD_HEADER_LENGTH + length
        if end > len(data):
            break
        value, _ = TLSPlaintext.parse_prefix(data[pos:end])
        records.append(
            Record(pos, value["type"], int(value["version"]), value["fragment"])
        )
        pos = end
    return records, data[pos:]


class HandshakeBuffer:
    """Reassembles handshake messages from handshake-record fragments.

    Args:
        max_message: Largest message body accepted; the 24-bit length is
            checked as soon as the header is complete, before buffering the
            body.
    """

    def __init__(self, *, max_message: int = 2**24 - 1) -> None:
        self._buffer = bytearray()
        self.max_message = max_message

    def __len__(self) -> int:
        return len(self._buffer)

    def feed(self, fragment: bytes) -> Iterator[bytes]:
        """Add one record's fragment; yield every message now complete.

        Raises:
            DecodeError: A message declares a length above ``max_message``.
        """
        self._buffer += fragment
        while len(self._buffer) >= HANDSHAKE_HEADER_LENGTH:
            length = int.from_bytes(self._buffer[1:4], "big")
            if length > self.max_message:
                raise DecodeError(
                    f"handshake message of {length} bytes exceeds the limit "
                    f"of {self.max_message}",
                    path="Handshake.length",
                )
            total = HANDSHAKE_HEADER_LENGTH + length
            if len(self._buffer) < total:
                return
            message = bytes(self._buffer[:total])
            del self._buffer[:total]
            yield message

    def clear(self) -> None:
        """Drop buffered bytes (after a fatal error)."""
        self._buffer.clear()


def handshake_messages(records: list[Record]) -> Iterator[tuple[Record, bytes]]:
    """Whole handshake messages of plaintext handshake records, in order.

    Each message comes with the record in which it completed. Stops at the
    first ChangeCipherSpec: what follows is encrypted.
    """
    buffer = HandshakeBuffer()
    for record in records:
        if record.content_type == ContentType.change_cipher_spec:
            return
        if record.content_type != ContentType.handshake:
            continue
        for message in buffer.feed(record.fragment):
            yield record, message
