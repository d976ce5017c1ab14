"""The alert model: errors carry alerts, one function encodes them, and
received alerts are classified by the RFC 5246 §7.2 policy."""

from __future__ import annotations

import pytest

from tlsspec.generated.alert import AlertDescription, AlertLevel
from tlsspec.runtime.alerts import (
    ALERT_SEVERITY,
    AlertAction,
    LocalProtocolError,
    RemoteAlert,
    Severity,
    TLSError,
    alert_bytes,
    alert_record,
    classify_alert,
    decode_alert,
)

D = AlertDescription
WARNING, FATAL = AlertLevel.warning, AlertLevel.fatal
UNKNOWN_DESCRIPTION = 200

# Written out from the RFC text, independently of the module's table:
# RFC 5246 §7.2.1-7.2.2, RFC 7507 §3, RFC 6066 §3/§9, RFC 7301 §3.2.
RFC_SEVERITY = {
    "close_notify": Severity.EITHER,
    "unexpected_message": Severity.ALWAYS_FATAL,
    "bad_record_mac": Severity.ALWAYS_FATAL,
    "decryption_failed_RESERVED": Severity.RESERVED,
    "record_overflow": Severity.ALWAYS_FATAL,
    "decompression_failure": Severity.ALWAYS_FATAL,
    "handshake_failure": Severity.ALWAYS_FATAL,
    "no_certificate_RESERVED": Severity.RESERVED,
    "bad_certificate": Severity.EITHER,
    "unsupported_certificate": Severity.EITHER,
    "certificate_revoked": Severity.EITHER,
    "certificate_expired": Severity.EITHER,
    "certificate_unknown": Severity.EITHER,
    "illegal_parameter": Severity.ALWAYS_FATAL,
    "unknown_ca": Severity.ALWAYS_FATAL,
    "access_denied": Severity.ALWAYS_FATAL,
    "decode_error": Severity.ALWAYS_FATAL,
    "decrypt_error": Severity.ALWAYS_FATAL,
    "export_restriction_RESERVED": Severity.RESERVED,
    "protocol_version": Severity.ALWAYS_FATAL,
    "insufficient_security": Severity.ALWAYS_FATAL,
    "internal_error": Severity.ALWAYS_FATAL,
    "inappropriate_fallback": Severity.ALWAYS_FATAL,
    "user_canceled": Severity.EITHER,
    "no_renegotiation": Severity.ALWAYS_WARNING,
    "unsupported_extension": Severity.ALWAYS_FATAL,
    "certificate_unobtainable": Severity.EITHER,
    "unrecognized_name": Severity.EITHER,
    "bad_certificate_status_response": Severity.EITHER,
    "bad_certificate_hash_value": Severity.EITHER,
    "no_application_protocol": Severity.ALWAYS_FATAL,
}

# What a warning-level alert of each description makes the receiver do.
WARNING_ACTION = {
    "close_notify": AlertAction.CLOSE,
    "user_canceled": AlertAction.USER_CANCELED,
    "no_renegotiation": AlertAction.WARN_NO_RENEGOTIATION,
    **{
        name: AlertAction.FATAL
        for name, severity in RFC_SEVERITY.items()
        if severity in (Severity.ALWAYS_FATAL, Severity.RESERVED)
    },
    **{
        name: AlertAction.IGNORE
        for name in (
            "bad_certificate",
            "unsupported_certificate",
            "certificate_revoked",
            "certificate_expired",
            "certificate_unknown",
            "certificate_unobtainable",
            "unrecognized_name",
            "bad_certificate_status_response",
            "bad_certificate_hash_value",
        )
    },
}


def test_every_description_of_the_spec_has_a_policy_row() -> None:
    assert {description.name for description in ALERT_SEVERITY} == set(RFC_SEVERITY)
    assert {description.name for description in AlertDescription} == set(RFC_SEVERITY)
    assert set(WARNING_ACTION) == set(RFC_SEVERITY)


@pytest.mark.parametrize(("name", "severity"), sorted(RFC_SEVERITY.items()))
def test_policy_row_matches_the_rfc(name: str, severity: Severity) -> None:
    assert ALERT_SEVERITY[AlertDescription[name]] is severity


@pytest.mark.parametrize(("name", "action"), sorted(WARNING_ACTION.items()))
def test_warning_alert_is_classified_by_its_row(name: str, action: AlertAction) -> None:
    assert classify_alert(WARNING, AlertDescription[name]) is action


@pytest.mark.parametrize("description", list(AlertDescription))
def test_fatal_alert_of_any_description_ends_the_connection(
    description: AlertDescription,
) -> None:
    assert classify_alert(FATAL, description) is AlertAction.FATAL


def test_unknown_warning_alert_is_ignored() -> None:
    assert classify_alert(WARNING, UNKNOWN_DESCRIPTION) is AlertAction.IGNORE


