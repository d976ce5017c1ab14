"""Errors that end a TLS connection, and the alerts that report them.

Every protocol failure the runtime detects is a :class:`LocalProtocolError`
that already names the alert to send, so no handshake step picks an alert
on its own: the connection catches the error and hands it to
:func:`alert_bytes` (or :func:`alert_record`), the one place that turns
errors into bytes.  A fatal alert the peer sends surfaces as a
:class:`RemoteAlert`.

The rules for alert levels come from RFC 5246 §7.2 and live in one table,
:data:`ALERT_SEVERITY`, read in both directions:

* sending: a description the RFC calls "always fatal" is never sent as a
  warning, and the descriptions marked RESERVED are never sent at all;
* receiving: :func:`classify_alert` says what a received alert means.

Receiving follows these rules, in this order:

1. A fatal-level alert of any description ends the connection (RFC 5246
   §7.2: "the connection MUST be terminated"), close_notify included: a
   fatal close_notify is not an orderly closure.
2. A warning close_notify is an orderly closure (§7.2.1): answer it with a
   close_notify and stop reading.
3. A warning user_canceled says a close_notify follows (§7.2.2).
4. A warning no_renegotiation answers our HelloRequest or renegotiating
   ClientHello (§7.2.2); the caller decides whether to go on without it.
5. A warning-level copy of an "always fatal" description (or of a RESERVED
   one, which must not be sent at all) is still fatal: the condition it
   reports cannot be recovered from, whatever the level says.
6. Any other warning, including descriptions we do not know, is ignored:
   "generally the connection can continue normally" (§7.2).

An alert record must carry exactly one alert.  RFC 5246 §6.2.1 would let
records coalesce or split messages of any type, but RFC 8446 §5.1 says alerts
are never fragmented or coalesced, and TLS 1.2 stacks behave that way, so a
fragment that is not exactly two bytes is an unexpected_message.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from tlsspec.generated.alert import AlertDescription, AlertLevel

__all__ = [
    "ALERT_BODY_LENGTH",
    "ALERT_CONTENT_TYPE",
    "ALERT_SEVERITY",
    "RECORD_HEADER_LENGTH",
    "TLS12_RECORD_VERSION",
    "AlertAction",
    "AlertDescription",
    "AlertLevel",
    "LocalProtocolError",
    "RemoteAlert",
    "Severity",
    "TLSError",
    "alert_bytes",
    "alert_record",
    "classify_alert",
    "decode_alert",
]

# RFC 5246 §6.2.1 / §A.1: ContentType alert(21).
ALERT_CONTENT_TYPE: Final = 21
# RFC 5246 §7.2: struct { AlertLevel level; AlertDescription description; }
# is one byte each.
ALERT_BODY_LENGTH: Final = 2
# RFC 5246 §6.2.1: type(1) + ProtocolVersion(2) + length(2).
RECORD_HEADER_LENGTH: Final = 5
# RFC 5246 §6.2.1: {3, 3} for TLS 1.2.
TLS12_RECORD_VERSION: Final = 0x0303
# ProtocolVersion is two uint8s.
_MAX_VERSION: Final = 0xFFFF
_MAX_BYTE: Final = 0xFF


class Severity(enum.Enum):
    """What RFC 5246 §7.2.2 (and the RFCs adding descriptions) allow."""

    #: "This message is always fatal."
    ALWAYS_FATAL = enum.auto()
    #: "This message is always a warning." (no_renegotiation)
    ALWAYS_WARNING = enum.auto()
    #: The sender picks the level; close_notify and user_canceled are
    #: conventionally warnings, the certificate alerts usually fatal.
    EITHER = enum.auto()
    #: Kept for older versions only; "MUST NOT be sent".
    RESERVED = enum.auto()


_D = AlertDescription

#: The level policy of every description we know, in spec order.
ALERT_SEVERITY: Final[Mapping[AlertDescription, Severity]] = MappingProxyType(
    {
        # RFC 5246 §7.2.1: a closure alert; sent as a warning in practice,
        # and RFC 8446 §6 notes its level carries no meaning.
        _D.close_notify: Severity.EITHER,
        # RFC 5246 §7.2.2 for everything down to no_renegotiation.
        _D.unexpected_message: Severity.ALWAYS_FATAL,
        _D.bad_record_mac: Severity.ALWAYS_FATAL,
        _D.decryption_failed_RESERVED: Severity.RESERVED,
        _D.record_overflow: Severity.ALWAYS_FATAL,
        _D.decompression_failure: Severity.ALWAYS_FATAL,
        # "This is a fatal error."
        _D.handshake_failure: Severity.ALWAYS_FATAL,
        _D.no_certificate_RESERVED: Severity.RESERVED,
        # The certificate alerts carry no "always fatal": a peer may report
        # a certificate problem as a warning and carry on.
        _D.bad_certificate: Severity.EITHER,
        _D.unsupported_certificate: Severity.EITHER,
        _D.certificate_revoked: Severity.EITHER,
        _D.certificate_expired: Severity.EITHER,
        _D.certificate_unknown: Severity.EITHER,
        _D.illegal_parameter: Severity.ALWAYS_FATAL,
        _D.unknown_ca: Severity.ALWAYS_FATAL,
        _D.access_denied: Severity.ALWAYS_FATAL,
        _D.decode_error: Severity.ALWAYS_FATAL,
        # A Finished or signature that does not verify: "This message is
        # always fatal."
        _D.decrypt_error: Severity.ALWAYS_FATAL,
        _D.export_restriction_RESERVED: Severity.RESERVED,
        _D.protocol_version: Severity.ALWAYS_FATAL,
        _D.insufficient_security: Severity.ALWAYS_FATAL,
        _D.internal_error: Severity.ALWAYS_FATAL,
        # RFC 7507 §3: the server "MUST respond with a fatal
        # inappropriate_fallback alert".
        _D.inappropriate_fallback: Severity.ALWAYS_FATAL,
        # "This message is generally a warning"; a close_notify follows.
        _D.user_canceled: Severity.EITHER,
        _D.no_renegotiation: Severity.ALWAYS_WARNING,
        # RFC 5246 §7.2.2: "This message is always fatal."
        _D.unsupported_extension: Severity.ALWAYS_FATAL,
        # RFC 6066 §9 defines these four without a level rule (§3 even
        # discusses a warning-level unrecognized_name).
        _D.certificate_unobtainable: Severity.EITHER,
        _D.unrecognized_name: Severity.EITHER,
        _D.bad_certificate_status_response: Severity.EITHER,
        _D.bad_certificate_hash_value: Severity.EITHER,
        # RFC 7301 §3.2: the server "SHALL respond with a fatal
        # 'no_application_protocol' alert".
        _D.no_application_protocol: Severity.ALWAYS_FATAL,
    }
)

# Descriptions sent as warnings when the caller names no level: the two
# closure alerts (RFC 5246 §7.2.1) and the one "always a warning".
_WARNING_BY_DEFAULT: Final = frozenset(
    {_D.close_notify, _D.user_canceled, _D.no_renegotiation}
)


def _describe(value: int) -> str:
    try:
        return AlertDescription(value).name
    except ValueError:
        return f"unknown({value})"


def _as_description(value: int) -> AlertDescription | int:
    # Unknown descriptions are kept as plain ints rather than rejected: TLS
    # says to ignore unknown warnings, so they must survive decoding.
    try:
        return AlertDescription(value)
    except ValueError:
        return value


def _require_byte(name: str, value: object) -> None:
    # Alert levels and descriptions are single bytes on the wire (RFC 5246
    # §7.2).  ``type() is int`` first: the wire always hands over plain ints.
    if type(value) is not int and (
        not isinstance(value, int) or isinstance(value, bool)
    ):
        raise TypeError(
            f"alert {name}: expected an int (one byte), "
            f"got {type(value).__name__} {value!r}"
        )
    if not 0 <= value <= _MAX_BYTE:
        raise ValueError(f"alert {name}: {value} is not a byte (0 to 255)")


class TLSError(Exception):
    """A failure that ends the connection, with the alert that reports it.

    Attributes:
        description: The alert description; an :class:`AlertDescription`,
            or a plain int for a description received that we do not know.
        level: The alert level; fatal unless stated otherwise.

    Raises:
        TypeError: ``description`` or ``level`` is not an int.
        ValueError: ``description`` or ``level`` is not a byte (0 to 255).
    """

    def __init__(
        self,
        message: str,
        description: AlertDescription | int,
        *,
        level: AlertLevel = AlertLevel.fatal,
    ) -> None:
        super().__init__(message)
        _require_byte("description", description)
        _require_byte("level", level)
        self.description = _as_description(description)
        # A level the peer sent that we do not know stays a plain int, like
        # an unknown description; alert_bytes refuses to send one.
        try:
            self.level: AlertLevel | int = AlertLevel(level)
        except ValueError:
            self.level = level


class LocalProtocolError(TLSError):
    """We found the peer (or the caller) breaking the protocol.

    The connection sends ``alert_bytes(error)`` and closes.  Messages start
    with what failed and name the field path, the value seen and what was
    expected, e.g. ``"Finished.verify_data: 11 bytes, expected 12"``.
    """


class RemoteAlert(TLSError):  # noqa: N818 - the name is the project's error model
    """The peer sent a fatal alert, or one we treat as fatal.

    No alert is sent in reply: RFC 5246 §7.2.2 has both sides close at once
    after a fatal alert.
    """

    @classmethod
    def received(cls, level: int, description: int) -> RemoteAlert:
        """Build the error for an alert the peer sent.

        Args:
            level: The AlertLevel byte received.
            description: The AlertDescription byte received.

        Returns:
            The error, its message naming the alert.
        """
        known_level = (
            AlertLevel.warning if level == AlertLevel.warning else AlertLevel.fatal
        )
        return cls(
            f"peer sent {known_level.name} alert {_describe(description)}",
            description,
            level=known_level,
        )


def _as_level(level: object) -> AlertLevel:
    # RFC 5246 §7.2: warning(1) and fatal(2) are the only levels to send.
    if not isinstance(level, int) or isinstance(level, bool):
        raise TypeError(
            f"alert level: expected AlertLevel.warning or fatal, "
            f"got {type(level).__name__} {level!r}"
        )
    try:
        return AlertLevel(level)
    except ValueError:
        raise ValueError(
            f"alert level {level!r}: expected AlertLevel.warning or fatal"
        ) from None


def _resolve_level(description: AlertDescription, given: object) -> AlertLevel:
    severity = ALERT_SEVERITY.get(description, Severity.EITHER)
    if severity is Severity.RESERVED:
        raise ValueError(
            f"alert {description.name} is reserved and MUST NOT be sent "
            f"(RFC 5246 §7.2.2)"
        )
    if given is None:
        if description in _WARNING_BY_DEFAULT:
            return AlertLevel.warning
        return AlertLevel.fatal
    level = _as_level(given)
    if severity is Severity.ALWAYS_FATAL and level != AlertLevel.fatal:
        raise ValueError(
            f"alert {description.name} is always fatal (RFC 5246 §7.2.2), "
            f"cannot send it as {level.name}"
        )
    if severity is Severity.ALWAYS_WARNING and level != AlertLevel.warning:
        raise ValueError(
            f"alert {description.name} is always a warning (RFC 5246 §7.2.2), "
            f"cannot send it as {level.name}"
        )
    return level


def alert_bytes(
    error_or_description: TLSError | AlertDescription,
    level: AlertLevel | None = None,
) -> bytes:
    """Encode the 2-byte Alert body (RFC 5246 §7.2) to send.

    This is the one place where errors become alerts.

    Args:
        error_or_description: A :class:`LocalProtocolError` (its description
            and level are used), or a bare description such as
            ``AlertDescription.close_notify``.
        level: Overrides the level.  When omitted: the error's level, or for
            a bare description warning for close_notify, user_canceled and
            no_renegotiation and fatal for everything else.

    Returns:
        ``bytes((level, description))``.

    Raises:
        TypeError: ``error_or_description`` is neither a :class:`TLSError`
            nor a description, or ``level`` is not an int.
        ValueError: The error is a :class:`RemoteAlert` (a fatal alert is
            never answered with another), the description is RESERVED or
            unknown, or the level contradicts RFC 5246 §7.2.2 (e.g. a
            warning decode_error).
    """
    if isinstance(error_or_description, RemoteAlert):
        raise ValueError(
            "a RemoteAlert is not answered with an alert: after a fatal alert "
            "both sides close at once (RFC 5246 §7.2.2)"
        )
    if isinstance(error_or_description, TLSError):
        description = error_or_description.description
        if level is None:
            level = error_or_description.level
    else:
        description = error_or_description
    if not isinstance(description, int) or isinstance(description, bool):
        raise TypeError(
            f"alert_bytes: expected a TLSError or an AlertDescription, "
            f"got {type(description).__name__} {description!r}"
        )
    description = _as_description(description)
    if not isinstance(description, AlertDescription):
        raise ValueError(f"cannot send unknown alert description {description!r}")

    resolved = _resolve_level(description, level)
    return bytes((resolved, description))


def alert_record(
    error_or_description: TLSError | AlertDescription,
    level: AlertLevel | None = None,
    *,
    version: int = TLS12_RECORD_VERSION,
) -> bytes:
    """Encode a whole plaintext alert record (RFC 5246 §6.2.1).

    Only valid before the first ChangeCipherSpec in that direction; after
    it, the record layer protects :func:`alert_bytes` like any other data.

    Args:
        error_or_description: As for :func:`alert_bytes`.
        level: As for :func:`alert_bytes`.
        version: The record's ProtocolVersion, 0x0303 for TLS 1.2.

    Returns:
        The 7 bytes: content type 21, version, length 2, then the alert.

    Raises:
        TypeError: ``version`` is not an int.
        ValueError: As for :func:`alert_bytes`, or ``version`` does not fit
            the record's two bytes.
    """
    if not isinstance(version, int) or isinstance(version, bool):
        raise TypeError(
            f"version: expected an int ProtocolVersion such as 0x0303, "
            f"got {type(version).__name__}"
        )
    if not 0 <= version <= _MAX_VERSION:
        raise ValueError(f"version: {version} does not fit 2 bytes (0 to 0xffff)")
    body = alert_bytes(error_or_description, level)
    header = (
        bytes((ALERT_CONTENT_TYPE,))
        + version.to_bytes(2, "big")
        + len(body).to_bytes(2, "big")
    )
    return header + body


def decode_alert(fragment: bytes) -> tuple[int, AlertDescription | int]:
    """Split a received alert record's fragment into level and description.

    Args:
        fragment: The plaintext fragment of one alert record.

    Returns:
        ``(level, description)``: the level byte as an int (checked by
        :func:`classify_alert`), the description as an
        :class:`AlertDescription`, or a plain int when unknown.

    Raises:
        LocalProtocolError: unexpected_message when the fragment is not
            exactly two bytes (no coalesced or split alerts, RFC 8446 §5.1).
        TypeError: ``fragment`` is not bytes, bytearray or memoryview.
    """
    if not isinstance(fragment, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"decode_alert: expected the record's bytes, got {type(fragment).__name__}"
        )
    if len(fragment) != ALERT_BODY_LENGTH:
        raise LocalProtocolError(
            f"Alert: record fragment is {len(fragment)} bytes, expected "
            f"exactly {ALERT_BODY_LENGTH}",
            AlertDescription.unexpected_message,
        )
    return fragment[0], _as_description(fragment[1])


class AlertAction(enum.Enum):
    """What the receiver of an alert does next (see the module docstring)."""

    #: Orderly closure: send close_notify back and stop reading.
    CLOSE = enum.auto()
    #: Tear the connection down without replying; raise RemoteAlert.
    FATAL = enum.auto()
    #: A close_notify is expected next; keep reading for it.
    USER_CANCELED = enum.auto()
    #: The peer refused renegotiation; go on without it or abort.
    WARN_NO_RENEGOTIATION = enum.auto()
    #: Drop the alert and keep reading.
    IGNORE = enum.auto()


def classify_alert(level: int, description: int) -> AlertAction:
    """Decide what a received alert means (RFC 5246 §7.2).

    Args:
        level: The AlertLevel byte received.
        description: The AlertDescription byte received; unknown values are
            allowed.

    Returns:
        The :class:`AlertAction` to take.

    Raises:
        TypeError: ``level`` or ``description`` is not an int: a caller's
            mistake, since bytes off the wire are always ints.
        ValueError: ``level`` or ``description`` is not a byte (0 to 255).
        LocalProtocolError: decode_error when the level is neither warning
            (1) nor fatal (2): RFC 5246 §7.2 defines no other.
    """
    _require_byte("level", level)
    _require_byte("description", description)
    if level not in (AlertLevel.warning, AlertLevel.fatal):
        raise LocalProtocolError(
            f"Alert.level: {level} for {_describe(description)}, expected "
            f"warning(1) or fatal(2)",
            AlertDescription.decode_error,
        )
    if level == AlertLevel.fatal:
        return AlertAction.FATAL

    # Warning level from here on.
    if description == AlertDescription.close_notify:
        return AlertAction.CLOSE
    if description == AlertDescription.user_canceled:
        return AlertAction.USER_CANCELED
    if description == AlertDescription.no_renegotiation:
        return AlertAction.WARN_NO_RENEGOTIATION

    known = _as_description(description)
    if not isinstance(known, AlertDescription):
        return AlertAction.IGNORE
    if ALERT_SEVERITY[known] in (Severity.ALWAYS_FATAL, Severity.RESERVED):
        return AlertAction.FATAL
    return AlertAction.IGNORE
