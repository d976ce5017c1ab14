"""Valid transcripts of real handshakes, as the chunks each side received.

Each :class:`Transcript` is what one side (the victim) read from its peer in
a real connection: full handshake or ticket resumption, a request and an
answer, then close_notify both ways.  Peers are our own engine (in memory)
or OpenSSL (Python's ``ssl`` over memory BIOs).  The victim is rebuilt from
a :class:`Setup` whose clock, random source and ticket keys are fixed, so a
fresh victim fed the recorded chunks behaves exactly as the recorded one:
it writes the same bytes, derives the same keys, and the peer's later
flights (encrypted Finished, application data) still verify.  That is what
lets a mutation of a late flight reach the late states.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

from tests.engine.support import (
    CountingRandom,
    client_config,
    clock_for,
    server_config,
)
from tests.hostile.identity import SERVER_NAME, fixed_ecdsa_identity
from tests.support.openssl import MemoryBioEndpoint, ssl_context
from tlsspec.runtime import ClientConnection, ServerConnection, Session
from tlsspec.runtime.events import Event, NewSession
from tlsspec.runtime.limits import LARGEST_RECORD, Limits
from tlsspec.runtime.state import State
from tlsspec.runtime.suites import (
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    CipherSuite,
)
from tlsspec.runtime.tickets import TicketKeyRing

Victim = ClientConnection | ServerConnection
Role = Literal["client", "server"]

#: Tight enough that mutated lengths run into them, loose enough for every
#: recorded transcript (a P-256 chain is under 1 KiB).
FUZZ_LIMITS: Final = Limits(
    max_handshake_message=2048,
    max_certificate_chain=4096,
    max_buffered_ciphertext=LARGEST_RECORD,
    max_buffered_plaintext=4096,
    max_warning_alerts=3,
    max_empty_records=3,
)
REQUEST: Final = b"GET / HTTP/1.0\r\n\r\n"
ANSWER: Final = b"HTTP/1.0 200 OK\r\n\r\n" + b"tlsspec " * 64
_MAX_ROUNDS: Final = 16


@dataclass(frozen=True)
class Setup:
    """How to build the same victim every time."""

    cipher_suites: tuple[CipherSuite, ...] | None = None
    session: Session | None = field(default=None, compare=False)
    limits: Limits = FUZZ_LIMITS
    #: Whether the server has ticket keys at all.
    tickets: bool = True
    #: Rotate the server's key once, so a ticket from the first key is
    #: renewed on resumption (RFC 5077 §3.3).
    rotate_ticket_key: bool = False

    def client(self) -> ClientConnection:
        """A client that has sent its ClientHello (drained)."""
        identity = fixed_ecdsa_identity()
        config = client_config(
            identity,
            cipher_suites=self.cipher_suites,
            limits=self.limits,
            random=CountingRandom(b"hostile client"),
        )
        client = ClientConnection(config, server_name=SERVER_NAME, session=self.session)
        client.start_handshake()
        return client

    def server(self) -> ServerConnection:
        """A server waiting for a ClientHello."""
        identity = fixed_ecdsa_identity()
        clock = clock_for(identity)
        ring = TicketKeyRing.generate(
            clock=clock, random=CountingRandom(b"hostile ticket keys")
        )
        if self.rotate_ticket_key:
            ring.rotate()
        config = server_config(
            identity,
            ring=ring if self.tickets else None,
            clock=clock,
            limits=self.limits,
            random=CountingRandom(b"hostile server"),
        )
        return ServerConnection(config)

    def victim(self, role: Role) -> Victim:
        """A fresh victim of ``role``."""
        return self.client() if role == "client" else self.server()


@dataclass(frozen=True)
class Transcript:
    """What one victim received in one recorded connection.

    Attributes:
        name: ``<peer>-<flow>-<victim role>``, e.g. ``openssl-resumed-server``.
        role: The victim's role.
        setup: Builds a victim that behaves as the recorded one.
        chunks: The bytes the victim received, one entry per read.
        events: The events the recorded victim returned.
    """

    name: str
    role: Role
    setup: Setup
    chunks: tuple[bytes, ...]
    events: tuple[Event, ...]

    @property
    def stream(self) -> bytes:
        """Every chunk, joined."""
        return b"".join(self.chunks)

    def victim(self) -> Victim:
        """A fresh victim for this transcript."""
        return self.setup.victim(self.role)


@dataclass
class _Side:
    # One side's recording: what it received and what it returned.
    connection: Victim
    received: list[bytes] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def receive(self, data: bytes) -> None:
        if data:
            self.received.append(data)
            self.events += self.connection.receive_data(data)


def _pump_ours(client: _Side, server: _Side) -> None:
    for _ in range(_MAX_ROUNDS):
        to_server = client.connection.data_to_send()
        server.receive(to_server)
        to_client = server.connection.data_to_send()
        client.receive(to_client)
        if not to_server and not to_client:
            return
    raise AssertionError("recording did not settle")


def _record_ours(setup: Setup, flow: str) -> tuple[Transcript, Transcript]:
    client, server = _Side(setup.client()), _Side(setup.server())
    _pump_ours(client, server)
    assert client.connection.state is State.EXPECT_SERVER_DATA, client.events

    client.connection.send_application_data(REQUEST)
    _pump_ours(client, server)
    server.connection.send_application_data(ANSWER)
    _pump_ours(client, server)
    client.connection.close()
    _pump_ours(client, server)
    assert client.connection.state is State.CLOSED
    assert server.connection.state is State.CLOSED
    return _transcripts("ours", flow, setup, client, server)


def _transcripts(
    peer: str, flow: str, setup: Setup, client: _Side | None, server: _Side | None
) -> tuple[Transcript, ...]:
    out = []
    for role, side in (("client", client), ("server", server)):
        if side is not None:
            out.append(
                Transcript(
                    name=f"{peer}-{flow}-{role}",
                    role=role,  # type: ignore[arg-type]
                    setup=setup,
                    chunks=tuple(side.received),
                    events=tuple(side.events),
                )
            )
    return tuple(out)


def first_session() -> Session:
    """The session our client got from our server in ``ours-full``."""
    return _session_of(transcript_named("ours-full-client"))


def _session_of(transcript: Transcript) -> Session:
    (event,) = [e for e in transcript.events if isinstance(e, NewSession)]
    return event.session


# ----------------------------------------------------------------------
# OpenSSL peers
# ----------------------------------------------------------------------


def _step(endpoint: MemoryBioEndpoint) -> bytes:
    if not endpoint.handshake_complete:
        endpoint.step_handshake()
    return endpoint.take()


def _record_against_openssl_server(
    setup: Setup, context: ssl.SSLContext, flow: str
) -> Transcript:
    client = _Side(setup.client())
    endpoint = MemoryBioEndpoint(context, server_side=True)
    for _ in range(_MAX_ROUNDS):
        endpoint.feed(client.connection.data_to_send())
        client.receive(_step(endpoint))
        if endpoint.handshake_complete and client.connection.handshake_complete:
            break
    endpoint.feed(client.connection.data_to_send())

    client.connection.send_application_data(REQUEST)
    endpoint.feed(client.connection.data_to_send())
    assert endpoint.read() == REQUEST
    endpoint.write(ANSWER)
    client.receive(endpoint.take())
    client.connection.close()
    endpoint.feed(client.connection.data_to_send())
    endpoint.unwrap()
    client.receive(endpoint.take())
    assert client.connection.state is State.CLOSED, client.events
    (transcript,) = _transcripts("openssl", flow, setup, client, None)
    return transcript


def _record_against_openssl_client(
    setup: Setup,
    context: ssl.SSLContext,
    flow: str,
    session: ssl.SSLSession | None,
) -> tuple[Transcript, ssl.SSLSession | None]:
    server = _Side(setup.server())
    endpoint = MemoryBioEndpoint(
        context, server_side=False, server_hostname=SERVER_NAME, session=session
    )
    for _ in range(_MAX_ROUNDS):
        server.receive(_step(endpoint))
        endpoint.feed(server.connection.data_to_send())
        if endpoint.handshake_complete and server.connection.handshake_complete:
            break
    endpoint.write(REQUEST)
    server.receive(endpoint.take())
    server.connection.send_application_data(ANSWER)
    endpoint.feed(server.connection.data_to_send())
    assert endpoint.read() == ANSWER
    endpoint.unwrap()
    server.receive(endpoint.take())
    endpoint.feed(server.connection.data_to_send())
    assert server.connection.state is State.CLOSED, server.events
    (transcript,) = _transcripts("openssl", flow, setup, None, server)
    return transcript, endpoint.ssl_object.session


def _openssl_transcripts() -> list[Transcript]:
    identity = fixed_ecdsa_identity()
    out = []

    # Our client against an OpenSSL server: full, then with its ticket.
    server_context = ssl_context("server", identity)
    full = _record_against_openssl_server(Setup(), server_context, "full")
    resumed_setup = Setup(session=_session_of(full))
    out += [
        full,
        _record_against_openssl_server(resumed_setup, server_context, "resumed"),
    ]

    # An OpenSSL client against our server: full, then with our ticket.
    client_context = ssl_context("client")
    full, session = _record_against_openssl_client(
        Setup(), client_context, "full", None
    )
    resumed, _ = _record_against_openssl_client(
        Setup(), client_context, "resumed", session
    )
    out += [full, resumed]
    return out


@functools.cache
def all_transcripts() -> tuple[Transcript, ...]:
    """Every recorded transcript, recorded once per process."""
    out: list[Transcript] = []
    full = _record_ours(Setup(), "full")
    out += full
    session = _session_of(full[0])
    out += _record_ours(Setup(session=session), "resumed")
    cbc = Setup(cipher_suites=(TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,))
    out += _record_ours(cbc, "cbc")
    out += _openssl_transcripts()
    return tuple(out)


def transcript_named(name: str) -> Transcript:
    """The transcript called ``name``."""
    for transcript in all_transcripts():
        if transcript.name == name:
            return transcript
    raise KeyError(name)


#: The names of :func:`all_transcripts`, in order, known without recording.
TRANSCRIPT_NAMES: Final = (
    "ours-full-client",
    "ours-full-server",
    "ours-resumed-client",
    "ours-resumed-server",
    "ours-cbc-client",
    "ours-cbc-server",
    "openssl-full-client",
    "openssl-resumed-client",
    "openssl-full-server",
    "openssl-resumed-server",
)

VictimFactory = Callable[[], Victim]
