"""What a connection tells its caller: the events ``receive_data`` returns.

A sans-I/O connection turns bytes into events.  Each event is a frozen,
slotted, keyword-only dataclass that checks its fields when built, so an
event that exists is a valid one.  The list a call returns is in wire order:
application data that arrived before a close_notify comes before the
:class:`ConnectionClosed` it precedes.

Protocol violations the connection detects are not events: ``receive_data``
raises a :class:`~tlsspec.runtime.alerts.TLSError` instead, after queuing
the fatal alert.  A fatal alert *from the peer* is reported as events,
:class:`AlertReceived` then :class:`ConnectionClosed` with ``clean=False``,
so data that arrived before it is not lost; later calls raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.runtime.suites import CipherSuite

if TYPE_CHECKING:
    from tlsspec.runtime.session import Session

_UINT8_MAX = 255

__all__ = [
    "AlertReceived",
    "ApplicationData",
    "ConnectionClosed",
    "Event",
    "HandshakeComplete",
    "NewSession",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base class of everything ``receive_data`` returns."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HandshakeComplete(Event):
    """Both Finished messages verified; application data may flow.

    Attributes:
        cipher_suite: The negotiated suite, a row of
            :mod:`tlsspec.runtime.suites`.
        resumed: True for an abbreviated handshake (RFC 5246 §7.3, RFC 5077
            §3.1): the session came from a ticket.
        session: Client side: the session to offer next time (the fresh
            ticket's, else the resumed one), or None when the server issued
            no ticket.  Always None on the server, which keeps no sessions.
        alpn_protocol: The protocol ALPN selected (RFC 7301), or None.
        server_name: Client side: the name the connection was made for,
            sent as SNI unless it is an IP literal (RFC 6066 §3).  Server
            side: the SNI host name received, or None.
    """

    cipher_suite: CipherSuite
    resumed: bool
    session: Session | None = None
    alpn_protocol: str | None = None
    server_name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.cipher_suite, CipherSuite):
            raise TypeError(
                "HandshakeComplete.cipher_suite: expected a suites.CipherSuite, "
                f"got {type(self.cipher_suite).__name__}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationData(Event):
    """Decrypted application data, in order; never empty.

    Attributes:
        data: The plaintext of one or more application_data records.
    """

    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes) or not self.data:
            raise ValueError("ApplicationData.data: expected non-empty bytes")


_new = object.__new__
_set = object.__setattr__


def received_application_data(data: bytes) -> ApplicationData:
    """The engine's :class:`ApplicationData` for one opened record.

    The record layer hands over non-empty ``bytes`` only, so the checks of
    ``__post_init__``, half the cost of the event on the bulk path, are
    skipped.  Code outside the engine builds events the usual way.
    """
    event = _new(ApplicationData)
    _set(event, "data", data)
    return event


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSession(Event):
    """The server issued a ticket (client side only).

    Emitted only once the server's Finished verified, so a ticket from a
    handshake that failed is never handed out (RFC 5077 §3.3).

    Attributes:
        session: What the client needs to resume; see
            :class:`~tlsspec.runtime.session.Session`.
    """

    session: Session

    def __post_init__(self) -> None:
        from tlsspec.runtime.session import Session

        if not isinstance(self.session, Session):
            raise TypeError(
                "NewSession.session: expected a Session, got "
                f"{type(self.session).__name__}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertReceived(Event):
    """The peer sent an alert that is not a close_notify.

    A warning (for instance no_renegotiation) leaves the connection open; a
    fatal alert ends it and is followed by ``ConnectionClosed(clean=False)``.

    Attributes:
        level: The AlertLevel.
        description: The AlertDescription, or a plain int when unknown.
    """

    level: AlertLevel
    description: AlertDescription | int

    def __post_init__(self) -> None:
        if not isinstance(self.level, AlertLevel):
            raise TypeError("AlertReceived.level: expected an AlertLevel")
        if not 0 <= int(self.description) <= _UINT8_MAX:
            raise ValueError("AlertReceived.description: expected a uint8")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionClosed(Event):
    """No more data will arrive.

    Attributes:
        clean: True when the peer sent close_notify (RFC 5246 §7.2.1);
            False for a fatal alert or a transport EOF without
            close_notify, after which received data may be truncated.
            Clean says nothing was cut off, not that a handshake
            completed: a peer that cancels its handshake (user_canceled,
            then close_notify) closes cleanly before any
            :class:`HandshakeComplete`.
    """

    clean: bool

    def __post_init__(self) -> None:
        if not isinstance(self.clean, bool):
            raise TypeError("ConnectionClosed.clean: expected a bool")
