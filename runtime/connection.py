"""What client and server connections share: records in, events out.

A :class:`Connection` is sans-I/O: the caller feeds it bytes from the
transport with :meth:`~Connection.receive_data`, gets typed events back,
and sends whatever :meth:`~Connection.data_to_send` returns.  It owns the
record layer and the dispatch of each record:

* handshake records are reassembled into messages (RFC 5246 §6.2.1), each
  checked against the state table (:mod:`tlsspec.runtime.state`) before it
  is parsed, hashed into the transcript, and handed to the role's handler,
  which returns the next state;
* ChangeCipherSpec switches the read side to the new keys (RFC 5246 §7.1);
* alerts are classified (RFC 5246 §7.2) into events;
* application data is only legal once both Finished messages verified.

Errors: every protocol failure is a
:class:`~tlsspec.runtime.alerts.LocalProtocolError` carrying its alert.
:meth:`Connection._fail` is the one place that turns it into an alert on
the wire; after it, and after a fatal alert from the peer, every call
raises the same error (sticky), the handshake's secrets are gone and the
buffers are freed.

Resources: the connection holds at most what its
:class:`~tlsspec.runtime.limits.Limits` allow, whatever the peer sends and
however the caller slices it: whole records are opened where they lie in
the input and only the start of a cut-off one is kept, a handshake
message is refused from its header, and runs of records that carry
nothing are cut short (see :mod:`tlsspec.runtime.limits`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Final

from tlsspec.errors import DecodeError
from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.generated.handshake import Handshake, HandshakeType, KeyExchangeAlgorithm
from tlsspec.runtime.alerts import (
    AlertAction,
    LocalProtocolError,
    RemoteAlert,
    TLSError,
    alert_bytes,
    classify_alert,
    decode_alert,
)
from tlsspec.runtime.events import (
    AlertReceived,
    ConnectionClosed,
    Event,
    received_application_data,
)
from tlsspec.runtime.finished import verify_finished
from tlsspec.runtime.keylog import KeyLogWriter
from tlsspec.runtime.keyschedule import KeySchedule, Protections
from tlsspec.runtime.limits import BufferUse, Limits
from tlsspec.runtime.messages import HandshakeBuffer
from tlsspec.runtime.prf import Sender
from tlsspec.runtime.record import RecordProtection
from tlsspec.runtime.recordlayer import (
    CONTENT_ALERT,
    CONTENT_APPLICATION_DATA,
    CONTENT_CHANGE_CIPHER_SPEC,
    CONTENT_HANDSHAKE,
    RecordReader,
    RecordWriter,
)
from tlsspec.runtime.sources import Clock, Random, checked_clock, checked_random
from tlsspec.runtime.state import (
    MESSAGE_OF_HANDSHAKE_TYPE,
    TRANSITIONS,
    Message,
    State,
    check_next,
    expect,
)
from tlsspec.runtime.suites import VERIFY_DATA_LENGTH, CipherSuite
from tlsspec.runtime.transcript import Transcript

__all__ = ["Connection", "HandshakeContext"]

_log = logging.getLogger(__name__)

# RFC 5246 §7.1: struct { enum { change_cipher_spec(1), (255) } type; }.
_CHANGE_CIPHER_SPEC_BODY: Final = b"\x01"
# The parameters the codec needs for the messages whose layout depends on
# the suite: every suite is ECDHE (RFC 8422), so both key exchange messages
# are ec_diffie_hellman, and every Finished carries 12 bytes (RFC 5246
# §7.4.9).  Other messages get none, which keeps their parsing cheaper;
# the call sites skip the keyword unpacking for them as well.
_KEY_EXCHANGE: Final = {
    "key_exchange_algorithm": KeyExchangeAlgorithm.ec_diffie_hellman
}
_PARAMETERS: Final[Mapping[int, Mapping[str, Any]]] = MappingProxyType(
    {
        HandshakeType.server_key_exchange: _KEY_EXCHANGE,
        HandshakeType.client_key_exchange: _KEY_EXCHANGE,
        HandshakeType.finished: {"verify_data_length": VERIFY_DATA_LENGTH},
    }
)
# The states whose row of the table accepts application data, the ones
# where it may flow.  Members used once per record are looked up here once:
# reading State.X off the enum class is a descriptor call each time.
_APPLICATION_DATA_STATES: Final = tuple(
    state for state, moves in TRANSITIONS.items() if Message.APPLICATION_DATA in moves
)
_CLOSED: Final = State.CLOSED

# A role's handler for one handshake message: called as handler(self, body,
# raw) from a class-level table, so a connection holds no bound method of
# itself and is freed by reference counting alone, keys and all.
Handler = Callable[[Any, Any, bytes], State]


@dataclass(slots=True, kw_only=True)
class HandshakeContext:
    """What one handshake knows, from ClientHello to the last Finished.

    Lives only while the handshake runs; the connection drops it (and the
    master secret in it) once the handshake completes or fails.
    """

    transcript: Transcript = field(default_factory=Transcript)
    client_random: bytes = b""
    server_random: bytes = b""
    suite: CipherSuite | None = None
    extended_master_secret: bool = False
    encrypt_then_mac: bool = False
    alpn_protocol: bytes | None = None
    server_name: str | None = None
    resumed: bool = False
    schedule: KeySchedule | None = field(default=None, repr=False)
    protections: Protections | None = field(default=None, repr=False)


def _decode_failure(error: DecodeError) -> LocalProtocolError:
    # The codec names the alert a peer must get for these bytes; the
    # error carries it as its description, so the text leaves it out.
    try:
        description = AlertDescription[error.alert]
    except KeyError:
        description = AlertDescription.decode_error
    where = f"{error.path}: " if error.path else ""
    return LocalProtocolError(
        f"{where}{error.reason} (offset {error.offset})", description
    )


def _byte_view(data: object, caller: str) -> bytes | bytearray | memoryview:
    # The record layer reads octets: a memoryview of wider items or with
    # gaps between them is copied into plain bytes first.
    if type(data) is bytes or type(data) is bytearray:
        return data
    if isinstance(data, memoryview):
        if data.c_contiguous and data.itemsize == 1:
            return data.cast("B") if data.format != "B" else data
        return data.tobytes()
    if isinstance(data, bytes | bytearray):
        return data
    raise TypeError(
        f"{caller}: expected bytes, bytearray or memoryview, got {type(data).__name__}"
    )


class Connection:
    """The machinery both roles share; use ClientConnection/ServerConnection.

    Subclasses set ``_role``, a class-level ``_handlers`` table (one
    function per handshake message they accept) and create ``_handshake``
    when a handshake starts.
    """

    _role: ClassVar[Sender]
    _peer: ClassVar[Sender]
    _handlers: ClassVar[Mapping[Message, Handler]]
    _state: State
    _handshake: HandshakeContext | None

    def __init__(
        self,
        state: State,
        clock: Clock,
        random: Random,
        keylog: KeyLogWriter | None,
        limits: Limits,
    ) -> None:
        self._state = state
        # The caller's sources, checked on every call: a wrong value is
        # named where it is drawn (an internal_error inside receive_data).
        self._clock = checked_clock(clock)
        self._random = checked_random(random)
        self._keylog = keylog
        self._limits = limits
        self._reader = RecordReader(capacity=limits.max_buffered_ciphertext)
        self._writer = RecordWriter()
        self._handshake_buffer = HandshakeBuffer(
            max_message=limits.max_handshake_message,
            max_certificate=limits.max_certificate_chain,
            limit_names=(
                "Limits.max_handshake_message",
                "Limits.max_certificate_chain",
            ),
        )
        self._handshake = None
        self._failure: TLSError | None = None
        self._close_sent = False
        self._events: list[Event] = []
        # Application data the caller sent before the handshake completed.
        self._queued: list[bytes] = []
        self._queued_length = 0
        # Decrypted application data not yet returned by receive_data.
        self._plaintext_length = 0
        # Records that carried nothing, in a row (see limits.py).
        self._warnings_in_a_row = 0
        self._empty_records_in_a_row = 0

    # ------------------------------------------------------------------
    # Public interface
    # ------------------------------------------------------------------

    @property
    def state(self) -> State:
        """What the connection expects next."""
        return self._state

    @property
    def handshake_complete(self) -> bool:
        """Whether application data may flow."""
        return self._state in (State.EXPECT_CLIENT_DATA, State.EXPECT_SERVER_DATA)

    @property
    def limits(self) -> Limits:
        """The bounds this connection enforces."""
        return self._limits

    def buffer_use(self) -> BufferUse:
        """What the connection holds now, to compare with :attr:`limits`."""
        return BufferUse(
            ciphertext=self._reader.buffered,
            handshake=len(self._handshake_buffer),
            plaintext=self._queued_length,
        )

    def receive_data(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Process bytes from the transport.

        Args:
            data: Bytes received (``bytes``, ``bytearray`` or any
                ``memoryview``, read at once and never kept); ``b""``
                means the transport reached EOF.

        Returns:
            The events these bytes completed, in wire order.

        Raises:
            TLSError: A :class:`LocalProtocolError` for a protocol violation
                or a breach of :attr:`limits` (the fatal alert is already
                queued in :meth:`data_to_send`), or the earlier error, or
                the peer's :class:`RemoteAlert`, on every call after the
                connection failed.
            TypeError: ``data`` is not bytes-like; the connection is left
                as it was.
        """
        data = _byte_view(data, "receive_data")
        if self._failure is not None:
            raise self._failure
        if self._state is State.CLOSED:
            # RFC 5246 §7.2.1: after close_notify, further data is ignored.
            return []
        self._plaintext_length = 0
        try:
            if data:
                self._read_input(data)
            else:
                self._on_eof()
            self._send_queued_data()
            self._writer.flush()
        except LocalProtocolError as error:
            self._fail(error)
            raise
        except Exception as exc:  # a bug must still end in an alert
            internal = LocalProtocolError(
                f"internal error: {exc!r}", AlertDescription.internal_error
            )
            self._fail(internal)
            raise internal from exc
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> bytes:
        """Return, and forget, the bytes to write to the transport."""
        self._writer.flush()
        return self._writer.take()

    def send_application_data(self, data: bytes | bytearray | memoryview) -> None:
        """Queue application data; it leaves once the handshake completes.

        Data queued before the handshake completes is dropped if
        :meth:`close` cancels the handshake.

        Args:
            data: Any length; it is cut into records of at most 2^14 bytes.

        Raises:
            TLSError: The connection failed earlier (sticky), or, before
                the handshake completed, the data queued would pass
                ``limits.max_buffered_plaintext`` (internal_error; the
                connection fails).
            RuntimeError: :meth:`close` was called, or the peer closed.
            TypeError: ``data`` is not bytes-like; nothing is queued.
        """
        data = _byte_view(data, "send_application_data")
        if self._failure is not None:
            raise self._failure
        state = self._state
        if self._close_sent or state is _CLOSED:
            raise RuntimeError("send_application_data: the connection is closed")
        if not data:
            return
        if state not in _APPLICATION_DATA_STATES:
            self._queue_application_data(data)
            return
        self._writer.write(CONTENT_APPLICATION_DATA, data)

    def _queue_application_data(self, data: bytes | bytearray | memoryview) -> None:
        limit = self._limits.max_buffered_plaintext
        if self._queued_length + len(data) > limit:
            error = LocalProtocolError(
                f"send_application_data: {self._queued_length + len(data)} "
                f"bytes queued before the handshake completed, above the "
                f"{limit} of Limits.max_buffered_plaintext",
                AlertDescription.internal_error,
            )
            self._fail(error)
            raise error
        self._queued.append(bytes(data))
        self._queued_length += len(data)

    def close(self) -> None:
        """Queue a close_notify (RFC 5246 §7.2.1); later sends are refused.

        After the handshake the connection goes on reading until the
        peer's close_notify.  Before the handshake completes, close()
        cancels it instead: a warning user_canceled, then close_notify
        (RFC 5246 §7.2.2), and the connection is closed at once: nothing
        more is sent or read, and application data queued for after the
        handshake is dropped.  A client that never started the handshake
        sends nothing.

        Does nothing after a failure, a previous close, or once the
        connection is closed (the transport reached EOF: no one is left to
        read it).
        """
        if self._failure is not None or self._close_sent:
            return
        self._close_sent = True
        state = self._state
        if state is _CLOSED:
            return
        if state not in _APPLICATION_DATA_STATES:
            self._cancel_handshake()
            return
        self._writer.write(CONTENT_ALERT, alert_bytes(AlertDescription.close_notify))

    def _cancel_handshake(self) -> None:
        # Answering the peer's next flight would send messages after our
        # own close_notify, which promises "no more messages" (§7.2.1).
        if self._state is not State.EXPECT_START:
            self._writer.write(
                CONTENT_ALERT,
                alert_bytes(AlertDescription.user_canceled, AlertLevel.warning),
            )
            self._writer.write(
                CONTENT_ALERT, alert_bytes(AlertDescription.close_notify)
            )
        if self._queued:
            _log.debug(
                "%s: handshake cancelled; %d bytes of queued application data dropped",
                self._role,
                self._queued_length,
            )
        _log.debug("%s: handshake cancelled in %s", self._role, self._state)
        self._state = State.CLOSED
        self._forget_handshake()
        self._drop_input_and_queue()

    # ------------------------------------------------------------------
    # Incoming records
    # ------------------------------------------------------------------

    def _read_input(self, data: bytes | bytearray | memoryview) -> None:
        # The reader opens whole records in place and keeps only the start
        # of a record cut off at the end, so a huge input is never copied
        # whole: memory stays within the ciphertext limit however much
        # the caller passes.
        records = self._reader.read(data)
        try:
            for content_type, fragment in records:
                if fragment:
                    self._empty_records_in_a_row = 0
                if content_type == CONTENT_APPLICATION_DATA:
                    # Application data either is handled or raises; it
                    # never ends reading, so the next record follows.
                    self._on_application_data(fragment)
                    continue
                if content_type == CONTENT_HANDSHAKE:
                    self._on_handshake_record(fragment)
                elif content_type == CONTENT_ALERT:
                    self._on_alert(fragment)
                else:
                    self._on_change_cipher_spec(fragment)
                if not self._reading():
                    break
        finally:
            # Releases the reader's view of ``data`` however this ends.
            records.close()
        if not self._reading():
            # A fatal alert or close_notify ended reading: what follows
            # it is never read (RFC 5246 §7.2.1, §7.2.2), and data still
            # queued for a handshake that will not finish never leaves.
            self._drop_input_and_queue()

    def _reading(self) -> bool:
        return self._failure is None and self._state is not _CLOSED

    def _on_handshake_record(self, fragment: bytes) -> None:
        # RFC 5246 §6.2.1: "Implementations MUST NOT send zero-length
        # fragments of Handshake, Alert, or ChangeCipherSpec content types."
        if not fragment:
            raise _empty_record("handshake")
        try:
            # The type check is passed per call, not kept by the buffer:
            # a stored bound method would make the connection a cycle.
            check = self._check_handshake_type
            for message in self._handshake_buffer.feed(fragment, check):
                self._on_handshake_message(message)
        except DecodeError as error:
            raise _decode_failure(error) from None

    def _check_handshake_type(self, msg_type: int) -> None:
        # Called from a message's header, before its body is buffered: the
        # state table refuses a message we would never accept now without
        # holding a byte of it.
        expect(self._state, MESSAGE_OF_HANDSHAKE_TYPE.get(msg_type), raw_type=msg_type)

    def _on_handshake_message(self, raw: bytes) -> None:
        message = MESSAGE_OF_HANDSHAKE_TYPE.get(raw[0])
        state = self._state
        expect(state, message, raw_type=raw[0])
        assert message is not None
        params = _PARAMETERS.get(raw[0])
        parsed = Handshake.parse(raw, **params) if params else Handshake.parse(raw)
        body = parsed["body"]
        _log.debug("%s: received %s in %s", self._role, message, state)

        # RFC 5246 §7.4.9: a Finished is checked against the messages
        # before it, so its handler hashes it only after computing that;
        # HelloRequest is never hashed (§7.4.1.1).
        handshake = self._handshake
        if handshake is not None and message is not Message.FINISHED:
            handshake.transcript.add(raw)
        next_state = self._handlers[message](self, body, raw)
        self._state = check_next(state, message, next_state)
        if next_state is not state:
            self._warnings_in_a_row = 0

    def _on_change_cipher_spec(self, fragment: bytes) -> None:
        state = self._state
        expect(state, Message.CHANGE_CIPHER_SPEC)
        if not fragment:
            raise _empty_record("change_cipher_spec")
        if fragment != _CHANGE_CIPHER_SPEC_BODY:
            raise LocalProtocolError(
                f"ChangeCipherSpec: {fragment.hex()}, expected 01 (RFC 5246 §7.1)",
                AlertDescription.decode_error
                if len(fragment) != 1
                else AlertDescription.illegal_parameter,
            )
        # RFC 5246 §7.1: the CCS follows a complete message; a handshake
        # message split around it would straddle two key epochs.
        if len(self._handshake_buffer):
            raise LocalProtocolError(
                "ChangeCipherSpec: arrived inside a partial handshake message",
                AlertDescription.unexpected_message,
            )

        # From here on the peer's records are protected (RFC 5246 §7.1).
        self._reader.set_protection(self._peer_protection())
        # Each CCS state has exactly one successor in the table: the
        # matching Finished state.
        (next_state,) = expect(state, Message.CHANGE_CIPHER_SPEC)
        _log.debug("%s: received ChangeCipherSpec in %s", self._role, state)
        self._state = next_state
        self._warnings_in_a_row = 0

    def _on_alert(self, fragment: bytes) -> None:
        if not fragment:
            raise _empty_record("alert")
        level, description = decode_alert(fragment)
        action = classify_alert(level, description)
        _log.debug("%s: received alert %s (%s)", self._role, description, action)

        if action is AlertAction.CLOSE:
            # RFC 5246 §7.2.1: answer close_notify with close_notify and
            # stop reading.
            self._events.append(ConnectionClosed(clean=True))
            if not self._close_sent:
                # Only the close_notify: close() would first cancel a
                # handshake the peer has just ended.
                self._close_sent = True
                self._writer.write(
                    CONTENT_ALERT, alert_bytes(AlertDescription.close_notify)
                )
            self._state = State.CLOSED
            self._forget_handshake()
            return
        if action is not AlertAction.FATAL:
            self._count_idle_warning(f"received {_alert_name(description)}")
        self._events.append(
            AlertReceived(level=AlertLevel(level), description=description)
        )
        if action is AlertAction.FATAL:
            # RFC 5246 §7.2.2: a fatal alert ends the connection at once,
            # without a reply, and invalidates the session.
            self._events.append(ConnectionClosed(clean=False))
            self._failure = RemoteAlert.received(level, description)
            self._state = State.FAILED
            self._forget_handshake()
            self._forget_session()

    def _on_application_data(self, fragment: bytes) -> None:
        # The table's verdict, by identity for the states that accept data;
        # expect() raises the unexpected_message for every other state.
        state = self._state
        if state not in _APPLICATION_DATA_STATES:
            expect(state, Message.APPLICATION_DATA)
        # Empty application data records are legal (RFC 5246 §6.2.1) and
        # carry nothing to report, but only so many in a row.
        if not fragment:
            self._count_empty_record()
            return
        self._warnings_in_a_row = 0
        # LIMITATION: receive_data returns all its events at once and
        # cannot keep the rest of its input for a later call; matters for
        # callers passing more than max_buffered_plaintext of application
        # data in one call; instead the connection fails with
        # internal_error, so pass socket-sized reads (64 KiB).
        self._plaintext_length += len(fragment)
        limit = self._limits.max_buffered_plaintext
        if self._plaintext_length > limit:
            raise LocalProtocolError(
                f"TLSPlaintext.fragment: {self._plaintext_length} bytes of "
                f"application data in one receive_data call, above the {limit} "
                "of Limits.max_buffered_plaintext",
                AlertDescription.internal_error,
            )
        self._events.append(received_application_data(fragment))

    def _count_empty_record(self) -> None:
        self._empty_records_in_a_row += 1
        limit = self._limits.max_empty_records
        if self._empty_records_in_a_row > limit:
            raise LocalProtocolError(
                f"TLSPlaintext.fragment: {self._empty_records_in_a_row} empty "
                f"application_data records in a row, above the {limit} of "
                "Limits.max_empty_records",
                AlertDescription.unexpected_message,
            )

    def _count_idle_warning(self, what: str) -> None:
        # A warning alert either way, or an ignored HelloRequest: the
        # connection stays where it was.  A peer may not do that forever.
        self._warnings_in_a_row += 1
        limit = self._limits.max_warning_alerts
        if self._warnings_in_a_row > limit:
            raise LocalProtocolError(
                f"Alert: {what}, {self._warnings_in_a_row} warnings or ignored "
                f"requests in a row, above the {limit} of "
                "Limits.max_warning_alerts",
                AlertDescription.unexpected_message,
            )

    def _on_eof(self) -> None:
        # A transport EOF without close_notify: whatever was in flight may
        # be truncated (RFC 5246 §7.2.1).
        _log.debug("%s: transport EOF in %s", self._role, self._state)
        self._events.append(ConnectionClosed(clean=False))
        self._state = State.CLOSED
        self._forget_handshake()
        self._drop_input_and_queue()

    # ------------------------------------------------------------------
    # Outgoing messages, for the role handlers
    # ------------------------------------------------------------------

    def _send_handshake(self, msg_type: HandshakeType, body: object) -> bytes:
        value = {"msg_type": msg_type, "body": body}
        params = _PARAMETERS.get(msg_type)
        raw = Handshake.build(value, **params) if params else Handshake.build(value)
        assert self._handshake is not None
        self._handshake.transcript.add(raw)
        self._writer.queue_handshake(raw)
        return raw

    def _install_keys(self, master_secret: bytes) -> None:
        # The master secret is known: derive both directions' keys now;
        # each side switches to them at its ChangeCipherSpec.
        handshake = self._handshake
        assert handshake is not None and handshake.suite is not None
        schedule = KeySchedule(
            suite=handshake.suite,
            master_secret=master_secret,
            client_random=handshake.client_random,
            server_random=handshake.server_random,
        )
        handshake.schedule = schedule
        handshake.protections = schedule.protections(
            encrypt_then_mac=handshake.encrypt_then_mac, random=self._random
        )
        if self._keylog is not None:
            self._keylog.log_master_secret(handshake.client_random, master_secret)

    def _send_change_cipher_spec(self) -> None:
        # RFC 5246 §7.1: everything we write after this is protected.
        self._writer.write(CONTENT_CHANGE_CIPHER_SPEC, _CHANGE_CIPHER_SPEC_BODY)
        self._writer.set_protection(self._own_protection())

    def _send_finished(self) -> None:
        handshake = self._handshake
        assert handshake is not None and handshake.schedule is not None
        verify_data = handshake.schedule.verify_data(self._role, handshake.transcript)
        self._send_handshake(HandshakeType.finished, {"verify_data": verify_data})

    def _verify_finished(self, body: Any, raw: bytes) -> None:
        # RFC 5246 §7.4.9: "Recipients of Finished messages MUST verify
        # that the contents are correct"; a mismatch is decrypt_error.
        handshake = self._handshake
        assert handshake is not None and handshake.schedule is not None
        expected = handshake.schedule.verify_data(self._peer, handshake.transcript)
        verify_finished(expected, body["verify_data"])
        handshake.transcript.add(raw)

    def _send_warning(self, description: AlertDescription) -> None:
        # Each warning we send answers a record of the peer's: counted, so
        # a flood of renegotiation requests cannot grow our output forever.
        self._count_idle_warning(f"sending {description.name}")
        self._writer.write(CONTENT_ALERT, alert_bytes(description, AlertLevel.warning))

    def _ignore_hello_request(self) -> None:
        self._count_idle_warning("ignoring HelloRequest")

    def _send_queued_data(self) -> None:
        if self._queued and self.handshake_complete and not self._close_sent:
            queued, self._queued = self._queued, []
            self._queued_length = 0
            for data in queued:
                self._writer.write(CONTENT_APPLICATION_DATA, data)

    def _own_protection(self) -> RecordProtection:
        protections = self._protections()
        return protections.client if self._role == "client" else protections.server

    def _peer_protection(self) -> RecordProtection:
        protections = self._protections()
        return protections.server if self._role == "client" else protections.client

    def _protections(self) -> Protections:
        handshake = self._handshake
        assert handshake is not None and handshake.protections is not None
        return handshake.protections

    # ------------------------------------------------------------------
    # Failure
    # ------------------------------------------------------------------

    def _fail(self, error: LocalProtocolError) -> None:
        # The one place an error becomes an alert on the wire.
        _log.debug("%s: failing in %s: %s", self._role, self._state, error)
        self._failure = error
        self._state = State.FAILED
        self._free_buffers()
        self._writer.discard_pending()
        self._forget_handshake()
        self._forget_session()
        try:
            self._writer.write(CONTENT_ALERT, alert_bytes(error))
        except (TLSError, ValueError):
            # The write keys themselves failed, or the description cannot
            # be sent: close without an alert.
            _log.debug("%s: no alert sent for %s", self._role, error.description)

    def _free_buffers(self) -> None:
        # Nothing received is read again after a failure, and no event
        # from the failed call is returned.
        self._events = []
        self._plaintext_length = 0
        self._drop_input_and_queue()

    def _drop_input_and_queue(self) -> None:
        self._reader.clear()
        self._handshake_buffer.clear()
        self._queued = []
        self._queued_length = 0

    def _begin_handshake(self, handshake: HandshakeContext) -> None:
        self._handshake = handshake

    def _end_handshake(self) -> None:
        # The handshake's secrets go; messages after its last one, in the
        # same record, are still read.
        self._handshake = None

    def _forget_handshake(self) -> None:
        self._end_handshake()
        self._handshake_buffer.clear()

    def _forget_session(self) -> None:
        """Drop a resumable session (client side); RFC 5246 §7.2.2."""


def _alert_name(description: int) -> str:
    return getattr(description, "name", str(description))


def _empty_record(kind: str) -> LocalProtocolError:
    return LocalProtocolError(
        f"TLSPlaintext.fragment: empty {kind} record; RFC 5246 §6.2.1 forbids "
        "zero-length fragments of this type",
        AlertDescription.unexpected_message,
    )
