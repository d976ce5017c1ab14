"""Handshakes per second and bulk throughput, beside OpenSSL, in one process.

Run with ``python -m benchmarks.handshake_bench``.  Three pairings, each
through memory (no sockets, no threads), for full and resumed handshakes:

* our client with our server;
* an OpenSSL client (Python's ``ssl`` with memory BIOs) with our server;
* an OpenSSL client with an OpenSSL server, the reference.

Then the bulk rate of application data in 16 KiB records, one direction,
sealing and opening included, ours against OpenSSL's.  Each row runs for a
fixed time several times and keeps the best run, the one least disturbed
by the rest of the machine.  The pairings take turns, run for run, as do
the two bulk rows, so that what drifts over the process's life (the
machine's load, the allocator's state: how much of each batch's memory
must be faulted in afresh) weighs on every row alike and the ratios
compare rows measured under the same conditions.
``--profile`` adds a cProfile of our resumed handshake, top functions by
own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.support.openssl import (
    MemoryBioEndpoint,
    TlsIdentity,
    make_ecdsa_identity,
    make_rsa_identity,
    ssl_context,
)
from tlsspec.runtime import (
    ClientConfig,
    ClientConnection,
    ServerConfig,
    ServerConnection,
    Session,
)
from tlsspec.runtime.suites import ALL_SUITES, CipherSuite
from tlsspec.runtime.tickets import TicketKeyRing

SERVER_NAME = "localhost"
RECORD = 16 * 1024
BULK_RECORDS = 64
DEFAULT_SECONDS = 0.5
DEFAULT_REPEATS = 5

OPENSSL_CIPHER = {
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
}


@dataclass(frozen=True)
class Setup:
    """One identity and suite, with every context and config built once."""

    name: str
    identity: TlsIdentity
    suite: CipherSuite
    client: ClientConfig
    server: ServerConfig
    openssl_client: ssl.SSLContext
    openssl_server: ssl.SSLContext


def make_setup(kind: str) -> Setup:
    """Configs for ``rsa`` (RSA-2048) or ``ecdsa`` (P-256), AES-128-GCM."""
    identity = make_rsa_identity() if kind == "rsa" else make_ecdsa_identity()
    wanted = f"TLS_ECDHE_{'RSA' if kind == 'rsa' else 'ECDSA'}_WITH_AES_128_GCM_SHA256"
    (suite,) = [s for s in ALL_SUITES if s.name == wanted]
    return Setup(
        name=f"{kind.upper()} {suite.name}",
        identity=identity,
        suite=suite,
        client=ClientConfig(trust_anchors=[identity.ca_cert], cipher_suites=[suite]),
        server=ServerConfig(
            [identity.cert], identity.key, ticket_keys=TicketKeyRing.generate()
        ),
        openssl_client=ssl_context("client", ciphers=OPENSSL_CIPHER[suite.name]),
        openssl_server=ssl_context(
            "server", identity, ciphers=OPENSSL_CIPHER[suite.name]
        ),
    )


# ----------------------------------------------------------------------
# One handshake of each pairing
# ----------------------------------------------------------------------


def ours_with_ours(
    setup: Setup, session: Session | None, keep: bool = False
) -> Session | None:
    """One handshake of our client with our server; its session if ``keep``."""
    client = ClientConnection(setup.client, server_name=SERVER_NAME, session=session)
    server = ServerConnection(setup.server)
    client.start_handshake()
    # Two round trips, full or abbreviated; b"" would mean EOF.
    for _ in range(2):
        server.receive_data(client.data_to_send())
        flight = server.data_to_send()
        if flight:
            client.receive_data(flight)
    assert client.handshake_complete and server.handshake_complete
    if session is not None:
        assert client.session is not None
    return client.session if keep else None


def openssl_with_ours(
    setup: Setup, session: ssl.SSLSession | None, keep: bool = False
) -> ssl.SSLSession | None:
    """One handshake of an OpenSSL client with our server.

    Returns the client's session only if ``keep``: Python's ``ssl`` copies
    a session through its DER form on every ``session`` read, work of the
    binding, not of the handshake, so the timed runs leave it out.
    """
    client = MemoryBioEndpoint(
        setup.openssl_client,
        server_side=False,
        server_hostname=SERVER_NAME,
        session=session,
    )
    server = ServerConnection(setup.server)
    while not client.step_handshake():
        server.receive_data(client.take())
        client.feed(server.data_to_send())
    last = client.take()
    if last:
        server.receive_data(last)
    assert server.handshake_complete
    if session is not None:
        assert client.ssl_object.session_reused
    return client.ssl_object.session if keep else None


def openssl_with_openssl(
    setup: Setup, session: ssl.SSLSession | None, keep: bool = False
) -> ssl.SSLSession | None:
    """One handshake of an OpenSSL client with an OpenSSL server.

    Returns the client's session only if ``keep``, as for
    :func:`openssl_with_ours`.
    """
    client = MemoryBioEndpoint(
        setup.openssl_client,
        server_side=False,
        server_hostname=SERVER_NAME,
        session=session,
    )
    server = MemoryBioEndpoint(setup.openssl_server, server_side=True)
    while True:
        client_done = client.step_handshake()
        server.feed(client.take())
        server_done = server.step_handshake()
        client.feed(server.take())
        if client_done and server_done:
            break
    if session is not None:
        assert client.ssl_object.session_reused
    return client.ssl_object.session if keep else None


# ----------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------


def rate(work: Callable[[], object], seconds: float, repeats: int) -> float:
    """Best calls per second of ``work`` over ``repeats`` runs."""
    best = 0.0
    for _ in range(repeats):
        count = 0
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            work()
            count += 1
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, count / (now - start))
    return best


def handshake_rates(
    setup: Setup, seconds: float, repeats: int
) -> dict[str, tuple[float, float]]:
    """(full, resumed) handshakes per second of each pairing."""
    pairings: dict[str, Callable[[Setup, object, bool], object]] = {
        "tlsspec client + tlsspec server": ours_with_ours,  # type: ignore[dict-item]
        "OpenSSL client + tlsspec server": openssl_with_ours,  # type: ignore[dict-item]
        "OpenSSL client + OpenSSL server": openssl_with_openssl,  # type: ignore[dict-item]
    }
    sessions = {name: run(setup, None, True) for name, run in pairings.items()}
    best = dict.fromkeys(pairings, (0.0, 0.0))
    # The pairings take turns, run for run, so a slow spell of the machine
    # falls on all of them rather than on one.
    for _ in range(repeats):
        for name, run in pairings.items():
            session = sessions[name]
            full = rate(lambda run=run: run(setup, None), seconds, 1)
            resumed = rate(
                lambda run=run, session=session: run(setup, session), seconds, 1
            )
            best_full, best_resumed = best[name]
            best[name] = (max(best_full, full), max(best_resumed, resumed))
    return best


def bulk_ours(setup: Setup) -> Callable[[], None]:
    """A callable sending BULK_RECORDS 16 KiB records client to server."""
    client = ClientConnection(setup.client, server_name=SERVER_NAME)
    server = ServerConnection(setup.server)
    client.start_handshake()
    for _ in range(2):
        server.receive_data(client.data_to_send())
        client.receive_data(server.data_to_send())
    payload = bytes(RECORD)

    def send() -> None:
        for _ in range(BULK_RECORDS):
            client.send_application_data(payload)
        server.receive_data(client.data_to_send())

    return send


def bulk_openssl(setup: Setup) -> Callable[[], None]:
    """The same through two OpenSSL endpoints."""
    client = MemoryBioEndpoint(
        setup.openssl_client, server_side=False, server_hostname=SERVER_NAME
    )
    server = MemoryBioEndpoint(setup.openssl_server, server_side=True)
    while not (client.step_handshake() and server.step_handshake()):
        server.feed(client.take())
        server.step_handshake()
        client.feed(server.take())
    server.feed(client.take())
    server.step_handshake()
    payload = bytes(RECORD)

    def send() -> None:
        for _ in range(BULK_RECORDS):
            client.write(payload)
        server.feed(client.take())
        received = server.read(RECORD * BULK_RECORDS)
        assert len(received) == RECORD * BULK_RECORDS

    return send


def bulk_rates(setup: Setup, seconds: float, repeats: int) -> tuple[float, float]:
    """Best (tlsspec, OpenSSL) bulk MB/s, the two measured in turns."""
    megabytes = RECORD * BULK_RECORDS / 1e6
    ours, theirs = bulk_ours(setup), bulk_openssl(setup)
    best_ours = best_theirs = 0.0
    for _ in range(repeats):
        best_ours = max(best_ours, rate(ours, seconds, 1) * megabytes)
        best_theirs = max(best_theirs, rate(theirs, seconds, 1) * megabytes)
    return best_ours, best_theirs


def profile_resumed(setup: Setup, seconds: float, top: int) -> str:
    """cProfile our resumed handshake; the top functions by own time."""
    session = ours_with_ours(setup, None, keep=True)
    profiler = cProfile.Profile()
    deadline = time.perf_counter() + seconds
    count = 0
    profiler.enable()
    while time.perf_counter() < deadline:
        ours_with_ours(setup, session)
        count += 1
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return f"{count} resumed handshakes profiled\n" + out.getvalue()


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------


def report(setup: Setup, seconds: float, repeats: int) -> None:
    """Print one identity's table."""
    print(f"\n{setup.name}")
    rates = handshake_rates(setup, seconds, repeats)
    reference_full, reference_resumed = rates["OpenSSL client + OpenSSL server"]
    print(f"  {'pairing':34} {'full/s':>9} {'ratio':>7} {'resumed/s':>10} {'ratio':>7}")
    for name, (full, resumed) in rates.items():
        print(
            f"  {name:34} {full:9.0f} {full / reference_full:7.3f} "
            f"{resumed:10.0f} {resumed / reference_resumed:7.3f}"
        )

    ours, theirs = bulk_rates(setup, seconds, repeats)
    print(f"  bulk, 16 KiB records, one way: tlsspec {ours:.0f} MB/s, ", end="")
    print(f"OpenSSL {theirs:.0f} MB/s, ratio {ours / theirs:.3f}")


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text}: expected a number above 0")
        return value

    return parse


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m benchmarks.handshake_bench``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=_positive(float), default=DEFAULT_SECONDS)
    parser.add_argument("--repeats", type=_positive(int), default=DEFAULT_REPEATS)
    parser.add_argument("--keys", nargs="+", default=["rsa", "ecdsa"])
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)

    print(f"{ssl.OPENSSL_VERSION}; best of {args.repeats} runs of {args.seconds} s")
    for kind in args.keys:
        setup = make_setup(kind)
        report(setup, args.seconds, args.repeats)
        if args.profile:
            print(profile_resumed(setup, 2 * args.seconds, args.top))


if __name__ == "__main__":
    main()
