"""Ticket sealing and the PRF, each beside the bare primitives it runs on.

Run with ``python -m benchmarks.crypto_bench``.  Every row runs a fixed
number of iterations, several times, and keeps the best run: the fastest run
is the one least disturbed by the rest of the machine.

Two comparisons, each in the same process so the machine is the same:

* A ticket seal plus unseal of a realistic :class:`SessionState` (TLS 1.2,
  ECDHE-RSA-AES128-GCM, extended master secret, SNI and ALPN) against the
  floor: the AES-CBC encryption and decryption and the two HMAC-SHA-256
  computations the ticket needs, over the same bytes, called directly with
  ``cryptography`` and nothing else (AES key object and keyed HMAC built
  once, as the ring does).  The ratio is the share of the floor's rate the
  ticket code keeps; what it loses is the IV, the padding, the codec and
  the bookkeeping.  A second floor rebuilds the key objects on every call,
  as code that does not cache them would.  The ring keeps one CBC context
  per key open and resumes its chain for each ticket (see ``_Slot`` in
  ``tlsspec.runtime.tickets``), which saves the context set-up that
  dominates the first floor; a third floor does the same with bare
  ``update`` calls on open contexts, the least any code on ``cryptography``
  can spend.  A last row times the whole path with ``SessionState``
  encoding.  RFC 5077 §5.4 asks for lightweight ticket verification.
* ``prf.master_secret`` (48 bytes) and ``prf.key_block`` (104 bytes, the
  key block of AES_256_CBC_SHA) against a loop doing the same number of
  HMAC-SHA-256 operations over inputs of the same size.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tlsspec.generated.handshake import CipherSuite
from tlsspec.generated.record import ProtocolVersion
from tlsspec.runtime import prf
from tlsspec.runtime.tickets import (
    IV_LENGTH,
    MAC_LENGTH,
    SessionState,
    TicketKeyRing,
    open_session,
    seal_session,
)

DEFAULT_ITERATIONS = 20_000
DEFAULT_REPEATS = 7

# RFC 5246 §6.3 and Appendix C: AES_256_CBC_SHA takes two 20-byte MAC keys
# and two 32-byte encryption keys; TLS 1.2 CBC suites need no fixed IVs.
SHA1_MAC_KEY_LENGTH = 20
AES256_KEY_LENGTH = 32
KEY_BLOCK_LENGTH = 2 * SHA1_MAC_KEY_LENGTH + 2 * AES256_KEY_LENGTH
# RFC 5246 §8.1: an RSA pre-master secret is 48 bytes.
PRE_MASTER_SECRET_LENGTH = 48
SHA256_OUTPUT = hashes.SHA256.digest_size


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    name: str
    seconds_per_op: float
    baseline: str | None = None

    @property
    def rate(self) -> float:
        """Operations per second."""
        return 1.0 / self.seconds_per_op


def best_seconds_per_op(
    fn: Callable[[], object], iterations: int, repeats: int
) -> float:
    """Time a callable with ``time.perf_counter``, best run of several.

    Args:
        fn: The operation, called with no arguments.
        iterations: Calls per run.
        repeats: How many runs.

    Returns:
        Seconds per call in the fastest run.
    """
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / iterations


def realistic_state() -> SessionState:
    """A TLS 1.2 session as a web server would seal it."""
    return SessionState(
        version=ProtocolVersion.tls1_2,
        cipher_suite=CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        master_secret=os.urandom(prf.MASTER_SECRET_LENGTH),
        extended_master_secret=True,
        creation_time=int(time.time()),
        lifetime=7200,
        server_name="www.example.com",
        alpn_protocol=b"h2",
    )


def ticket_rows(iterations: int, repeats: int) -> list[Row]:
    """Seal plus unseal, and the bare AES-CBC and HMAC work it contains."""
    ring = TicketKeyRing.generate()
    session = realistic_state()
    state = session.to_bytes()
    sample = ring.seal(state)
    now = session.creation_time + 1

    def seal_and_unseal() -> object:
        return ring.unseal(ring.seal(state))

    def seal_and_open_session() -> object:
        return open_session(ring, seal_session(ring, session), now=now)

    # The floors: the same key sizes, IV length, plaintext and MAC input.
    key = ring.current
    iv = os.urandom(IV_LENGTH)
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(state) + padder.finalize()
    authenticated = sample[:-MAC_LENGTH]

    aes = algorithms.AES(key.aes_key)
    keyed = hmac.HMAC(key.hmac_key, hashes.SHA256())

    def bare_crypto() -> object:
        # Key objects built once, as the ring does.
        encryptor = Cipher(aes, modes.CBC(iv)).encryptor()
        encrypted = encryptor.update(padded) + encryptor.finalize()
        for _ in range(2):
            mac = keyed.copy()
            mac.update(authenticated)
            mac.finalize()
        decryptor = Cipher(aes, modes.CBC(iv)).decryptor()
        return decryptor.update(encrypted) + decryptor.finalize()

    def bare_crypto_per_call() -> object:
        # Every object built from the raw keys on each use.
        cipher = Cipher(algorithms.AES(key.aes_key), modes.CBC(iv))
        encryptor = cipher.encryptor()
        encrypted = encryptor.update(padded) + encryptor.finalize()
        for _ in range(2):
            mac = hmac.HMAC(key.hmac_key, hashes.SHA256())
            mac.update(authenticated)
            mac.finalize()
        cipher = Cipher(algorithms.AES(key.aes_key), modes.CBC(iv))
        decryptor = cipher.decryptor()
        return decryptor.update(encrypted) + decryptor.finalize()

    open_encryptor = Cipher(aes, modes.CBC(iv)).encryptor()
    open_decryptor = Cipher(aes, modes.CBC(iv)).decryptor()

    def bare_crypto_open_contexts() -> object:
        # The chain runs on from the previous call; a ticket's IV would be
        # folded into the first block.
        encrypted = open_encryptor.update(padded)
        for _ in range(2):
            mac = keyed.copy()
            mac.update(authenticated)
            mac.finalize()
        return open_decryptor.update(iv + encrypted)

    floor = Row(
        "floor: AES-CBC enc+dec, 2x HMAC",
        best_seconds_per_op(bare_crypto, iterations, repeats),
    )
    per_call = Row(
        "floor, key objects built per call",
        best_seconds_per_op(bare_crypto_per_call, iterations, repeats),
    )
    ticket = Row(
        f"ticket seal+unseal ({len(state)}-byte state)",
        best_seconds_per_op(seal_and_unseal, iterations, repeats),
        baseline=floor.name,
    )
    versus_per_call = Row(
        "ticket seal+unseal, vs per-call floor",
        ticket.seconds_per_op,
        baseline=per_call.name,
    )
    open_contexts = Row(
        "floor, cipher contexts kept open",
        best_seconds_per_op(bare_crypto_open_contexts, iterations, repeats),
    )
    versus_open = Row(
        "ticket seal+unseal, vs open-context floor",
        ticket.seconds_per_op,
        baseline=open_contexts.name,
    )
    full = Row(
        "seal_session+open_session",
        best_seconds_per_op(seal_and_open_session, iterations, repeats),
        baseline=floor.name,
    )
    return [floor, per_call, open_contexts, ticket, versus_per_call, versus_open, full]


def _hmac_operations(output_length: int) -> int:
    # RFC 5246 §5: each output block of P_hash costs one HMAC for A(i) and
    # one for the block itself.
    blocks = -(-output_length // SHA256_OUTPUT)
    return 2 * blocks


def prf_rows(iterations: int, repeats: int) -> list[Row]:
    """The two PRF derivations of a full handshake, and bare HMAC loops."""
    pre_master_secret = os.urandom(PRE_MASTER_SECRET_LENGTH)
    master_secret = os.urandom(prf.MASTER_SECRET_LENGTH)
    client_random = os.urandom(prf.RANDOM_LENGTH)
    server_random = os.urandom(prf.RANDOM_LENGTH)
    # label + both randoms: what every HMAC of P_hash reads at most.
    message = bytes(len(prf.KEY_EXPANSION_LABEL) + 2 * prf.RANDOM_LENGTH)

    def derive_master_secret() -> object:
        return prf.master_secret(
            pre_master_secret,
            client_random=client_random,
            server_random=server_random,
            hash="sha256",
        )

    def derive_key_block() -> object:
        return prf.key_block(
            master_secret,
            client_random=client_random,
            server_random=server_random,
            length=KEY_BLOCK_LENGTH,
            hash="sha256",
        )

    def bare_loop(secret: bytes, operations: int) -> Callable[[], object]:
        def run() -> object:
            keyed = hmac.HMAC(secret, hashes.SHA256())
            for _ in range(operations):
                mac = keyed.copy()
                mac.update(message)
                mac.finalize()
            return keyed

        return run

    rows: list[Row] = []
    for name, derive, secret, length in (
        (
            "prf.master_secret",
            derive_master_secret,
            pre_master_secret,
            prf.MASTER_SECRET_LENGTH,
        ),
        ("prf.key_block", derive_key_block, master_secret, KEY_BLOCK_LENGTH),
    ):
        operations = _hmac_operations(length)
        floor = Row(
            f"floor: {operations} HMAC-SHA256 ({name})",
            best_seconds_per_op(bare_loop(secret, operations), iterations, repeats),
        )
        rows.append(floor)
        rows.append(
            Row(
                f"{name} ({length} bytes)",
                best_seconds_per_op(derive, iterations, repeats),
                baseline=floor.name,
            )
        )
    return rows


def render(rows: Sequence[Row]) -> str:
    """Lay the rows out as a table; a row with a baseline gets its ratio."""
    by_name = {row.name: row for row in rows}
    width = max(len(row.name) for row in rows)
    lines = [f"{'operation':<{width}}  {'ops/s':>10}  {'us/op':>8}  {'of floor':>8}"]
    for row in rows:
        ratio = ""
        if row.baseline is not None:
            ratio = f"{row.rate / by_name[row.baseline].rate:.0%}"
        lines.append(
            f"{row.name:<{width}}  {row.rate:>10,.0f}  "
            f"{row.seconds_per_op * 1e6:>8.2f}  {ratio:>8}"
        )
    return "\n".join(lines)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: expected a whole number >= 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run both comparisons and print one table.

    Args:
        argv: Command-line arguments; ``sys.argv[1:]`` when None.

    Returns:
        The exit status, 0.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=_positive, default=DEFAULT_ITERATIONS)
    parser.add_argument("--repeats", type=_positive, default=DEFAULT_REPEATS)
    args = parser.parse_args(argv)

    rows = ticket_rows(args.iterations, args.repeats)
    rows += prf_rows(args.iterations, args.repeats)
    print(
        f"best of {args.repeats} runs x {args.iterations} iterations, "
        f"cryptography + OpenSSL in one process"
    )
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
