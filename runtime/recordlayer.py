"""Framing bytes into records and back (RFC 5246 §6.2).

:class:`RecordReader` cuts the incoming byte stream into records, checks
each header, and opens the fragment with the read protection once the peer's
ChangeCipherSpec has switched it on.  It hands out one record at a time,
because handling one record (a ChangeCipherSpec) changes how the next is
read.  :class:`RecordWriter` does the reverse: it coalesces the handshake
messages of one flight into as few records as fit, fragments anything
larger than 2^14 bytes, and seals records with the write protection.

Header checks, in the order a receiver can make them (RFC 5246 §6.2.1):

* the content type must be one TLS 1.2 defines for us: change_cipher_spec,
  alert, handshake, application_data.  Anything else, heartbeat included
  (we do not negotiate RFC 6520), is ``unexpected_message``;
* the version: before the hellos settle it any {3, x} is accepted (RFC 5246
  Appendix E.1: servers "MUST accept any value {03,XX}" for the ClientHello
  record), afterwards only {3, 3}; a wrong one is ``protocol_version``;
* the length: above 2^14 for a plaintext record, or 2^14 + 2048 for a
  protected one, is ``record_overflow`` at once, before the body arrives;
* then our own bound: a record longer than the reader's ``capacity``
  (``Limits.max_buffered_ciphertext``) is ``internal_error``, since it is
  legal but does not fit the memory we set aside.  With the default
  capacity every legal record fits.
"""

from __future__ import annotations

import struct
from typing import Final

from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime.alerts import TLS12_RECORD_VERSION, LocalProtocolError
from tlsspec.runtime.record import (
    MAX_CIPHERTEXT_LENGTH,
    MAX_PLAINTEXT_LENGTH,
    RecordProtection,
)

__all__ = [
    "CONTENT_ALERT",
    "CONTENT_APPLICATION_DATA",
    "CONTENT_CHANGE_CIPHER_SPEC",
    "CONTENT_HANDSHAKE",
    "RecordReader",
    "RecordWriter",
]

# RFC 5246 §6.2.1 / Appendix A.1: ContentType.
CONTENT_CHANGE_CIPHER_SPEC: Final = 20
CONTENT_ALERT: Final = 21
CONTENT_HANDSHAKE: Final = 22
CONTENT_APPLICATION_DATA: Final = 23
_KNOWN_CONTENT: Final = frozenset(
    {
        CONTENT_CHANGE_CIPHER_SPEC,
        CONTENT_ALERT,
        CONTENT_HANDSHAKE,
        CONTENT_APPLICATION_DATA,
    }
)

# type(1) version(2) length(2).
_HEADER: Final = struct.Struct("!BHH")
_HEADER_LENGTH: Final = _HEADER.size
# RFC 5246 §6.2.1: ProtocolVersion.major is 3 for SSL 3.0 through TLS 1.2.
_MAJOR_VERSION: Final = 3


