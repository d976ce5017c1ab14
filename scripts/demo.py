"""The main job end to end: tlsspec against OpenSSL, both ways, on 127.0.0.1.

1. ``openssl s_server`` runs; ``tlsspec connect`` makes a full handshake and
   saves the session, then a second one resumed from it.
2. ``tlsspec serve`` runs; ``openssl s_client`` connects with ``-sess_out``,
   then again with ``-sess_in`` and reports ``Reused``.

Both ladders are printed. Every process started here is stopped before the
script exits; the exit status is non-zero if any step failed.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.openssl import (
    TlsIdentity,
    make_rsa_identity,
    openssl_s_client,
    openssl_s_server,
)

SERVER_NAME = "localhost"
TIMEOUT = 20.0


class DemoError(Exception):
    """A step of the demo did not do what it should."""


def banner(text: str) -> None:
    print(f"\n{'=' * 72}\n{text}\n{'=' * 72}", flush=True)


def run_tlsspec(*args: str) -> str:
    command = [sys.executable, "-m", "tlsspec", *args]
    print("$ tlsspec " + " ".join(args), flush=True)
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        print(result.stderr, end="", file=sys.stderr)
        raise DemoError(f"tlsspec {args[0]} exited with {result.returncode}")
    return result.stdout


def tlsspec_against_openssl(identity: TlsIdentity, work: Path) -> None:
    (work / "openssl-server").mkdir()
    files = identity.write_pem_files(work / "openssl-server")
    session = work / "session.bin"
    # -rev: s_server sends each line back reversed.
    with openssl_s_server(identity, args=("-rev",)) as server:
        address = f"127.0.0.1:{server.port}"
        common = ("--servername", SERVER_NAME, "--cafile", str(files.ca), "--trace")
        banner(f"tlsspec connect -> openssl s_server ({address}): full handshake")
        first = run_tlsspec(
            "connect",
            address,
            *common,
            "--sess-out",
            str(session),
            "--send",
            "hello from tlsspec\n",
        )
        if "Resumed   : no" not in first:
            raise DemoError("the first connection should be a full handshake")
        banner("tlsspec connect -> openssl s_server: resumed from the saved ticket")
        second = run_tlsspec(
            "connect",
            address,
            *common,
            "--sess-in",
            str(session),
            "--send",
            "hello again\n",
        )
        if "Resumed   : yes" not in second:
            raise DemoError("the second connection did not resume")


def openssl_against_tlsspec(identity: TlsIdentity, work: Path) -> None:
    (work / "tlsspec-server").mkdir()
    files = identity.write_pem_files(work / "tlsspec-server")
    session = work / "openssl-session.pem"
    command = [
        sys.executable,
        "-m",
        "tlsspec",
        "serve",
        "--cert",
        str(files.cert),
        "--key",
        str(files.key),
        "--port",
        "0",
        "--www",
        "--trace",
    ]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if "listening on" not in line:
            raise DemoError(f"tlsspec serve did not start: {line!r}")
        port = int(line.rsplit(":", 1)[1])
        for label, option in (("full handshake", "-sess_out"), ("resumed", "-sess_in")):
            banner(f"openssl s_client -> tlsspec serve (127.0.0.1:{port}): {label}")
            with openssl_s_client(
                port,
                servername=SERVER_NAME,
                trust=identity,
                args=(option, str(session)),
            ) as client:
                client.wait_for("Verify return code: 0", TIMEOUT)
                client.send(b"GET / HTTP/1.0\r\n\r\n")
                client.wait_for("Resumed   :", TIMEOUT)
                output = client.output
            reused = "Reused, TLSv1.2" in output
            print(
                "\n".join(
                    ln
                    for ln in output.splitlines()
                    if ln.startswith(
                        ("New, ", "Reused, ", "Protocol", "Cipher    :", "Resumed")
                    )
                ),
                flush=True,
            )
            if reused != (option == "-sess_in"):
                raise DemoError(
                    f"openssl s_client: expected reuse only with -sess_in ({label})"
                )
        time.sleep(0.5)
    finally:
        server.terminate()
        try:
            out, _ = server.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            out, _ = server.communicate()
    banner("tlsspec serve: the ladders it drew")
    print(out, flush=True)


def main() -> int:
    identity = make_rsa_identity(common_name=SERVER_NAME, san=(SERVER_NAME,))
    with tempfile.TemporaryDirectory(prefix="tlsspec-demo-") as directory:
        work = Path(directory)
        try:
            tlsspec_against_openssl(identity, work)
            openssl_against_tlsspec(identity, work)
        except (DemoError, TimeoutError) as e:
            print(f"\ndemo FAILED: {e}", file=sys.stderr)
            return 1
    banner("demo passed: full and resumed TLS 1.2 handshakes with OpenSSL, both ways")
    return 0


if __name__ == "__main__":
    sys.exit(main())
