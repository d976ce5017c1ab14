"""Message orders against the state table, as a hypothesis state machine.

:class:`MessageOrders` drives our client and server one message at a time
(:class:`~tests.hostile.stepper.Stepper`) through a full, resumed, renewed
or ticketless handshake.  Each step delivers the next message, delivers a
later one out of order, drops one, or injects a message of any kind built
with the generated codecs (sealed with the right keys once the victim
reads protected records).  Before each delivery the table predicts the
answer:

* a record sealed for another sequence number, or a plaintext record where
  a protected one is due, fails authentication: ``bad_record_mac``;
* otherwise the message is legal iff ``TRANSITIONS[state]`` lists it.  An
  illegal one must be refused by :func:`~tlsspec.runtime.state.expect`
  (``unexpected_message``, "not allowed in state"); a legal one must never
  be, and if it is handled the state moves to one the table lists.  (A
  legal message with forged content may still fail, with another alert.)

Alerts are outside the table (RFC 5246 §7.2) and only checked for the
general invariant.  A side that failed must raise the same error at once
on every later call.
"""

from __future__ import annotations

from typing import Final

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tests.hostile.harness import watchdog
from tests.hostile.stepper import KINDS, ROLES, Role, Stepper, message_bytes
from tests.hostile.transcripts import Setup, first_session
from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime.alerts import LocalProtocolError, TLSError
from tlsspec.runtime.events import ConnectionClosed, Event
from tlsspec.runtime.state import TRANSITIONS, Message, State

#: The text only the state table's refusal carries.
TABLE_REFUSAL: Final = "not allowed in state"
_BAD_RECORD_MAC: Final = "bad_record_mac"
_TABLE: Final = "table"


def flows() -> dict[str, Setup]:
    """Every handshake flow our pair can run, by name."""
    session = first_session()
    return {
        "full": Setup(),
        "resumed": Setup(session=session),
        "renewed": Setup(session=session, rotate_ticket_key=True),
        "no-tickets": Setup(tickets=False),
    }


FLOW_NAMES: Final = ("full", "resumed", "renewed", "no-tickets")


