"""Every mutation of a valid ticket is refused and leads to a full handshake.

STYLE.md and RFC 5077 §3.2: a ticket that fails its MAC, decryption or
parsing is never an alert; the server falls back to a full handshake.
Each mutation of a real ticket (every bit flipped, every truncation,
every extension by 1 to 64 bytes) goes to a fresh ServerConnection inside
an otherwise unchanged ClientHello; the server must answer with the full
handshake's first flight (a ServerHello that does not echo the session
ID, then Certificate).  A sample of them is run to the end with a real
client holding the mutated ticket.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Final

import pytest

from tests.engine.support import MAX_ROUNDS, record, split_records
from tests.hostile.transcripts import Setup, first_session
from tlsspec.generated.extensions import ExtensionType
from tlsspec.generated.handshake import Handshake, HandshakeType
from tlsspec.runtime import ClientConnection, ServerConnection
from tlsspec.runtime.events import Event, HandshakeComplete, NewSession
from tlsspec.runtime.state import State

HANDSHAKE: Final = 22
#: Longest extension tried, in bytes.
MAX_EXTENSION: Final = 64
#: Every SAMPLE_EVERY-th mutation is also run to a complete handshake.
SAMPLE_EVERY: Final = 97


def _ticket() -> bytes:
    return first_session().ticket


def _bit_flips(ticket: bytes) -> Iterator[bytes]:
    for bit in range(len(ticket) * 8):
        flipped = bytearray(ticket)
        flipped[bit // 8] ^= 0x80 >> (bit % 8)
        yield bytes(flipped)


def _truncations(ticket: bytes) -> Iterator[bytes]:
    for length in range(len(ticket)):
        yield ticket[:length]


def _extensions(ticket: bytes) -> Iterator[bytes]:
    for length in range(1, MAX_EXTENSION + 1):
        yield ticket + bytes(length)
        yield ticket + bytes(range(256 - length, 256))


FAMILIES: Final = {
    "bit-flip": _bit_flips,
    "truncation": _truncations,
    "extension": _extensions,
}


class _HelloTemplate:
    # The ClientHello a client resuming the session sends, with the ticket
    # swapped for another one: parsed once, rebuilt per ticket.
    def __init__(self) -> None:
        client = Setup(session=first_session()).client()
        ((_, fragment),) = split_records(client.data_to_send())
        self.message = Handshake.parse(fragment)
        self.session_id = bytes(self.message["body"]["session_id"])
        extensions = self.message["body"]["extensions"]
        (self.slot,) = [
            i
            for i, e in enumerate(extensions)
            if e["extension_type"] == ExtensionType.session_ticket
        ]

    def with_ticket(self, ticket: bytes) -> bytes:
        self.message["body"]["extensions"][self.slot]["extension_data"] = ticket
        return record(HANDSHAKE, Handshake.build(self.message))


def _first_flight(hello: bytes) -> tuple[State, list[int], bytes]:
    server = Setup().server()
    server.receive_data(hello)
    (_, fragment), *_ = split_records(server.data_to_send())
    types, server_hello = [], b""
    position = 0
    while position < len(fragment):
        length = int.from_bytes(fragment[position + 1 : position + 4], "big")
        message = fragment[position : position + 4 + length]
        if message[0] == HandshakeType.server_hello:
            server_hello = message
        types.append(message[0])
        position += 4 + length
    session_id = bytes(Handshake.parse(server_hello)["body"]["session_id"])
    return server.state, types, session_id


def test_the_unchanged_ticket_resumes() -> None:
    template = _HelloTemplate()

    state, types, session_id = _first_flight(template.with_ticket(_ticket()))

    assert state is State.EXPECT_RESUMED_CLIENT_CHANGE_CIPHER_SPEC
    assert session_id == template.session_id
    assert HandshakeType.certificate not in types


@pytest.mark.parametrize("family", FAMILIES)
def test_every_mutated_ticket_gets_a_full_handshake(family: str) -> None:
    template = _HelloTemplate()
    full = [HandshakeType.server_hello, HandshakeType.certificate]
    problems = []

    for number, ticket in enumerate(FAMILIES[family](_ticket())):
        state, types, session_id = _first_flight(template.with_ticket(ticket))
        if (state, types[:2], session_id) != (
            State.EXPECT_CLIENT_KEY_EXCHANGE,
            full,
            b"",
        ):
            problems.append(f"mutation {number}: {state.name}, {types}")

    assert problems == []


def _pump(client: ClientConnection, server: ServerConnection) -> list[Event]:
    events: list[Event] = []
    for _ in range(MAX_ROUNDS):
        # b"" would mean EOF: only bytes are passed on.
        to_server = client.data_to_send()
        if to_server:
            server.receive_data(to_server)
        to_client = server.data_to_send()
        if to_client:
            events += client.receive_data(to_client)
        if not to_server and not to_client:
            return events
    raise AssertionError("the pair did not settle")


def _sample() -> list[tuple[str, int, bytes]]:
    out = []
    for family, mutate in FAMILIES.items():
        for number, ticket in enumerate(mutate(_ticket())):
            if number % SAMPLE_EVERY == 0 and ticket:
                out.append((family, number, ticket))
    return out


@pytest.mark.parametrize(
    ("family", "number", "ticket"),
    _sample(),
    ids=lambda value: value if isinstance(value, str | int) else "",
)
def test_a_client_with_a_mutated_ticket_completes_a_full_handshake(
    family: str, number: int, ticket: bytes
) -> None:
    setup = Setup(session=dataclasses.replace(first_session(), ticket=ticket))
    client, server = setup.client(), setup.server()

    events = _pump(client, server)

    (complete,) = [e for e in events if isinstance(e, HandshakeComplete)]
    assert not complete.resumed
    assert server.handshake_complete
    # A fresh ticket replaces the refused one.
    (fresh,) = [e for e in events if isinstance(e, NewSession)]
    assert fresh.session.ticket != ticket
