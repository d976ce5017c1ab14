"""How much a connection takes from its peer before it gives up.

TLS bounds a record (2^14 bytes of plaintext, RFC 5246 §6.2.1) but not a
handshake message (its 24-bit length allows 16 MiB), nor how many records
that carry nothing a peer may send.  A connection that buffered whatever
arrived would let one peer exhaust a server's memory, and one that
answered every ignored record would let it keep the connection busy for
free.  :class:`Limits` names each bound; :class:`ClientConfig` and
:class:`ServerConfig` take one as ``limits=`` (default :data:`DEFAULT_LIMITS`).

Each limit, its default, and what exceeding it draws:

=========================  =======  ===================================
limit                      default  exceeded
=========================  =======  ===================================
max_handshake_message      128 KiB  decode_error, from the 4-byte header
max_certificate_chain      256 KiB  decode_error, from the 4-byte header
max_buffered_ciphertext     64 KiB  internal_error
max_buffered_plaintext       1 MiB  internal_error
max_warning_alerts               8  unexpected_message
max_empty_records               16  unexpected_message
=========================  =======  ===================================

Like every other failure, a limit breach queues the fatal alert, makes
``receive_data`` raise a :class:`~tlsspec.runtime.alerts.TLSError`, frees
the connection's buffers, and makes every later call raise at once.  The
message of the error names the limit (``Limits.max_warning_alerts``).

Two limits are the peer's fault and draw the alert RFC 5246 §7.2.2 gives
for the symptom: a handshake message longer than we accept is a length out
of our range (``decode_error``), and a run of records that carry nothing is
a message we did not expect (``unexpected_message``).  The two buffer
limits protect this process and draw ``internal_error``, which RFC 5246
§7.2.2 reserves for "a memory allocation failure" and the like.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

from tlsspec.runtime.record import MAX_CIPHERTEXT_LENGTH

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_BUFFERED_CIPHERTEXT",
    "DEFAULT_MAX_BUFFERED_PLAINTEXT",
    "DEFAULT_MAX_CERTIFICATE_CHAIN",
    "DEFAULT_MAX_EMPTY_RECORDS",
    "DEFAULT_MAX_HANDSHAKE_MESSAGE",
    "DEFAULT_MAX_WARNING_ALERTS",
    "LARGEST_RECORD",
    "BufferUse",
    "Limits",
]

# RFC 5246 §6.2.1: type(1) version(2) length(2).
_RECORD_HEADER_LENGTH: Final = 5
# RFC 5246 §7.4: Handshake.length is a uint24.
_UINT24_MAX: Final = 2**24 - 1

#: The longest record TLS 1.2 allows on the wire, header included
#: (RFC 5246 §6.2.3: 2^14 + 2048 bytes of TLSCiphertext.fragment).
LARGEST_RECORD: Final = _RECORD_HEADER_LENGTH + MAX_CIPHERTEXT_LENGTH

#: Every message but Certificate.  The largest a peer of ours sends is a
#: NewSessionTicket with a full ticket<0..2^16-1> (65,541 bytes); a
#: ClientHello's vectors are bounded by 2^16-1 each.  Twice 2^16 leaves
#: room for both.
DEFAULT_MAX_HANDSHAKE_MESSAGE: Final = 2**17
#: The Certificate message, chain and length prefixes: a handful of large
#: certificates, far more than a Web PKI chain needs.
DEFAULT_MAX_CERTIFICATE_CHAIN: Final = 2**18
#: Received bytes held between records; more than any legal record.
DEFAULT_MAX_BUFFERED_CIPHERTEXT: Final = 2**16
#: Application data held for the caller; sixteen full records.
DEFAULT_MAX_BUFFERED_PLAINTEXT: Final = 2**20
#: Warning alerts and refused renegotiations in a row.
DEFAULT_MAX_WARNING_ALERTS: Final = 8
#: Empty application_data records in a row.
DEFAULT_MAX_EMPTY_RECORDS: Final = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds on what one connection accepts and holds.

    Args:
        max_handshake_message: Largest handshake message body accepted,
            Certificate aside.  Checked from the 4-byte header, before the
            body is buffered.
        max_certificate_chain: Largest Certificate message body (the chain
            with its length prefixes), checked the same way.
        max_buffered_ciphertext: Received bytes held while a record is
            incomplete.  ``receive_data`` never copies more of its input
            than this at a time, so one call's size does not matter.  With
            the default every legal record fits; a value below
            :data:`LARGEST_RECORD` refuses longer records.
        max_buffered_plaintext: Application data held for the caller: what
            one ``receive_data`` call decrypted before it returns, and what
            ``send_application_data`` queued before the handshake
            completed.  Feed ``receive_data`` socket-sized reads.
        max_warning_alerts: Warning alerts received, warnings sent to refuse
            renegotiation, and HelloRequests ignored, in a row: a
            handshake step or application data resets the count.
        max_empty_records: Empty application_data records in a row (RFC
            5246 §6.2.1 allows them, so a peer can send them forever); any
            non-empty record resets the count.

    Raises:
        TypeError: A limit is not an int.
        ValueError: A limit is out of its range.
    """

    max_handshake_message: int = DEFAULT_MAX_HANDSHAKE_MESSAGE
    max_certificate_chain: int = DEFAULT_MAX_CERTIFICATE_CHAIN
    max_buffered_ciphertext: int = DEFAULT_MAX_BUFFERED_CIPHERTEXT
    max_buffered_plaintext: int = DEFAULT_MAX_BUFFERED_PLAINTEXT
    max_warning_alerts: int = DEFAULT_MAX_WARNING_ALERTS
    max_empty_records: int = DEFAULT_MAX_EMPTY_RECORDS

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"Limits.{item.name}: {value!r}, expected an int")
        _check_range("max_handshake_message", self.max_handshake_message, 1)
        _check_range("max_certificate_chain", self.max_certificate_chain, 1)
        # Room for a header and one byte, so reading always makes progress.
        _check_range(
            "max_buffered_ciphertext",
            self.max_buffered_ciphertext,
            _RECORD_HEADER_LENGTH + 1,
            None,
        )
        _check_range("max_buffered_plaintext", self.max_buffered_plaintext, 1, None)
        _check_range("max_warning_alerts", self.max_warning_alerts, 0, None)
        _check_range("max_empty_records", self.max_empty_records, 0, None)

    def handshake_limit(self, *, certificate: bool) -> tuple[str, int]:
        """The limit on one handshake message body, and its name.

        Args:
            certificate: Whether the message is a Certificate.

        Returns:
            ``(field name, bytes)``, e.g. ``("max_certificate_chain", 262144)``.
        """
        if certificate:
            return "max_certificate_chain", self.max_certificate_chain
        return "max_handshake_message", self.max_handshake_message


def _check_range(
    name: str, value: int, minimum: int, maximum: int | None = _UINT24_MAX
) -> None:
    if value < minimum or (maximum is not None and value > maximum):
        expected = (
            f"at least {minimum}" if maximum is None else f"{minimum} to {maximum}"
        )
        raise ValueError(f"Limits.{name}: {value}, expected {expected}")


#: The limits a config uses unless given others.
DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True, kw_only=True)
class BufferUse:
    """What a connection holds right now, to compare with its :class:`Limits`.

    Attributes:
        ciphertext: Received bytes of an incomplete record.
        handshake: Bytes of an incomplete handshake message.
        plaintext: Application data queued before the handshake completed.
    """

    ciphertext: int
    handshake: int
    plaintext: int
