"""TLS 1.2 record protection: one object per direction and cipher family.

After ChangeCipherSpec every record fragment is sealed by the write state of
its sender and opened by the matching read state of its receiver (RFC 5246
§6.1, §6.2.3).  Both ends count the records of that direction in a 64-bit
sequence number that starts at zero and is never sent; it enters the AEAD
additional data or the MAC, so a record that is dropped, replayed or moved
fails to authenticate.

Four families share the :class:`RecordProtection` interface:

* :class:`AesGcmProtection` (RFC 5288): explicit 8-byte nonce in the record.
* :class:`ChaCha20Poly1305Protection` (RFC 7905): nonce from IV and sequence.
* :class:`CbcMacThenEncrypt` (RFC 5246 §6.2.3.2): HMAC, pad, then AES-CBC.
* :class:`CbcEncryptThenMac` (RFC 7366): pad, AES-CBC, then HMAC.

:func:`new_record_protection` picks the family from a cipher suite.  Every
failure to open a record, whatever the cause, is the same
:class:`~tlsspec.runtime.alerts.LocalProtocolError` with alert
``bad_record_mac``, so a peer learns nothing from which check failed
(RFC 5246 §6.2.3.2, §7.2.2).  Failures are sticky: once a state has raised,
every later call raises the same error.
"""

from __future__ import annotations

import abc
import os
import struct
from collections.abc import Callable
from typing import Final, NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import constant_time, hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime.alerts import TLS12_RECORD_VERSION, LocalProtocolError
from tlsspec.runtime.suites import (
    AES_128_KEY_LENGTH,
    AES_256_KEY_LENGTH,
    AES_BLOCK_LENGTH,
    CHACHA20_FIXED_IV_LENGTH,
    GCM_FIXED_IV_LENGTH,
    GCM_RECORD_IV_LENGTH,
    BulkCipher,
    CipherSuite,
    DirectionKeys,
    MacAlgorithm,
)

__all__ = [
    "AEAD_TAG_LENGTH",
    "MAX_CIPHERTEXT_LENGTH",
    "MAX_PLAINTEXT_LENGTH",
    "RECORD_HEADER",
    "SEQUENCE_NUMBER_LIMIT",
    "AesGcmProtection",
    "CbcEncryptThenMac",
    "CbcMacThenEncrypt",
    "ChaCha20Poly1305Protection",
    "RecordProtection",
    "new_record_protection",
]

# RFC 5246 §6.2.1: TLSPlaintext.length MUST NOT exceed 2^14.
MAX_PLAINTEXT_LENGTH: Final = 2**14
# RFC 5246 §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048.
MAX_CIPHERTEXT_LENGTH: Final = 2**14 + 2048

# RFC 5246 §6.1: sequence numbers are uint64 and MUST NOT wrap; an
# implementation that would need to wrap renegotiates instead.
SEQUENCE_NUMBER_LIMIT: Final = 2**64

# RFC 5288 §3 and RFC 7905 §2: both AEADs append a 16-byte tag.
AEAD_TAG_LENGTH: Final = 16

# RFC 5246 §6.2.3: the TLSCiphertext header, type(1) version(2) length(2).
RECORD_HEADER: Final = struct.Struct("!BHH")

# RFC 5246 §6.2.3.3: additional_data = seq_num + TLSCompressed.type +
# TLSCompressed.version + TLSCompressed.length, i.e. uint64, uint8, uint16,
# uint16.  The CBC MAC input (§6.2.3.1) starts with the same 13 bytes.
_PSEUDO_HEADER: Final = struct.Struct("!QBHH")

# RFC 5246 §6.2.3.2: padding_length is a uint8, so padding plus its length
# byte spans at most 256 bytes at the end of the decrypted fragment.
_MAX_PADDING_SPAN: Final = 256

# RFC 5288 §3: salt (from the key block) and nonce_explicit (in the record).
_GCM_SALT_LENGTH: Final = GCM_FIXED_IV_LENGTH
_GCM_EXPLICIT_NONCE_LENGTH: Final = GCM_RECORD_IV_LENGTH
_GCM_OVERHEAD: Final = _GCM_EXPLICIT_NONCE_LENGTH + AEAD_TAG_LENGTH
# The nonce is salt || nonce_explicit, and we send the sequence number as
# nonce_explicit; the record header and nonce_explicit are packed together.
_GCM_NONCE: Final = struct.Struct(f"!{_GCM_SALT_LENGTH}sQ")
_GCM_RECORD_HEAD: Final = struct.Struct("!BHHQ")