class RecordReader:
    """Whole records from the incoming stream, opened and checked."""

    __slots__ = ("_buffer", "_capacity", "_position", "_protection", "version")

    def __init__(self, *, capacity: int | None = None) -> None:
        self._buffer = bytearray()
        self._position = 0
        #: The most bytes of one record held; None holds any legal record.
        self._capacity = capacity
        self._protection: RecordProtection | None = None
        #: The record version required from now on; None accepts {3, x}.
        self.version: int | None = None

    def feed(self, data: bytes | memoryview) -> None:
        """Append bytes received from the transport.

        The caller keeps what it feeds below ``capacity`` (see
        :meth:`room`); the reader only refuses records that cannot fit.
        """
        if self._position:
            del self._buffer[: self._position]
            self._position = 0
        self._buffer += data

    def room(self) -> int:
        """How many more bytes may be fed without passing ``capacity``."""
        if self._capacity is None:
            return MAX_CIPHERTEXT_LENGTH + _HEADER_LENGTH
        return self._capacity - self.buffered

    def clear(self) -> None:
        """Drop every buffered byte (after the connection ended)."""
        self._buffer = bytearray()
        self._position = 0

    @property
    def protected(self) -> bool:
        """Whether records are opened with keys (after the peer's CCS)."""
        return self._protection is not None

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete record waiting for the rest."""
        return len(self._buffer) - self._position

    def set_protection(self, protection: RecordProtection) -> None:
        """Open every later record with ``protection`` (RFC 5246 §7.1)."""
        self._protection = protection

    def next_record(self) -> tuple[int, bytes] | None:
        """Return the next whole record, or None until more bytes arrive.

        Returns:
            ``(content_type, plaintext fragment)``.

        Raises:
            LocalProtocolError: unexpected_message, protocol_version or
                record_overflow for a bad header; bad_record_mac or
                record_overflow from the read protection.
        """
        buffer = self._buffer
        start = self._position
        if len(buffer) - start < _HEADER_LENGTH:
            return None
        content_type, version, length = _HEADER.unpack_from(buffer, start)
        self._check_header(content_type, version, length)
        end = start + _HEADER_LENGTH + length
        if len(buffer) < end:
            return None
        self._position = end

        # One copy out of the buffer; the view is released before the
        # buffer may be resized again.
        with memoryview(buffer) as view:
            fragment = bytes(view[start + _HEADER_LENGTH : end])
        if self._protection is not None:
            fragment = self._protection.decrypt(content_type, fragment)
        return content_type, fragment

    def _check_header(self, content_type: int, version: int, length: int) -> None:
        if content_type not in _KNOWN_CONTENT:
            raise LocalProtocolError(
                f"TLSPlaintext.type: {content_type}, expected change_cipher_spec, "
                "alert, handshake or application_data",
                AlertDescription.unexpected_message,
            )
        if self.version is None:
            if version >> 8 != _MAJOR_VERSION:
                raise LocalProtocolError(
                    f"TLSPlaintext.version: 0x{version:04X}, expected {{3, x}}",
                    AlertDescription.protocol_version,
                )
        elif version != self.version:
            raise LocalProtocolError(
                f"TLSPlaintext.version: 0x{version:04X}, expected 0x{self.version:04X}",
                AlertDescription.protocol_version,
            )
        limit = MAX_PLAINTEXT_LENGTH
        if self._protection is not None:
            limit = MAX_CIPHERTEXT_LENGTH
        if length > limit:
            raise LocalProtocolError(
                f"TLSPlaintext.length: {length}, expected at most {limit} "
                "(RFC 5246 §6.2.1, §6.2.3)",
                AlertDescription.record_overflow,
            )
        # LIMITATION: no smaller records are negotiated (RFC 6066 §4
        # max_fragment_length, RFC 8449 record_size_limit); matters when
        # Limits.max_buffered_ciphertext is set below the largest legal
        # record; instead a longer record is refused with internal_error.
        capacity = self._capacity
        if capacity is not None and _HEADER_LENGTH + length > capacity:
            raise LocalProtocolError(
                f"TLSPlaintext.length: {length}, a record of "
                f"{_HEADER_LENGTH + length} bytes does not fit the "
                f"{capacity} bytes of Limits.max_buffered_ciphertext",
                AlertDescription.internal_error,
            )


class RecordWriter:
    """Records to send, sealed once the write protection is switched on."""

    __slots__ = ("_out", "_pending", "_protection")

    def __init__(self) -> None:
        # Framed records, joined only when taken.
        self._out: list[bytes] = []
        self._pending = bytearray()
        self._protection: RecordProtection | None = None

    @property
    def protected(self) -> bool:
        """Whether records are sealed with keys (after our CCS)."""
        return self._protection is not None

    def queue_handshake(self, message: bytes) -> None:
        """Add a handshake message to the current flight.

        Messages accumulate until :meth:`flush` (or any other content type)
        so a flight leaves in as few records as possible (RFC 5246 §6.2.1
        lets messages share records).
        """
        self._pending += message

    def write(self, content_type: int, data: bytes) -> None:
        """Send ``data`` as records of ``content_type``, after the flight."""
        self.flush()
        self._frame(content_type, data)

    def flush(self) -> None:
        """Frame the queued handshake messages into records."""
        if self._pending:
            pending = bytes(self._pending)
            self._pending.clear()
            self._frame(CONTENT_HANDSHAKE, pending)

    def discard_pending(self) -> None:
        """Drop queued, unframed handshake messages (after a failure)."""
        self._pending.clear()

    def set_protection(self, protection: RecordProtection) -> None:
        """Seal every later record with ``protection`` (RFC 5246 §7.1)."""
        self.flush()
        self._protection = protection

    def take(self) -> bytes:
        """Return and forget every framed byte."""
        data = b"".join(self._out)
        self._out.clear()
        return data

    def _frame(self, content_type: int, data: bytes) -> None:
        # RFC 5246 §6.2.1: at most 2^14 bytes of plaintext per record.  An
        # empty write still makes one record (application data may be
        # empty; handshake and alert callers never write nothing).
        out = self._out
        protection = self._protection
        chunks = [data]
        if len(data) > MAX_PLAINTEXT_LENGTH:
            view = memoryview(data)
            chunks = [
                bytes(view[offset : offset + MAX_PLAINTEXT_LENGTH])
                for offset in range(0, len(data), MAX_PLAINTEXT_LENGTH)
            ]
        for chunk in chunks:
            if protection is not None:
                chunk = protection.encrypt(content_type, chunk)
            out.append(_HEADER.pack(content_type, TLS12_RECORD_VERSION, len(chunk)))
            out.append(chunk)
