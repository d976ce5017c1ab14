"""The TLS pseudorandom function and the secrets derived from it.

TLS 1.2 (RFC 5246 §5) expands a secret with one HMAC-based function,
P_hash, run on the hash the cipher suite names.  TLS 1.0 and 1.1 (RFC 2246
§5, unchanged in RFC 4346) XOR P_MD5 and P_SHA-1 over the two halves of the
secret instead.  Every secret of the handshake comes out of one of these:

* the master secret (RFC 5246 §8.1), or the extended master secret that
  binds it to the handshake transcript (RFC 7627 §4);
* the key block the record layer slices into keys and IVs (RFC 5246 §6.3);
* the verify_data of both Finished messages (RFC 5246 §7.4.9).

The derivation functions take a ``hash`` name: one of :data:`PRF_HASHES` for
the TLS 1.2 PRF, or :data:`LEGACY_PRF` for the TLS 1.0/1.1 construction.

P_hash runs two HMACs per output block, all under the same key.  Keying an
HMAC hashes the padded key once for the inner and once for the outer pad, so
each call keys one HMAC object and copies it for every block: a copy
duplicates the already-keyed state and skips that work.
"""

from __future__ import annotations

from typing import Final, Literal

from cryptography.hazmat.primitives import hashes, hmac

__all__ = [
    "CLIENT_FINISHED_LABEL",
    "EXTENDED_MASTER_SECRET_LABEL",
    "KEY_EXPANSION_LABEL",
    "LEGACY_PRF",
    "MASTER_SECRET_LABEL",
    "MASTER_SECRET_LENGTH",
    "PRF_HASHES",
    "RANDOM_LENGTH",
    "SERVER_FINISHED_LABEL",
    "VERIFY_DATA_LENGTH",
    "digest_size",
    "extended_master_secret",
    "hash_algorithm",
    "key_block",
    "master_secret",
    "prf",
    "prf_tls10",
    "verify_data",
]

# RFC 5246 §8.1 and RFC 7627 §4: the PRF labels, ASCII without a length
# byte or terminating NUL.
MASTER_SECRET_LABEL: Final = b"master secret"
EXTENDED_MASTER_SECRET_LABEL: Final = b"extended master secret"
# RFC 5246 §6.3.
KEY_EXPANSION_LABEL: Final = b"key expansion"
# RFC 5246 §7.4.9: the label names who sent the Finished message.
CLIENT_FINISHED_LABEL: Final = b"client finished"
SERVER_FINISHED_LABEL: Final = b"server finished"

# RFC 5246 §8.1: "The master secret is always exactly 48 bytes in length."
MASTER_SECRET_LENGTH: Final = 48
# RFC 5246 §7.4.1.2: ClientHello.random and ServerHello.random are 32 bytes.
RANDOM_LENGTH: Final = 32
# RFC 5246 §7.4.9: verify_data_length defaults to 12; a suite may say more.
VERIFY_DATA_LENGTH: Final = 12

Sender = Literal["client", "server"]

_FINISHED_LABELS: Final = {
    "client": CLIENT_FINISHED_LABEL,
    "server": SERVER_FINISHED_LABEL,
}

# RFC 5246 §5 leaves the hash to the cipher suite.  No TLS 1.2 suite runs the
# PRF on SHA-224 or SHA-512; they are here because the published PRF test
# vectors cover them.
_PRF_ALGORITHMS: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

#: Hash names :func:`prf` accepts.
PRF_HASHES: Final = tuple(_PRF_ALGORITHMS)

#: The ``hash`` name selecting the TLS 1.0/1.1 PRF (RFC 2246 §5).
LEGACY_PRF: Final = "md5sha1"

# RFC 2246 §7.4.9: the TLS 1.0 handshake hash is MD5 followed by SHA-1,
# sixteen and twenty bytes; RFC 7627 §3 uses the same pair for the session
# hash.
_LEGACY_DIGEST_SIZE: Final = hashes.MD5.digest_size + hashes.SHA1.digest_size


# Hash objects carry no state, so one instance per name serves every call.
_PRF_INSTANCES: Final[dict[str, hashes.HashAlgorithm]] = {
    name: algorithm() for name, algorithm in _PRF_ALGORITHMS.items()
}