def test_unknown_fatal_alert_ends_the_connection() -> None:
    assert classify_alert(FATAL, UNKNOWN_DESCRIPTION) is AlertAction.FATAL


@pytest.mark.parametrize("level", [0, 3, 255])
def test_alert_level_outside_the_enum_is_a_decode_error(level: int) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        classify_alert(level, D.close_notify)

    assert caught.value.description is D.decode_error
    assert "Alert.level" in str(caught.value)


@pytest.mark.parametrize(
    "fragment",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x02", id="one-byte"),
        pytest.param(b"\x02\x28\x00", id="three-bytes"),
        pytest.param(b"\x01\x00\x01\x00", id="two-coalesced-alerts"),
    ],
)
def test_alert_record_not_exactly_two_bytes_is_unexpected_message(
    fragment: bytes,
) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        decode_alert(fragment)

    assert caught.value.description is D.unexpected_message
    assert caught.value.level is FATAL


def test_decode_alert_returns_level_and_description() -> None:
    assert decode_alert(b"\x02\x28") == (2, D.handshake_failure)


def test_decode_alert_keeps_unknown_description_as_int() -> None:
    level, description = decode_alert(bytes((1, UNKNOWN_DESCRIPTION)))

    assert (level, description) == (1, UNKNOWN_DESCRIPTION)
    assert not isinstance(description, AlertDescription)


def test_error_defaults_to_fatal_level() -> None:
    error = LocalProtocolError("ClientHello.cipher_suites: odd length", D.decode_error)

    assert isinstance(error, TLSError)
    assert error.level is FATAL
    assert error.description is D.decode_error


def test_alert_bytes_encodes_a_local_error() -> None:
    error = LocalProtocolError("x", D.illegal_parameter)

    assert alert_bytes(error) == b"\x02\x2f"


def test_alert_bytes_honours_a_warning_level_error() -> None:
    error = LocalProtocolError("peer certificate expired", D.certificate_expired)
    error.level = WARNING

    assert alert_bytes(error) == b"\x01\x2d"


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        (D.close_notify, b"\x01\x00"),
        (D.user_canceled, b"\x01\x5a"),
        (D.no_renegotiation, b"\x01\x64"),
        (D.handshake_failure, b"\x02\x28"),
        (D.bad_certificate, b"\x02\x2a"),
        (D.decrypt_error, b"\x02\x33"),
        (D.no_application_protocol, b"\x02\x78"),
    ],
)
def test_bare_description_gets_its_conventional_level(
    description: AlertDescription, expected: bytes
) -> None:
    assert alert_bytes(description) == expected


def test_either_level_description_can_be_sent_as_warning() -> None:
    assert alert_bytes(D.unrecognized_name, WARNING) == b"\x01\x70"


@pytest.mark.parametrize(
    "description",
    [d for d, severity in ALERT_SEVERITY.items() if severity is Severity.ALWAYS_FATAL],
)
def test_always_fatal_description_is_never_sent_as_warning(
    description: AlertDescription,
) -> None:
    with pytest.raises(ValueError, match="always fatal"):
        alert_bytes(description, WARNING)


def test_no_renegotiation_is_never_sent_as_fatal() -> None:
    with pytest.raises(ValueError, match="always a warning"):
        alert_bytes(D.no_renegotiation, FATAL)


@pytest.mark.parametrize(
    "description",
    [d for d, severity in ALERT_SEVERITY.items() if severity is Severity.RESERVED],
)
def test_reserved_description_is_never_sent(description: AlertDescription) -> None:
    with pytest.raises(ValueError, match="reserved"):
        alert_bytes(description)


def test_remote_alert_is_never_answered_with_an_alert() -> None:
    error = RemoteAlert.received(FATAL, D.bad_record_mac)

    with pytest.raises(ValueError, match="RemoteAlert"):
        alert_bytes(error)


def test_remote_alert_names_what_the_peer_sent() -> None:
    known = RemoteAlert.received(FATAL, D.bad_record_mac)
    unknown = RemoteAlert.received(FATAL, UNKNOWN_DESCRIPTION)

    assert str(known) == "peer sent fatal alert bad_record_mac"
    assert known.description is D.bad_record_mac
    assert str(unknown) == f"peer sent fatal alert unknown({UNKNOWN_DESCRIPTION})"
    assert unknown.description == UNKNOWN_DESCRIPTION


def test_alert_record_is_a_whole_plaintext_record() -> None:
    error = LocalProtocolError("x", D.decode_error)

    # content type 21, version 3.3, length 2, then level and description.
    assert alert_record(error) == b"\x15\x03\x03\x00\x02\x02\x32"
    assert (
        alert_record(D.close_notify, version=0x0301) == b"\x15\x03\x01\x00\x02\x01\x00"
    )