_AES_KEY_LENGTHS: Final = (AES_128_KEY_LENGTH, AES_256_KEY_LENGTH)

# RFC 7905 §2: the 64-bit sequence number is left-padded with four zero
# bytes to the 12-byte IV length before the XOR.
_CHACHA20_NONCE_LENGTH: Final = CHACHA20_FIXED_IV_LENGTH

_BYTE_MASK: Final = 0xFF

# The padding check compares without branching: it adds 2^32 to a small
# difference, and a right shift by 32 then gives 1 when the difference was
# non-negative, 0 when it was negative.  The offset also keeps every
# intermediate value out of CPython's cache of the ints -5..256, so each
# step allocates the same way whatever the padding length is.
_BIAS_SHIFT: Final = 32
_BIAS: Final = 1 << _BIAS_SHIFT


class _HashShape:
    # The Merkle-Damgard geometry of a MAC hash: its block size, digest
    # size and the width of the message-length field its padding appends.
    __slots__ = ("algorithm", "block_size", "digest_size", "length_field")

    def __init__(
        self,
        algorithm: type[hashes.HashAlgorithm],
        *,
        block_size: int,
        length_field: int,
    ) -> None:
        self.algorithm = algorithm
        self.block_size = block_size
        self.digest_size = algorithm().digest_size
        self.length_field = length_field


# FIPS 180-4 §5.1: SHA-1 and SHA-256 pad to 64-byte blocks with an 8-byte
# length; SHA-384 pads to 128-byte blocks with a 16-byte length.
_HASH_SHAPES: Final = {
    MacAlgorithm.HMAC_SHA1: _HashShape(hashes.SHA1, block_size=64, length_field=8),
    MacAlgorithm.HMAC_SHA256: _HashShape(hashes.SHA256, block_size=64, length_field=8),
    MacAlgorithm.HMAC_SHA384: _HashShape(
        hashes.SHA384, block_size=128, length_field=16
    ),
}

# Filler for the dummy hash that evens out HMAC work.  A padding span of up
# to 256 bytes skips at most 256 / block + 1 hash blocks, which stays under
# a 512-byte filler for both the 64-byte and the 128-byte block sizes.
_FILLER: Final = memoryview(bytes(2 * _MAX_PADDING_SPAN))


def _pseudo_header(seq: int, content_type: int, length: int) -> bytes:
    # The version is always {3, 3}: this module protects TLS 1.2 records
    # only (RFC 5246 §6.2.1).
    return _PSEUDO_HEADER.pack(seq, content_type, TLS12_RECORD_VERSION, length)


def _record_head(content_type: int, head: bytes, tail: bytes) -> bytes:
    # The TLSCiphertext header of a fragment sent as head || tail, then head.
    length = len(head) + len(tail)
    return RECORD_HEADER.pack(content_type, TLS12_RECORD_VERSION, length) + head


def _check_length(name: str, value: bytes, allowed: tuple[int, ...]) -> None:
    if len(value) not in allowed:
        expected = " or ".join(str(n) for n in allowed)
        raise ValueError(f"{name}: {len(value)} bytes, expected {expected}")


def _bad_record_mac() -> LocalProtocolError:
    # One message for every way a record can fail to open, so neither the
    # alert nor the text tells the peer which check it tripped.
    return LocalProtocolError(
        "TLSCiphertext.fragment: record failed authentication; expected a "
        "record protected with this direction's keys and sequence number",
        AlertDescription.bad_record_mac,
    )


def _ciphertext_overflow(length: int) -> LocalProtocolError:
    return LocalProtocolError(
        f"TLSCiphertext.length: {length} bytes, "
        f"expected at most {MAX_CIPHERTEXT_LENGTH}",
        AlertDescription.record_overflow,
    )


def _plaintext_overflow(length: int) -> LocalProtocolError:
    return LocalProtocolError(
        f"TLSPlaintext.length: {length} bytes after decryption, "
        f"expected at most {MAX_PLAINTEXT_LENGTH}",
        AlertDescription.record_overflow,
    )


