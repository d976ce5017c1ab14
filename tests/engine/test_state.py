"""The state table: one place that says which message may come when."""

from __future__ import annotations

import pytest

from tests.engine.support import client_config, server_config
from tests.support.openssl import make_rsa_identity
from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime import ClientConnection, ServerConnection
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.state import (
    MESSAGE_OF_HANDSHAKE_TYPE,
    TRANSITIONS,
    Message,
    State,
    check_next,
    expect,
)

# Messages the connection base handles itself rather than a role handler.
_RECORD_LEVEL = {Message.CHANGE_CIPHER_SPEC, Message.APPLICATION_DATA}
_SERVER_STATES = {s for s in State if "CLIENT" in s.name}
_CLIENT_STATES = set(State) - _SERVER_STATES - {State.CLOSED, State.FAILED}


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(State)


def test_every_move_leads_to_a_state_of_the_same_role() -> None:
    for state, moves in TRANSITIONS.items():
        role = _SERVER_STATES if state in _SERVER_STATES else _CLIENT_STATES
        for targets in moves.values():
            assert targets <= role, state


def test_every_accepted_handshake_message_has_a_handler() -> None:
    identity = make_rsa_identity()
    client = ClientConnection(client_config(identity), server_name="localhost")
    server = ServerConnection(server_config(identity))

    for state, moves in TRANSITIONS.items():
        connection = server if state in _SERVER_STATES else client
        for message in set(moves) - _RECORD_LEVEL:
            assert message in connection._handlers, (state, message)


def test_change_cipher_spec_leads_to_exactly_one_finished_state() -> None:
    for moves in TRANSITIONS.values():
        if Message.CHANGE_CIPHER_SPEC in moves:
            (target,) = moves[Message.CHANGE_CIPHER_SPEC]
            assert Message.FINISHED in TRANSITIONS[target]
            assert set(TRANSITIONS[target]) <= {Message.FINISHED, Message.HELLO_REQUEST}


def test_finished_is_only_legal_right_after_change_cipher_spec() -> None:
    for state, moves in TRANSITIONS.items():
        if Message.FINISHED in moves:
            assert "FINISHED" in state.name


def test_application_data_is_only_legal_once_connected() -> None:
    legal = {s for s, moves in TRANSITIONS.items() if Message.APPLICATION_DATA in moves}

    assert legal == {State.EXPECT_CLIENT_DATA, State.EXPECT_SERVER_DATA}


@pytest.mark.parametrize(
    "state", sorted(_CLIENT_STATES - {State.EXPECT_START}, key=str)
)
def test_client_keeps_its_state_on_hello_request(state: State) -> None:
    assert expect(state, Message.HELLO_REQUEST) == {state}


def test_illegal_pair_is_unexpected_message() -> None:
    with pytest.raises(LocalProtocolError) as caught:
        expect(State.EXPECT_CLIENT_HELLO, Message.FINISHED)

    assert caught.value.description is AlertDescription.unexpected_message
    assert "EXPECT_CLIENT_HELLO" in str(caught.value)


def test_unknown_handshake_type_is_unexpected_message() -> None:
    assert 99 not in MESSAGE_OF_HANDSHAKE_TYPE
    with pytest.raises(LocalProtocolError, match="handshake type 99") as caught:
        expect(State.EXPECT_SERVER_HELLO, None, raw_type=99)

    assert caught.value.description is AlertDescription.unexpected_message


def test_a_move_outside_the_table_is_our_internal_error() -> None:
    with pytest.raises(LocalProtocolError) as caught:
        check_next(State.EXPECT_CLIENT_HELLO, Message.CLIENT_HELLO, State.CLOSED)

    assert caught.value.description is AlertDescription.internal_error