def hash_algorithm(hash: str) -> hashes.HashAlgorithm:
    """Return the hash a TLS 1.2 PRF name stands for.

    Args:
        hash: A name from :data:`PRF_HASHES`.

    Returns:
        A fresh ``cryptography`` hash algorithm object, e.g. ``SHA256()``.

    Raises:
        TypeError: ``hash`` is not a str.
        ValueError: ``hash`` is not a TLS 1.2 PRF hash.
    """
    return type(_prf_instance(hash))()


def _prf_instance(hash: str, *, legacy: bool = False) -> hashes.HashAlgorithm:
    # ``legacy``: the caller also takes LEGACY_PRF, so the message lists it.
    try:
        return _PRF_INSTANCES[hash]
    except (KeyError, TypeError):
        if not isinstance(hash, str):
            raise TypeError(
                f"PRF hash: expected a name such as 'sha256', got {type(hash).__name__}"
            ) from None
        names = (*PRF_HASHES, LEGACY_PRF) if legacy else PRF_HASHES
        raise ValueError(
            f"PRF hash {hash!r} is not supported; expected one of {', '.join(names)}"
        ) from None


def digest_size(hash: str) -> int:
    """Return the size of the handshake hash that goes with a PRF.

    Args:
        hash: A name from :data:`PRF_HASHES`, or :data:`LEGACY_PRF`.

    Returns:
        The digest size in bytes: the hash's own size for the TLS 1.2 PRF,
        36 (MD5 and SHA-1 side by side) for the TLS 1.0 PRF.

    Raises:
        TypeError: ``hash`` is not a str.
        ValueError: ``hash`` names no PRF.
    """
    if hash == LEGACY_PRF:
        return _LEGACY_DIGEST_SIZE
    return _prf_instance(hash, legacy=True).digest_size


def _p_hash(
    algorithm: hashes.HashAlgorithm, secret: bytes, seed: bytes, length: int
) -> bytes:
    # RFC 5246 §5: A(0) = seed, A(i) = HMAC(secret, A(i-1)), and the output
    # is HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...,
    # truncated to the length asked for.  The last block finalizes the
    # keyed object itself: nothing needs it afterwards, so no copy.
    keyed = hmac.HMAC(secret, algorithm)
    last = -(-length // algorithm.digest_size) - 1
    if last < 0:
        return b""
    blocks = []
    chain = seed
    for index in range(last + 1):
        step = keyed.copy()
        step.update(chain)
        chain = step.finalize()
        block = keyed if index == last else keyed.copy()
        block.update(chain + seed)
        blocks.append(block.finalize())
    return b"".join(blocks)[:length]


def _check_length(length: int) -> None:
    # ``type() is int`` keeps the common case to one test; bool is an int
    # subclass but never a length.
    if type(length) is not int and (
        not isinstance(length, int) or isinstance(length, bool)
    ):
        raise TypeError(f"length: expected an int, got {type(length).__name__}")
    if length < 0:
        raise ValueError(f"PRF output length must not be negative, got {length}")


# What the byte-string arguments accept: bytes, or a buffer of bytes.
_BYTES_LIKE: Final = (bytearray, memoryview)


def _as_bytes(name: str, value: bytes) -> bytes:
    # Every derivation concatenates its inputs, which bytes does with any
    # buffer but str, lists or a memoryview on the left do not.
    if type(value) is bytes:
        return value
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, _BYTES_LIKE):
        return memoryview(value).tobytes()
    raise TypeError(
        f"{name}: expected bytes, bytearray or memoryview, got {type(value).__name__}"
    )


def prf(
    secret: bytes,
    *,
    label: bytes,
    seed: bytes,
    length: int,
    hash: str = "sha256",
) -> bytes:
    """Run the TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label + seed).

    Args:
        secret: The PRF secret; any length, including empty.
        label: The ASCII label, e.g. :data:`MASTER_SECRET_LABEL`.
        seed: The seed that follows the label.
        length: How many output bytes to produce.
        hash: The HMAC hash, one of :data:`PRF_HASHES`.

    Returns:
        ``length`` pseudorandom bytes.

    Raises:
        TypeError: ``secret``, ``label`` or ``seed`` is not bytes-like,
            ``length`` is not an int, or ``hash`` is not a str.
        ValueError: ``hash`` is not a TLS 1.2 PRF hash, or ``length`` is
            negative.
    """
    _check_length(length)
    secret = _as_bytes("secret", secret)
    labelled_seed = _as_bytes("label", label) + _as_bytes("seed", seed)
    return _p_hash(_prf_instance(hash), secret, labelled_seed, length)