def _read_sequence_exhausted() -> LocalProtocolError:
    return LocalProtocolError(
        "read sequence number exhausted: the peer sent a record after "
        "number 2^64 - 1, which RFC 5246 §6.1 forbids",
        AlertDescription.unexpected_message,
    )


class RecordProtection(abc.ABC):
    """Protection of one direction of TLS 1.2 records under one key set.

    The sender keeps one instance and calls :meth:`seal` for a framed
    record (or :meth:`encrypt` for the bare fragment); the receiver keeps
    another, built from the same keys, and calls :meth:`decrypt`.  Each
    successful call consumes one sequence number.

    Attributes:
        sequence_number: The sequence number the next record will use.
    """

    __slots__ = ("_failure", "_sequence_number")

    def __init__(self, *, sequence_number: int = 0) -> None:
        if not 0 <= sequence_number < SEQUENCE_NUMBER_LIMIT:
            raise ValueError(f"sequence_number must be a uint64, got {sequence_number}")
        self._sequence_number = sequence_number
        self._failure: LocalProtocolError | None = None

    @property
    def sequence_number(self) -> int:
        """The sequence number the next record will use."""
        return self._sequence_number

    def encrypt(self, content_type: int, plaintext: bytes | memoryview) -> bytes:
        """Protect one record and advance the sequence number.

        Args:
            content_type: TLSPlaintext.type, e.g. 23 for application_data.
            plaintext: TLSPlaintext.fragment, at most 2^14 bytes.

        Returns:
            TLSCiphertext.fragment, to be sent after a 5-byte record header
            carrying the same type, version 0x0303 and its length.

        Raises:
            LocalProtocolError: ``internal_error`` when the sequence number
                is exhausted (RFC 5246 §6.1 forbids wrapping), or the error
                that made this state fail earlier.
            ValueError: ``content_type`` is not a uint8 or ``plaintext`` is
                longer than 2^14 bytes (the caller must fragment first).
        """
        head, tail = self.seal(content_type, plaintext)
        return head[RECORD_HEADER.size :] + tail

    def seal(
        self, content_type: int, plaintext: bytes | memoryview
    ) -> tuple[bytes, bytes]:
        """Protect one record, framed, and advance the sequence number.

        The fragment of :meth:`encrypt` with its TLSCiphertext header
        (RFC 5246 §6.2.3), split where the bulk ciphertext starts, so a
        record layer sends both pieces as they are and the ciphertext is
        never copied to join it to its header.

        Args:
            content_type: TLSPlaintext.type, e.g. 23 for application_data.
            plaintext: TLSPlaintext.fragment, at most 2^14 bytes.

        Returns:
            ``(head, tail)``: the 5-byte header (type, version 0x0303,
            length) and what precedes the bulk ciphertext (GCM's
            nonce_explicit, a CBC IV, or nothing for ChaCha20-Poly1305),
            then the rest of TLSCiphertext.fragment.

        Raises:
            LocalProtocolError: As for :meth:`encrypt`.
            ValueError: As for :meth:`encrypt`.
        """
        if self._failure is not None:
            raise self._failure
        if not 0 <= content_type <= _BYTE_MASK:
            raise ValueError(f"content_type must be a uint8, got {content_type}")
        if len(plaintext) > MAX_PLAINTEXT_LENGTH:
            raise ValueError(
                f"TLSPlaintext.fragment: {len(plaintext)} bytes, expected at "
                f"most {MAX_PLAINTEXT_LENGTH} (RFC 5246 §6.2.1)"
            )

        seq = self._sequence_number
        if seq >= SEQUENCE_NUMBER_LIMIT:
            self._fail(
                LocalProtocolError(
                    "write sequence number exhausted: RFC 5246 §6.1 forbids "
                    "wrapping it; expected the connection to be closed",
                    AlertDescription.internal_error,
                )
            )
        pieces = self._seal(seq, content_type, plaintext)
        self._sequence_number = seq + 1
        return pieces

    def decrypt(self, content_type: int, fragment: bytes | memoryview) -> bytes:
        """Open one record and advance the sequence number.

        Args:
            content_type: TLSCiphertext.type from the record header.
            fragment: TLSCiphertext.fragment, the bytes after the header;
                a memoryview is read in place and not kept.

        Returns:
            TLSPlaintext.fragment.

        Raises:
            LocalProtocolError: ``record_overflow`` when ``fragment`` is
                longer than 2^14 + 2048 bytes or opens to more than 2^14
                bytes (RFC 5246 §6.2.3); ``bad_record_mac`` when the record
                fails authentication, padding or length checks, or was not
                the next one in sequence; ``unexpected_message`` when the
                peer sends past the last sequence number; or the error that
                made this state fail earlier.  The state is unusable after.
            ValueError: ``content_type`` is not a uint8.
        """
        if self._failure is not None:
            raise self._failure
        if not 0 <= content_type <= _BYTE_MASK:
            raise ValueError(f"content_type must be a uint8, got {content_type}")

        # RFC 5246 §6.2.3: a receiver MUST send record_overflow for a
        # TLSCiphertext longer than 2^14 + 2048 bytes.
        if len(fragment) > MAX_CIPHERTEXT_LENGTH:
            self._fail(_ciphertext_overflow(len(fragment)))
        seq = self._sequence_number
        if seq >= SEQUENCE_NUMBER_LIMIT:
            self._fail(_read_sequence_exhausted())

        try:
            plaintext = self._open(seq, content_type, fragment)
        except LocalProtocolError as error:
            self._fail(error)

        # RFC 5246 §6.2.3 and §7.2.2: a record that decrypts to more than
        # MAX_PLAINTEXT_LENGTH (2^14) bytes is a record_overflow; compression
        # is never negotiated.
        if len(plaintext) > MAX_PLAINTEXT_LENGTH:
            self._fail(_plaintext_overflow(len(plaintext)))
        self._sequence_number = seq + 1
        return plaintext

    def _fail(self, error: LocalProtocolError) -> NoReturn:
        self._failure = error
        raise error

    @abc.abstractmethod
    def _seal(
        self, seq: int, content_type: int, plaintext: bytes | memoryview
    ) -> tuple[bytes, bytes]:
        """Return the record protecting ``plaintext`` at ``seq``, in two."""

    @abc.abstractmethod
    def _open(self, seq: int, content_type: int, fragment: bytes | memoryview) -> bytes:
        """Return the plaintext of ``fragment`` at ``seq`` or raise."""


