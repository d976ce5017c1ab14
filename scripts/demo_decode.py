"""Decode a real OpenSSL TLS 1.2 handshake with the generated codecs.

Runs OpenSSL's client and server in process (Python's ``ssl`` with memory
BIOs), keeps every byte each side sent, cuts the streams into records and
handshake messages, writes each plaintext message to ``build/demo/`` and
prints it with ``tlsspec parse``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.openssl import make_rsa_identity, run_openssl_pair, ssl_context
from tlsspec.cli import main as tlsspec_main
from tlsspec.generated.handshake import HandshakeType
from tlsspec.runtime.messages import handshake_messages, split_records

OUT = Path("build/demo")
SERVER_NAME = "example.com"


def main() -> int:
    identity = make_rsa_identity(common_name=SERVER_NAME, san=(SERVER_NAME,))
    client = ssl_context("client", alpn=("h2", "http/1.1"), tickets=True)
    server = ssl_context("server", identity, alpn=("h2",), tickets=True)
    result = run_openssl_pair(client, server, server_hostname=SERVER_NAME)
    OUT.mkdir(parents=True, exist_ok=True)
    status = 0
    for side, stream in (
        ("client", result.client_stream),
        ("server", result.server_stream),
    ):
        records, rest = split_records(stream)
        assert not rest, "stream ends inside a record"
        for index, (_, message) in enumerate(handshake_messages(records)):
            name = HandshakeType(message[0]).name
            path = OUT / f"{side}-{index}-{name}.bin"
            path.write_bytes(message)
            print(f"\n== {side} -> {name} ({len(message)} bytes, {path})")
            args = ["parse", "Handshake", str(path)]
            if name in ("server_key_exchange", "client_key_exchange"):
                args += ["--param", "key_exchange_algorithm=ec_diffie_hellman"]
            status |= tlsspec_main(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
