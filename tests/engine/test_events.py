"""Events are frozen, keyword-only and valid by construction."""

from __future__ import annotations

import dataclasses

import pytest

from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.runtime.events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    HandshakeComplete,
    NewSession,
)
from tlsspec.runtime.suites import TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256


def test_events_are_frozen_and_keyword_only() -> None:
    event = ConnectionClosed(clean=True)

    with pytest.raises(dataclasses.FrozenInstanceError):
        event.clean = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        ConnectionClosed(True)  # type: ignore[misc]


@pytest.mark.parametrize(
    "build",
    [
        lambda: ApplicationData(data=b""),
        lambda: ApplicationData(data="text"),
        lambda: HandshakeComplete(cipher_suite=0xC02F, resumed=False),
        lambda: NewSession(session=b"ticket"),
        lambda: AlertReceived(level=3, description=AlertDescription.close_notify),
        lambda: AlertReceived(level=AlertLevel.fatal, description=300),
        lambda: ConnectionClosed(clean=1),
    ],
    ids=[
        "empty-data",
        "text-data",
        "suite-code",
        "session-bytes",
        "bad-level",
        "bad-description",
        "clean-int",
    ],
)
def test_invalid_events_cannot_be_built(build: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        build()  # type: ignore[operator]


def test_unknown_alert_descriptions_are_kept_as_ints() -> None:
    event = AlertReceived(level=AlertLevel.warning, description=200)

    assert event.description == 200
    complete = HandshakeComplete(
        cipher_suite=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, resumed=True
    )
    assert complete.session is None