class AesGcmProtection(RecordProtection):
    """AES-GCM record protection (RFC 5288 §3, RFC 5246 §6.2.3.3).

    The nonce is the 4-byte salt from the key block followed by an 8-byte
    nonce_explicit that travels at the front of each fragment.  RFC 5288 §3
    only asks that nonce_explicit never repeat under one key; like OpenSSL
    we send the sequence number, which cannot repeat.  On receipt the
    explicit nonce is taken as sent: the sequence number in the additional
    data already binds the record to its position.
    """

    __slots__ = ("_aead", "_salt")

    def __init__(self, keys: DirectionKeys, *, sequence_number: int = 0) -> None:
        """Build a GCM state.

        Args:
            keys: The direction's write key (16 or 32 bytes) and 4-byte salt.
            sequence_number: The first record's sequence number.

        Raises:
            ValueError: A key or the salt has the wrong length.
        """
        super().__init__(sequence_number=sequence_number)
        _check_length("fixed_iv", keys.fixed_iv, (_GCM_SALT_LENGTH,))
        self._aead = AESGCM(keys.enc_key)
        self._salt = keys.fixed_iv

    def _seal(
        self, seq: int, content_type: int, plaintext: bytes | memoryview
    ) -> tuple[bytes, bytes]:
        aad = _PSEUDO_HEADER.pack(
            seq, content_type, TLS12_RECORD_VERSION, len(plaintext)
        )
        sealed = self._aead.encrypt(_GCM_NONCE.pack(self._salt, seq), plaintext, aad)
        length = _GCM_EXPLICIT_NONCE_LENGTH + len(sealed)
        head = _GCM_RECORD_HEAD.pack(content_type, TLS12_RECORD_VERSION, length, seq)
        return head, sealed

    def _open(self, seq: int, content_type: int, fragment: bytes | memoryview) -> bytes:
        # GenericAEADCipher (RFC 5246 §6.2.3.3): nonce_explicit, then the
        # ciphertext with its tag.  Anything shorter cannot authenticate.
        if len(fragment) < _GCM_OVERHEAD:
            raise _bad_record_mac()
        nonce = self._salt + fragment[:_GCM_EXPLICIT_NONCE_LENGTH]
        aad = _PSEUDO_HEADER.pack(
            seq, content_type, TLS12_RECORD_VERSION, len(fragment) - _GCM_OVERHEAD
        )

        # A view, not a copy: the fragment may be 2^14 bytes and more.  It
        # is released before any error leaves, so a traceback kept with a
        # sticky failure holds no export of the caller's buffer.
        if isinstance(fragment, memoryview):
            sealed = fragment[_GCM_EXPLICIT_NONCE_LENGTH:]
        else:
            sealed = memoryview(fragment)[_GCM_EXPLICIT_NONCE_LENGTH:]
        try:
            return self._aead.decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise _bad_record_mac() from None
        finally:
            sealed.release()


