"""Records to handshake messages.

RFC 5246 §6.2.1: a handshake message may be fragmented over several
records, and several messages may share one record. :class:`HandshakeBuffer`
takes handshake-record fragments as they arrive and yields whole messages
(4-byte header and body, the bytes the transcript hashes).
:func:`split_records` cuts a byte stream into TLSPlaintext records with the
generated codec.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from tlsspec.errors import DecodeError
from tlsspec.generated.handshake import HandshakeType
from tlsspec.generated.record import ContentType, TLSPlaintext

__all__ = [
    "HANDSHAKE_HEADER_LENGTH",
    "MAX_HANDSHAKE_BODY",
    "RECORD_HEADER_LENGTH",
    "HandshakeBuffer",
    "Record",
    "split_records",
]

RECORD_HEADER_LENGTH = 5
HANDSHAKE_HEADER_LENGTH = 4
# The header read as one big-endian word: msg_type, then the uint24 length.
_HEADER: Final = struct.Struct(">I")
_LENGTH_BITS: Final = 24
_LENGTH_MASK: Final = (1 << _LENGTH_BITS) - 1
# RFC 5246 §7.4: Handshake.length is a uint24.
MAX_HANDSHAKE_BODY: Final = 2**24 - 1


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

    Each message's 4-byte header is checked as soon as it is complete,
    before a byte of the body is buffered: first ``check_type`` (the engine
    asks its state table whether the type may come now), then the 24-bit
    length against the limit for that type.  So a peer cannot make us hold
    more than one message's limit, nor any body of a message we would
    refuse anyway.

    Args:
        max_message: Largest message body accepted.
        max_certificate: Largest Certificate body accepted; defaults to
            ``max_message``.
        check_type: Called with each message's type byte once its header
            is complete; raises to refuse the message.  One given to
            :meth:`feed` takes its place for that call.
        limit_names: The names of the two limits, for error messages, e.g.
            ``("Limits.max_handshake_message", "Limits.max_certificate_chain")``.
    """

    def __init__(
        self,
        *,
        max_message: int = MAX_HANDSHAKE_BODY,
        max_certificate: int | None = None,
        check_type: Callable[[int], object] | None = None,
        limit_names: tuple[str, str] = ("max_message", "max_certificate"),
    ) -> None:
        self._buffer = bytearray()
        self.max_message = max_message
        if max_certificate is None:
            max_certificate = max_message
        self.max_certificate = max_certificate
        self._check_type = check_type
        self._limit_names = limit_names

    def __len__(self) -> int:
        return len(self._buffer)

    def feed(
        self, fragment: bytes, check_type: Callable[[int], object] | None = None
    ) -> Iterator[bytes]:
        """Add one record's fragment; yield every message now complete.

        Messages are yielded one at a time, and the next header is only
        checked once the caller asks for the next message, so a
        ``check_type`` that reads the caller's state sees it up to date.

        Args:
            fragment: The record's plaintext.
            check_type: Used for this call instead of the constructor's.

        Raises:
            DecodeError: A message declares a length above its limit.
            Exception: Whatever ``check_type`` raises.
        """
        buffer = self._buffer
        buffer += fragment
        while len(buffer) >= HANDSHAKE_HEADER_LENGTH:
            (header,) = _HEADER.unpack_from(buffer)
            length = header & _LENGTH_MASK
            self._check_header(header >> _LENGTH_BITS, length, check_type)
            total = HANDSHAKE_HEADER_LENGTH + length
            if len(buffer) < total:
                return
            message = bytes(buffer[:total])
            del buffer[:total]
            yield message

    def clear(self) -> None:
        """Drop buffered bytes (after a fatal error)."""
        self._buffer.clear()

    def _check_header(
        self, msg_type: int, length: int, check_type: Callable[[int], object] | None
    ) -> None:
        if check_type is None:
            check_type = self._check_type
        if check_type is not None:
            check_type(msg_type)
        certificate = msg_type == HandshakeType.certificate
        limit = self.max_certificate if certificate else self.max_message
        if length > limit:
            name = self._limit_names[1 if certificate else 0]
            raise DecodeError(
                f"{_type_name(msg_type)} of {length} bytes is above the limit "
                f"of {limit} ({name})",
                path="Handshake.length",
            )


def _type_name(msg_type: int) -> str:
    try:
        return HandshakeType(msg_type).name
    except ValueError:
        return f"handshake type {msg_type}"


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
