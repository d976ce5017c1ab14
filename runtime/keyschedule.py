"""From premaster secret to record keys and Finished values (RFC 5246 §8).

One handshake derives, in order:

1. the master secret: the extended one of RFC 7627 §4 (PRF over the
   session hash, the transcript through ClientKeyExchange) when both sides
   negotiated extended_master_secret, else RFC 5246 §8.1's (PRF over the
   two randoms).  An abbreviated handshake takes it from the session;
2. the key block (RFC 5246 §6.3), from the master secret and both randoms
   (fresh ones in an abbreviated handshake), cut into both directions'
   keys and turned into :class:`~tlsspec.runtime.record.RecordProtection`
   objects;
3. each side's Finished.verify_data (RFC 5246 §7.4.9).

:class:`KeySchedule` holds the master secret of one handshake and nothing
else; the connection drops it once the handshake is over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tlsspec.runtime.finished import compute_verify_data
from tlsspec.runtime.prf import (
    Sender,
    extended_master_secret,
    key_block,
    master_secret,
)
from tlsspec.runtime.record import RecordProtection, new_record_protection
from tlsspec.runtime.suites import BulkCipher, CipherSuite, split_key_block
from tlsspec.runtime.transcript import Transcript

__all__ = ["KeySchedule", "Protections", "derive_master_secret"]


def derive_master_secret(
    premaster: bytes,
    *,
    suite: CipherSuite,
    extended: bool,
    transcript: Transcript,
    client_random: bytes,
    server_random: bytes,
) -> bytes:
    """Derive the master secret of a full handshake.

    Args:
        premaster: The ECDH shared secret.
        suite: The negotiated suite (its PRF hash).
        extended: Whether both sides negotiated extended_master_secret.
        transcript: The transcript, ClientKeyExchange included (RFC 7627 §3).
        client_random: ClientHello.random.
        server_random: ServerHello.random.

    Returns:
        The 48-byte master secret.
    """
    if extended:
        return extended_master_secret(
            premaster, session_hash=transcript.digest(), hash=suite.prf_hash
        )
    return master_secret(
        premaster,
        client_random=client_random,
        server_random=server_random,
        hash=suite.prf_hash,
    )


@dataclass(frozen=True, slots=True)
class Protections:
    """Both directions' record protection of one handshake.

    Attributes:
        client: Seals what the client writes; the server opens with it.
        server: Seals what the server writes; the client opens with it.
    """

    client: RecordProtection
    server: RecordProtection


@dataclass(frozen=True, slots=True, kw_only=True)
class KeySchedule:
    """The master secret of one handshake and what is derived from it.

    Attributes:
        suite: The negotiated suite.
        master_secret: The 48-byte master secret.
        client_random: ClientHello.random.
        server_random: ServerHello.random.
    """

    suite: CipherSuite
    master_secret: bytes = field(repr=False)
    client_random: bytes
    server_random: bytes

    def protections(
        self, *, encrypt_then_mac: bool, random: Callable[[int], bytes]
    ) -> Protections:
        """Derive the key block and build both directions' protection.

        Args:
            encrypt_then_mac: Whether RFC 7366 was negotiated; only
                meaningful for CBC suites.
            random: Source of CBC record IVs.

        Returns:
            The client's and the server's write protection.
        """
        suite = self.suite
        block = key_block(
            self.master_secret,
            client_random=self.client_random,
            server_random=self.server_random,
            length=suite.key_block_length,
            hash=suite.prf_hash,
        )
        keys = split_key_block(suite, block)
        etm = encrypt_then_mac and suite.bulk_cipher is BulkCipher.AES_CBC
        return Protections(
            client=new_record_protection(
                suite, keys.client, encrypt_then_mac=etm, random_bytes=random
            ),
            server=new_record_protection(
                suite, keys.server, encrypt_then_mac=etm, random_bytes=random
            ),
        )

    def verify_data(self, sender: Sender, transcript: Transcript) -> bytes:
        """The verify_data ``sender``'s Finished must carry now.

        Args:
            sender: Who sends the Finished.
            transcript: Every handshake message before that Finished.

        Returns:
            verify_data, ``suite.verify_data_length`` bytes.
        """
        return compute_verify_data(
            self.master_secret,
            sender=sender,
            transcript_hash=transcript.digest(),
            hash=self.suite.prf_hash,
            length=self.suite.verify_data_length,
        )
