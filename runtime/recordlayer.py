"""Framing bytes into records and back (RFC 5246 §6.2).

:class:`RecordReader` cuts the incoming byte stream into records, checks
each header, and opens the fragment with the read protection once the peer's
ChangeCipherSpec has switched it on.  It hands out one record at a time,
because handling one record (a ChangeCipherSpec) changes how the next is
read.  A record that arrives whole is opened where it lies in the caller's
input; only a record cut off at the end of the input is copied, and kept
until the rest arrives.  :class:`RecordWriter` does the reverse: it
coalesces the handshake messages of one flight into as few records as fit,
fragments anything larger than 2^14 bytes, and seals records with the
write protection, keeping each record's ciphertext as the cipher returned
it rather than copying it next to its header.

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

from collections.abc import Iterator
from typing import Final

from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime.alerts import TLS12_RECORD_VERSION, LocalProtocolError
from tlsspec.runtime.record import (
    MAX_CIPHERTEXT_LENGTH,
    MAX_PLAINTEXT_LENGTH,
    RECORD_HEADER,
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
_HEADER: Final = RECORD_HEADER
_HEADER_LENGTH: Final = _HEADER.size
# RFC 5246 §6.2.1: ProtocolVersion.major is 3 for SSL 3.0 through TLS 1.2.
_MAJOR_VERSION: Final = 3


class RecordReader:
    """Whole records from the incoming stream, opened and checked."""

    __slots__ = ("_buffer", "_capacity", "_longest", "_protection", "version")

    def __init__(self, *, capacity: int | None = None) -> None:
        # The start of the record the last input cut off; never a whole one.
        self._buffer = bytearray()
        #: The most bytes of one record held; None holds any legal record.
        self._capacity = capacity
        self._protection: RecordProtection | None = None
        self._longest = self._longest_passing()
        #: The record version required from now on; None accepts {3, x}.
        self.version: int | None = None

    @property
    def protected(self) -> bool:
        """Whether records are opened with keys (after the peer's CCS)."""
        return self._protection is not None

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete record waiting for the rest."""
        return len(self._buffer)

    def clear(self) -> None:
        """Drop every buffered byte (after the connection ended)."""
        self._buffer = bytearray()

    def set_protection(self, protection: RecordProtection) -> None:
        """Open every later record with ``protection`` (RFC 5246 §7.1)."""
        self._protection = protection
        self._longest = self._longest_passing()

    def read(self, data: bytes | memoryview) -> Iterator[tuple[int, bytes]]:
        """Yield the records ``data`` completes, in order, opened and checked.

        A record lying whole in ``data`` is checked and opened where it
        lies.  Only the start of a record that ``data`` cuts off is copied,
        and kept for the next call; its header was checked first, so what
        the reader keeps never passes ``capacity``, however long ``data``
        is.

        A record's header is read only when the consumer asks for that
        record, because handling one record (a ChangeCipherSpec, the
        ServerHello that fixes the version) changes how the next is read.
        A consumer that stops early closes the iterator, and the rest of
        ``data`` is dropped, as nothing after a fatal alert or close_notify
        is read (RFC 5246 §7.2.1, §7.2.2).

        Args:
            data: Bytes received from the transport; read, never kept.

        Yields:
            ``(content_type, plaintext fragment)``.

        Raises:
            LocalProtocolError: unexpected_message, protocol_version,
                record_overflow or internal_error for a bad header;
                bad_record_mac or record_overflow from the read protection.
        """
        with memoryview(data) as view:
            offset = 0
            if self._buffer:
                offset, whole = self._fill(view)
                if not whole:
                    return
                yield self._open_buffered()

            size = len(view)
            while size - offset >= _HEADER_LENGTH:
                content_type, version, length = _HEADER.unpack_from(view, offset)
                # One comparison chain for the usual record; any doubt goes
                # to the full check, which raises the precise alert.
                if (
                    version != self.version
                    or content_type not in _KNOWN_CONTENT
                    or length > self._longest
                ):
                    self._check_header(content_type, version, length)
                start = offset + _HEADER_LENGTH
                end = start + length
                if end > size:
                    break
                offset = end
                yield content_type, self._open(content_type, view[start:end])

            # The start of an incomplete record, whose header (if whole)
            # passed the checks: at most capacity bytes.
            self._buffer += view[offset:]

    def _fill(self, view: memoryview) -> tuple[int, bool]:
        # Copy from the input what the buffered record still lacks; return
        # the bytes taken and whether the record is whole now.
        buffer = self._buffer
        taken = min(max(_HEADER_LENGTH - len(buffer), 0), len(view))
        buffer += view[:taken]
        if len(buffer) < _HEADER_LENGTH:
            return taken, False
        content_type, version, length = _HEADER.unpack_from(buffer)
        self._check_header(content_type, version, length)
        missing = _HEADER_LENGTH + length - len(buffer)
        more = min(missing, len(view) - taken)
        buffer += view[taken : taken + more]
        return taken + more, more == missing

    def _open_buffered(self) -> tuple[int, bytes]:
        buffer = self._buffer
        content_type = buffer[0]
        plaintext = self._open(content_type, memoryview(buffer)[_HEADER_LENGTH:])
        buffer.clear()
        return content_type, plaintext

    def _open(self, content_type: int, fragment: memoryview) -> bytes:
        # The view is released before this returns or raises: a live
        # export stops a bytearray from resizing, and a traceback kept
        # with a sticky failure would hold it.
        try:
            protection = self._protection
            if protection is None:
                return bytes(fragment)
            return protection.decrypt(content_type, fragment)
        finally:
            fragment.release()

    def _longest_passing(self) -> int:
        # The longest TLSPlaintext.length that passes every length check
        # of _check_header in the current protection state.
        longest = MAX_PLAINTEXT_LENGTH
        if self._protection is not None:
            longest = MAX_CIPHERTEXT_LENGTH
        if self._capacity is not None:
            longest = min(longest, self._capacity - _HEADER_LENGTH)
        return longest

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
            struct_name = (
                "TLSPlaintext" if self._protection is None else "TLSCiphertext"
            )
            raise LocalProtocolError(
                f"{struct_name}.length: {length}, expected at most {limit} "
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

    def write(self, content_type: int, data: bytes | memoryview) -> None:
        """Send ``data`` as records of ``content_type``, after the flight."""
        if self._pending:
            self.flush()
        protection = self._protection
        if protection is not None and len(data) <= MAX_PLAINTEXT_LENGTH:
            # One sealed record, the usual application data write.
            self._out += protection.seal(content_type, data)
        else:
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

    def _frame(self, content_type: int, data: bytes | memoryview) -> None:
        # RFC 5246 §6.2.1: at most 2^14 bytes of plaintext per record.  An
        # empty write still makes one record (application data may be
        # empty; handshake and alert callers never write nothing).
        if len(data) <= MAX_PLAINTEXT_LENGTH:
            self._frame_record(content_type, data)
            return
        with memoryview(data) as view:
            for offset in range(0, len(view), MAX_PLAINTEXT_LENGTH):
                with view[offset : offset + MAX_PLAINTEXT_LENGTH] as chunk:
                    self._frame_record(content_type, chunk)

    def _frame_record(self, content_type: int, fragment: bytes | memoryview) -> None:
        # A sealed record comes framed in two pieces, its header with any
        # nonce or IV, then the ciphertext as the cipher returned it.
        protection = self._protection
        if protection is None:
            header = _HEADER.pack(content_type, TLS12_RECORD_VERSION, len(fragment))
            self._out += (header, bytes(fragment))
        else:
            self._out += protection.seal(content_type, fragment)
