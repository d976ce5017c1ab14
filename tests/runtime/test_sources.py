"""Injected clocks and random sources: a wrong value is named where drawn."""

from __future__ import annotations

import math

import pytest

from tests.engine.support import Pair, client_config, make_pair, server_config
from tests.hostile.identity import fixed_ecdsa_identity
from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime import ClientConnection
from tlsspec.runtime.alerts import TLSError, alert_bytes
from tlsspec.runtime.sources import check_callable, checked_clock, checked_random
from tlsspec.runtime.state import State
from tlsspec.runtime.tickets import TicketKey, TicketKeyRing


@pytest.mark.parametrize(
    ("returned", "error", "message"),
    [
        (b"\x00", ValueError, r"^random\(32\) returned 1 byte; expected 32$"),
        (b"\x00" * 33, ValueError, r"^random\(32\) returned 33 bytes; expected 32$"),
        ("a" * 32, TypeError, r"^random\(32\) returned str; expected 32 bytes$"),
        (bytearray(32), TypeError, r"^random\(32\) returned bytearray; expected "),
        (None, TypeError, r"^random\(32\) returned NoneType; expected 32 bytes$"),
    ],
)
def test_checked_random_refuses_anything_but_the_bytes_asked_for(
    returned: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        checked_random(lambda n: returned)(32)  # type: ignore[arg-type,return-value]


def test_checked_random_passes_the_sources_bytes_through() -> None:
    assert checked_random(lambda n: bytes(range(n)))(5) == bytes(range(5))


@pytest.mark.parametrize(
    ("returned", "error", "message"),
    [
        ("1700000000", TypeError, r"^clock\(\) returned str; expected seconds"),
        (True, TypeError, r"^clock\(\) returned bool; expected seconds"),
        (None, TypeError, r"^clock\(\) returned NoneType; expected seconds"),
        (math.nan, ValueError, r"^clock\(\) returned nan; expected finite seconds$"),
        (math.inf, ValueError, r"^clock\(\) returned inf; expected finite seconds$"),
    ],
)
def test_checked_clock_refuses_anything_but_finite_seconds(
    returned: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        checked_clock(lambda: returned)()  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize("seconds", [0, 1_700_000_000, 1_700_000_000.25])
def test_checked_clock_passes_numbers_through(seconds: float) -> None:
    assert checked_clock(lambda: seconds)() == seconds


def test_check_callable_names_the_field() -> None:
    with pytest.raises(TypeError, match=r"^random: expected a callable, got bytes$"):
        check_callable("random", b"x")


# -- through the engine ---------------------------------------------------------


def test_a_client_random_of_the_wrong_size_fails_start_handshake_by_name() -> None:
    identity = fixed_ecdsa_identity()
    client = ClientConnection(
        client_config(identity, random=lambda n: b"\x00"), server_name="localhost"
    )

    with pytest.raises(ValueError, match=r"^random\(32\) returned 1 byte"):
        client.start_handshake()
    # Nothing was sent and nothing changed: a fixed config can start over.
    assert client.state is State.EXPECT_START
    assert client.data_to_send() == b""


def _failed_server(pair: Pair) -> TLSError:
    pair.client.start_handshake()
    with pytest.raises(TLSError) as caught:
        pair.server.receive_data(pair.client.data_to_send())
    return caught.value


def test_a_server_random_of_the_wrong_type_is_an_internal_error_by_name() -> None:
    identity = fixed_ecdsa_identity()
    pair = make_pair(
        client_config(identity), server_config(identity, random=lambda n: "x" * n)
    )
    error = _failed_server(pair)

    assert error.description == AlertDescription.internal_error
    assert "random(32) returned str; expected 32 bytes" in str(error)
    assert pair.server.data_to_send() == alert_record(AlertDescription.internal_error)
    with pytest.raises(TLSError):
        pair.server.receive_data(b"\x16")


def test_a_server_clock_that_returns_text_is_an_internal_error_by_name() -> None:
    identity = fixed_ecdsa_identity()
    client = client_config(identity)
    server = server_config(identity, ring=TicketKeyRing.generate())
    pair = make_pair(client, server)
    pair.handshake()
    session = pair.client.session
    assert session is not None

    broken = server_config(
        identity, ring=server.ticket_keys, clock=lambda: "1700000000"
    )
    resumed = make_pair(client, broken, session=session)
    error = _failed_server(resumed)

    assert error.description == AlertDescription.internal_error
    assert "clock() returned str" in str(error)


def test_a_key_ring_random_of_the_wrong_size_is_named_when_a_ticket_is_sealed() -> None:
    identity = fixed_ecdsa_identity()
    draws = iter([b"n" * 16, b"a" * 16, b"h" * 32])
    # The key comes from good bytes; the ticket IV from a short draw.
    ring = TicketKeyRing.generate(random=lambda n: next(draws, b"\x00" * (n - 1)))
    pair = make_pair(client_config(identity), server_config(identity, ring=ring))
    pair.client.start_handshake()
    with pytest.raises(TLSError) as caught:
        pair.pump()

    assert caught.value.description == AlertDescription.internal_error
    assert "random(16) returned 15 bytes; expected 16" in str(caught.value)


def test_ticket_key_generate_names_a_short_random() -> None:
    with pytest.raises(ValueError, match=r"^random\(16\) returned 0 bytes"):
        TicketKey.generate(random=lambda n: b"")


def alert_record(description: AlertDescription) -> bytes:
    fragment = alert_bytes(description)
    return bytes([21, 3, 3, 0, len(fragment)]) + fragment