def test_encoded_alert_decodes_and_classifies_back() -> None:
    level, description = decode_alert(alert_bytes(D.close_notify))

    assert classify_alert(level, description) is AlertAction.CLOSE


def test_alert_bytes_takes_a_plain_int_level_and_description() -> None:
    assert alert_bytes(AlertDescription.decode_error, 2) == b"\x02\x32"
    assert alert_bytes(50) == b"\x02\x32"
    error = LocalProtocolError("x", 40, level=1)
    assert error.level is AlertLevel.warning
    assert alert_bytes(error, AlertLevel.fatal) == b"\x02\x28"


@pytest.mark.parametrize("level", [0, 3, 300, -1])
def test_alert_bytes_refuses_a_level_that_does_not_exist(level: int) -> None:
    with pytest.raises(ValueError, match="alert level"):
        alert_bytes(AlertDescription.bad_certificate, level)  # type: ignore[arg-type]


@pytest.mark.parametrize("level", ["fatal", True, 2.0])
def test_alert_bytes_refuses_a_level_that_is_not_an_int(level: object) -> None:
    with pytest.raises(TypeError, match="alert level"):
        alert_bytes(AlertDescription.bad_certificate, level)  # type: ignore[arg-type]


@pytest.mark.parametrize("description", ["decode_error", None, 2.5, b"\x32"])
def test_alert_bytes_refuses_a_description_that_is_not_an_int(
    description: object,
) -> None:
    with pytest.raises(TypeError, match="alert_bytes: expected a TLSError"):
        alert_bytes(description)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("description", "level", "field"),
    [(256, 2, "description"), (-1, 2, "description"), (40, 300, "level")],
)
def test_error_refuses_values_that_are_not_bytes(
    description: int, level: int, field: str
) -> None:
    with pytest.raises(ValueError, match=f"alert {field}: .* is not a byte"):
        LocalProtocolError("x", description, level=level)  # type: ignore[arg-type]


@pytest.mark.parametrize(("level", "description"), [(1, 256), (256, 0), (1, -1)])
def test_classify_alert_refuses_values_that_are_not_bytes(
    level: int, description: int
) -> None:
    with pytest.raises(ValueError, match="is not a byte"):
        classify_alert(level, description)


@pytest.mark.parametrize("fragment", ["ab", None, [1, 2]])
def test_decode_alert_refuses_what_is_not_bytes(fragment: object) -> None:
    with pytest.raises(TypeError, match="decode_alert: expected the record's bytes"):
        decode_alert(fragment)  # type: ignore[arg-type]


@pytest.mark.parametrize("description", ["decode_error", None, 2.5])
def test_error_refuses_a_description_that_is_not_an_int(description: object) -> None:
    with pytest.raises(TypeError, match="description"):
        LocalProtocolError("x", description)  # type: ignore[arg-type]


def test_star_import_gives_the_alert_enums() -> None:
    namespace: dict[str, object] = {}
    exec("from tlsspec.runtime.alerts import *", namespace)

    assert namespace["AlertDescription"] is AlertDescription
    assert namespace["AlertLevel"] is AlertLevel


@pytest.mark.parametrize(
    ("level", "description", "name", "type_name"),
    [
        ("1", 0, "level", "str"),
        (None, 0, "level", "NoneType"),
        (True, 0, "level", "bool"),
        (1.0, 0, "level", "float"),
        (1, "close_notify", "description", "str"),
        (2, None, "description", "NoneType"),
    ],
)
def test_classify_alert_refuses_values_that_are_not_ints_as_a_caller_error(
    level: object, description: object, name: str, type_name: str
) -> None:
    # The wire only ever yields ints, so anything else is a programming
    # error, not a decode_error to send the peer.
    with pytest.raises(
        TypeError,
        match=rf"^alert {name}: expected an int \(one byte\), got {type_name} ",
    ):
        classify_alert(level, description)  # type: ignore[arg-type]


def test_classify_alert_accepts_the_enums_as_ints() -> None:
    assert classify_alert(AlertLevel.warning, D.close_notify) is AlertAction.CLOSE


@pytest.mark.parametrize(("version", "type_name"), [("x", "str"), (None, "NoneType")])
def test_alert_record_version_that_is_not_an_int_is_refused_by_name(
    version: object, type_name: str
) -> None:
    with pytest.raises(
        TypeError, match=f"^version: expected an int ProtocolVersion .*got {type_name}$"
    ):
        alert_record(D.handshake_failure, version=version)  # type: ignore[arg-type]


@pytest.mark.parametrize("version", [-1, 0x10000])
def test_alert_record_version_must_fit_two_bytes(version: int) -> None:
    with pytest.raises(ValueError, match=f"^version: {version} does not fit 2 bytes"):
        alert_record(D.handshake_failure, version=version)
