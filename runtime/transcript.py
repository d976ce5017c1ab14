"""The running hash of a handshake's messages.

Three values hash the handshake so far: the session hash of the extended
master secret, taken after ClientKeyExchange (RFC 7627 §3), and the
handshake_messages of each Finished (RFC 5246 §7.4.9).  RFC 5246 §7.4.9
fixes what goes in: "all of the data from all messages in this handshake
(not including any HelloRequest messages) up to, but not including, this
message", as seen at the handshake layer.  So the transcript takes:

* whole handshake messages, 4-byte header (type and 24-bit length) plus
  body, exactly as sent, without record headers, however the record layer
  fragmented or coalesced them;
* in the order they were sent, both directions interleaved;
* never ChangeCipherSpec or alerts, which are other content types;
* never HelloRequest, which RFC 5246 §7.4.1.1 keeps out explicitly:
  :meth:`Transcript.add` drops it and says so.

The hash to use is only known once ServerHello picks the cipher suite (RFC
5246 §7.4.9: the PRF's hash), and by then ClientHello and ServerHello are
already in.  The transcript therefore buffers raw bytes until
:meth:`Transcript.set_hash`, then switches to a running hash.  Taking a
digest finalizes a copy, so it can be taken at ClientKeyExchange and again
at each Finished.
"""

from __future__ import annotations

import struct
from typing import Final

from cryptography.hazmat.primitives import hashes

from tlsspec.runtime.prf import LEGACY_PRF, PRF_HASHES, hash_algorithm

__all__ = [
    "HANDSHAKE_HEADER_LENGTH",
    "HELLO_REQUEST_TYPE",
    "Transcript",
]

# RFC 5246 §7.4: msg_type(1) + uint24 length.
HANDSHAKE_HEADER_LENGTH: Final = 4
# RFC 5246 §7.4: HandshakeType hello_request(0).
HELLO_REQUEST_TYPE: Final = 0
# The header read as one big-endian word: msg_type, then the uint24 length.
_HEADER: Final = struct.Struct(">I")
_LENGTH_BITS: Final = 24
_LENGTH_MASK: Final = (1 << _LENGTH_BITS) - 1

# RFC 2246 §7.4.9: TLS 1.0/1.1 hash the handshake with MD5 and SHA-1 and
# concatenate the two digests.
_LEGACY_ALGORITHMS: Final = (hashes.MD5, hashes.SHA1)


class Transcript:
    """Handshake messages so far, buffered, then hashed.

    Example::

        transcript = Transcript()
        transcript.add(client_hello)
        transcript.add(server_hello)
        transcript.set_hash("sha256")       # from the chosen cipher suite
        ...
        transcript.add(client_key_exchange)
        session_hash = transcript.digest()  # RFC 7627 §3
    """

    def __init__(self, *, keep_messages: bool = False) -> None:
        """Start an empty transcript.

        Args:
            keep_messages: Also keep the raw bytes after :meth:`set_hash`.
                A client that signs CertificateVerify needs them: RFC 5246
                §7.4.8 signs the raw handshake_messages with the signature
                algorithm's hash, which need not be the PRF's.
        """
        self._keep_messages = keep_messages
        self._buffer = bytearray()
        self._hash_name: str | None = None
        self._hashes: list[hashes.Hash] = []

    @property
    def hash_name(self) -> str | None:
        """The hash chosen by :meth:`set_hash`, or None while buffering."""
        return self._hash_name

    def add(self, message: bytes) -> bool:
        """Record one whole handshake message.

        Args:
            message: Header and body of one handshake message, as sent.

        Returns:
            True if recorded; False for a HelloRequest, which RFC 5246
            §7.4.1.1 says "MUST NOT be included in the message hashes".

        Raises:
            ValueError: ``message`` is not exactly one handshake message
                (shorter than the header, or its length field disagrees
                with its size).  Framing is the reassembler's job; this is
                a caller bug, not a peer's.
        """
        size = len(message)
        if size < HANDSHAKE_HEADER_LENGTH:
            raise ValueError(
                f"handshake message is {size} bytes, shorter than "
                f"its {HANDSHAKE_HEADER_LENGTH}-byte header"
            )
        (header,) = _HEADER.unpack_from(message)
        declared = header & _LENGTH_MASK
        actual = size - HANDSHAKE_HEADER_LENGTH
        if declared != actual:
            raise ValueError(
                f"handshake message of type {message[0]} declares a "
                f"{declared}-byte body but carries {actual} bytes"
            )
        if header >> _LENGTH_BITS == HELLO_REQUEST_TYPE:
            return False

        if self._keep_messages or not self._hashes:
            self._buffer += message
        for running in self._hashes:
            running.update(message)
        return True

    def set_hash(self, name: str) -> None:
        """Fix the hash once ServerHello has chosen the cipher suite.

        Everything buffered so far is hashed at once; later messages are
        hashed as they arrive.

        Args:
            name: A name from :data:`~tlsspec.runtime.prf.PRF_HASHES`, or
                :data:`~tlsspec.runtime.prf.LEGACY_PRF` for TLS 1.0/1.1.

        Raises:
            ValueError: ``name`` names no PRF hash.
            RuntimeError: The hash was already set.
        """
        if self._hash_name is not None:
            raise RuntimeError(
                f"transcript hash already set to {self._hash_name!r}; "
                "one handshake has one PRF hash"
            )
        if name == LEGACY_PRF:
            algorithms = [algorithm() for algorithm in _LEGACY_ALGORITHMS]
        elif name in PRF_HASHES:
            algorithms = [hash_algorithm(name)]
        else:
            raise ValueError(
                f"transcript hash {name!r} is not supported; expected one of "
                f"{', '.join((*PRF_HASHES, LEGACY_PRF))}"
            )

        self._hashes = [hashes.Hash(algorithm) for algorithm in algorithms]
        for running in self._hashes:
            running.update(bytes(self._buffer))
        self._hash_name = name
        if not self._keep_messages:
            self._buffer = bytearray()

    def digest(self) -> bytes:
        """Hash everything recorded so far, leaving the transcript open.

        Returns:
            The digest: the PRF hash's size, or 36 bytes (MD5 then SHA-1)
            for the TLS 1.0/1.1 hash.

        Raises:
            RuntimeError: :meth:`set_hash` was not called yet.
        """
        if not self._hashes:
            raise RuntimeError("transcript hash not set yet; call set_hash first")
        return b"".join(running.copy().finalize() for running in self._hashes)

    def messages(self) -> bytes:
        """Return the raw messages recorded so far.

        Returns:
            The concatenated messages.

        Raises:
            RuntimeError: The hash is set and the transcript was not created
                with ``keep_messages=True``, so the bytes are gone.
        """
        if self._hashes and not self._keep_messages:
            raise RuntimeError(
                "raw handshake messages were dropped at set_hash; create the "
                "Transcript with keep_messages=True to keep them"
            )
        return bytes(self._buffer)

    def copy(self) -> Transcript:
        """Snapshot the transcript; the copy and the original evolve apart.

        Returns:
            An independent :class:`Transcript` with the same content.
        """
        twin = Transcript(keep_messages=self._keep_messages)
        twin._buffer = bytearray(self._buffer)
        twin._hash_name = self._hash_name
        twin._hashes = [running.copy() for running in self._hashes]
        return twin
