"""The client's Session and its byte encoding."""

from __future__ import annotations

import hashlib

import pytest

from tlsspec.runtime import Session
from tlsspec.runtime.session import MAX_SESSION_BYTES, SESSION_FORMAT
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


def _resealed(body: bytes) -> bytes:
    # What a writer of damaged-on-purpose bytes would append: the check
    # over everything before it, computed independently of the engine.
    return body + hashlib.sha256(body).digest()


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
        (0, 1, r"^Session.format: 1, expected 2$"),
        (0, 3, r"^Session.format: 3, expected 2$"),
        (1, 0x00, "cipher_suite"),
        (51, 2, "extended_master_secret"),
    ],
)
def test_refuses_unknown_values(offset: int, value: int, message: str) -> None:
    data = bytearray(_session().to_bytes()[:-32])
    data[offset] = value

    with pytest.raises(ValueError, match=message):
        Session.from_bytes(_resealed(bytes(data)))


def test_refuses_trailing_bytes() -> None:
    with pytest.raises(ValueError, match="after the ticket"):
        Session.from_bytes(_resealed(_session().to_bytes()[:-32] + b"\x00"))


def test_the_check_is_sha256_of_everything_before_it() -> None:
    data = _session().to_bytes()

    assert data[-32:] == hashlib.sha256(data[:-32]).digest()


def test_every_flipped_bit_past_the_format_byte_is_named_damage() -> None:
    data = _session().to_bytes()

    for bit in range(8, len(data) * 8):
        damaged = bytearray(data)
        damaged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(ValueError) as refused:
            Session.from_bytes(bytes(damaged))
        assert str(refused.value) == (
            "Session.check: the SHA-256 check does not match; the session is damaged"
        ), bit


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


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ticket": "abc"}, "Session.ticket: expected bytes, got str"),
        ({"master_secret": None}, "Session.master_secret: expected bytes, got None"),
        ({"cipher_suite": "TLS_X"}, "Session.cipher_suite: expected a CipherSuite"),
        ({"cipher_suite": 49199.0}, "Session.cipher_suite: expected a CipherSuite"),
        (
            {"extended_master_secret": "no"},
            "Session.extended_master_secret: expected a bool",
        ),
        (
            {"lifetime": 1.5},
            r"Session.lifetime: expected an int \(a uint32\), got float",
        ),
        ({"lifetime": "7200"}, "Session.lifetime: expected an int .*, got str"),
        ({"lifetime": True}, "Session.lifetime: expected an int .*, got bool"),
        ({"received_at": 1.5}, r"Session.received_at: expected an int \(a uint64\)"),
        (
            {"server_name": b"example.com"},
            "Session.server_name: expected a str or None",
        ),
        (
            {"alpn_protocol": b"h2"},
            "Session.alpn_protocol: expected a str or None, got bytes",
        ),
    ],
)
def test_refuses_fields_of_the_wrong_type(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        _session(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cipher_suite": 0x002F}, "Session.cipher_suite: 0x002F is not implemented"),
        ({"server_name": "ä.com"}, "Session.server_name: 'ä.com' is not ASCII"),
        ({"received_at": -1}, "Session.received_at: -1, expected a uint64"),
        ({"lifetime": 2**32}, "Session.lifetime: 4294967296, expected a uint32"),
    ],
)
def test_refuses_wrong_values_naming_the_field(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _session(**changes)


def test_a_suite_code_is_kept_as_its_table_row() -> None:
    session = _session(cipher_suite=0xCCA9)

    assert session.cipher_suite is TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    assert session == _session()


def test_byte_like_secrets_are_kept_as_bytes() -> None:
    session = _session(
        ticket=bytearray(b"T" * 150), master_secret=memoryview(bytes(range(48)))
    )

    assert type(session.ticket) is bytes
    assert type(session.master_secret) is bytes
    assert Session.from_bytes(session.to_bytes()) == _session()


def test_refuses_a_non_ascii_server_name_in_the_encoding() -> None:
    data = bytearray(_session().to_bytes()[:-32])
    # The first byte of server_name, after the fixed part and its length.
    data[64 + 2] = 0xC3

    with pytest.raises(
        ValueError, match=r"Session.server_name: b'\\xc3xample.com' is not ASCII"
    ):
        Session.from_bytes(_resealed(bytes(data)))


@pytest.mark.parametrize("data", [200, None, "abc", [1] * 64])
def test_from_bytes_refuses_anything_not_bytes_like(data: object) -> None:
    # bytes(200) would be 200 zero bytes, decoded as a bad format byte.
    with pytest.raises(TypeError, match=r"Session.from_bytes: expected bytes, got"):
        Session.from_bytes(data)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_from_bytes_accepts_bytes_like_input(kind: type) -> None:
    assert Session.from_bytes(kind(_session().to_bytes())) == _session()


def test_the_largest_session_is_exactly_the_advertised_bound() -> None:
    largest = Session(
        ticket=b"t" * (2**16 - 1),
        master_secret=b"m" * 48,
        cipher_suite=0xC02F,
        extended_master_secret=True,
        lifetime=2**32 - 1,
        received_at=2**64 - 1,
        server_name="a" * (2**16 - 1),
        alpn_protocol="p" * 255,
        trust_digest=b"d" * 32,
    )
    assert len(largest.to_bytes()) == MAX_SESSION_BYTES == 131394 + 33 + 32