class ChaCha20Poly1305Protection(RecordProtection):
    """ChaCha20-Poly1305 record protection (RFC 7905 §2).

    The nonce is the 12-byte IV from the key block XORed with the sequence
    number, left-padded to 12 bytes; no nonce is sent.  The additional data
    is the same as for GCM (RFC 5246 §6.2.3.3).
    """

    __slots__ = ("_aead", "_iv")

    def __init__(self, keys: DirectionKeys, *, sequence_number: int = 0) -> None:
        """Build a ChaCha20-Poly1305 state.

        Args:
            keys: The direction's 32-byte write key and 12-byte IV.
            sequence_number: The first record's sequence number.

        Raises:
            ValueError: The key or the IV has the wrong length.
        """
        super().__init__(sequence_number=sequence_number)
        _check_length("fixed_iv", keys.fixed_iv, (_CHACHA20_NONCE_LENGTH,))
        self._aead = ChaCha20Poly1305(keys.enc_key)
        self._iv = int.from_bytes(keys.fixed_iv, "big")

    def _nonce(self, seq: int) -> bytes:
        return (self._iv ^ seq).to_bytes(_CHACHA20_NONCE_LENGTH, "big")

    def _seal(
        self, seq: int, content_type: int, plaintext: bytes | memoryview
    ) -> tuple[bytes, bytes]:
        aad = _pseudo_header(seq, content_type, len(plaintext))
        sealed = self._aead.encrypt(self._nonce(seq), plaintext, aad)
        return _record_head(content_type, b"", sealed), sealed

    def _open(self, seq: int, content_type: int, fragment: bytes | memoryview) -> bytes:
        if len(fragment) < AEAD_TAG_LENGTH:
            raise _bad_record_mac()
        aad = _pseudo_header(seq, content_type, len(fragment) - AEAD_TAG_LENGTH)
        try:
            return self._aead.decrypt(self._nonce(seq), fragment, aad)
        except InvalidTag:
            raise _bad_record_mac() from None


