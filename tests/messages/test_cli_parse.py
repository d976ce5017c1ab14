"""``tlsspec parse`` prints real OpenSSL messages field by field with their
offsets, and on bad input prints the path, offset and alert and exits 1.

The command runs as a subprocess, as a user runs it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.messages.flight import SNI, OpenSSLFlight

CLI_TIMEOUT = 60
# RFC 5246 §7.4.1.2: header(4), client_version(2), random(32), then the
# session_id length byte.
SESSION_ID_OFFSET = 38
# RFC 8422 §5.4 ServerKeyExchange with an x25519 share: header(4),
# curve_type(1), namedcurve(2), point<1..2^8-1> (1 + 32), then the
# digitally-signed struct: algorithm(2), signature<0..2^16-1>.
SIGNED_PARAMS_OFFSET = 40
SIGNATURE_OFFSET = 42


def tlsspec_parse(
    *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tlsspec", "parse", *args],
        input=stdin,
        capture_output=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


def _lines(output: bytes) -> list[str]:
    return output.decode().splitlines()


def _has_line(output: bytes, offset: int, text: str) -> bool:
    pattern = re.compile(rf"^\s*@{offset}\s+{re.escape(text)}$")
    return any(pattern.match(line) for line in _lines(output))


def test_parse_prints_server_name_message_type_and_offsets(
    openssl_flight: OpenSSLFlight, tmp_path: Path
) -> None:
    message = openssl_flight.client_hello
    path = tmp_path / "client_hello.bin"
    path.write_bytes(message)

    result = tlsspec_parse("Handshake", str(path))

    assert result.returncode == 0, result.stderr
    name = SNI.encode()
    # HostName<1..2^16-1>: the field starts at its 2-byte length prefix.
    name_offset = message.index(len(name).to_bytes(2, "big") + name)
    suites_offset = SESSION_ID_OFFSET + 1 + message[SESSION_ID_OFFSET]
    assert _has_line(result.stdout, 0, "Handshake:")
    assert _has_line(result.stdout, 0, "msg_type: client_hello (1)")
    assert _has_line(result.stdout, 1, f"length: {len(message) - 4}")
    assert _has_line(result.stdout, 4, "client_version: tls1_2 (771)")
    assert _has_line(result.stdout, SESSION_ID_OFFSET, "session_id:  (0 bytes)")
    assert any(
        re.match(rf"^\s*@{suites_offset}\s+cipher_suites: \[", line)
        for line in _lines(result.stdout)
    )
    assert _has_line(
        result.stdout, name_offset, f"name: {name.hex()} ({len(name)} bytes)"
    )


def test_parse_of_hex_text_prints_the_same_tree(
    openssl_flight: OpenSSLFlight, tmp_path: Path
) -> None:
    message = openssl_flight.client_hello
    binary = tmp_path / "client_hello.bin"
    binary.write_bytes(message)
    text = tmp_path / "client_hello.hex"
    hex_text = message.hex()
    text.write_text(
        "\n".join(hex_text[i : i + 32] for i in range(0, len(hex_text), 32))
    )

    from_hex = tlsspec_parse("Handshake", str(text), "--hex")
    from_stdin = tlsspec_parse("Handshake", "-", stdin=message)

    expected = tlsspec_parse("Handshake", str(binary)).stdout
    assert from_hex.returncode == from_stdin.returncode == 0
    assert from_hex.stdout == from_stdin.stdout == expected


def test_parse_of_truncated_message_exits_1_naming_path_offset_alert(
    openssl_flight: OpenSSLFlight, tmp_path: Path
) -> None:
    message = openssl_flight.client_hello
    path = tmp_path / "truncated.bin"
    path.write_bytes(message[:100])

    result = tlsspec_parse("Handshake", str(path))

    assert result.returncode == 1
    assert result.stdout == b""
    error, offset, alert = _lines(result.stderr)
    # The uint24 length promises more body than the 96 bytes present.
    assert error.startswith("error: Handshake.body: ")
    assert f"length {len(message) - 4}" in error
    assert offset == "  offset: 4"
    assert alert == "  alert: decode_error"


def test_parse_of_record_cut_in_its_header_names_the_length_field(
    tmp_path: Path,
) -> None:
    path = tmp_path / "record.bin"
    # A handshake record header, TLS 1.0 record version, cut after one
    # byte of its uint16 length.
    path.write_bytes(bytes.fromhex("16 0301 00"))

    result = tlsspec_parse("TLSPlaintext", str(path))

    assert result.returncode == 1
    assert _lines(result.stderr)[0].startswith("error: TLSPlaintext.length: ")
    assert _lines(result.stderr)[1:] == ["  offset: 3", "  alert: decode_error"]


def test_parse_of_server_key_exchange_uses_the_param(
    openssl_flight: OpenSSLFlight, tmp_path: Path
) -> None:
    path = tmp_path / "server_key_exchange.bin"
    path.write_bytes(openssl_flight.server_key_exchange)

    with_param = tlsspec_parse(
        "Handshake", str(path), "--param", "key_exchange_algorithm=ec_diffie_hellman"
    )
    without = tlsspec_parse("Handshake", str(path))

    assert with_param.returncode == 0, with_param.stderr
    # RFC 8422 §5.4: the body opens with curve_type named_curve (3), then
    # the curve and the 32-byte x25519 point.
    assert _has_line(with_param.stdout, 4, "curve_type: named_curve (3)")
    assert _has_line(with_param.stdout, 5, "namedcurve: x25519 (29)")
    assert _has_line(with_param.stdout, SIGNED_PARAMS_OFFSET, "signed_params:")
    # A missing parameter is the caller's mistake: internal_error.
    assert without.returncode == 1
    assert _lines(without.stderr)[0].startswith("error: Handshake.body: ")
    assert _lines(without.stderr)[-1] == "  alert: internal_error"


def test_parse_prints_offsets_of_digitally_signed_fields(
    openssl_flight: OpenSSLFlight, tmp_path: Path
) -> None:
    path = tmp_path / "server_key_exchange.bin"
    path.write_bytes(openssl_flight.server_key_exchange)

    result = tlsspec_parse(
        "Handshake", str(path), "--param", "key_exchange_algorithm=ec_diffie_hellman"
    )

    assert result.returncode == 0, result.stderr
    assert _has_line(
        result.stdout, SIGNED_PARAMS_OFFSET, "algorithm: rsa_pss_rsae_sha256 (2052)"
    )
    assert any(
        re.match(rf"^\s*@{SIGNATURE_OFFSET}\s+signature: ", line)
        for line in _lines(result.stdout)
    )
