"""Computing and checking the Finished message (RFC 5246 §7.4.9).

Finished is the first message protected by the new keys, and it proves that
both sides saw the same handshake and hold the same master secret:

    verify_data = PRF(master_secret, finished_label,
                      Hash(handshake_messages))[0..verify_data_length-1]

The sender's verify_data is computed over the transcript up to, but not
including, its own Finished; the server's therefore covers the client's
Finished too.  "Recipients of Finished messages MUST verify that the contents
are correct", and a mismatch is a decrypt_error (RFC 5246 §7.2.2: a
handshake cryptographic operation failed, "including being unable to ...
validate a Finished message").  A verify_data of the wrong size is not a
wrong value but a malformed message, hence decode_error.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.constant_time import bytes_eq

from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.prf import VERIFY_DATA_LENGTH, Sender, verify_data

__all__ = ["VERIFY_DATA_LENGTH", "compute_verify_data", "verify_finished"]


def compute_verify_data(
    master_secret: bytes,
    *,
    sender: Sender,
    transcript_hash: bytes,
    hash: str,
    length: int = VERIFY_DATA_LENGTH,
) -> bytes:
    """Compute the verify_data that ``sender``'s Finished must carry.

    Args:
        master_secret: The 48-byte master secret.
        sender: ``"client"`` or ``"server"``: who sends this Finished.
        transcript_hash: ``Transcript.digest()`` taken just before this
            Finished is added to the transcript.
        hash: The PRF hash name, or ``"md5sha1"`` for TLS 1.0/1.1.
        length: verify_data_length; 12 unless the cipher suite says more.

    Returns:
        The expected verify_data.

    Raises:
        TypeError: A byte-string argument is not bytes-like, or ``length``
            is not an int.
        ValueError: ``sender`` or ``hash`` is not valid, ``master_secret``
            is not 48 bytes, or ``transcript_hash`` is not the size of
            ``hash``'s digest.
    """
    return verify_data(
        master_secret,
        sender=sender,
        handshake_hash=transcript_hash,
        length=length,
        hash=hash,
    )


def _as_bytes(name: str, value: bytes) -> bytes:
    # bytes_eq takes bytes only; a buffer is compared by its contents.
    if type(value) is bytes:
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return memoryview(value).tobytes()
    raise TypeError(
        f"verify_finished: {name} must be bytes, bytearray or memoryview, "
        f"got {type(value).__name__}"
    )


def verify_finished(expected: bytes, received: bytes) -> None:
    """Check a peer's verify_data in constant time.

    Args:
        expected: The verify_data we computed for the peer's Finished.
        received: The verify_data the peer's Finished carried.  Either
            argument may be bytes, bytearray or memoryview.

    Raises:
        TypeError: An argument is not bytes-like.
        ValueError: ``expected`` is shorter than the 12 bytes RFC 5246
            §7.4.9 sets as the least verify_data_length: the caller's
            mistake, and an empty pair would otherwise compare equal.
        LocalProtocolError: decode_error if ``received`` has the wrong
            length; decrypt_error if its value differs.
    """
    expected = _as_bytes("expected", expected)
    received = _as_bytes("received", received)
    if len(expected) < VERIFY_DATA_LENGTH:
        raise ValueError(
            f"verify_finished: expected is {len(expected)} bytes; "
            f"verify_data is at least {VERIFY_DATA_LENGTH} (RFC 5246 §7.4.9)"
        )
    if len(received) != len(expected):
        raise LocalProtocolError(
            f"Finished.verify_data: {len(received)} bytes, expected {len(expected)}",
            AlertDescription.decode_error,
        )
    # The comparison leaks nothing about how many leading bytes matched.
    if not bytes_eq(expected, received):
        raise LocalProtocolError(
            "Finished.verify_data: does not match the handshake transcript "
            "and master secret",
            AlertDescription.decrypt_error,
        )
