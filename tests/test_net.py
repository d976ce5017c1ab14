"""``tlsspec serve`` and ``tlsspec connect`` as real processes on 127.0.0.1.

Each test starts the commands as subprocesses with bounded timeouts and
stops every process it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.openssl import (
    PemFiles,
    TlsIdentity,
    make_rsa_identity,
    openssl_s_client,
    openssl_s_server,
    requires_openssl_cli,
)
from tlsspec.runtime import ClientConfig, Session
from tlsspec.runtime.suites import ALL_SUITES

TIMEOUT = 20.0
SERVER_NAME = "localhost"


def tlsspec_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tlsspec", *args]


def run_tlsspec(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        tlsspec_command(*args),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=env,
    )


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    lines: list[str]

    def output(self) -> str:
        return "".join(self.lines)


@pytest.fixture(scope="module")
def identity() -> TlsIdentity:
    return make_rsa_identity(common_name=SERVER_NAME, san=(SERVER_NAME,))


@pytest.fixture
def pem(identity: TlsIdentity, tmp_path: Path) -> PemFiles:
    return identity.write_pem_files(tmp_path)


@contextlib.contextmanager
def tlsspec_server(pem: PemFiles, *args: str) -> Iterator[Server]:
    command = tlsspec_command(
        "serve", "--cert", str(pem.cert), "--key", str(pem.key), "--port", "0", *args
    )
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    assert process.stdout is not None
    first = process.stdout.readline()
    lines.append(first)

    def collect() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    try:
        assert "listening on 127.0.0.1:" in first, first
        yield Server(process, int(first.rsplit(":", 1)[1]), lines)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(TIMEOUT)
        reader.join(TIMEOUT)


def connect_args(server: Server, pem: PemFiles, *extra: str) -> list[str]:
    return [
        "connect",
        f"127.0.0.1:{server.port}",
        "--servername",
        SERVER_NAME,
        "--cafile",
        str(pem.ca),
        *extra,
    ]


def test_connect_resumes_a_session_saved_from_serve(
    pem: PemFiles, tmp_path: Path
) -> None:
    session = tmp_path / "session.bin"
    with tlsspec_server(pem) as server:
        first = run_tlsspec(
            *connect_args(server, pem, "--sess-out", str(session), "--send", "ping")
        )
        assert first.returncode == 0, first.stderr
        assert "Resumed   : no" in first.stdout
        assert "Subject   : CN=localhost,O=tlsspec tests" in first.stdout
        assert "Ticket    : 7200 s" in first.stdout
        assert "Reply     : ping" in first.stdout
        second = run_tlsspec(
            *connect_args(server, pem, "--sess-in", str(session), "--send", "pong")
        )
        assert second.returncode == 0, second.stderr
        assert "Resumed   : yes" in second.stdout
        assert "Reply     : pong" in second.stdout
    assert Session.from_bytes(session.read_bytes()).server_name == SERVER_NAME


def test_a_session_saved_with_insecure_is_not_resumed_with_cafile(
    pem: PemFiles, tmp_path: Path
) -> None:
    session = tmp_path / "session.bin"
    with tlsspec_server(pem) as server:
        address = f"127.0.0.1:{server.port}"
        first = run_tlsspec(
            "connect", address, "--servername", SERVER_NAME, "--insecure",
            "--sess-out", str(session),
        )  # fmt: skip
        assert first.returncode == 0, first.stderr
        second = run_tlsspec(*connect_args(server, pem, "--sess-in", str(session)))
    assert second.returncode == 0, second.stderr
    assert "Resumed   : no" in second.stdout
    # The full handshake verified the certificate.
    assert "Subject   : CN=localhost,O=tlsspec tests" in second.stdout


def test_serve_stops_cleanly_on_ctrl_c(pem: PemFiles) -> None:
    with tlsspec_server(pem) as server:
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(TIMEOUT) == 0
    assert "tlsspec serve: stopped" in server.output()


def test_trace_draws_the_ladder_and_json_lines(pem: PemFiles) -> None:
    with tlsspec_server(pem) as server:
        ladder = run_tlsspec(*connect_args(server, pem, "--trace"))
        lines = run_tlsspec(
            *connect_args(server, pem, "--trace", "--trace-format", "json")
        )
    assert ladder.returncode == 0, ladder.stderr
    assert "ClientHello                  -------->" in ladder.stdout
    assert "<--------           ServerHelloDone" in ladder.stdout
    assert "[ChangeCipherSpec]" in ladder.stdout
    # JSON lines alone on stdout; the summary goes to stderr.
    messages = [json.loads(line) for line in lines.stdout.splitlines()]
    assert messages[0]["message"] == "ClientHello"
    assert any(m["message"] == "NewSessionTicket" for m in messages)
    assert "Cipher    : TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" in lines.stderr


def test_connect_refuses_an_untrusted_server(pem: PemFiles, tmp_path: Path) -> None:
    other = make_rsa_identity(common_name="other.example", san=("other.example",))
    (tmp_path / "other").mkdir()
    other_files = other.write_pem_files(tmp_path / "other")
    with tlsspec_server(pem) as server:
        result = run_tlsspec(
            "connect",
            f"127.0.0.1:{server.port}",
            "--servername",
            SERVER_NAME,
            "--cafile",
            str(other_files.ca),
        )
    assert result.returncode == 1
    assert "handshake failed" in result.stderr


@requires_openssl_cli
def test_connect_resumes_against_openssl_s_server(
    identity: TlsIdentity, pem: PemFiles, tmp_path: Path
) -> None:
    session = tmp_path / "session.bin"
    with openssl_s_server(identity, args=("-rev",)) as server:
        address = f"127.0.0.1:{server.port}"
        common = ["--servername", SERVER_NAME, "--cafile", str(pem.ca)]
        first = run_tlsspec(
            "connect", address, *common, "--sess-out", str(session), "--send", "abc\n"
        )
        second = run_tlsspec(
            "connect", address, *common, "--sess-in", str(session), "--send", "xyz\n"
        )
    assert first.returncode == 0, first.stderr
    assert "Resumed   : no" in first.stdout
    assert "Reply     : cba" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "Resumed   : yes" in second.stdout
    assert "Reply     : zyx" in second.stdout


@requires_openssl_cli
def test_openssl_s_client_resumes_against_serve_www(
    identity: TlsIdentity, pem: PemFiles, tmp_path: Path
) -> None:
    session = tmp_path / "openssl-session.pem"
    outputs = []
    with tlsspec_server(pem, "--www", "--alpn", "http/1.1") as server:
        for option in ("-sess_out", "-sess_in"):
            with openssl_s_client(
                server.port,
                servername=SERVER_NAME,
                trust=identity,
                args=(option, str(session), "-alpn", "http/1.1"),
            ) as client:
                client.wait_for("Verify return code: 0", TIMEOUT)
                client.send(b"GET / HTTP/1.0\r\n")  # a partial request
                client.wait_for("Resumed   :", TIMEOUT)
                outputs.append(client.output)
    assert "New, TLSv1.2" in outputs[0]
    assert "HTTP/1.0 200 OK" in outputs[0]
    assert "Resumed   : no" in outputs[0]
    assert "ALPN      : http/1.1" in outputs[0]
    assert "SNI       : localhost" in outputs[0]
    assert "Reused, TLSv1.2" in outputs[1]
    assert "Resumed   : yes" in outputs[1]


def _client_context(pem: PemFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pem.ca))
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def test_serve_answers_fifty_concurrent_clients(pem: PemFiles) -> None:
    context = _client_context(pem)

    async def one(port: int, n: int) -> bytes:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname=SERVER_NAME
        )
        writer.write(f"client {n}\n".encode())
        await writer.drain()
        data = await reader.readexactly(len(f"client {n}\n"))
        writer.close()
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            await writer.wait_closed()
        return data

    async def all_clients(port: int) -> list[bytes]:
        tasks = [one(port, n) for n in range(50)]
        return await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT * 3)

    with tlsspec_server(pem) as server:
        replies = asyncio.run(all_clients(server.port))
    assert replies == [f"client {n}\n".encode() for n in range(50)]


def test_misbehaving_clients_do_not_disturb_the_others(pem: PemFiles) -> None:
    context = _client_context(pem)
    with tlsspec_server(pem) as server:
        bad: list[socket.socket] = []
        # Garbage, half a record, and a disconnect in the middle of a handshake.
        for payload in (
            b"\x00garbage\xff" * 10,
            b"\x16\x03\x01\x00\x40\x01",
            b"\x16\x03\x01",
        ):
            sock = socket.create_connection(("127.0.0.1", server.port), TIMEOUT)
            sock.sendall(payload)
            bad.append(sock)
        bad[2].close()
        with socket.create_connection(("127.0.0.1", server.port), TIMEOUT) as raw:
            with context.wrap_socket(raw, server_hostname=SERVER_NAME) as good:
                good.sendall(b"still here\n")
                assert good.recv(64) == b"still here\n"
        for sock in bad:
            sock.close()
        garbage_failed = False
        for _ in range(100):
            if "failed" in server.output():
                garbage_failed = True
                break
            threading.Event().wait(0.05)
    assert garbage_failed
    failures = [line for line in server.output().splitlines() if "failed" in line]
    assert any("alert sent" in line for line in failures)
    assert "Traceback" not in server.output()


def test_keylog_file_and_sslkeylogfile_get_client_random_lines(
    pem: PemFiles, tmp_path: Path
) -> None:
    keylog = tmp_path / "keys.log"
    env_keylog = tmp_path / "env-keys.log"
    with tlsspec_server(pem) as server:
        assert (
            run_tlsspec(*connect_args(server, pem, "--keylog", str(keylog))).returncode
            == 0
        )
        env = {**os.environ, "SSLKEYLOGFILE": str(env_keylog)}
        assert run_tlsspec(*connect_args(server, pem), env=env).returncode == 0
    for path in (keylog, env_keylog):
        (line,) = path.read_text().splitlines()
        label, client_random, master = line.split(" ")
        assert label == "CLIENT_RANDOM"
        assert len(bytes.fromhex(client_random)) == 32
        assert len(bytes.fromhex(master)) == 48


def test_verbose_serve_logs_why_a_ticket_was_rejected(
    identity: TlsIdentity, pem: PemFiles, tmp_path: Path
) -> None:
    suite = ALL_SUITES[0]
    # Verified under the anchors connect will use, so it is offered.
    trust = ClientConfig(trust_anchors=[identity.ca_cert]).trust_digest
    forged = Session(
        # A well-formed RFC 5077 ticket under a key name no server holds.
        ticket=b"\x01" * 16 + bytes(16) + b"\x00\x10" + bytes(16) + bytes(32),
        master_secret=b"\x02" * 48,
        cipher_suite=suite,
        extended_master_secret=True,
        lifetime=7200,
        received_at=int(time.time()),
        server_name=SERVER_NAME,
        trust_digest=trust,
    )
    session = tmp_path / "forged.bin"
    session.write_bytes(forged.to_bytes())
    with tlsspec_server(pem, "-v") as server:
        result = run_tlsspec(*connect_args(server, pem, "--sess-in", str(session)))
    assert result.returncode == 0, result.stderr
    assert "Resumed   : no" in result.stdout
    assert "ticket rejected: unknown key name" in server.output()
    assert ("02" * 8) not in server.output()


@pytest.mark.skipif(
    shutil.which("tshark") is None,
    reason="tshark is not installed (.ci/run installs Debian's tshark)",
)
def test_tshark_decrypts_a_tlsspec_connection_with_the_key_log(
    pem: PemFiles, tmp_path: Path
) -> None:
    keylog = tmp_path / "keys.log"
    capture = tmp_path / "capture.pcapng"
    marker = "tlsspec-plaintext-marker"
    with tlsspec_server(pem) as server:
        tshark = subprocess.Popen(
            [
                "tshark",
                "-i",
                "lo",
                "-f",
                f"tcp port {server.port}",
                "-w",
                str(capture),
                "-a",
                "duration:30",
                "-q",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # Wait until tshark reports that it captures.
            assert tshark.stderr is not None
            for _ in range(100):
                line = tshark.stderr.readline()
                if "Capturing on" in line or not line:
                    break
            result = run_tlsspec(
                *connect_args(server, pem, "--keylog", str(keylog), "--send", marker)
            )
            assert result.returncode == 0, result.stderr
            threading.Event().wait(1.0)
        finally:
            tshark.send_signal(signal.SIGINT)
            tshark.wait(TIMEOUT)
    plain = subprocess.run(
        ["tshark", "-r", str(capture), "-q", "-z", "follow,tcp,ascii,0"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    assert marker not in plain.stdout
    decrypted = subprocess.run(
        [
            "tshark",
            "-r",
            str(capture),
            "-o",
            f"tls.keylog_file:{keylog}",
            "-d",
            f"tcp.port=={server.port},tls",
            "-q",
            "-z",
            "follow,tls,ascii,0",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    assert marker in decrypted.stdout


def test_connect_sends_its_fatal_alert_when_verification_fails(
    pem: PemFiles, tmp_path: Path
) -> None:
    # A raw listener records what the client sends after our server's flight.
    with tlsspec_server(pem) as server:
        result = run_tlsspec(
            "connect",
            f"127.0.0.1:{server.port}",
            "--servername",
            "other.example",
            "--cafile",
            str(pem.ca),
        )
        for _ in range(100):
            if "alert" in server.output():
                break
            time.sleep(0.05)
    assert result.returncode == 1
    assert "alert sent: bad_certificate" in result.stderr
    assert "alert received: fatal bad_certificate" in server.output()


def test_key_log_and_saved_sessions_are_private_files(
    pem: PemFiles, tmp_path: Path
) -> None:
    keylog = tmp_path / "keys.log"
    session = tmp_path / "session.bin"
    # An older session file readable by anyone is replaced by a private one.
    session.write_bytes(b"older")
    session.chmod(0o644)
    with tlsspec_server(pem) as server:
        result = run_tlsspec(
            *connect_args(
                server, pem, "--keylog", str(keylog), "--sess-out", str(session)
            )
        )
    assert result.returncode == 0, result.stderr
    assert keylog.stat().st_mode & 0o777 == 0o600
    assert session.stat().st_mode & 0o777 == 0o600
    assert Session.from_bytes(session.read_bytes()).server_name == SERVER_NAME
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["cert.pem", "key.pem", "ca.pem", "keys.log", "session.bin"]
    )


def test_an_unwritable_key_log_stops_serve_but_not_connect(
    pem: PemFiles, tmp_path: Path
) -> None:
    missing = tmp_path / "no" / "such" / "keys.log"
    refused = run_tlsspec(
        "serve",
        "--cert",
        str(pem.cert),
        "--key",
        str(pem.key),
        "--port",
        "0",
        "--keylog",
        str(missing),
    )
    assert refused.returncode == 2
    assert refused.stderr == (
        f"tlsspec serve: --keylog {missing}: No such file or directory\n"
    )
    with tlsspec_server(pem) as server:
        env = {**os.environ, "SSLKEYLOGFILE": str(missing)}
        result = run_tlsspec(*connect_args(server, pem), env=env)
    assert result.returncode == 0, result.stderr
    assert (
        f"tlsspec connect: no key log: SSLKEYLOGFILE={missing}: "
        "No such file or directory\n"
    ) in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_as_key_log_is_refused_without_waiting(
    pem: PemFiles, tmp_path: Path
) -> None:
    fifo = tmp_path / "keys.fifo"
    os.mkfifo(fifo)
    refused = run_tlsspec(
        "serve", "--cert", str(pem.cert), "--key", str(pem.key),
        "--port", "0", "--keylog", str(fifo),
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr == (f"tlsspec serve: --keylog {fifo}: not a regular file\n")


def test_connect_interrupted_says_so_without_a_traceback(
    pem: PemFiles, tmp_path: Path
) -> None:
    # A listener that never answers: the handshake waits until SIGINT.
    session = tmp_path / "session.bin"
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        command = [
            sys.executable, "-m", "tlsspec", "connect", f"127.0.0.1:{port}",
            "--insecure", "--sess-out", str(session),
        ]  # fmt: skip
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as process:
            peer, _ = silent.accept()
            with peer:
                process.send_signal(signal.SIGINT)
                _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 130
    assert stderr == "tlsspec connect: interrupted\n"
    assert not session.exists()


def test_a_flood_of_warning_alerts_is_logged_once(pem: PemFiles) -> None:
    context = _client_context(pem)
    with tlsspec_server(pem) as server:
        with socket.create_connection(("127.0.0.1", server.port), TIMEOUT) as raw:
            with context.wrap_socket(raw, server_hostname=SERVER_NAME) as tls:
                tls.sendall(b"x")
                assert tls.recv(1) == b"x"
        # The flood arrives in the clear before any handshake.
        with socket.create_connection(("127.0.0.1", server.port), TIMEOUT) as flood:
            flood.sendall(b"\x15\x03\x03\x00\x02\x01\x5a" * 2000)
            flood.settimeout(TIMEOUT)
            with contextlib.suppress(OSError):
                while flood.recv(4096):
                    pass
        time.sleep(0.3)
    alert_lines = [line for line in server.output().splitlines() if "alert" in line]
    assert 1 <= len(alert_lines) <= 2, alert_lines


@requires_openssl_cli
def test_sess_out_is_not_left_empty_when_no_ticket_comes(
    identity: TlsIdentity, pem: PemFiles, tmp_path: Path
) -> None:
    session = tmp_path / "session.bin"
    kept = tmp_path / "kept.bin"
    kept.write_bytes(b"an earlier session")
    with openssl_s_server(identity, args=("-rev", "-no_ticket")) as server:
        common = [
            f"127.0.0.1:{server.port}",
            "--servername",
            SERVER_NAME,
            "--cafile",
            str(pem.ca),
        ]
        made = run_tlsspec("connect", *common, "--sess-out", str(session))
        existing = run_tlsspec("connect", *common, "--sess-out", str(kept))

    assert made.returncode == 0, made.stderr
    assert "the server issued no ticket" in made.stderr
    assert not session.exists()
    assert existing.returncode == 0, existing.stderr
    assert kept.read_bytes() == b"an earlier session"
