"""The client's Session and its byte encoding."""

from __future__ import annotations

import pytest

from tlsspec.runtime import Session
from tlsspec.runtime.session import SESSION_FORMAT
from tlsspec.runtime.suites import (
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
)


def _session(**changes: object) -> Session:
    fields: dict[str, object] = {
        "ticket": b"T" * 150,
        "master_secret": bytes(range(48)),
        "cipher_suite": TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        "extended_master_secret": True,
        "lifetime": 7200,
        "received_at": 1_800_000_000,
        "server_name": "example.com",
        "alpn_protocol": "h2",
    }
    fields.update(changes)
    return Session(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "session",
    [
        _session(),
        _session(server_name=None, alpn_protocol=None, extended_master_secret=False),
        _session(cipher_suite=TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, ticket=b"x"),
    ],
)
def test_session_round_trips_through_bytes(session: Session) -> None:
    data = session.to_bytes()

    assert data[0] == SESSION_FORMAT
    assert Session.from_bytes(data) == session


def test_every_truncation_is_refused() -> None:
    data = _session().to_bytes()

    for length in range(len(data)):
        with pytest.raises(ValueError):
            Session.from_bytes(data[:length])


@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [
        (0, 2, "format"),
        (1, 0x00, "cipher_suite"),
        (51, 2, "extended_master_secret"),
    ],
)
def test_refuses_unknown_values(offset: int, value: int, message: str) -> None:
    data = bytearray(_session().to_bytes())
    data[offset] = value

    with pytest.raises(ValueError, match=message):
        Session.from_bytes(bytes(data))


def test_refuses_trailing_bytes() -> None:
    with pytest.raises(ValueError, match="after the ticket"):
        Session.from_bytes(_session().to_bytes() + b"\x00")


def test_repr_hides_the_master_secret_and_ticket() -> None:
    text = repr(_session())

    assert bytes(range(48)).hex() not in text
    assert "master_secret=" not in text.replace("extended_master_secret=", "")
    assert "TTTT" not in text


def test_lifetime_counts_from_reception_and_zero_means_unspecified() -> None:
    session = _session()

    assert not session.expired(session.received_at + 7199)
    assert session.expired(session.received_at + 7200)
    assert not _session(lifetime=0).expired(1e12)


@pytest.mark.parametrize(
    "changes",
    [
        {"ticket": b""},
        {"master_secret": bytes(47)},
        {"lifetime": -1},
        {"alpn_protocol": "x" * 256},
    ],
)
def test_refuses_out_of_range_fields(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _session(**changes)
