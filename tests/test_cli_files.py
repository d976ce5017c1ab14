"""``tlsspec serve`` and ``tlsspec connect`` refuse unusable input files in one line.

``--cert``, ``--key``, ``--cafile`` and ``--sess-in`` are read before any
socket opens, so none of these tests opens one.  Each runs the command as a
subprocess with a timeout, so a FIFO that blocks fails the test instead of
hanging it, and with a memory ceiling, so a device read whole fails it
instead of exhausting the machine.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.openssl import PemFiles, TlsIdentity
from tlsspec import net

resource = pytest.importorskip("resource")

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 20.0
# Far above what the CLI needs (under 100 MiB), far below a machine's memory.
MEMORY_CEILING = 2**30
# Reached only if an input file were wrongly accepted; loopback, port 9.
NOWHERE = "127.0.0.1:9"


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CEILING, MEMORY_CEILING))


def tlsspec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsspec", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        preexec_fn=_cap_memory,
    )


@dataclass(frozen=True)
class Option:
    """An input file option: how to run it, and what it expects."""

    name: str
    command: str
    expected: str
    limit: int

    def args(self, path: Path | str, pem: PemFiles) -> list[str]:
        if self.name == "--cert":
            return ["serve", "--cert", str(path), "--key", str(pem.key), "--port", "0"]
        if self.name == "--key":
            return ["serve", "--cert", str(pem.cert), "--key", str(path), "--port", "0"]
        if self.name == "--cafile":
            return ["connect", NOWHERE, "--cafile", str(path)]
        return ["connect", NOWHERE, "--insecure", "--sess-in", str(path)]

    def error(self, path: Path | str, text: str) -> str:
        return f"tlsspec {self.command}: {self.name} {path}: {text}\n"


PEM_LIMIT = 2**20
OPTIONS = [
    Option("--cert", "serve", "PEM certificates", PEM_LIMIT),
    Option("--key", "serve", "a PEM private key", PEM_LIMIT),
    Option("--cafile", "connect", "PEM certificates", 4 * 2**20),
    # The largest session Session.to_bytes can write.
    Option("--sess-in", "connect", "a session saved by --sess-out", 131459),
]
OPTION = {option.name: option for option in OPTIONS}
by_name = pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)

NO_CERTIFICATE = (
    "no PEM certificate found (expected -----BEGIN CERTIFICATE----- blocks)"
)
NO_KEY = (
    "no PEM private key found (expected a -----BEGIN PRIVATE KEY----- block, "
    "or its RSA or EC form)"
)


@pytest.fixture
def pem(rsa_identity: TlsIdentity, tmp_path: Path) -> PemFiles:
    return rsa_identity.write_pem_files(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@by_name
def test_refuses_a_fifo_without_waiting_for_a_writer(
    option: Option, pem: PemFiles, tmp_path: Path
) -> None:
    fifo = tmp_path / "input"
    os.mkfifo(fifo)

    result = tlsspec(*option.args(fifo, pem))

    assert result.returncode == 2
    assert result.stderr == option.error(
        fifo, f"not a regular file; expected {option.expected}"
    )


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@by_name
def test_refuses_an_endless_device_without_reading_it(
    option: Option, pem: PemFiles
) -> None:
    result = tlsspec(*option.args("/dev/zero", pem))

    assert result.returncode == 2
    assert result.stderr == option.error(
        "/dev/zero", f"not a regular file; expected {option.expected}"
    )


@by_name
def test_refuses_a_file_one_byte_over_the_limit(
    option: Option, pem: PemFiles, tmp_path: Path
) -> None:
    big = tmp_path / "big"
    big.touch()
    os.truncate(big, option.limit + 1)

    result = tlsspec(*option.args(big, pem))

    assert result.returncode == 2
    assert result.stderr == option.error(
        big, f"larger than the {option.limit}-byte limit; expected {option.expected}"
    )


@by_name
def test_reads_a_file_of_exactly_the_limit(
    option: Option, pem: PemFiles, tmp_path: Path
) -> None:
    full = tmp_path / "full"
    full.touch()
    os.truncate(full, option.limit)

    result = tlsspec(*option.args(full, pem))

    # Refused for what it holds, zeros, not for its size.
    assert result.returncode == 2
    assert "limit" not in result.stderr
    assert result.stderr.startswith(f"tlsspec {option.command}: {option.name} {full}:")


@by_name
def test_names_the_option_of_a_missing_file(
    option: Option, pem: PemFiles, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.pem"

    result = tlsspec(*option.args(missing, pem))

    assert result.returncode == 2
    assert result.stderr == option.error(missing, "No such file or directory")


@pytest.mark.parametrize(
    ("name", "holding", "text"),
    [
        ("--cert", "key", NO_CERTIFICATE),
        ("--key", "cert", NO_KEY),
        ("--key", "empty", NO_KEY),
        ("--cafile", "empty", NO_CERTIFICATE),
        ("--cafile", "key", NO_CERTIFICATE),
    ],
    ids=[
        "cert-given-a-key",
        "key-given-a-cert",
        "key-empty",
        "cafile-empty",
        "cafile-given-a-key",
    ],
)
def test_a_pem_file_of_the_wrong_kind_names_the_option_path_and_expectation(
    name: str, holding: str, text: str, pem: PemFiles, tmp_path: Path
) -> None:
    option = OPTION[name]
    path = {"key": pem.key, "cert": pem.cert, "empty": tmp_path / "empty.pem"}[holding]
    path.touch()

    result = tlsspec(*option.args(path, pem))

    assert result.returncode == 2
    assert result.stderr == option.error(path, text)


def test_a_certificate_as_session_names_sess_in_and_the_path(pem: PemFiles) -> None:
    result = tlsspec(*OPTION["--sess-in"].args(pem.cert, pem))

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"tlsspec connect: --sess-in {pem.cert}: not a session saved by --sess-out: "
    )


def test_an_encrypted_key_is_refused_as_encrypted(
    rsa_identity: TlsIdentity, pem: PemFiles
) -> None:
    key = serialization.load_pem_private_key(rsa_identity.key_pem, password=None)
    pem.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    option = OPTION["--key"]

    result = tlsspec(*option.args(pem.key, pem))

    assert result.returncode == 2
    assert result.stderr == option.error(
        pem.key,
        "the private key is encrypted (expected an unencrypted PEM private key)",
    )


def test_serve_names_a_host_it_cannot_resolve(
    pem: PemFiles, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real lookup of a bad name would ask the DNS; the resolver's answer
    # is stood in for.
    async def unresolvable(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio, "start_server", unresolvable)
    options = net.ServeOptions(cert=pem.cert, key=pem.key, host="999.1.1.1", port=0)

    status = net.serve(options)

    assert status == 2
    assert capsys.readouterr().err == (
        "tlsspec serve: --host 999.1.1.1: cannot resolve: Name or service not known\n"
    )


def _refusing_port() -> socket.socket:
    # Bound but not listening: connections to it are refused at once.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def test_a_session_file_made_for_a_failed_connection_is_removed(
    tmp_path: Path,
) -> None:
    sess_out = tmp_path / "new.bin"
    with _refusing_port() as sock:
        port = sock.getsockname()[1]
        result = tlsspec(
            "connect", f"127.0.0.1:{port}", "--insecure", "--sess-out", str(sess_out)
        )

    assert result.returncode == 1
    assert result.stderr == (
        f"tlsspec connect: cannot connect to 127.0.0.1:{port}: Connection refused\n"
    )
    assert not sess_out.exists()


def test_a_session_file_that_existed_is_left_as_it_was(tmp_path: Path) -> None:
    sess_out = tmp_path / "old.bin"
    sess_out.write_bytes(b"an older session")
    with _refusing_port() as sock:
        port = sock.getsockname()[1]
        result = tlsspec(
            "connect", f"127.0.0.1:{port}", "--insecure", "--sess-out", str(sess_out)
        )

    assert result.returncode == 1
    assert sess_out.read_bytes() == b"an older session"


def test_a_key_that_does_not_match_the_certificate_names_both_files(
    pem: PemFiles, ecdsa_identity: TlsIdentity, tmp_path: Path
) -> None:
    other = tmp_path / "other-key.pem"
    other.write_bytes(ecdsa_identity.key_pem)

    result = tlsspec("serve", "--cert", str(pem.cert), "--key", str(other))

    assert result.returncode == 2
    assert result.stderr == (
        f"tlsspec serve: --cert {pem.cert} with --key {other}: "
        "does not match the leaf certificate\n"
    )


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (None, "No such file or directory"),
        (
            bytes(20),
            "nginx session ticket key is 20 bytes; expected 48 (name, AES-128 "
            "key, HMAC key) or 80 (name, HMAC key, AES-256 key)",
        ),
    ],
    ids=["missing", "20-bytes"],
)
def test_a_ticket_key_file_error_names_the_option(
    content: bytes | None, text: str, pem: PemFiles, tmp_path: Path
) -> None:
    key_file = tmp_path / "ticket.key"
    if content is not None:
        key_file.write_bytes(content)

    result = tlsspec(
        "serve", "--cert", str(pem.cert), "--key", str(pem.key),
        "--ticket-key", str(key_file),
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr == f"tlsspec serve: --ticket-key {key_file}: {text}\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_sess_out_that_cannot_take_a_session_is_refused_before_connecting(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = [
        (fifo, "not a regular file; expected a file to save the session in"),
        (tmp_path, "not a regular file; expected a file to save the session in"),
        (tmp_path / "no" / "s.bin", f"no directory {tmp_path / 'no'}"),
    ]
    for path, text in cases:
        # NOWHERE is never reached: the check comes first.
        result = tlsspec("connect", NOWHERE, "--insecure", "--sess-out", str(path))

        assert result.returncode == 2
        assert result.stderr == f"tlsspec connect: --sess-out {path}: {text}\n"


def test_two_ticket_key_files_with_one_key_name_are_named(
    pem: PemFiles, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.key", tmp_path / "b.key"
    first.write_bytes(bytes(range(48)))
    second.write_bytes(bytes(range(48)))

    result = tlsspec(
        "serve", "--cert", str(pem.cert), "--key", str(pem.key),
        "--ticket-key", str(first), "--ticket-key", str(second),
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr == (
        f"tlsspec serve: --ticket-key {second}: holds the same key name as "
        f"{first} ({bytes(range(16)).hex()})\n"
    )


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        (
            ["--ticket-lifetime", "0"],
            "--ticket-lifetime: 0, expected at least 1 second and at most "
            "4294967295 (a uint32)",
        ),
        (["--alpn", ""], "--alpn: '' is 0 bytes, expected 1 to 255 (RFC 7301 §3.1)"),
    ],
    ids=["ticket-lifetime", "alpn"],
)
def test_serve_config_errors_name_the_option(
    extra: list[str], text: str, pem: PemFiles
) -> None:
    result = tlsspec(
        "serve", "--cert", str(pem.cert), "--key", str(pem.key), "--port", "0", *extra
    )

    assert result.returncode == 2
    assert result.stderr == f"tlsspec serve: {text}\n"


def test_a_key_of_an_unsupported_type_names_the_key_file(
    pem: PemFiles, tmp_path: Path
) -> None:
    ed25519 = tmp_path / "ed25519.pem"
    ed25519.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    result = tlsspec("serve", "--cert", str(pem.cert), "--key", str(ed25519))

    assert result.returncode == 2
    assert result.stderr.startswith(f"tlsspec serve: --key {ed25519}: expected ")


def test_resolver_errors_read_as_the_resolver_says() -> None:
    # Resolver codes are negative and unknown to os.strerror.
    error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert net._reason(error) == "Name or service not known"
    assert net._reason(
        ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('x', 1)")
    ) == (os.strerror(errno.ECONNREFUSED))


# -- parse input and empty paths -----------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("records", [False, True])
def test_parse_stops_reading_an_endless_input_at_its_bound(records: bool) -> None:
    # The memory ceiling would end the process well before /dev/zero did.
    args = ["--records", "/dev/zero"] if records else ["Handshake", "/dev/zero"]
    result = tlsspec("parse", *args)

    assert result.returncode == 2
    assert result.stderr == (
        "tlsspec: /dev/zero: more than 64 MiB; parse reads one message or "
        "one record stream of at most that size\n"
    )


def test_parse_reads_a_pipe_as_its_file() -> None:
    # Pipes are legitimate input (stdin, or <(...) as FILE): no
    # regular-file check applies to parse.
    read, write = os.pipe()
    os.write(write, bytes.fromhex("0e000000"))
    os.close(write)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tlsspec", "parse", "Handshake", f"/dev/fd/{read}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            pass_fds=(read,),
        )
    finally:
        os.close(read)

    assert result.returncode == 0, result.stderr
    assert "msg_type: server_hello_done (14)" in result.stdout


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("parse", "Handshake", ""), "FILE"),
        (("parse", "Handshake", "x", "--codecs", ""), "--codecs"),
        (("generate", ""), "SPEC_DIR"),
        (("generate", "-o", ""), "-o/--out"),
        (("serve", "--cert", "", "--key", "k"), "--cert"),
        (("connect", NOWHERE, "--keylog", ""), "--keylog"),
        (("connect", NOWHERE, "--sess-in", ""), "--sess-in"),
    ],
)
def test_an_empty_path_is_a_usage_error_not_the_current_folder(
    args: tuple[str, ...], names: str
) -> None:
    result = tlsspec(*args)

    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith(
        f"error: argument {names}: expected a path, got an empty string"
    )


def test_parse_records_takes_an_empty_name_for_no_file() -> None:
    result = tlsspec("parse", "--records", "")

    assert result.returncode == 2
    assert result.stderr == (
        "tlsspec: --records reads FILE (or stdin) and takes no TYPE; '' is no file\n"
    )


def test_parse_names_a_missing_file_without_an_errno() -> None:
    result = tlsspec("parse", "Handshake", "no-such-file.bin")

    assert result.returncode == 2
    assert result.stderr == "tlsspec: no-such-file.bin: No such file or directory\n"
