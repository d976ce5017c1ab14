"""``tlsspec parse`` input, record checks, ``--param`` and exit statuses.

Every command runs as a subprocess, as a user runs it, and every test pins
the exit status and the exact text on stderr. Record streams are written
out byte by byte from RFC 5246 §6.2.1 (header: type, version, uint16
length) and §7.1 (ChangeCipherSpec is the single byte 01).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
# argparse wraps usage and help to the terminal width it is told.
COLUMNS = "80"

ALERT_RECORD = "15 0303 0002 0232"  # fatal decode_error
ALERT_TREE = (
    "record 0 @0: alert, version 0x0303, 2 bytes\n"
    "     @0  Alert:\n"
    "     @0    level: fatal (2)\n"
    "     @1    description: decode_error (50)\n"
)
CCS_RECORD = "14 0303 0001 01"
# A whole ServerHelloDone: type 14, empty body.
SERVER_HELLO_DONE_RECORD = "16 0303 0004 0e000000"


def _env(*, unbuffered: bool = True) -> dict[str, str]:
    env = {**os.environ, "COLUMNS": COLUMNS}
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


def tlsspec(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tlsspec", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        env=_env(),
        timeout=TIMEOUT,
        check=False,
    )


def _lines(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


# -- stdin as '-' with --records -----------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["--records", "-"], bytes.fromhex(ALERT_RECORD)),
        (["--records", "--hex", "-"], ALERT_RECORD.encode()),
        (["--records", "-", "--hex"], ALERT_RECORD.encode()),
    ],
    ids=["binary", "hex-before", "hex-after"],
)
def test_parse_records_reads_stdin_named_by_a_dash(
    args: list[str], stdin: bytes
) -> None:
    result = tlsspec("parse", *args, stdin=stdin)

    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    assert result.stdout == ALERT_TREE.encode()


def test_parse_records_still_refuses_a_type_before_a_dash() -> None:
    result = tlsspec("parse", "--records", "Alert", "-", stdin=b"")

    assert result.returncode == 2
    assert result.stderr == (
        b"tlsspec: --records reads FILE (or stdin) and takes no TYPE; "
        b"'Alert' is no file\n"
    )


@pytest.mark.parametrize("second", ["other", "-"], ids=["two-files", "file-then-dash"])
def test_parse_records_refuses_a_second_file(tmp_path: Path, second: str) -> None:
    first = tmp_path / "a.bin"
    first.write_bytes(bytes.fromhex(ALERT_RECORD))
    if second == "other":
        (tmp_path / "other").write_bytes(bytes.fromhex(ALERT_RECORD))
        second = str(tmp_path / "other")

    result = tlsspec("parse", "--records", str(first), second)

    assert result.returncode == 2
    assert result.stderr == (
        b"tlsspec: --records takes one FILE (or '-' for stdin); got 2\n"
    )
    assert result.stdout == b""


# -- record checks -------------------------------------------------------------

EMPTY_REASON = "RFC 5246 §6.2.1 forbids zero-length fragments of this type"


@pytest.mark.parametrize(
    ("stream", "stdout", "stderr"),
    [
        (
            "16 0301 4000",
            b"",
            _lines(
                "error: TLSPlaintext.fragment: truncated: needs 16384 bytes, "
                "0 remain (5 bytes after the last whole record)",
                "  offset: 5",
                "  alert: decode_error",
            ),
        ),
        (
            f"{ALERT_RECORD} 16",
            ALERT_TREE.encode(),
            _lines(
                "error: TLSPlaintext.version: truncated: needs 2 bytes, "
                "0 remain (1 byte after the last whole record)",
                "  offset: 8",
                "  alert: decode_error",
            ),
        ),
        (
            "16 0303 0000",
            _lines("record 0 @0: handshake, version 0x0303, 0 bytes"),
            _lines(
                f"error: TLSPlaintext.fragment: empty handshake record; {EMPTY_REASON}",
                "  offset: 5",
                "  alert: unexpected_message",
            ),
        ),
        (
            f"{ALERT_RECORD} 15 0303 0000",
            (ALERT_TREE + "record 1 @7: alert, version 0x0303, 0 bytes\n").encode(),
            _lines(
                f"error: TLSPlaintext.fragment: empty alert record; {EMPTY_REASON}",
                "  offset: 12",
                "  alert: unexpected_message",
            ),
        ),
        (
            "14 0303 0000",
            _lines("record 0 @0: change_cipher_spec, version 0x0303, 0 bytes"),
            _lines(
                "error: TLSPlaintext.fragment: empty change_cipher_spec record; "
                + EMPTY_REASON,
                "  offset: 5",
                "  alert: unexpected_message",
            ),
        ),
        (
            "14 0303 0002 0101",
            _lines("record 0 @0: change_cipher_spec, version 0x0303, 2 bytes"),
            _lines(
                "error: ChangeCipherSpec: 0101 (2 bytes), expected the single "
                "byte 01 (RFC 5246 §7.1)",
                "  offset: 5",
                "  alert: decode_error",
            ),
        ),
        (
            "14 0303 0001 02",
            _lines("record 0 @0: change_cipher_spec, version 0x0303, 1 byte"),
            _lines(
                "error: ChangeCipherSpec.type: found 02, expected 01 (RFC 5246 §7.1)",
                "  offset: 5",
                "  alert: illegal_parameter",
            ),
        ),
        (
            f"16 0303 0002 0e00 {CCS_RECORD}",
            _lines(
                "record 0 @0: handshake, version 0x0303, 2 bytes",
                "record 1 @7: change_cipher_spec, version 0x0303, 1 byte",
            ),
            _lines(
                "error: ChangeCipherSpec: arrives after 2 bytes of an unfinished "
                "handshake message",
                "  offset: 12",
                "  alert: unexpected_message",
            ),
        ),
        (
            "16 0303 0003 0e0000",
            _lines("record 0 @0: handshake, version 0x0303, 3 bytes"),
            _lines(
                "error: Handshake: the stream ends 3 bytes into a handshake message",
                "  offset: 8",
                "  alert: decode_error",
            ),
        ),
    ],
    ids=[
        "cut-in-fragment",
        "cut-in-header-after-a-record",
        "empty-handshake",
        "empty-alert-after-a-record",
        "empty-change-cipher-spec",
        "change-cipher-spec-of-two-bytes",
        "change-cipher-spec-of-another-value",
        "change-cipher-spec-inside-a-message",
        "stream-ends-inside-a-message",
    ],
)
def test_parse_records_stops_at_a_bad_record_naming_path_offset_and_alert(
    stream: str, stdout: bytes, stderr: bytes
) -> None:
    result = tlsspec("parse", "--records", "--hex", stdin=stream.encode())

    assert result.returncode == 1
    assert result.stderr == stderr
    assert result.stdout == stdout


# A ServerHello (RFC 5246 §7.4.1.3) the engine's client accepts: TLS 1.2,
# zero random, no session ID, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, null
# compression, an empty renegotiation_info (RFC 5746 §3.6).
SERVER_HELLO = "0200002d 0303" + "00" * 32 + "00 c02f 00 0005 ff01000100"
SERVER_HELLO_RECORD = f"16 0301 0031 {SERVER_HELLO}"
# RFC 5246 §6.2.1 and §6.2.3: the longest plaintext and ciphertext records.
MAX_PLAINTEXT = 2**14
MAX_CIPHERTEXT = 2**14 + 2048
TYPE_REASON = "expected change_cipher_spec, alert, handshake or application_data"


def _record(content_type: str, length: int) -> str:
    return f"{content_type} 0303 {length:04x} " + "00" * length


# Each stream, the record the engine refuses (RecordReader, decode_alert,
# classify_alert) and what parse says about it: the engine's path and
# text, the offset of the field from the start of the stream, its alert.
ENGINE_RECORD_CHECKS = [
    (
        _record("16", MAX_PLAINTEXT + 1),
        "",
        (
            f"error: TLSPlaintext.length: {MAX_PLAINTEXT + 1}, expected at most "
            f"{MAX_PLAINTEXT} (RFC 5246 §6.2.1, §6.2.3)"
        ),
        3,
        "record_overflow",
    ),
    (
        f"{ALERT_RECORD} 63 0303 0002 0100",
        ALERT_TREE,
        f"error: TLSPlaintext.type: 99, {TYPE_REASON}",
        7,
        "unexpected_message",
    ),
    (
        "16 0909 0004 0e000000",
        "",
        "error: TLSPlaintext.version: 0x0909, expected {3, x}",
        1,
        "protocol_version",
    ),
    (
        f"{SERVER_HELLO_RECORD} 16 0301 0004 0e000000",
        None,
        "error: TLSPlaintext.version: 0x0301, expected 0x0303",
        55,
        "protocol_version",
    ),
    (
        f"{ALERT_RECORD} 15 0303 0002 0500",
        ALERT_TREE + "record 1 @7: alert, version 0x0303, 2 bytes\n",
        "error: Alert.level: 5 for close_notify, expected warning(1) or fatal(2)",
        12,
        "decode_error",
    ),
    (
        f"{ALERT_RECORD} 15 0303 0003 020000",
        ALERT_TREE + "record 1 @7: alert, version 0x0303, 3 bytes\n",
        "error: Alert: record fragment is 3 bytes, expected exactly 2",
        12,
        "unexpected_message",
    ),
    (
        f"{CCS_RECORD} {_record('17', MAX_CIPHERTEXT + 1)}",
        "record 0 @0: change_cipher_spec, version 0x0303, 1 byte\n",
        (
            f"error: TLSCiphertext.length: {MAX_CIPHERTEXT + 1}, expected at most "
            f"{MAX_CIPHERTEXT} (RFC 5246 §6.2.1, §6.2.3)"
        ),
        9,
        "record_overflow",
    ),
    (
        f"{CCS_RECORD} 63 0303 0000",
        "record 0 @0: change_cipher_spec, version 0x0303, 1 byte\n",
        f"error: TLSPlaintext.type: 99, {TYPE_REASON}",
        6,
        "unexpected_message",
    ),
]
ENGINE_RECORD_CHECK_IDS = [
    "handshake-longer-than-2^14",
    "unknown-content-type",
    "version-major-not-3",
    "version-not-3-3-after-server-hello",
    "alert-level-not-warning-or-fatal",
    "alert-record-of-three-bytes",
    "ciphertext-longer-than-2^14+2048",
    "unknown-content-type-after-ccs",
]


@pytest.mark.parametrize(
    ("stream", "stdout", "error", "offset", "alert"),
    ENGINE_RECORD_CHECKS,
    ids=ENGINE_RECORD_CHECK_IDS,
)
def test_parse_records_refuses_what_the_engine_refuses_at_the_stream_offset(
    stream: str, stdout: str | None, error: str, offset: int, alert: str
) -> None:
    result = tlsspec("parse", "--records", "--hex", stdin=stream.encode())

    assert result.returncode == 1
    assert result.stderr == _lines(error, f"  offset: {offset}", f"  alert: {alert}")
    if stdout is not None:
        assert result.stdout == stdout.encode()


@pytest.mark.parametrize(
    ("stream", "alert"),
    [
        pytest.param(case[0], case[4], id=name)
        for case, name in zip(
            ENGINE_RECORD_CHECKS, ENGINE_RECORD_CHECK_IDS, strict=True
        )
        # After a CCS the engine reads records only with keys.
        if not case[0].startswith(CCS_RECORD)
    ],
)
def test_the_engine_sends_the_alert_parse_records_names(
    stream: str, alert: str
) -> None:
    # The same bytes fed to a client that has sent its ClientHello: the
    # engine decides, not a copy of its rules.  A fatal alert ends the
    # engine's reading, so the one some streams start with is left out.
    from tlsspec.runtime.alerts import LocalProtocolError
    from tlsspec.runtime.client import ClientConnection
    from tlsspec.runtime.config import ClientConfig

    client = ClientConnection(ClientConfig(verify=False), server_name="example.com")
    client.start_handshake()
    data = bytes.fromhex(stream.removeprefix(ALERT_RECORD).replace(" ", ""))

    with pytest.raises(LocalProtocolError) as caught:
        client.receive_data(data)

    assert caught.value.description.name == alert


def test_parse_records_takes_longest_records_and_3_x_before_the_hellos() -> None:
    # RFC 5246 Appendix E.1: before the hellos settle the version a record
    # may carry any {03, xx}; 2^14 bytes of plaintext and 2^14 + 2048 of
    # ciphertext are the most a record may hold (§6.2.1, §6.2.3).
    stream = (
        f"16 0301 0004 0e000000 {SERVER_HELLO_RECORD} {SERVER_HELLO_DONE_RECORD} "
        f"{_record('17', MAX_PLAINTEXT)} {CCS_RECORD} "
        f"{_record('17', MAX_CIPHERTEXT)}"
    )

    result = tlsspec("parse", "--records", "--hex", stdin=stream.encode())

    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    records = [
        line for line in result.stdout.splitlines() if line.startswith(b"record ")
    ]
    assert records == [
        b"record 0 @0: handshake, version 0x0301, 4 bytes",
        b"record 1 @9: handshake, version 0x0301, 49 bytes",
        b"record 2 @63: handshake, version 0x0303, 4 bytes",
        b"record 3 @72: application_data, version 0x0303, 16384 bytes",
        b"record 4 @16461: change_cipher_spec, version 0x0303, 1 byte",
        b"record 5 @16467: application_data, version 0x0303, 18432 bytes",
    ]
    assert result.stdout.endswith(b"  (encrypted)\n")


def test_parse_records_decodes_a_plaintext_finished_with_the_engine_length() -> None:
    # The engine parses every Finished with verify_data_length 12 (RFC 5246
    # §7.4.9); --records does the same without being told.
    stream = "16 0303 0010 1400000c " + "ab" * 12

    result = tlsspec("parse", "--records", "--hex", stdin=stream.encode())

    assert result.returncode == 0, result.stderr
    assert b"verify_data: " + b"ab" * 12 + b" (12 bytes)" in result.stdout


def test_parse_records_takes_empty_application_data_and_encrypted_records() -> None:
    # RFC 5246 §6.2.1 allows zero-length application data; after the
    # ChangeCipherSpec a record's fragment is ciphertext, not checked here.
    stream = (
        f"{SERVER_HELLO_DONE_RECORD} 17 0303 0000 {CCS_RECORD} 16 0303 0000 "
        "14 0303 0002 0101"
    )

    result = tlsspec("parse", "--records", "--hex", stdin=stream.encode())

    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    assert result.stdout == _lines(
        "record 0 @0: handshake, version 0x0303, 4 bytes",
        "     @0  Handshake:",
        "     @0    msg_type: server_hello_done (14)",
        "     @1    length: 0",
        "     @4    body:",
        "record 1 @9: application_data, version 0x0303, 0 bytes",
        "record 2 @14: change_cipher_spec, version 0x0303, 1 byte",
        "record 3 @20: handshake, version 0x0303, 0 bytes",
        "  (encrypted)",
        "record 4 @25: change_cipher_spec, version 0x0303, 2 bytes",
        "  (encrypted)",
    )


# -- --param -------------------------------------------------------------------

KEY_EXCHANGE_MEMBERS = "rsa (1), ec_diffie_hellman (2)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["Handshake", "--param", "key_exchange_algorithm=bogus"],
            "--param key_exchange_algorithm=bogus: expected a KeyExchangeAlgorithm "
            f"name or value: {KEY_EXCHANGE_MEMBERS}",
        ),
        (
            ["Handshake", "--param", "key_exchange_algorithm=7"],
            "--param key_exchange_algorithm=7: expected a KeyExchangeAlgorithm "
            f"name or value: {KEY_EXCHANGE_MEMBERS}",
        ),
        (
            ["Finished", "--param", "verify_data_length=-1"],
            "--param verify_data_length=-1: expected a non-negative integer",
        ),
        (
            ["Finished", "--param", "verify_data_length=abc"],
            "--param verify_data_length=abc: expected a non-negative integer",
        ),
        (
            ["Finished", "--param", "verify_data_length"],
            "--param needs NAME=VALUE, got 'verify_data_length'",
        ),
        (
            ["--records", "--param", "verify_data_length=-1"],
            "--param verify_data_length=-1: expected a non-negative integer",
        ),
        (
            ["--records", "--param", "key_exchange_algorithm=bogus"],
            "--param key_exchange_algorithm=bogus: expected a KeyExchangeAlgorithm "
            f"name or value: {KEY_EXCHANGE_MEMBERS}",
        ),
        (
            ["--records", "--param", "foo=1"],
            "--param foo: Handshake takes no such parameter (it takes: "
            "key_exchange_algorithm, verify_data_length)",
        ),
    ],
    ids=[
        "enum-name-not-a-member",
        "enum-number-not-a-member",
        "negative-size",
        "size-not-a-number",
        "no-equals-sign",
        "records-negative-size",
        "records-enum-name-not-a-member",
        "records-unknown-name",
    ],
)
def test_a_bad_param_is_a_usage_error_in_one_line(
    args: list[str], message: str
) -> None:
    # The input is a whole Handshake and record stream: only the
    # parameter is wrong.
    result = tlsspec("parse", *args, "--hex", stdin=SERVER_HELLO_DONE_RECORD.encode())

    assert result.returncode == 2
    assert result.stderr == f"tlsspec: {message}\n".encode()
    assert result.stdout == b""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["Finished"],
            "Finished needs the parse parameter verify_data_length: give it with "
            "--param verify_data_length=12",
        ),
        (
            ["ServerKeyExchange"],
            "ServerKeyExchange needs the parse parameter key_exchange_algorithm: "
            "give it with --param key_exchange_algorithm=NAME "
            "(rsa or ec_diffie_hellman)",
        ),
    ],
    ids=["size", "enum"],
)
def test_a_missing_param_every_input_needs_is_a_usage_error_in_one_line(
    args: list[str], message: str
) -> None:
    result = tlsspec("parse", *args, "--hex", stdin=b"00" * 12)

    assert result.returncode == 2
    assert result.stderr == f"tlsspec: {message}\n".encode()
    assert result.stdout == b""


def test_a_given_verify_data_length_decodes_a_finished() -> None:
    result = tlsspec(
        "parse",
        "Finished",
        "--hex",
        "--param",
        "verify_data_length=12",
        stdin=b"ab" * 12,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == _lines(
        "     @0  Finished:",
        "     @0    verify_data: " + "ab" * 12 + " (12 bytes)",
    )


def test_an_enum_param_is_taken_by_member_value() -> None:
    result = tlsspec(
        "parse",
        "Handshake",
        "--hex",
        "--param",
        "key_exchange_algorithm=2",
        stdin=b"0e000000",
    )

    assert result.returncode == 0, result.stderr
    assert b"msg_type: server_hello_done (14)" in result.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "stdout", "stderr"),
    [
        (
            ["Finished", "--param", "verify_data_length=1"],
            b"ab",
            _lines("     @0  Finished:", "     @0    verify_data: ab (1 byte)"),
            b"",
        ),
        (
            ["Alert"],
            b"022800",
            b"",
            _lines(
                "error: Alert: 1 trailing byte after the message",
                "  offset: 2",
                "  alert: decode_error",
            ),
        ),
    ],
    ids=["one-byte-value", "one-trailing-byte"],
)
def test_counts_of_one_byte_are_singular(
    args: list[str], stdin: bytes, stdout: bytes, stderr: bytes
) -> None:
    result = tlsspec("parse", *args, "--hex", stdin=stdin)

    assert result.stdout == stdout
    assert result.stderr == stderr


# -- codecs folders that parse cannot use ----------------------------------------


@pytest.fixture
def alert_codecs(tmp_path: Path) -> Path:
    # A folder made by 'tlsspec generate' from alert.tls alone: Alert, but
    # no Handshake.
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "alert.tls").write_bytes((ROOT / "specs" / "alert.tls").read_bytes())
    out = tmp_path / "codecs"
    made = tlsspec("generate", str(specs), "-o", str(out))
    assert made.returncode == 0, made.stderr
    return out


@pytest.mark.parametrize(
    ("module", "source", "reason"),
    [
        ("broken.py", 'raise RuntimeError("boom")\n', "RuntimeError: boom"),
        ("broken.py", "def (\n", "SyntaxError: "),
        ("broken.py", "import sys\nsys.exit(0)\n", "SystemExit: 0"),
        ("__init__.py", 'raise ValueError("two\\nlines")\n', "ValueError: two lines"),
    ],
    ids=["raises", "syntax-error", "exits", "package-raises"],
)
@pytest.mark.parametrize("records", [False, True], ids=["type", "records"])
def test_a_codecs_module_that_fails_to_load_is_named_in_one_line(
    alert_codecs: Path, module: str, source: str, reason: str, records: bool
) -> None:
    with (alert_codecs / module).open("a") as f:
        f.write(source)
    args = ["--records"] if records else ["Alert"]

    result = tlsspec("parse", *args, "--codecs", str(alert_codecs), "--hex")

    assert result.returncode == 2
    assert result.stderr.startswith(
        f"tlsspec: --codecs {alert_codecs}: cannot load "
        f"{alert_codecs / module}: {reason}".encode()
    )
    assert result.stderr.count(b"\n") == 1
    assert result.stdout == b""


def test_parse_records_names_the_types_it_needs_from_the_codecs(
    alert_codecs: Path,
) -> None:
    result = tlsspec(
        "parse",
        "--records",
        "--codecs",
        str(alert_codecs),
        "--hex",
        stdin=ALERT_RECORD.encode(),
    )

    assert result.returncode == 2
    assert result.stderr == (
        f"tlsspec: --records needs the types Handshake and Alert, and --codecs "
        f"{alert_codecs} has no Handshake\n".encode()
    )


def test_an_unknown_type_in_the_codecs_suggests_a_close_one(
    alert_codecs: Path,
) -> None:
    result = tlsspec("parse", "Alrt", "--codecs", str(alert_codecs), "--hex")

    assert result.returncode == 2
    assert result.stderr == (
        f"tlsspec: no type 'Alrt' in --codecs {alert_codecs} (enums are decoded "
        "as fields of the types that use them); did you mean 'Alert'?\n".encode()
    )


# -- output pipes whose reader has gone away ---------------------------------


def _closed_pipe_run(
    args: list[str],
    *,
    closed: tuple[str, ...],
    stdin: bytes = b"",
    unbuffered: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    # A pipe whose read end is closed before the command starts: every
    # write to it fails with EPIPE, however fast the command is.
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "tlsspec", *args],
            cwd=ROOT,
            input=stdin,
            stdout=write if "stdout" in closed else subprocess.PIPE,
            stderr=write if "stderr" in closed else subprocess.PIPE,
            env=_env(unbuffered=unbuffered),
            timeout=TIMEOUT,
            check=False,
        )
    finally:
        os.close(write)


@pytest.fixture
def bad_spec_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "broken.tls").write_text("struct { uint8 a } Broken;\n")
    return folder


@pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "buffered"])
@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["parse", "Alert", "--hex"], b"0228"),
        (["parse", "--records", "--hex", "-"], ALERT_RECORD.encode()),
        (["generate", "--check"], b""),
        (["generate", "--help"], b""),
    ],
    ids=["parse", "parse-records", "generate-check", "help"],
)
def test_a_success_whose_stdout_is_closed_exits_1_quietly(
    args: list[str], stdin: bytes, unbuffered: bool
) -> None:
    result = _closed_pipe_run(
        args, closed=("stdout",), stdin=stdin, unbuffered=unbuffered
    )

    assert result.returncode == 1
    assert result.stderr == b""


@pytest.mark.parametrize(
    ("args", "stdin", "status"),
    [
        (["generate", "{bad}"], b"", 1),
        (["generate", "{bad}/missing"], b"", 2),
        (["generate", "--bogus"], b"", 2),
        (["parse", "Alert", "--hex"], b"02", 1),
        (["parse", "--records", "--hex"], b"1603030000", 1),
        (["parse", "Finished", "--param", "verify_data_length=-1"], b"", 2),
    ],
    ids=[
        "generate-spec-error",
        "generate-missing-folder",
        "usage-error",
        "parse-bad-input",
        "parse-bad-record",
        "bad-param",
    ],
)
@pytest.mark.parametrize(
    "closed", [("stdout", "stderr"), ("stderr",)], ids=["both", "stderr"]
)
def test_a_failure_keeps_its_status_when_its_output_is_closed(
    args: list[str],
    stdin: bytes,
    status: int,
    closed: tuple[str, ...],
    bad_spec_dir: Path,
) -> None:
    args = [arg.format(bad=bad_spec_dir) for arg in args]

    result = _closed_pipe_run(args, closed=closed, stdin=stdin)

    assert result.returncode == status


def test_a_failure_piped_into_a_reader_that_leaves_is_never_a_success(
    bad_spec_dir: Path,
) -> None:
    # `tlsspec generate BAD 2>&1 | head -c1`: the reader leaves after one
    # byte, at whatever point of the diagnostics; the status stays 1.
    process = subprocess.Popen(
        [sys.executable, "-m", "tlsspec", "generate", str(bad_spec_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_env(),
    )
    assert process.stdout is not None
    first = process.stdout.read(1)
    process.stdout.close()

    assert process.wait(timeout=TIMEOUT) == 1
    assert first == str(bad_spec_dir)[:1].encode()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "buffered"])
@pytest.mark.parametrize(
    ("args", "stdin", "status"),
    [
        (["parse", "Alert", "--hex"], b"0228", 1),
        (["parse", "--records", "--hex", "-"], ALERT_RECORD.encode(), 1),
        (["generate", "--help"], b"", 1),
        # A failure keeps its status; its output was lost all the same.
        (["parse", "--records", "--hex", "-"], ALERT_RECORD.encode() + b"15", 1),
    ],
    ids=["parse", "parse-records", "help", "parse-records-failing"],
)
def test_a_full_stdout_is_named_in_one_line(
    args: list[str], stdin: bytes, status: int, unbuffered: bool
) -> None:
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "tlsspec", *args],
            cwd=ROOT,
            input=stdin,
            stdout=full,
            stderr=subprocess.PIPE,
            env=_env(unbuffered=unbuffered),
            timeout=TIMEOUT,
            check=False,
        )

    assert result.returncode == status
    assert result.stderr.splitlines()[-1] == (
        b"tlsspec: cannot write output: No space left on device"
    )
    assert b"Traceback" not in result.stderr


# -- help and usage ------------------------------------------------------------


def _help(*args: str) -> str:
    result = tlsspec(*args, "--help")
    assert result.returncode == 0, result.stderr
    # Joined across argparse's line wrapping.
    return " ".join(result.stdout.decode().split())


def test_parse_help_and_readme_name_the_codecs_folder_alike() -> None:
    readme = (ROOT / "README.md").read_text()

    assert "--codecs PACKAGE_DIR a folder made by 'tlsspec generate'" in _help("parse")
    assert readme.count("[--codecs PACKAGE_DIR]") == 2
    assert "--codecs DIR" not in readme


def test_generate_help_states_every_exit_status() -> None:
    assert (
        "Exit status: 0 on success; 1 when a spec has errors (file:line:col "
        "diagnostics on stderr) or, with --check, when OUT_DIR is out of date; "
        "2 when SPEC_DIR is missing or holds no *.tls file, when OUT_DIR is not "
        "a folder or cannot be written, and for a usage error."
    ) in _help("generate")


@pytest.mark.parametrize(
    ("make", "status", "stderr"),
    [
        ("missing", 2, "tlsspec: spec folder {dir} does not exist\n"),
        ("empty", 2, "tlsspec: no *.tls files in {dir}\n"),
    ],
)
def test_generate_exits_2_for_a_spec_folder_it_cannot_use(
    tmp_path: Path, make: str, status: int, stderr: str
) -> None:
    folder = tmp_path / "specs"
    if make == "empty":
        folder.mkdir()

    result = tlsspec("generate", str(folder), "-o", str(tmp_path / "out"))

    assert result.returncode == status
    assert result.stderr == stderr.format(dir=folder).encode()


def test_generate_exits_1_for_a_spec_error(bad_spec_dir: Path, tmp_path: Path) -> None:
    result = tlsspec("generate", str(bad_spec_dir), "-o", str(tmp_path / "out"))

    assert result.returncode == 1
    assert result.stderr.decode().splitlines()[-1] == "tlsspec: 1 error"


def test_generate_shows_its_own_usage_for_an_unknown_option() -> None:
    result = tlsspec("generate", "--bogus")

    assert result.returncode == 2
    assert result.stderr == _lines(
        "usage: tlsspec generate [-h] [-o OUT_DIR] [--check] [SPEC_DIR]",
        "tlsspec generate: error: unrecognized arguments: --bogus",
    )
