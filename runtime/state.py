"""The legal moves of a TLS 1.2 connection, as one table.

The model
---------
A connection is in exactly one :class:`State`, named for what it expects
next: a client that has sent its ClientHello is in
``EXPECT_SERVER_HELLO``.  Each incoming record is classified as one
:class:`Message`: a handshake message by its type, or a ChangeCipherSpec, or
application data.  :data:`TRANSITIONS` maps each state to the messages it
accepts and, for each, the states the connection may move to once the
message is handled.  Everything not in the table is illegal and answered
with ``unexpected_message`` (RFC 5246 §7.2.2) before the message is even
parsed; so is a handshake type we do not know.  The handlers in
``client.py`` and ``server.py`` decide *which* of the listed states comes
next (full or abbreviated handshake, ticket or not) and
:func:`check_next` rejects anything else as our own bug.

The flows are RFC 5246 §7.3's, with RFC 5077 §3.1's NewSessionTicket::

    full:         ClientHello        -->
                                     <--  ServerHello, Certificate,
                                          ServerKeyExchange, ServerHelloDone
                  ClientKeyExchange,
                  [ChangeCipherSpec], Finished  -->
                                     <--  (NewSessionTicket),
                                          [ChangeCipherSpec], Finished

    abbreviated:  ClientHello (ticket) -->
                                     <--  ServerHello, (NewSessionTicket),
                                          [ChangeCipherSpec], Finished
                  [ChangeCipherSpec], Finished  -->

so the two flows have separate states from the point where they differ:
``EXPECT_RESUMED_*`` for the abbreviated one.

Special cases
-------------
* Alerts are legal in every state; the record layer handles them before
  this table is consulted (RFC 5246 §7.2).
* ChangeCipherSpec is a message here like any other, so a CCS before the
  keys exist (the early-CCS attack of CVE-2014-0224) and a Finished without
  a CCS before it both fall outside the table.
* HelloRequest: a client ignores it while a handshake is in progress (RFC
  5246 §7.4.1.1) and refuses renegotiation once connected, with a warning
  no_renegotiation; both keep the state.
* ClientHello after the handshake is a renegotiation attempt; the server
  refuses it with a warning no_renegotiation (RFC 5746 §4.4 leaves that
  choice to the server) and keeps the state.
* CertificateRequest: the client answers it with an empty Certificate
  (RFC 5246 §7.4.6) and does not authenticate.
* A client's NewSessionTicket states are only entered when the ServerHello
  carried the session_ticket extension (RFC 5077 §3.2); without it, a
  NewSessionTicket is unexpected.
* ``CLOSED`` (close_notify received) and ``FAILED`` (fatal alert either
  way) accept nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from tlsspec.generated.alert import AlertDescription
from tlsspec.generated.handshake import HandshakeType
from tlsspec.runtime.alerts import LocalProtocolError

__all__ = [
    "MESSAGE_OF_HANDSHAKE_TYPE",
    "TRANSITIONS",
    "Message",
    "State",
    "check_next",
    "expect",
]


class State(enum.Enum):
    """What a connection expects next."""

    # Members are singletons that compare by identity, so identity hashing
    # is exact; it also spares the per-lookup Python call of Enum.__hash__,
    # and every record and message is checked against TRANSITIONS.
    __hash__ = object.__hash__

    # Client, before start_handshake().
    EXPECT_START = enum.auto()
    # Client, both flows.
    EXPECT_SERVER_HELLO = enum.auto()
    # Client, full handshake.
    EXPECT_SERVER_CERTIFICATE = enum.auto()
    EXPECT_SERVER_KEY_EXCHANGE = enum.auto()
    EXPECT_SERVER_HELLO_DONE = enum.auto()
    # A CertificateRequest came: only ServerHelloDone may follow.
    EXPECT_SERVER_HELLO_DONE_AFTER_REQUEST = enum.auto()
    EXPECT_NEW_SESSION_TICKET = enum.auto()
    EXPECT_SERVER_CHANGE_CIPHER_SPEC = enum.auto()
    EXPECT_SERVER_FINISHED = enum.auto()
    # Client, abbreviated handshake.
    EXPECT_RESUMED_NEW_SESSION_TICKET = enum.auto()
    EXPECT_RESUMED_SERVER_CHANGE_CIPHER_SPEC = enum.auto()
    EXPECT_RESUMED_SERVER_FINISHED = enum.auto()
    # Client, connected.
    EXPECT_SERVER_DATA = enum.auto()

    # Server, both flows.
    EXPECT_CLIENT_HELLO = enum.auto()
    # Server, full handshake.
    EXPECT_CLIENT_KEY_EXCHANGE = enum.auto()
    EXPECT_CLIENT_CHANGE_CIPHER_SPEC = enum.auto()
    EXPECT_CLIENT_FINISHED = enum.auto()
    # Server, abbreviated handshake.
    EXPECT_RESUMED_CLIENT_CHANGE_CIPHER_SPEC = enum.auto()
    EXPECT_RESUMED_CLIENT_FINISHED = enum.auto()
    # Server, connected.
    EXPECT_CLIENT_DATA = enum.auto()

    # Either side.
    CLOSED = enum.auto()
    FAILED = enum.auto()


class Message(enum.Enum):
    """What an incoming record (or handshake message) is."""

    __hash__ = object.__hash__  # as for State

    HELLO_REQUEST = enum.auto()
    CLIENT_HELLO = enum.auto()
    SERVER_HELLO = enum.auto()
    NEW_SESSION_TICKET = enum.auto()
    CERTIFICATE = enum.auto()
    SERVER_KEY_EXCHANGE = enum.auto()
    CERTIFICATE_REQUEST = enum.auto()
    SERVER_HELLO_DONE = enum.auto()
    CLIENT_KEY_EXCHANGE = enum.auto()
    FINISHED = enum.auto()
    CHANGE_CIPHER_SPEC = enum.auto()
    APPLICATION_DATA = enum.auto()


#: The handshake types this engine knows; any other is unexpected.
MESSAGE_OF_HANDSHAKE_TYPE: Final[Mapping[int, Message]] = MappingProxyType(
    {
        HandshakeType.hello_request: Message.HELLO_REQUEST,
        HandshakeType.client_hello: Message.CLIENT_HELLO,
        HandshakeType.server_hello: Message.SERVER_HELLO,
        HandshakeType.new_session_ticket: Message.NEW_SESSION_TICKET,
        HandshakeType.certificate: Message.CERTIFICATE,
        HandshakeType.server_key_exchange: Message.SERVER_KEY_EXCHANGE,
        HandshakeType.certificate_request: Message.CERTIFICATE_REQUEST,
        HandshakeType.server_hello_done: Message.SERVER_HELLO_DONE,
        HandshakeType.client_key_exchange: Message.CLIENT_KEY_EXCHANGE,
        HandshakeType.finished: Message.FINISHED,
    }
)

_S = State
_M = Message


def _to(*states: State) -> frozenset[State]:
    return frozenset(states)


# Client states in which a handshake is under way: a HelloRequest there is
# ignored (RFC 5246 §7.4.1.1) and the state kept.
_CLIENT_NEGOTIATING: Final = (
    _S.EXPECT_SERVER_HELLO,
    _S.EXPECT_SERVER_CERTIFICATE,
    _S.EXPECT_SERVER_KEY_EXCHANGE,
    _S.EXPECT_SERVER_HELLO_DONE,
    _S.EXPECT_SERVER_HELLO_DONE_AFTER_REQUEST,
    _S.EXPECT_NEW_SESSION_TICKET,
    _S.EXPECT_SERVER_CHANGE_CIPHER_SPEC,
    _S.EXPECT_SERVER_FINISHED,
    _S.EXPECT_RESUMED_NEW_SESSION_TICKET,
    _S.EXPECT_RESUMED_SERVER_CHANGE_CIPHER_SPEC,
    _S.EXPECT_RESUMED_SERVER_FINISHED,
)

_TABLE: dict[State, dict[Message, frozenset[State]]] = {
    _S.EXPECT_START: {},
    # ---- client -------------------------------------------------------
    _S.EXPECT_SERVER_HELLO: {
        # The session_id echo decides the flow (RFC 5077 §3.4), the
        # session_ticket extension whether a NewSessionTicket comes.
        _M.SERVER_HELLO: _to(
            _S.EXPECT_SERVER_CERTIFICATE,
            _S.EXPECT_RESUMED_NEW_SESSION_TICKET,
            _S.EXPECT_RESUMED_SERVER_CHANGE_CIPHER_SPEC,
        ),
    },
    _S.EXPECT_SERVER_CERTIFICATE: {
        _M.CERTIFICATE: _to(_S.EXPECT_SERVER_KEY_EXCHANGE),
    },
    _S.EXPECT_SERVER_KEY_EXCHANGE: {
        # Every suite is ECDHE, so ServerKeyExchange is mandatory
        # (RFC 8422 §5.4).
        _M.SERVER_KEY_EXCHANGE: _to(_S.EXPECT_SERVER_HELLO_DONE),
    },
    _S.EXPECT_SERVER_HELLO_DONE: {
        # At most one CertificateRequest, right before ServerHelloDone
        # (RFC 5246 §7.3).
        _M.CERTIFICATE_REQUEST: _to(_S.EXPECT_SERVER_HELLO_DONE_AFTER_REQUEST),
        _M.SERVER_HELLO_DONE: _to(
            _S.EXPECT_NEW_SESSION_TICKET, _S.EXPECT_SERVER_CHANGE_CIPHER_SPEC
        ),
    },
    _S.EXPECT_SERVER_HELLO_DONE_AFTER_REQUEST: {
        _M.SERVER_HELLO_DONE: _to(
            _S.EXPECT_NEW_SESSION_TICKET, _S.EXPECT_SERVER_CHANGE_CIPHER_SPEC
        ),
    },
    _S.EXPECT_NEW_SESSION_TICKET: {
        _M.NEW_SESSION_TICKET: _to(_S.EXPECT_SERVER_CHANGE_CIPHER_SPEC),
    },
    _S.EXPECT_SERVER_CHANGE_CIPHER_SPEC: {
        _M.CHANGE_CIPHER_SPEC: _to(_S.EXPECT_SERVER_FINISHED),
    },
    _S.EXPECT_SERVER_FINISHED: {
        _M.FINISHED: _to(_S.EXPECT_SERVER_DATA),
    },
    _S.EXPECT_RESUMED_NEW_SESSION_TICKET: {
        _M.NEW_SESSION_TICKET: _to(_S.EXPECT_RESUMED_SERVER_CHANGE_CIPHER_SPEC),
    },
    _S.EXPECT_RESUMED_SERVER_CHANGE_CIPHER_SPEC: {
        _M.CHANGE_CIPHER_SPEC: _to(_S.EXPECT_RESUMED_SERVER_FINISHED),
    },
    _S.EXPECT_RESUMED_SERVER_FINISHED: {
        # We answer with our own ChangeCipherSpec and Finished.
        _M.FINISHED: _to(_S.EXPECT_SERVER_DATA),
    },
    _S.EXPECT_SERVER_DATA: {
        _M.APPLICATION_DATA: _to(_S.EXPECT_SERVER_DATA),
        # Renegotiation request: refused with no_renegotiation.
        _M.HELLO_REQUEST: _to(_S.EXPECT_SERVER_DATA),
    },
    # ---- server -------------------------------------------------------
    _S.EXPECT_CLIENT_HELLO: {
        _M.CLIENT_HELLO: _to(
            _S.EXPECT_CLIENT_KEY_EXCHANGE,
            _S.EXPECT_RESUMED_CLIENT_CHANGE_CIPHER_SPEC,
        ),
    },
    _S.EXPECT_CLIENT_KEY_EXCHANGE: {
        # No CertificateRequest is sent, so no client Certificate comes.
        _M.CLIENT_KEY_EXCHANGE: _to(_S.EXPECT_CLIENT_CHANGE_CIPHER_SPEC),
    },
    _S.EXPECT_CLIENT_CHANGE_CIPHER_SPEC: {
        _M.CHANGE_CIPHER_SPEC: _to(_S.EXPECT_CLIENT_FINISHED),
    },
    _S.EXPECT_CLIENT_FINISHED: {
        # We answer with (NewSessionTicket,) ChangeCipherSpec, Finished.
        _M.FINISHED: _to(_S.EXPECT_CLIENT_DATA),
    },
    _S.EXPECT_RESUMED_CLIENT_CHANGE_CIPHER_SPEC: {
        _M.CHANGE_CIPHER_SPEC: _to(_S.EXPECT_RESUMED_CLIENT_FINISHED),
    },
    _S.EXPECT_RESUMED_CLIENT_FINISHED: {
        _M.FINISHED: _to(_S.EXPECT_CLIENT_DATA),
    },
    _S.EXPECT_CLIENT_DATA: {
        _M.APPLICATION_DATA: _to(_S.EXPECT_CLIENT_DATA),
        # Renegotiation attempt: refused with no_renegotiation.
        _M.CLIENT_HELLO: _to(_S.EXPECT_CLIENT_DATA),
    },
    # ---- either -------------------------------------------------------
    _S.CLOSED: {},
    _S.FAILED: {},
}
for _state in _CLIENT_NEGOTIATING:
    _TABLE[_state][_M.HELLO_REQUEST] = _to(_state)

#: state -> message -> the states the connection may move to.
TRANSITIONS: Final[Mapping[State, Mapping[Message, frozenset[State]]]] = (
    MappingProxyType(
        {state: MappingProxyType(moves) for state, moves in _TABLE.items()}
    )
)


def _describe(message: Message | None, raw_type: int | None) -> str:
    if message is not None:
        return message.name
    return f"handshake type {raw_type}"


def expect(
    state: State, message: Message | None, *, raw_type: int | None = None
) -> frozenset[State]:
    """Check that ``message`` may arrive in ``state``.

    Args:
        state: The connection's state.
        message: The incoming message, or None for a handshake type we do
            not know.
        raw_type: The handshake type byte, to name an unknown type.

    Returns:
        The states the connection may move to after handling it.

    Raises:
        LocalProtocolError: unexpected_message when the pair is not in the
            table (RFC 5246 §7.2.2).
    """
    moves = TRANSITIONS[state]
    if message is None or message not in moves:
        expected = ", ".join(m.name for m in moves) or "nothing"
        raise LocalProtocolError(
            f"{_describe(message, raw_type)}: not allowed in state {state.name}; "
            f"expected {expected}",
            AlertDescription.unexpected_message,
        )
    return moves[message]


def check_next(state: State, message: Message, next_state: State) -> State:
    """Confirm a handler chose one of the table's next states.

    Args:
        state: The state the message arrived in.
        message: The message handled.
        next_state: The state the handler returned.

    Returns:
        ``next_state``.

    Raises:
        LocalProtocolError: internal_error when the table does not list
            the move: a bug in the handler, not in the peer.
    """
    if next_state not in TRANSITIONS[state].get(message, ()):
        raise LocalProtocolError(
            f"internal: {message.name} in {state.name} led to {next_state.name}, "
            "which the state table does not allow",
            AlertDescription.internal_error,
        )
    return next_state