class TableViolationError(AssertionError):
    """The engine decided legality differently from the table."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise TableViolationError(message)


class MessageOrders(RuleBasedStateMachine):
    """See the module docstring."""

    examples_run = 0

    def __init__(self) -> None:
        super().__init__()
        self.stepper: Stepper | None = None
        self.failed: dict[Role, TLSError] = {}
        self.closed: set[Role] = set()

    @initialize(flow=st.sampled_from(FLOW_NAMES))
    def start(self, flow: str) -> None:
        MessageOrders.examples_run += 1
        self.stepper = Stepper(flows()[flow])

    @precondition(lambda self: not self._receivers(0))
    @rule(flow=st.sampled_from(FLOW_NAMES))
    def start_again(self, flow: str) -> None:
        # Both sides failed or closed: one run goes on with a new pair,
        # so it reaches deeper states than its first injection allowed.
        self.stepper = Stepper(flows()[flow])
        self.failed = {}
        self.closed = set()

    # ------------------------------------------------------------------
    # Rules
    # ------------------------------------------------------------------

    def _steps(self) -> Stepper:
        assert self.stepper is not None
        return self.stepper

    def _receivers(self, minimum: int) -> list[Role]:
        steps = self._steps()
        return [
            role
            for role in ROLES
            if role not in self.failed
            and role not in self.closed
            and len(steps.inbox[role]) >= minimum
        ]

    @precondition(lambda self: self._receivers(1))
    @rule(data=st.data())
    def deliver_next(self, data: st.DataObject) -> None:
        role = data.draw(st.sampled_from(self._receivers(1)), label="to")
        self._deliver(role, 0)

    @precondition(lambda self: self._receivers(2))
    @rule(data=st.data())
    def deliver_out_of_order(self, data: st.DataObject) -> None:
        role = data.draw(st.sampled_from(self._receivers(2)), label="to")
        last = len(self._steps().inbox[role]) - 1
        self._deliver(role, data.draw(st.integers(1, last), label="index"))

    @precondition(lambda self: self._receivers(1))
    @rule(data=st.data())
    def drop(self, data: st.DataObject) -> None:
        role = data.draw(st.sampled_from(self._receivers(1)), label="from")
        inbox = self._steps().inbox[role]
        inbox.pop(data.draw(st.integers(0, len(inbox) - 1), label="index"))

    @precondition(lambda self: self._receivers(0))
    @rule(data=st.data())
    def inject(self, data: st.DataObject) -> None:
        role = data.draw(st.sampled_from(self._receivers(0)), label="to")
        kind = data.draw(st.sampled_from(KINDS), label="kind")
        steps = self._steps()
        state = steps.sides[role].state
        record = steps.forge(role, kind)
        self._receive(role, state, kind, _TABLE, record)

    @rule(role=st.sampled_from(ROLES))
    def transport_eof(self, role: Role) -> None:
        # Always possible, so a run whose sides both failed goes on: EOF
        # closes a live side (RFC 5246 §7.2.1) and a failed side raises.
        side = self._steps().sides[role]
        if role in self.failed:
            try:
                side.receive_data(b"")
            except TLSError as again:
                _require(again is self.failed[role], f"{again!r} after failing")
            else:
                raise TableViolationError(f"{role} read EOF after failing")
            return
        events = side.receive_data(b"")
        _require(role in self.closed or bool(events), "EOF reported nothing")
        _require(side.state is State.CLOSED, f"EOF left {side.state.name}")
        self.closed.add(role)

    # ------------------------------------------------------------------
    # Predictions
    # ------------------------------------------------------------------

    def _deliver(self, role: Role, index: int) -> None:
        steps = self._steps()
        item = steps.inbox[role].pop(index)
        expected = steps.expected_seq(role)
        if expected is None:
            # A sealed record read as plaintext is noise: no prediction.
            prediction = None if item.seq is not None else _TABLE
        elif item.seq != expected:
            prediction = _BAD_RECORD_MAC
        else:
            prediction = _TABLE
        if item.kind is None:
            prediction = None if prediction == _TABLE else prediction
        self._receive(role, steps.sides[role].state, item.kind, prediction, item.record)

    def _receive(
        self,
        role: Role,
        state: State,
        kind: Message | None,
        prediction: str | None,
        record: bytes,
    ) -> None:
        steps = self._steps()
        side = steps.sides[role]
        try:
            with watchdog():
                events = side.receive_data(record)
        except LocalProtocolError as error:
            self.failed[role] = error
            self._check_refusal(state, kind, prediction, error)
            return
        finally:
            steps.collect()
        self._check_accepted(role, state, kind, prediction, events)

    def _check_refusal(
        self,
        state: State,
        kind: Message | None,
        prediction: str | None,
        error: LocalProtocolError,
    ) -> None:
        if prediction == _BAD_RECORD_MAC:
            _require(
                error.description == AlertDescription.bad_record_mac,
                f"{kind} out of sequence drew {error}",
            )
        elif prediction == _TABLE:
            legal = kind is not None and kind in TRANSITIONS[state]
            refused = TABLE_REFUSAL in str(error)
            _require(
                refused is not legal,
                f"{kind} in {state.name}: table says legal={legal}, engine: {error}",
            )
            if refused:
                _require(
                    error.description == AlertDescription.unexpected_message,
                    f"table refusal drew {error.description}",
                )

    def _check_accepted(
        self,
        role: Role,
        state: State,
        kind: Message | None,
        prediction: str | None,
        events: list[Event],
    ) -> None:
        side = self._steps().sides[role]
        if events and events[-1] == ConnectionClosed(clean=False):
            # A fatal alert from the peer; later calls raise it.
            if side._failure is not None:
                self.failed[role] = side._failure
        _require(prediction != _BAD_RECORD_MAC, f"{kind} out of sequence accepted")
        if prediction == _TABLE and kind is not None:
            moves = TRANSITIONS[state]
            _require(kind in moves, f"{kind} accepted in {state.name}")
            _require(
                side.state in moves[kind],
                f"{kind} in {state.name} led to {side.state.name}",
            )

    # ------------------------------------------------------------------
    # Invariants
    # ------------------------------------------------------------------

    @invariant()
    def every_state_has_a_row(self) -> None:
        if self.stepper is not None:
            for side in self.stepper.sides.values():
                _require(side.state in TRANSITIONS, f"{side.state} has no row")

    @invariant()
    def failures_stick(self) -> None:
        steps = self.stepper
        for role, error in self.failed.items():
            assert steps is not None
            _, payload = message_bytes(Message.HELLO_REQUEST)
            try:
                steps.sides[role].receive_data(payload)
            except TLSError as again:
                _require(again is error, f"{role} raised {again!r} after {error!r}")
            else:
                raise TableViolationError(f"{role} accepted data after {error!r}")
