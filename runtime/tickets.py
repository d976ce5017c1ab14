"""Session tickets: sealing sessions into RFC 5077 tickets and opening them.

A server that issues tickets keeps no session cache: it seals the session
state into a ticket the client stores and hands back when it resumes
(RFC 5077 §3).  The pieces live in their own modules and are all importable
from here:

* :class:`TicketKey` (:mod:`tlsspec.runtime.ticketkeys`), one key set,
  which can come from an nginx ``ssl_session_ticket_key`` file;
* :class:`TicketKeyRing` (:mod:`tlsspec.runtime.ticketring`), the keys a
  server holds, which seals and opens the ticket bytes;
* :class:`SessionState` (:mod:`tlsspec.runtime.sessionstate`), what a
  ticket carries.

This module joins them: :func:`seal_session` and :func:`open_session` seal
a state and open one, checking its lifetime.  A ticket that cannot be
opened is not an error (RFC 5077 §3.2): :func:`open_session` returns
``None`` for every refusal and logs one DEBUG line saying why.
"""

from __future__ import annotations

import logging
import math
from typing import Final

from tlsspec.errors import DecodeError
from tlsspec.runtime.sessionstate import SessionState
from tlsspec.runtime.ticketkeys import (
    AES_KEY_LENGTHS,
    HMAC_KEY_LENGTHS,
    KEY_NAME_LENGTH,
    NGINX_AES128_KEY_FILE_LENGTH,
    NGINX_AES256_KEY_FILE_LENGTH,
    TicketKey,
)
from tlsspec.runtime.ticketring import (
    DEFAULT_RETIRE_AFTER,
    IV_LENGTH,
    MAC_LENGTH,
    MAX_STATE_LENGTH,
    TicketKeyRing,
    Unsealed,
)

__all__ = [
    "AES_KEY_LENGTHS",
    "CLOCK_SKEW_ALLOWANCE",
    "DEFAULT_RETIRE_AFTER",
    "HMAC_KEY_LENGTHS",
    "IV_LENGTH",
    "KEY_NAME_LENGTH",
    "MAC_LENGTH",
    "MAX_STATE_LENGTH",
    "NGINX_AES128_KEY_FILE_LENGTH",
    "NGINX_AES256_KEY_FILE_LENGTH",
    "SessionState",
    "TicketKey",
    "TicketKeyRing",
    "Unsealed",
    "open_session",
    "seal_session",
]

_log = logging.getLogger(__name__)

#: Seconds a ticket's creation time may lie ahead of ``now`` before it is
#: refused: servers of a fleet never agree on the time exactly.
CLOCK_SKEW_ALLOWANCE: Final = 60


def _reject(reason: str, *args: object) -> None:
    _log.debug("ticket rejected: " + reason, *args)


def seal_session(ring: TicketKeyRing, state: SessionState) -> bytes:
    """Seal a session into a ticket under the ring's current key.

    Args:
        ring: The server's ticket keys.
        state: The session to carry.

    Returns:
        The ticket for a NewSessionTicket message.

    Raises:
        LookupError: The ring holds no key.
    """
    return ring.seal(state.to_bytes())


def _is_finite_time(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def open_session(
    ring: TicketKeyRing, ticket: bytes, *, now: float
) -> tuple[SessionState, bool] | None:
    """Open a ticket and check the session it carries is still valid.

    Returns ``None``, with one DEBUG log line naming the reason, when the
    ticket does not unseal (see :meth:`TicketKeyRing.unseal`), its state
    does not decode, its lifetime has run out (a lifetime of 0 never
    opens), or it claims a creation time more than
    :data:`CLOCK_SKEW_ALLOWANCE` seconds ahead of ``now``.  The caller
    then runs a full handshake (RFC 5077 §3.2); no alert is sent.

    Args:
        ring: The server's ticket keys.
        ticket: The ticket from the client's SessionTicket extension.
        now: The current time, seconds since the epoch.

    Returns:
        The session and whether the server should issue a fresh ticket
        (it was sealed under a previous key), or ``None``.

    Raises:
        ValueError: ``now`` is not a finite number.
    """
    if not _is_finite_time(now):
        raise ValueError(f"now: {now!r}, expected finite seconds since the epoch")
    unsealed = ring.unseal(ticket)
    if unsealed is None:
        return None

    try:
        state = SessionState.from_bytes(unsealed.state)
    except DecodeError as exc:
        # The path names the field; the state's bytes are never logged.
        _reject("state does not decode (%s)", exc.path or "StatePlaintext")
        return None

    # RFC 5077 §5.6: the server decides how long a ticket is good for.
    if now >= state.creation_time + state.lifetime:
        _reject(
            "expired (created %d, lifetime %d s, now %d)",
            state.creation_time,
            state.lifetime,
            int(now),
        )
        return None
    if state.creation_time > now + CLOCK_SKEW_ALLOWANCE:
        _reject("created %d s in the future", int(state.creation_time - now))
        return None
    return state, unsealed.renew