class _CbcProtection(RecordProtection):
    # What both CBC layouts share: AES-CBC with a fresh explicit IV per
    # record (RFC 5246 §6.2.3.2), HMAC keyed with the direction's MAC key,
    # and TLS padding.
    __slots__ = ("_algorithm", "_mac_key", "_mac_length", "_random", "_shape")

    def __init__(
        self,
        mac: MacAlgorithm,
        keys: DirectionKeys,
        *,
        random_bytes: Callable[[int], bytes] = os.urandom,
        sequence_number: int = 0,
    ) -> None:
        super().__init__(sequence_number=sequence_number)
        try:
            self._shape = _HASH_SHAPES[mac]
        except KeyError:
            raise ValueError(f"CBC records need an HMAC, got {mac}") from None
        self._mac_length = self._shape.digest_size
        _check_length("mac_key", keys.mac_key, (self._mac_length,))
        _check_length("enc_key", keys.enc_key, _AES_KEY_LENGTHS)
        self._algorithm = algorithms.AES(keys.enc_key)
        self._mac_key = keys.mac_key
        self._random = random_bytes

    def _open(self, seq: int, content_type: int, fragment: bytes | memoryview) -> bytes:
        # The openers slice the fragment and keep the slices in locals: a
        # copy keeps those off the caller's buffer, and costs the same for
        # every record of one (public) length.
        return self._open_bytes(seq, content_type, bytes(fragment))

    @abc.abstractmethod
    def _open_bytes(self, seq: int, content_type: int, fragment: bytes) -> bytes:
        """Return the plaintext of ``fragment`` at ``seq`` or raise."""

    def _hmac(self) -> hmac.HMAC:
        return hmac.HMAC(self._mac_key, self._shape.algorithm())

    def _fresh_iv(self) -> bytes:
        # RFC 5246 §6.2.3.2: the IV SHOULD be chosen at random and MUST be
        # unpredictable; a short read from an injected source is a bug.
        iv = self._random(AES_BLOCK_LENGTH)
        if len(iv) != AES_BLOCK_LENGTH:
            raise ValueError(
                f"random source returned {len(iv)} bytes for a CBC IV, "
                f"expected {AES_BLOCK_LENGTH}"
            )
        return iv

    def _cbc_encrypt(self, iv: bytes, padded: bytes) -> bytes:
        encryptor = Cipher(self._algorithm, modes.CBC(iv)).encryptor()
        return encryptor.update(padded) + encryptor.finalize()

    def _cbc_decrypt(self, iv: bytes, ciphertext: bytes) -> bytes:
        decryptor = Cipher(self._algorithm, modes.CBC(iv)).decryptor()
        return decryptor.update(ciphertext) + decryptor.finalize()


def _padding(unpadded_length: int) -> bytes:
    # RFC 5246 §6.2.3.2: padding_length + 1 bytes, each holding the value
    # padding_length, bring the total to a multiple of the block size.  We
    # send the shortest such padding; longer padding only costs bandwidth.
    padding_length = -(unpadded_length + 1) % AES_BLOCK_LENGTH
    return bytes([padding_length]) * (padding_length + 1)


