"""Feed a victim hostile bytes and check the invariant after every call.

The invariant, for every ``receive_data`` call:

* either the call returns events that make sense in order (at most one
  HandshakeComplete, application data only after it, nothing after
  ConnectionClosed, a fatal AlertReceived followed by ConnectionClosed),
  and the connection holds no more than its :class:`Limits` allow;
* or it raises a :class:`LocalProtocolError` that is not a disguised bug
  (no non-TLS ``__cause__``, no internal_error but a resource limit), and
  ``data_to_send()`` ends with exactly one well-formed fatal alert record
  naming that error's description: parsed with the generated
  ``TLSPlaintext`` and ``Alert`` codecs while the victim writes plaintext,
  opened with the victim's own keys once it writes protected records.
  After that every call raises the same error at once, nothing more is
  sent, and the buffers are empty.

A call that takes longer than :data:`HANG_SECONDS` is a hang.  Anything
else is an :class:`InvariantError`.
"""

from __future__ import annotations

import os
import signal
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Final

from tests.hostile.transcripts import Transcript, Victim
from tlsspec.generated.alert import Alert, AlertDescription, AlertLevel
from tlsspec.generated.record import ContentType, TLSPlaintext
from tlsspec.runtime import ClientConnection
from tlsspec.runtime.alerts import LocalProtocolError, RemoteAlert, TLSError
from tlsspec.runtime.events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    NewSession,
)
from tlsspec.runtime.keyschedule import KeySchedule
from tlsspec.runtime.limits import BufferUse
from tlsspec.runtime.messages import HANDSHAKE_HEADER_LENGTH
from tlsspec.runtime.state import State

#: One example (two replays of a transcript) may take this long.
HANG_SECONDS: Final = 10.0
#: More than any flight we answer with: a server's first flight is ~1 KiB.
MAX_OUTPUT_PER_CALL: Final = 2**14
_HEADER: Final = struct.Struct("!BHH")
_EMPTY: Final = BufferUse(ciphertext=0, handshake=0, plaintext=0)
# Sent after a failure to check that it sticks: a warning alert record.
_PROBE: Final = bytes.fromhex("15030300020100")


class InvariantError(AssertionError):
    """The victim did something the invariant forbids."""


class Hang(BaseException):
    """A call ran past :data:`HANG_SECONDS`.

    A BaseException, so the engine's catch-all cannot turn it into an alert.
    """


