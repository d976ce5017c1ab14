"""The TLS 1.2 cipher suites this engine implements, and their key blocks.

A cipher suite fixes everything the record layer needs once the handshake
has produced a master secret: which bulk cipher protects records, how long
its keys and IVs are, which MAC (if any) authenticates them, and which hash
the PRF runs on.  Each suite here is one frozen :class:`CipherSuite` row;
the rest of the runtime reads sizes from the row and never from literals.

Every suite uses ephemeral ECDH (RFC 8422), so the table only varies in the
certificate's key type and in record protection:

* AES-GCM, RFC 5289 §3.2 / RFC 5288 §3: a 4-byte implicit salt from the key
  block and an 8-byte explicit nonce carried in every record.
* ChaCha20-Poly1305, RFC 7905 §2: a 12-byte implicit IV from the key block
  and no explicit nonce.
* AES-CBC with HMAC, RFC 5246 §6.2.3.2 (RFC 8422 §6 and RFC 5289 §3.1 for
  the ECDHE suites): a fresh explicit IV per record and no implicit IV.

The PRF hash is SHA-256 unless the suite name ends in SHA384 (RFC 5246 §5,
RFC 5289 §3.1-3.2).  The ``_SHA`` CBC suites keep HMAC-SHA1 for records but
still run the TLS 1.2 PRF on SHA-256.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

__all__ = [
    "AES_128_KEY_LENGTH",
    "AES_256_KEY_LENGTH",
    "AES_BLOCK_LENGTH",
    "ALL_SUITES",
    "CBC_FIXED_IV_LENGTH",
    "CHACHA20_FIXED_IV_LENGTH",
    "CHACHA20_KEY_LENGTH",
    "CHACHA20_RECORD_IV_LENGTH",
    "GCM_FIXED_IV_LENGTH",
    "GCM_RECORD_IV_LENGTH",
    "PRF_SHA256",
    "PRF_SHA384",
    "SUITES_BY_CODE",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "VERIFY_DATA_LENGTH",
    "Authentication",
    "BulkCipher",
    "CipherSuite",
    "DirectionKeys",
    "KeyExchange",
    "KeyMaterial",
    "MacAlgorithm",
    "split_key_block",
]

# RFC 5246 §7.4.9: verify_data is 12 bytes unless a suite says otherwise,
# and none of the suites below does.
VERIFY_DATA_LENGTH: Final = 12

# RFC 5288 §3: the GCM nonce is a 4-byte salt from the key block followed by
# an 8-byte nonce_explicit sent with each record; the tag is 16 bytes.
GCM_FIXED_IV_LENGTH: Final = 4
GCM_RECORD_IV_LENGTH: Final = 8

# RFC 7905 §2: the ChaCha20-Poly1305 nonce is built from a 12-byte IV taken
# whole from the key block; nothing is sent on the wire.
CHACHA20_FIXED_IV_LENGTH: Final = 12
CHACHA20_RECORD_IV_LENGTH: Final = 0

# RFC 5246 §6.2.3.2: TLS 1.2 CBC records carry an explicit IV of one cipher
# block and derive no implicit IV (fixed_iv_length is 0 for block ciphers).
AES_BLOCK_LENGTH: Final = 16
CBC_FIXED_IV_LENGTH: Final = 0

AES_128_KEY_LENGTH: Final = 16
AES_256_KEY_LENGTH: Final = 32
CHACHA20_KEY_LENGTH: Final = 32

PRF_SHA256: Final = "sha256"
PRF_SHA384: Final = "sha384"


class KeyExchange(enum.Enum):
    """How the premaster secret is agreed."""

    ECDHE = "ECDHE"


class Authentication(enum.Enum):
    """The key type of the server certificate that signs the key exchange."""

    RSA = "RSA"
    ECDSA = "ECDSA"


class BulkCipher(enum.Enum):
    """The record protection family a suite belongs to."""

    AES_GCM = "AES-GCM"
    CHACHA20_POLY1305 = "ChaCha20-Poly1305"
    AES_CBC = "AES-CBC"


class MacAlgorithm(enum.Enum):
    """The record MAC; ``AEAD`` when the bulk cipher authenticates itself.

    The value is the hash name used by the HMAC, or ``None`` for AEAD.
    """

    AEAD = None
    HMAC_SHA1 = "sha1"
    HMAC_SHA256 = "sha256"
    HMAC_SHA384 = "sha384"


# RFC 5246 §6.2.3.1: mac_length and mac_key_length both equal the hash's
# output size for HMAC (Appendix C); AEAD suites have neither.
_MAC_LENGTHS: Final = MappingProxyType(
    {
        MacAlgorithm.AEAD: 0,
        MacAlgorithm.HMAC_SHA1: 20,
        MacAlgorithm.HMAC_SHA256: 32,
        MacAlgorithm.HMAC_SHA384: 48,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CipherSuite:
    """One row of the cipher suite table: every size the record layer needs.

    Attributes:
        code: The two-byte IANA value sent in ClientHello.cipher_suites.
        name: The IANA name, e.g. ``"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"``.
        key_exchange: How the premaster secret is agreed.
        authentication: The certificate key type.
        bulk_cipher: The record protection family.
        enc_key_length: Bytes of each write key.
        fixed_iv_length: Bytes of each implicit IV taken from the key block.
        record_iv_length: Bytes of explicit nonce or IV sent in each record.
        mac: The record MAC algorithm.
        mac_length: Bytes of MAC appended to each record (0 for AEAD).
        mac_key_length: Bytes of each MAC key (0 for AEAD).
        prf_hash: Hash the PRF runs on, ``"sha256"`` or ``"sha384"``.
        verify_data_length: Bytes of Finished.verify_data.
    """

    code: int
    name: str
    key_exchange: KeyExchange
    authentication: Authentication
    bulk_cipher: BulkCipher
    enc_key_length: int
    fixed_iv_length: int
    record_iv_length: int
    mac: MacAlgorithm
    mac_length: int
    mac_key_length: int
    prf_hash: str
    verify_data_length: int = VERIFY_DATA_LENGTH

    @property
    def is_aead(self) -> bool:
        """Whether records are protected by an AEAD cipher (no separate MAC)."""
        return self.mac is MacAlgorithm.AEAD

    @property
    def key_block_length(self) -> int:
        """Bytes of PRF output needed for both directions' keys.

        RFC 5246 §6.3: two MAC keys, two write keys and two implicit IVs.
        """
        per_direction = self.mac_key_length + self.enc_key_length
        per_direction += self.fixed_iv_length
        return 2 * per_direction


def _aead_suite(
    code: int,
    name: str,
    authentication: Authentication,
    bulk_cipher: BulkCipher,
    enc_key_length: int,
    prf_hash: str,
) -> CipherSuite:
    if bulk_cipher is BulkCipher.AES_GCM:
        fixed_iv, record_iv = GCM_FIXED_IV_LENGTH, GCM_RECORD_IV_LENGTH
    else:
        fixed_iv, record_iv = CHACHA20_FIXED_IV_LENGTH, CHACHA20_RECORD_IV_LENGTH
    return CipherSuite(
        code=code,
        name=name,
        key_exchange=KeyExchange.ECDHE,
        authentication=authentication,
        bulk_cipher=bulk_cipher,
        enc_key_length=enc_key_length,
        fixed_iv_length=fixed_iv,
        record_iv_length=record_iv,
        mac=MacAlgorithm.AEAD,
        mac_length=0,
        mac_key_length=0,
        prf_hash=prf_hash,
    )


def _cbc_suite(
    code: int,
    name: str,
    authentication: Authentication,
    enc_key_length: int,
    mac: MacAlgorithm,
    prf_hash: str,
) -> CipherSuite:
    return CipherSuite(
        code=code,
        name=name,
        key_exchange=KeyExchange.ECDHE,
        authentication=authentication,
        bulk_cipher=BulkCipher.AES_CBC,
        enc_key_length=enc_key_length,
        fixed_iv_length=CBC_FIXED_IV_LENGTH,
        record_iv_length=AES_BLOCK_LENGTH,
        mac=mac,
        mac_length=_MAC_LENGTHS[mac],
        mac_key_length=_MAC_LENGTHS[mac],
        prf_hash=prf_hash,
    )


_RSA = Authentication.RSA
_ECDSA = Authentication.ECDSA
_GCM = BulkCipher.AES_GCM
_CHACHA = BulkCipher.CHACHA20_POLY1305

# RFC 5289 §3.2; code points from its IANA Considerations (§4).
TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: Final = _aead_suite(
    0xC02B,
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    _ECDSA,
    _GCM,
    AES_128_KEY_LENGTH,
    PRF_SHA256,
)
TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: Final = _aead_suite(
    0xC02C,
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    _ECDSA,
    _GCM,
    AES_256_KEY_LENGTH,
    PRF_SHA384,
)
TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: Final = _aead_suite(
    0xC02F,
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    _RSA,
    _GCM,
    AES_128_KEY_LENGTH,
    PRF_SHA256,
)
TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: Final = _aead_suite(
    0xC030,
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    _RSA,
    _GCM,
    AES_256_KEY_LENGTH,
    PRF_SHA384,
)

# RFC 7905 §2.
TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: Final = _aead_suite(
    0xCCA8,
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    _RSA,
    _CHACHA,
    CHACHA20_KEY_LENGTH,
    PRF_SHA256,
)
TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: Final = _aead_suite(
    0xCCA9,
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    _ECDSA,
    _CHACHA,
    CHACHA20_KEY_LENGTH,
    PRF_SHA256,
)

# RFC 8422 §6 (originally RFC 4492 §6): HMAC-SHA1 records, TLS 1.2 PRF on
# SHA-256 as RFC 5246 §5 requires of every suite that names no other hash.
TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: Final = _cbc_suite(
    0xC009,
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    _ECDSA,
    AES_128_KEY_LENGTH,
    MacAlgorithm.HMAC_SHA1,
    PRF_SHA256,
)
TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: Final = _cbc_suite(
    0xC00A,
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    _ECDSA,
    AES_256_KEY_LENGTH,
    MacAlgorithm.HMAC_SHA1,
    PRF_SHA256,
)
TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: Final = _cbc_suite(
    0xC013,
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    _RSA,
    AES_128_KEY_LENGTH,
    MacAlgorithm.HMAC_SHA1,
    PRF_SHA256,
)
TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: Final = _cbc_suite(
    0xC014,
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    _RSA,
    AES_256_KEY_LENGTH,
    MacAlgorithm.HMAC_SHA1,
    PRF_SHA256,
)

# RFC 5289 §3.1: HMAC and PRF both use the hash the name ends in.
TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: Final = _cbc_suite(
    0xC023,
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    _ECDSA,
    AES_128_KEY_LENGTH,
    MacAlgorithm.HMAC_SHA256,
    PRF_SHA256,
)
TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384: Final = _cbc_suite(
    0xC024,
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    _ECDSA,
    AES_256_KEY_LENGTH,
    MacAlgorithm.HMAC_SHA384,
    PRF_SHA384,
)
TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: Final = _cbc_suite(
    0xC027,
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    _RSA,
    AES_128_KEY_LENGTH,
    MacAlgorithm.HMAC_SHA256,
    PRF_SHA256,
)
TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: Final = _cbc_suite(
    0xC028,
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    _RSA,
    AES_256_KEY_LENGTH,
    MacAlgorithm.HMAC_SHA384,
    PRF_SHA384,
)

#: Every implemented suite, AEAD first (the order a client should offer).
ALL_SUITES: Final[tuple[CipherSuite, ...]] = (
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
)

#: Lookup by the two-byte IANA value seen on the wire.
SUITES_BY_CODE: Final = MappingProxyType({s.code: s for s in ALL_SUITES})


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectionKeys:
    """The keys protecting one direction of traffic.

    Attributes:
        mac_key: HMAC key; empty for AEAD suites.
        enc_key: Bulk cipher key.
        fixed_iv: Implicit IV (GCM salt or ChaCha20 IV); empty for CBC.
    """

    mac_key: bytes = field(repr=False)
    enc_key: bytes = field(repr=False)
    fixed_iv: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyMaterial:
    """A key block cut into the client's and the server's write keys.

    Attributes:
        client: Keys for records the client writes and the server reads.
        server: Keys for records the server writes and the client reads.
    """

    client: DirectionKeys
    server: DirectionKeys


def split_key_block(suite: CipherSuite, key_block: bytes) -> KeyMaterial:
    """Cut the PRF's key block into both directions' keys.

    RFC 5246 §6.3 lays the key block out in this order::

        client_write_MAC_key[SecurityParameters.mac_key_length]
        server_write_MAC_key[SecurityParameters.mac_key_length]
        client_write_key[SecurityParameters.enc_key_length]
        server_write_key[SecurityParameters.enc_key_length]
        client_write_IV[SecurityParameters.fixed_iv_length]
        server_write_IV[SecurityParameters.fixed_iv_length]

    Args:
        suite: The negotiated cipher suite.
        key_block: PRF output, at least ``suite.key_block_length`` bytes.
            Extra trailing bytes are ignored, so a key block derived for a
            longer layout (OpenSSL derives CBC IVs TLS 1.2 never uses) cuts
            the same way.

    Returns:
        The client and server write keys.

    Raises:
        ValueError: ``key_block`` is shorter than the suite needs.
    """
    if len(key_block) < suite.key_block_length:
        raise ValueError(
            f"key block too short for {suite.name}: got {len(key_block)} "
            f"bytes, expected at least {suite.key_block_length}"
        )

    lengths = (
        suite.mac_key_length,
        suite.mac_key_length,
        suite.enc_key_length,
        suite.enc_key_length,
        suite.fixed_iv_length,
        suite.fixed_iv_length,
    )
    parts: list[bytes] = []
    offset = 0
    for length in lengths:
        parts.append(bytes(key_block[offset : offset + length]))
        offset += length

    client_mac, server_mac, client_key, server_key, client_iv, server_iv = parts
    return KeyMaterial(
        client=DirectionKeys(
            mac_key=client_mac, enc_key=client_key, fixed_iv=client_iv
        ),
        server=DirectionKeys(
            mac_key=server_mac, enc_key=server_key, fixed_iv=server_iv
        ),
    )