def prf_tls10(secret: bytes, *, label: bytes, seed: bytes, length: int) -> bytes:
    """Run the TLS 1.0/1.1 PRF (RFC 2246 §5).

    The secret is split into two halves S1 and S2 of ceil(len / 2) bytes
    each, so for an odd length the middle byte ends S1 and starts S2.  The
    result is P_MD5(S1, label + seed) XOR P_SHA-1(S2, label + seed).

    Args:
        secret: The PRF secret.
        label: The ASCII label.
        seed: The seed that follows the label.
        length: How many output bytes to produce.

    Returns:
        ``length`` pseudorandom bytes.

    Raises:
        TypeError: ``secret``, ``label`` or ``seed`` is not bytes-like, or
            ``length`` is not an int.
        ValueError: ``length`` is negative.
    """
    _check_length(length)
    secret = _as_bytes("secret", secret)
    labelled_seed = _as_bytes("label", label) + _as_bytes("seed", seed)
    half = (len(secret) + 1) // 2
    first, second = secret[:half], secret[len(secret) - half :]

    md5_part = _p_hash(hashes.MD5(), first, labelled_seed, length)
    sha1_part = _p_hash(hashes.SHA1(), second, labelled_seed, length)
    mixed = int.from_bytes(md5_part, "big") ^ int.from_bytes(sha1_part, "big")
    return mixed.to_bytes(length, "big")


def _derive(
    secret_name: str, secret: bytes, label: bytes, seed: bytes, length: int, hash: str
) -> bytes:
    # The callers have checked ``seed`` and ``length``; ``label`` is ours.
    # The ``type() is`` test spares the hot path a call.
    if type(secret) is not bytes:
        secret = _as_bytes(secret_name, secret)
    if hash == LEGACY_PRF:
        return prf_tls10(secret, label=label, seed=seed, length=length)
    return _p_hash(_prf_instance(hash, legacy=True), secret, label + seed, length)


def _check_random(name: str, value: bytes) -> bytes:
    if type(value) is not bytes:
        value = _as_bytes(name, value)
    if len(value) != RANDOM_LENGTH:
        raise ValueError(
            f"{name} must be {RANDOM_LENGTH} bytes (RFC 5246 §7.4.1.2), "
            f"got {len(value)}"
        )
    return value


def master_secret(
    pre_master_secret: bytes,
    *,
    client_random: bytes,
    server_random: bytes,
    hash: str,
) -> bytes:
    """Derive the master secret of a handshake without EMS (RFC 5246 §8.1).

    Args:
        pre_master_secret: The key exchange's shared secret.
        client_random: ClientHello.random, 32 bytes.
        server_random: ServerHello.random, 32 bytes.
        hash: A name from :data:`PRF_HASHES`, or :data:`LEGACY_PRF`.

    Returns:
        The 48-byte master secret.

    Raises:
        TypeError: A byte-string argument is not bytes-like, or ``hash``
            is not a str.
        ValueError: A random is not 32 bytes, or ``hash`` names no PRF.
    """
    client_random = _check_random("client_random", client_random)
    server_random = _check_random("server_random", server_random)
    return _derive(
        "pre_master_secret",
        pre_master_secret,
        MASTER_SECRET_LABEL,
        client_random + server_random,
        MASTER_SECRET_LENGTH,
        hash,
    )


def extended_master_secret(
    pre_master_secret: bytes, *, session_hash: bytes, hash: str
) -> bytes:
    """Derive the extended master secret (RFC 7627 §4).

    RFC 7627 §4 replaces the two randoms with the session hash: the hash of
    every handshake message up to and including ClientKeyExchange (§3).

    Args:
        pre_master_secret: The key exchange's shared secret.
        session_hash: The transcript digest taken right after
            ClientKeyExchange, as long as the PRF's handshake hash.
        hash: A name from :data:`PRF_HASHES`, or :data:`LEGACY_PRF`.

    Returns:
        The 48-byte master secret.

    Raises:
        TypeError: A byte-string argument is not bytes-like, or ``hash``
            is not a str.
        ValueError: ``session_hash`` has the wrong length for ``hash``, or
            ``hash`` names no PRF.
    """
    session_hash = _as_bytes("session_hash", session_hash)
    expected = digest_size(hash)
    if len(session_hash) != expected:
        raise ValueError(
            f"session_hash must be {expected} bytes for PRF {hash!r} "
            f"(RFC 7627 §3), got {len(session_hash)}"
        )
    return _derive(
        "pre_master_secret",
        pre_master_secret,
        EXTENDED_MASTER_SECRET_LABEL,
        session_hash,
        MASTER_SECRET_LENGTH,
        hash,
    )


