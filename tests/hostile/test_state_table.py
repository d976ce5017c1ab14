"""The state table in runtime/state.py, and nothing else, decides legality.

Three angles:

* exhaustive: every state our pair reaches in a full, resumed, renewed or
  ticketless handshake, against every kind of message (and an unknown
  handshake type): refused with ``unexpected_message`` by the table iff
  its row does not list the message;
* random orders: the :class:`~tests.hostile.orders.MessageOrders` state
  machine delivers, reorders, drops and injects messages and predicts
  each answer from the table;
* the table is the authority: remove a pair a real handshake uses and the
  engine refuses that message there; add one and the engine accepts it.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

import pytest
from hypothesis.stateful import run_state_machine_as_test

from tests.hostile.fuzzing import fuzz_settings
from tests.hostile.orders import FLOW_NAMES, TABLE_REFUSAL, MessageOrders, flows
from tests.hostile.stepper import KINDS, ROLES, Role, Stepper, frame, message_bytes
from tests.hostile.transcripts import Setup
from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime import ClientConnection
from tlsspec.runtime import state as state_module
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.events import ApplicationData
from tlsspec.runtime.state import TRANSITIONS, Message, State

#: Sequences per run of the state machine, and steps per sequence.
MACHINE_EXAMPLES = 150
MACHINE_STEPS = 30

Point = tuple[int, Role, State]


def _legit_steps(setup: Setup) -> list[tuple[Role, State, Message | None]]:
    # The in-order deliveries of a whole handshake: who got what, when.
    stepper = Stepper(setup)
    steps = []
    while any(stepper.inbox[role] for role in ROLES):
        for role in ROLES:
            if stepper.inbox[role]:
                kind = stepper.inbox[role][0].kind
                steps.append((role, stepper.sides[role].state, kind))
                stepper.deliver(role)
    return steps


def _stepper_after(setup: Setup, steps: list[tuple[Role, State, object]]) -> Stepper:
    stepper = Stepper(setup)
    for role, _, _ in steps:
        stepper.deliver(role)
    return stepper


def _points(setup: Setup) -> Iterator[Point]:
    # Each (role, state) once, with how many deliveries reach it.
    steps = _legit_steps(setup)
    seen = set()
    for count in range(len(steps) + 1):
        stepper = _stepper_after(setup, steps[:count])
        for role in ROLES:
            state = stepper.sides[role].state
            if (role, state) not in seen:
                seen.add((role, state))
                yield count, role, state


def _verdict(
    state: State, kind: Message | None, error: LocalProtocolError | None
) -> str | None:
    # None when the engine agreed with the table, else what went wrong.
    legal = kind is not None and kind in TRANSITIONS[state]
    refused = error is not None and TABLE_REFUSAL in str(error)
    if legal and refused:
        return f"{kind} in {state.name}: listed, but refused: {error}"
    if not legal and not refused:
        return f"{kind} in {state.name}: not listed, but got {error!r}"
    if refused and error is not None:
        if error.description != AlertDescription.unexpected_message:
            return f"{kind} in {state.name}: refused with {error.description}"
    return None


@pytest.mark.parametrize("flow", FLOW_NAMES)
def test_each_reached_state_accepts_exactly_the_messages_its_row_lists(
    flow: str,
) -> None:
    setup = flows()[flow]
    steps = _legit_steps(setup)
    problems = []
    for count, role, state in _points(setup):
        for kind in KINDS:
            stepper = _stepper_after(setup, steps[:count])
            record = stepper.forge(role, kind)
            error = None
            try:
                stepper.sides[role].receive_data(record)
            except LocalProtocolError as caught:
                error = caught
            problem = _verdict(state, kind, error)
            if problem is not None:
                problems.append(f"{role}: {problem}")
    assert problems == []


def test_an_unstarted_client_accepts_nothing() -> None:
    for kind in KINDS:
        client = ClientConnection(Setup().client()._config, server_name="localhost")
        assert client.state is State.EXPECT_START
        with pytest.raises(LocalProtocolError) as caught:
            client.receive_data(frame(*message_bytes(kind)))
        assert _verdict(State.EXPECT_START, kind, caught.value) is None


def test_a_client_asked_for_a_certificate_accepts_only_server_hello_done() -> None:
    # Our server never sends a CertificateRequest, so no flow reaches this
    # state: it is entered by forging one where the client awaits
    # ServerHelloDone.
    setup = flows()["full"]
    steps = _legit_steps(setup)
    count = next(
        number
        for number, (role, state, _) in enumerate(steps)
        if role == "client" and state is State.EXPECT_SERVER_HELLO_DONE
    )
    problems = []
    for kind in KINDS:
        stepper = _stepper_after(setup, steps[:count])
        client = stepper.sides["client"]
        client.receive_data(stepper.forge("client", Message.CERTIFICATE_REQUEST))
        assert client.state is State.EXPECT_SERVER_HELLO_DONE_AFTER_REQUEST
        error = None
        try:
            client.receive_data(stepper.forge("client", kind))
        except LocalProtocolError as caught:
            error = caught
        problem = _verdict(State.EXPECT_SERVER_HELLO_DONE_AFTER_REQUEST, kind, error)
        if problem is not None:
            problems.append(problem)

    assert problems == []
    assert set(TRANSITIONS[State.EXPECT_SERVER_HELLO_DONE_AFTER_REQUEST]) == {
        Message.SERVER_HELLO_DONE,
        Message.HELLO_REQUEST,
    }


def test_the_flows_reach_every_state_but_the_final_ones() -> None:
    reached = {State.EXPECT_START}
    for setup in flows().values():
        reached |= {state for _, _, state in _points(setup)}

    # The state after a CertificateRequest is reached by the test above.
    expected = set(State) - {State.CLOSED, State.FAILED}
    assert reached == expected - {State.EXPECT_SERVER_HELLO_DONE_AFTER_REQUEST}


def test_any_message_order_is_answered_as_the_table_says() -> None:
    run_state_machine_as_test(
        MessageOrders,
        settings=fuzz_settings(
            max_examples=MACHINE_EXAMPLES, stateful_step_count=MACHINE_STEPS
        ),
    )


# ----------------------------------------------------------------------
# The table is the authority
# ----------------------------------------------------------------------


def _used_pairs() -> list[tuple[str, State, Message]]:
    pairs: dict[tuple[State, Message], str] = {}
    for flow, setup in flows().items():
        for _, state, kind in _legit_steps(setup):
            if kind is not None:
                pairs.setdefault((state, kind), flow)
    return [(flow, state, kind) for (state, kind), flow in pairs.items()]


def _without(state: State, kind: Message) -> object:
    rows = {s: dict(moves) for s, moves in TRANSITIONS.items()}
    del rows[state][kind]
    return MappingProxyType({s: MappingProxyType(m) for s, m in rows.items()})


@pytest.mark.parametrize(
    ("flow", "state", "kind"),
    _used_pairs(),
    ids=lambda value: getattr(value, "name", value),
)
def test_removing_a_pair_from_the_table_makes_the_engine_refuse_it(
    flow: str, state: State, kind: Message, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = _legit_steps(flows()[flow])
    monkeypatch.setattr(state_module, "TRANSITIONS", _without(state, kind))
    stepper = Stepper(flows()[flow])

    for role, at, sent in steps:
        if (at, sent) == (state, kind):
            with pytest.raises(LocalProtocolError, match=TABLE_REFUSAL) as caught:
                stepper.deliver(role)
            assert caught.value.description is AlertDescription.unexpected_message
            return
        stepper.deliver(role)
    raise AssertionError(f"{kind.name} never arrived in {state.name}")


def test_adding_a_pair_to_the_table_makes_the_engine_accept_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = {s: dict(moves) for s, moves in TRANSITIONS.items()}
    waiting = State.EXPECT_SERVER_HELLO
    rows[waiting][Message.APPLICATION_DATA] = frozenset({waiting})
    monkeypatch.setattr(state_module, "TRANSITIONS", MappingProxyType(rows))
    stepper = Stepper(Setup())
    role: Role = "client"

    events = stepper.sides[role].receive_data(
        stepper.forge(role, Message.APPLICATION_DATA)
    )

    assert events == [ApplicationData(data=b"forged")]
    assert stepper.sides[role].state is waiting