def _round_up(length: int, multiple: int) -> int:
    return -(-length // multiple) * multiple


def _padding_good(decrypted: memoryview, padding_length: int, mac_length: int) -> int:
    # Return 1 when the last padding_length + 1 bytes all equal
    # padding_length and still leave room for the MAC, else 0.  Every call
    # on a fragment of a given length reads the same bytes and runs the
    # same operations, whatever padding_length is.
    length = len(decrypted)
    bad = 0
    for distance in range(min(length, _MAX_PADDING_SPAN)):
        beyond = (_BIAS + distance - padding_length - 1) >> _BIAS_SHIFT
        in_padding = (beyond - 1) & _BYTE_MASK
        bad |= (decrypted[length - 1 - distance] ^ padding_length) & in_padding
    fits = (_BIAS + length - padding_length - 1 - mac_length) >> _BIAS_SHIFT
    bad |= fits ^ 1
    return 1 ^ ((_BIAS - 1 + bad) >> _BIAS_SHIFT)


class CbcMacThenEncrypt(_CbcProtection):
    """AES-CBC with HMAC, MAC-then-encrypt (RFC 5246 §6.2.3.2).

    The record is ``IV || AES-CBC(content || MAC || padding ||
    padding_length)`` where MAC = HMAC(seq_num || type || version || length
    || content) (RFC 5246 §6.2.3.1).  The receiver must decrypt before it
    can find the MAC, so a careless receiver leaks through timing whether
    the padding was valid (Vaudenay's padding oracle) or how long the MACed
    content was (Lucky Thirteen, AlFardan and Paterson 2013).  Opening a
    record therefore:

    1. checks the padding by reading the same 256 (or fewer, for short
       records) trailing bytes whatever ``padding_length`` says;
    2. on bad padding, MACs the record as if it had no padding, as the
       implementation note of RFC 5246 §6.2.3.2 asks;
    3. runs as many hash compression blocks as the longest content the
       fragment could hold, feeding the shortfall to a dummy hash, so MAC
       time does not depend on where the padding began;
    4. compares MACs in constant time, and raises one error for both
       failures.

    LIMITATION: this runs in Python, so it is not constant time: the
    interpreter's own timing, big-integer arithmetic and slicing copies
    still vary a little with the content length, and so with the padding
    length; that matters when an attacker can make a victim decrypt many
    chosen records over a low-noise path and time each failure (the
    Lucky Thirteen setting); instead we equalize the dominant costs, the
    HMAC compression work, the padding scan and the MAC comparison, and
    recommend negotiating an AEAD suite, or CBC with encrypt-then-MAC
    (RFC 7366), whenever the peer allows.

    Args:
        mac: The suite's HMAC algorithm.
        keys: The direction's MAC key and 16- or 32-byte AES key.
        random_bytes: Source of record IVs, ``os.urandom`` unless a test
            injects another.
        sequence_number: The first record's sequence number.

    Raises:
        ValueError: ``mac`` is not an HMAC, or a key has the wrong length.
    """

    __slots__ = ()

    def _seal(
        self, seq: int, content_type: int, plaintext: bytes | memoryview
    ) -> tuple[bytes, bytes]:
        mac = self._hmac()
        mac.update(_pseudo_header(seq, content_type, len(plaintext)))
        mac.update(plaintext)
        tag = mac.finalize()

        iv = self._fresh_iv()
        padding = _padding(len(plaintext) + len(tag))
        ciphertext = self._cbc_encrypt(iv, b"".join((plaintext, tag, padding)))
        return _record_head(content_type, iv, ciphertext), ciphertext

    def _open_bytes(self, seq: int, content_type: int, fragment: bytes) -> bytes:
        # GenericBlockCipher: the IV, then whole blocks holding at least the
        # MAC and padding_length.  Only public lengths are checked here.
        mac_length = self._mac_length
        body_length = len(fragment) - AES_BLOCK_LENGTH
        shortest = _round_up(mac_length + 1, AES_BLOCK_LENGTH)
        if body_length < shortest or body_length % AES_BLOCK_LENGTH:
            raise _bad_record_mac()
        iv = fragment[:AES_BLOCK_LENGTH]
        decrypted = memoryview(self._cbc_decrypt(iv, fragment[AES_BLOCK_LENGTH:]))

        # Padding check, its result kept as a 0/1 integer, not a branch.
        padding_length = decrypted[-1]
        padding_good = _padding_good(decrypted, padding_length, mac_length)
        longest_content = body_length - mac_length
        content_length = longest_content - (padding_length + 1) * padding_good

        # MAC over the content, plus dummy blocks up to the longest content.
        mac = self._hmac()
        mac.update(_pseudo_header(seq, content_type, content_length))
        mac.update(decrypted[:content_length])
        expected = mac.finalize()
        self._hash_dummy_blocks(content_length, longest_content)

        received = bytes(decrypted[content_length : content_length + mac_length])
        mac_good = int(constant_time.bytes_eq(expected, received))
        if not (padding_good & mac_good):
            raise _bad_record_mac()
        return bytes(decrypted[:content_length])

    def _hash_dummy_blocks(self, content_length: int, longest_content: int) -> None:
        # Run the compression blocks the HMAC's inner hash saved by MACing
        # content_length bytes instead of longest_content.
        shape = self._shape
        blocks = self._inner_blocks(longest_content)
        blocks -= self._inner_blocks(content_length)
        dummy = hashes.Hash(shape.algorithm())
        dummy.update(_FILLER[: blocks * shape.block_size])
        dummy.finalize()

    def _inner_blocks(self, content_length: int) -> int:
        # Compression calls of HMAC's inner hash: the key-xor-ipad block,
        # the 13-byte pseudo-header, the content, the 0x80 byte and the
        # length field, rounded up to whole blocks.
        shape = self._shape
        total = shape.block_size + _PSEUDO_HEADER.size + content_length
        total += 1 + shape.length_field
        return -(-total // shape.block_size)


class CbcEncryptThenMac(_CbcProtection):
    """AES-CBC with HMAC, encrypt-then-MAC (RFC 7366 §3).

    The record is ``IV || AES-CBC(content || padding || padding_length) ||
    MAC`` where MAC = HMAC(seq_num || type || version || length || IV ||
    ciphertext) and length counts IV and ciphertext.  The receiver checks
    the MAC, in constant time, before it decrypts anything, so padding is
    only ever examined in records the peer really sent.

    Args:
        mac: The suite's HMAC algorithm.
        keys: The direction's MAC key and 16- or 32-byte AES key.
        random_bytes: Source of record IVs, ``os.urandom`` unless a test
            injects another.
        sequence_number: The first record's sequence number.

    Raises:
        ValueError: ``mac`` is not an HMAC, or a key has the wrong length.
    """

    __slots__ = ()

    def _seal(
        self, seq: int, content_type: int, plaintext: bytes | memoryview
    ) -> tuple[bytes, bytes]:
        iv = self._fresh_iv()
        padded = b"".join((plaintext, _padding(len(plaintext))))
        ciphertext = self._cbc_encrypt(iv, padded)

        # RFC 7366 §3: the MAC covers the IV and the ciphertext.
        mac = self._hmac()
        mac.update(_pseudo_header(seq, content_type, len(iv) + len(ciphertext)))
        mac.update(iv)
        mac.update(ciphertext)
        tail = ciphertext + mac.finalize()
        return _record_head(content_type, iv, tail), tail

    def _open_bytes(self, seq: int, content_type: int, fragment: bytes) -> bytes:
        # RFC 7366 §3: the IV and at least one ciphertext block, then the
        # MAC.  Lengths are public, so checking them first leaks nothing.
        protected_length = len(fragment) - self._mac_length
        if (
            protected_length < 2 * AES_BLOCK_LENGTH
            or protected_length % AES_BLOCK_LENGTH
        ):
            raise _bad_record_mac()
        protected = fragment[:protected_length]

        # RFC 7366 §3: verify the MAC before decrypting.
        mac = self._hmac()
        mac.update(_pseudo_header(seq, content_type, protected_length))
        mac.update(protected)
        received = bytes(fragment[protected_length:])
        if not constant_time.bytes_eq(mac.finalize(), received):
            raise _bad_record_mac()

        # The ciphertext is authentic now; a bad padding can only come from
        # a broken peer, and timing no longer reveals anything to anyone.
        iv = protected[:AES_BLOCK_LENGTH]
        decrypted = self._cbc_decrypt(iv, protected[AES_BLOCK_LENGTH:])
        padding_length = decrypted[-1]
        content_length = len(decrypted) - padding_length - 1
        padding = bytes([padding_length]) * (padding_length + 1)
        if content_length < 0 or decrypted[content_length:] != padding:
            raise _bad_record_mac()
        return decrypted[:content_length]


def new_record_protection(
    suite: CipherSuite,
    keys: DirectionKeys,
    *,
    encrypt_then_mac: bool = False,
    random_bytes: Callable[[int], bytes] = os.urandom,
    sequence_number: int = 0,
) -> RecordProtection:
    """Build the record protection state for one direction.

    Args:
        suite: The negotiated cipher suite.
        keys: That direction's keys, from
            :func:`tlsspec.runtime.suites.split_key_block`: ``client`` for
            records the client sends, ``server`` for records it receives.
        encrypt_then_mac: Whether both sides negotiated the
            encrypt_then_mac extension (RFC 7366 §2); only for CBC suites.
        random_bytes: Source of CBC record IVs; ignored by AEAD suites.
        sequence_number: The first record's sequence number, 0 after each
            ChangeCipherSpec (RFC 5246 §6.1).

    Returns:
        A fresh state whose next record uses ``sequence_number``.

    Raises:
        ValueError: A key has the wrong length for ``suite``, or
            ``encrypt_then_mac`` is set for an AEAD suite (RFC 7366 §3
            defines it only for block ciphers).
    """
    _check_length("mac_key", keys.mac_key, (suite.mac_key_length,))
    _check_length("enc_key", keys.enc_key, (suite.enc_key_length,))
    _check_length("fixed_iv", keys.fixed_iv, (suite.fixed_iv_length,))

    if suite.bulk_cipher is BulkCipher.AES_CBC:
        family = CbcEncryptThenMac if encrypt_then_mac else CbcMacThenEncrypt
        return family(
            suite.mac,
            keys,
            random_bytes=random_bytes,
            sequence_number=sequence_number,
        )
    if encrypt_then_mac:
        raise ValueError(
            f"encrypt_then_mac: set for {suite.name}, expected it only with "
            "a CBC suite (RFC 7366 §3)"
        )
    if suite.bulk_cipher is BulkCipher.AES_GCM:
        return AesGcmProtection(keys, sequence_number=sequence_number)
    return ChaCha20Poly1305Protection(keys, sequence_number=sequence_number)
