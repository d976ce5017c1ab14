"""Finished verify_data: computed from the PRF, checked in constant time."""

from __future__ import annotations

import pytest

from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.runtime import finished as finished_module
from tlsspec.runtime.alerts import LocalProtocolError, alert_bytes
from tlsspec.runtime.finished import (
    VERIFY_DATA_LENGTH,
    compute_verify_data,
    verify_finished,
)
from tlsspec.runtime.prf import verify_data

MASTER_SECRET = bytes(range(48))
TRANSCRIPT_HASH = bytes(range(100, 132))
EXPECTED = compute_verify_data(
    MASTER_SECRET, sender="client", transcript_hash=TRANSCRIPT_HASH, hash="sha256"
)


def _flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


@pytest.mark.parametrize("sender", ["client", "server"])
def test_compute_verify_data_is_the_prf_verify_data(sender: str) -> None:
    sha384_hash = bytes(range(100, 148))
    computed = compute_verify_data(
        MASTER_SECRET,
        sender=sender,  # type: ignore[arg-type]
        transcript_hash=sha384_hash,
        hash="sha384",
    )

    assert len(computed) == VERIFY_DATA_LENGTH
    assert computed == verify_data(
        MASTER_SECRET,
        sender=sender,  # type: ignore[arg-type]
        handshake_hash=sha384_hash,
        hash="sha384",
    )


def test_client_and_server_verify_data_differ() -> None:
    server = compute_verify_data(
        MASTER_SECRET, sender="server", transcript_hash=TRANSCRIPT_HASH, hash="sha256"
    )

    assert server != EXPECTED


def test_longer_verify_data_length_is_honoured() -> None:
    long = compute_verify_data(
        MASTER_SECRET,
        sender="client",
        transcript_hash=TRANSCRIPT_HASH,
        hash="sha256",
        length=32,
    )

    assert len(long) == 32
    assert long[:VERIFY_DATA_LENGTH] == EXPECTED


def test_matching_verify_data_is_accepted() -> None:
    verify_finished(EXPECTED, bytes(EXPECTED))


@pytest.mark.parametrize(
    ("received", "alert"),
    [
        pytest.param(b"", AlertDescription.decode_error, id="empty"),
        pytest.param(EXPECTED[:-1], AlertDescription.decode_error, id="one-short"),
        pytest.param(EXPECTED + b"\x00", AlertDescription.decode_error, id="one-long"),
        pytest.param(EXPECTED + EXPECTED, AlertDescription.decode_error, id="doubled"),
        pytest.param(_flip(EXPECTED, 0), AlertDescription.decrypt_error, id="first"),
        pytest.param(_flip(EXPECTED, 11), AlertDescription.decrypt_error, id="last"),
        pytest.param(bytes(12), AlertDescription.decrypt_error, id="zeros"),
    ],
)
def test_bad_verify_data_raises_with_the_rfc_alert(
    received: bytes, alert: AlertDescription
) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        verify_finished(EXPECTED, received)

    assert caught.value.description is alert
    assert caught.value.level is AlertLevel.fatal
    assert alert_bytes(caught.value) == bytes((AlertLevel.fatal, alert))
    assert "Finished.verify_data" in str(caught.value)


def test_comparison_goes_through_the_constant_time_primitive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []

    def spy(left: bytes, right: bytes) -> bool:
        calls.append((left, right))
        return left == right

    monkeypatch.setattr(finished_module, "bytes_eq", spy)

    verify_finished(EXPECTED, EXPECTED)
    with pytest.raises(LocalProtocolError):
        verify_finished(EXPECTED, _flip(EXPECTED, 5))

    assert calls == [(EXPECTED, EXPECTED), (EXPECTED, _flip(EXPECTED, 5))]


@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_bytes_like_verify_data_is_compared_by_content(wrap: type) -> None:
    verify_finished(EXPECTED, wrap(EXPECTED))
    verify_finished(wrap(EXPECTED), EXPECTED)

    with pytest.raises(LocalProtocolError) as caught:
        verify_finished(EXPECTED, wrap(_flip(EXPECTED, 0)))
    assert caught.value.description is AlertDescription.decrypt_error


@pytest.mark.parametrize(
    ("value", "type_name"), [("a" * 12, "str"), (None, "NoneType"), ([0] * 12, "list")]
)
def test_verify_data_that_is_not_bytes_like_is_refused_by_name(
    value: object, type_name: str
) -> None:
    with pytest.raises(
        TypeError,
        match=f"^verify_finished: received must be bytes, bytearray or "
        f"memoryview, got {type_name}$",
    ):
        verify_finished(EXPECTED, value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^verify_finished: expected must be bytes"):
        verify_finished(value, EXPECTED)  # type: ignore[arg-type]


@pytest.mark.parametrize("length", [0, 1, VERIFY_DATA_LENGTH - 1])
def test_expected_verify_data_below_the_rfc_minimum_is_the_callers_mistake(
    length: int,
) -> None:
    # Two empty values would otherwise compare equal and pass.
    with pytest.raises(
        ValueError,
        match=rf"^verify_finished: expected is {length} bytes; verify_data is "
        r"at least 12 \(RFC 5246 §7\.4\.9\)$",
    ):
        verify_finished(EXPECTED[:length], EXPECTED[:length])


def test_compute_verify_data_refuses_a_master_secret_not_48_bytes() -> None:
    with pytest.raises(ValueError, match=r"^master_secret must be 48 bytes .*got 5$"):
        compute_verify_data(
            bytes(5), sender="client", transcript_hash=TRANSCRIPT_HASH, hash="sha256"
        )


def test_compute_verify_data_refuses_a_transcript_hash_of_another_hash() -> None:
    with pytest.raises(
        ValueError, match=r"^handshake_hash must be 48 bytes for PRF 'sha384', got 32$"
    ):
        compute_verify_data(
            MASTER_SECRET,
            sender="client",
            transcript_hash=TRANSCRIPT_HASH,
            hash="sha384",
        )