@contextmanager
def watchdog(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Raise :class:`Hang` inside whatever runs longer than ``seconds``."""

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Outcome:
    """How feeding a stream ended."""

    events: tuple[Event, ...]
    description: AlertDescription | int | None
    state: State
    error_text: str = ""


@dataclass
class Watched:
    """A victim whose every call is checked; see the module docstring."""

    victim: Victim
    events: list[Event] = field(default_factory=list)
    error: TLSError | None = None
    _keys: tuple[KeySchedule, bool] | None = None

    def __post_init__(self) -> None:
        self.victim.data_to_send()
        # Keep the keys the victim installs, to open the alert it sends
        # once its own records are protected.
        install = self.victim._install_keys

        def capture(master_secret: bytes) -> None:
            install(master_secret)
            handshake = self.victim._handshake
            assert handshake is not None and handshake.schedule is not None
            self._keys = (handshake.schedule, handshake.encrypt_then_mac)

        self.victim._install_keys = capture  # type: ignore[method-assign]

    @property
    def closed(self) -> bool:
        """Whether a ConnectionClosed came."""
        return any(isinstance(e, ConnectionClosed) for e in self.events)

    def feed(self, data: bytes) -> None:
        """One ``receive_data`` call, checked."""
        if self.error is not None:
            self._check_sticky(self.error)
            return
        try:
            events = self.victim.receive_data(data)
        except RemoteAlert as error:
            self._on_remote_alert(error)
            return
        except TLSError as error:
            self._on_failure(error)
            return
        self._on_events(events)

    def outcome(self) -> Outcome:
        """The events so far and the error, if any."""
        error = self.error
        return Outcome(
            events=tuple(self.events),
            description=None if error is None else error.description,
            state=self.victim.state,
            error_text="" if error is None else str(error),
        )

    # ------------------------------------------------------------------

    def _on_events(self, events: list[Event]) -> None:
        limits = self.victim.limits
        output = self.victim.data_to_send()
        _require(len(output) <= MAX_OUTPUT_PER_CALL, f"{len(output)} bytes out")
        for event in events:
            self._check_order(event)
            self.events.append(event)
        if events and isinstance(events[-1], ConnectionClosed):
            if not events[-1].clean and self.victim.state is State.FAILED:
                # A fatal alert from the peer: later calls raise it.
                self.error = self.victim._failure
                _require(isinstance(self.error, RemoteAlert), "no RemoteAlert kept")
        plaintext = sum(len(e.data) for e in events if isinstance(e, ApplicationData))
        _require(
            plaintext <= limits.max_buffered_plaintext,
            f"{plaintext} bytes of plaintext returned at once",
        )
        use = self.victim.buffer_use()
        _require(
            use.ciphertext < limits.max_buffered_ciphertext,
            f"{use.ciphertext} bytes of ciphertext held",
        )
        largest = max(limits.max_handshake_message, limits.max_certificate_chain)
        _require(
            use.handshake < HANDSHAKE_HEADER_LENGTH + largest,
            f"{use.handshake} bytes of handshake held",
        )

    def _check_order(self, event: Event) -> None:
        seen = self.events
        _require(not self.closed, f"{event!r} after ConnectionClosed")
        if seen and isinstance(seen[-1], AlertReceived):
            if seen[-1].level == AlertLevel.fatal:
                _require(
                    event == ConnectionClosed(clean=False),
                    f"{event!r} after a fatal alert",
                )
        complete = any(isinstance(e, HandshakeComplete) for e in seen)
        if isinstance(event, HandshakeComplete):
            _require(not complete, "a second HandshakeComplete")
        if isinstance(event, ApplicationData | NewSession):
            _require(
                complete is isinstance(event, ApplicationData),
                f"{type(event).__name__} out of place",
            )

    def _on_remote_alert(self, error: RemoteAlert) -> None:
        raise InvariantError(
            f"receive_data raised {error!r} without a fatal alert received first"
        )

    def _on_failure(self, error: TLSError) -> None:
        _require(isinstance(error, LocalProtocolError), f"raised {error!r}")
        cause = error.__cause__
        if cause is not None and not isinstance(cause, TLSError):
            raise InvariantError(f"engine bug behind {error}") from cause
        if error.description == AlertDescription.internal_error:
            _require("Limits." in str(error), f"internal_error: {error}")
        self.error = error
        level, description = self._last_alert(self.victim.data_to_send())
        _require(
            (level, description) == (AlertLevel.fatal, error.description),
            f"sent alert {level}/{description} for {error}",
        )
        self._check_sticky(error)

    def _last_alert(self, output: bytes) -> tuple[int, int]:
        records = _frame(output)
        _require(bool(records), "no alert sent")
        content_type, raw = records[-1]
        _require(content_type == ContentType.alert, "last record is not an alert")
        if self.victim._writer.protected:
            fragment = self._open(raw[_HEADER.size :])
        else:
            # Every plaintext alert parses, and only the last is fatal.
            levels = [
                Alert.parse(TLSPlaintext.parse(r)["fragment"])["level"]
                for t, r in records
                if t == ContentType.alert
            ]
            _require(levels.count(AlertLevel.fatal) == 1, f"alerts {levels}")
            fragment = TLSPlaintext.parse(raw)["fragment"]
        alert = Alert.parse(fragment)
        return int(alert["level"]), int(alert["description"])

    def _open(self, fragment: bytes) -> bytes:
        _require(self._keys is not None, "protected output without keys")
        assert self._keys is not None
        schedule, encrypt_then_mac = self._keys
        protections = schedule.protections(
            encrypt_then_mac=encrypt_then_mac, random=os.urandom
        )
        client = isinstance(self.victim, ClientConnection)
        opener = protections.client if client else protections.server
        sealer = self.victim._writer._protection
        assert sealer is not None
        opener._sequence_number = sealer.sequence_number - 1
        return opener.decrypt(ContentType.alert, fragment)

    def _check_sticky(self, error: TLSError) -> None:
        victim = self.victim
        calls: list[Callable[[], object]] = [
            lambda: victim.receive_data(_PROBE),
            lambda: victim.receive_data(b""),
            lambda: victim.send_application_data(b"x"),
        ]
        if isinstance(victim, ClientConnection):
            calls.append(victim.start_handshake)
        for call in calls:
            try:
                call()
            except TLSError as again:
                _require(again is error, f"{again!r} instead of {error!r}")
            else:
                raise InvariantError(f"a call after {error!r} did not raise")
        _require(victim.data_to_send() == b"", "bytes sent after the failure")
        _require(victim.buffer_use() == _EMPTY, f"{victim.buffer_use()} kept")
        _require(victim.state is State.FAILED, f"state {victim.state}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvariantError(message)


def _frame(output: bytes) -> list[tuple[int, bytes]]:
    # (content type, whole record) as the victim wrote them; the framing
    # must be exact.
    records = []
    position = 0
    while position < len(output):
        _require(len(output) - position >= _HEADER.size, "cut record header")
        content_type, _, length = _HEADER.unpack_from(output, position)
        end = position + _HEADER.size + length
        _require(end <= len(output), "cut record")
        records.append((content_type, output[position:end]))
        position = end
    return records


# ----------------------------------------------------------------------
# Whole runs
# ----------------------------------------------------------------------


def run(transcript: Transcript, chunks: list[bytes]) -> Outcome:
    """Feed ``chunks`` to a fresh victim, then EOF, checking every call."""
    watched = Watched(transcript.victim())
    for chunk in chunks:
        watched.feed(chunk)
    watched.feed(b"")
    return watched.outcome()


def check_replay(transcript: Transcript, chunks: list[bytes]) -> None:
    """An untouched transcript, cut anyhow, ends as recorded."""
    outcome = run(transcript, chunks)
    _require(outcome.description is None, f"valid stream failed: {outcome.error_text}")
    expected = (*transcript.events,)
    _require(outcome.events == expected, "events differ from the recording")
    _require(outcome.state is State.CLOSED, f"ended in {outcome.state}")


def check_mutation(
    transcript: Transcript, chunks: list[bytes], stream: bytes
) -> Outcome:
    """The invariant for a mutated stream, and chunking makes no difference.

    The same stream fed whole and in chunks ends in the same state with the
    same alert.  Without an error the events are the same too; with one,
    the whole-stream run reports a prefix of them, because the events of
    the call that fails are never returned.  Either way the handshake and
    application data delivered are a prefix of the recording's.

    Returns:
        How the whole-stream run ended.
    """
    whole = run(transcript, [stream] if stream else [])
    pieces = run(transcript, chunks)
    if "Limits.max_buffered_plaintext" not in whole.error_text + pieces.error_text:
        _require(
            (whole.description, whole.state) == (pieces.description, pieces.state),
            "fed whole and in chunks, the stream ended differently: "
            f"{whole.description} in {whole.state} ({whole.error_text}) vs "
            f"{pieces.description} in {pieces.state} ({pieces.error_text})",
        )
        if whole.description is None:
            _require(whole.events == pieces.events, "events depend on chunking")
        else:
            prefix = pieces.events[: len(whole.events)]
            _require(whole.events == prefix, "events depend on chunking")
    for outcome in (whole, pieces):
        _check_authentic(outcome, transcript)
    if stream == transcript.stream:
        _require(whole.events == transcript.events, "an unchanged stream differs")
    return whole


_AUTHENTICATED: Final = (HandshakeComplete, NewSession, ApplicationData)


def _check_authentic(outcome: Outcome, transcript: Transcript) -> None:
    # Finished covers every handshake byte and the record MAC every
    # application byte, so no mutation may deliver a handshake or data the
    # peer did not send: what arrives is a prefix of the recording.
    got = [e for e in outcome.events if isinstance(e, _AUTHENTICATED)]
    recorded = [e for e in transcript.events if isinstance(e, _AUTHENTICATED)]
    _require(
        got == recorded[: len(got)],
        f"delivered what the peer never sent: {got!r}",
    )