def key_block(
    master_secret: bytes,
    *,
    client_random: bytes,
    server_random: bytes,
    length: int,
    hash: str,
) -> bytes:
    """Expand the master secret into the key block (RFC 5246 §6.3).

    Note the seed order: the server's random comes first here, unlike in
    the master secret.

    Args:
        master_secret: The 48-byte master secret.
        client_random: ClientHello.random, 32 bytes.
        server_random: ServerHello.random, 32 bytes.
        length: Total bytes of MAC keys, encryption keys and IVs the cipher
            suite needs.
        hash: A name from :data:`PRF_HASHES`, or :data:`LEGACY_PRF`.

    Returns:
        ``length`` bytes for the record layer to slice.

    Raises:
        TypeError: A byte-string argument is not bytes-like, ``length``
            is not an int, or ``hash`` is not a str.
        ValueError: A random is not 32 bytes, ``length`` is negative, or
            ``hash`` names no PRF.
    """
    _check_length(length)
    client_random = _check_random("client_random", client_random)
    server_random = _check_random("server_random", server_random)
    return _derive(
        "master_secret",
        master_secret,
        KEY_EXPANSION_LABEL,
        server_random + client_random,
        length,
        hash,
    )


def _finished_label(sender: Sender) -> bytes:
    try:
        return _FINISHED_LABELS[sender]
    except (KeyError, TypeError):
        raise ValueError(
            f"sender must be 'client' or 'server', got {sender!r}"
        ) from None


def verify_data(
    master_secret: bytes,
    *,
    sender: Sender,
    handshake_hash: bytes,
    length: int = VERIFY_DATA_LENGTH,
    hash: str,
) -> bytes:
    """Compute the verify_data of a Finished message (RFC 5246 §7.4.9).

    Args:
        master_secret: The 48-byte master secret.
        sender: ``"client"`` or ``"server"``: who sends the Finished.
        handshake_hash: The transcript digest of every handshake message
            before this Finished (see ``tlsspec.runtime.transcript``), as
            long as the PRF's handshake hash (:func:`digest_size`).
        length: verify_data_length; 12 unless the cipher suite says more.
        hash: A name from :data:`PRF_HASHES`, or :data:`LEGACY_PRF`.

    Returns:
        ``length`` bytes of verify_data.

    Raises:
        TypeError: A byte-string argument is not bytes-like, ``length``
            is not an int, or ``hash`` is not a str.
        ValueError: ``sender`` is neither ``"client"`` nor ``"server"``,
            ``length`` is below 12, ``hash`` names no PRF,
            ``master_secret`` is not 48 bytes, or ``handshake_hash`` is not
            the size of ``hash``'s digest.
    """
    label = _finished_label(sender)
    _check_length(length)
    # RFC 5246 §7.4.9: a suite may ask for more than 12 bytes, "but such
    # length MUST be at least 12 bytes".
    if length < VERIFY_DATA_LENGTH:
        raise ValueError(
            f"verify_data length must be at least {VERIFY_DATA_LENGTH} bytes "
            f"(RFC 5246 §7.4.9), got {length}"
        )
    expected_hash = digest_size(hash)

    master_secret = _as_bytes("master_secret", master_secret)
    if len(master_secret) != MASTER_SECRET_LENGTH:
        raise ValueError(
            f"master_secret must be {MASTER_SECRET_LENGTH} bytes (RFC 5246 §8.1), "
            f"got {len(master_secret)}"
        )
    # RFC 5246 §7.4.9: Hash(handshake_messages) on the PRF's own hash; for
    # TLS 1.0/1.1 the MD5 and SHA-1 digests side by side (RFC 2246 §7.4.9).
    handshake_hash = _as_bytes("handshake_hash", handshake_hash)
    if len(handshake_hash) != expected_hash:
        raise ValueError(
            f"handshake_hash must be {expected_hash} bytes for PRF {hash!r}, "
            f"got {len(handshake_hash)}"
        )
    return _derive("master_secret", master_secret, label, handshake_hash, length, hash)
