"""Record protection: the suite table, the four families, and OpenSSL interop.

The local tests build records with :mod:`tlsspec.runtime.record` and, where
a test needs a malformed record a correct sender never makes, with
``cryptography`` directly.  The interop tests run Python's ``ssl`` client
and server (OpenSSL) against each other in memory with one cipher suite
forced, learn the master secret from the key log, and then check that our
record layer opens OpenSSL's records and OpenSSL opens ours, both ways.
"""

from __future__ import annotations

import functools
import ssl
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.openssl import (
    CONTENT_APPLICATION_DATA,
    CONTENT_CHANGE_CIPHER_SPEC,
    CONTENT_HANDSHAKE,
    MemoryBioEndpoint,
    PairResult,
    TlsIdentity,
    handshake_messages,
    run_openssl_pair,
    split_records,
    ssl_context,
)
from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime import record
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.prf import key_block
from tlsspec.runtime.record import (
    MAX_CIPHERTEXT_LENGTH,
    MAX_PLAINTEXT_LENGTH,
    SEQUENCE_NUMBER_LIMIT,
    AesGcmProtection,
    CbcEncryptThenMac,
    CbcMacThenEncrypt,
    ChaCha20Poly1305Protection,
    RecordProtection,
    new_record_protection,
)
from tlsspec.runtime.suites import (
    ALL_SUITES,
    SUITES_BY_CODE,
    Authentication,
    BulkCipher,
    CipherSuite,
    DirectionKeys,
    KeyExchange,
    KeyMaterial,
    MacAlgorithm,
    split_key_block,
)

APPLICATION_DATA = 23
ALERT = 21
TLS12 = 0x0303
RECORD_HEADER = struct.Struct("!BHH")
BLOCK = 16

# IANA TLS Cipher Suites registry, as assigned by RFC 5289 §3 (GCM, and CBC
# with SHA-2), RFC 8422 §6 (CBC with SHA-1) and RFC 7905 §2 (ChaCha20), and
# the names OpenSSL 3.0 gives them (``openssl ciphers -V``).
_REGISTRY = """
0xC02B TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256       ECDHE-ECDSA-AES128-GCM-SHA256
0xC02C TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384       ECDHE-ECDSA-AES256-GCM-SHA384
0xC02F TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256         ECDHE-RSA-AES128-GCM-SHA256
0xC030 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384         ECDHE-RSA-AES256-GCM-SHA384
0xCCA8 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256   ECDHE-RSA-CHACHA20-POLY1305
0xCCA9 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-ECDSA-CHACHA20-POLY1305
0xC009 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA          ECDHE-ECDSA-AES128-SHA
0xC00A TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA          ECDHE-ECDSA-AES256-SHA
0xC013 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA            ECDHE-RSA-AES128-SHA
0xC014 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA            ECDHE-RSA-AES256-SHA
0xC023 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256       ECDHE-ECDSA-AES128-SHA256
0xC024 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384       ECDHE-ECDSA-AES256-SHA384
0xC027 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256         ECDHE-RSA-AES128-SHA256
0xC028 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384         ECDHE-RSA-AES256-SHA384
"""
IANA: dict[str, tuple[int, str]] = {
    name: (int(code, 16), openssl)
    for code, name, openssl in (line.split() for line in _REGISTRY.split("\n") if line)
}
OPENSSL_NAMES = {code: name for code, name in IANA.values()}

# OpenSSL 3.0 include/openssl/ssl.h: SSL_OP_NO_ENCRYPT_THEN_MAC is bit 19.
# Python's ssl module does not export it.
SSL_OP_NO_ENCRYPT_THEN_MAC = 0x80000
# RFC 7366 §2: ExtensionType encrypt_then_mac(22).
EXT_ENCRYPT_THEN_MAC = 22
# RFC 5246 §7.4: HandshakeType server_hello(2), finished(20).
SERVER_HELLO = 2
FINISHED = 20
HANDSHAKE_HEADER = 4
# RFC 5246 §7.4.1.2-3: version(2) then random(32) in both hellos.
RANDOM_START = HANDSHAKE_HEADER + 2
RANDOM_END = RANDOM_START + 32
# RFC 5246 §7.4.9: Finished is a 4-byte header and 12 bytes of verify_data.
FINISHED_LENGTH = HANDSHAKE_HEADER + 12

AEAD_SUITES = [s for s in ALL_SUITES if s.is_aead]
CBC_SUITES = [s for s in ALL_SUITES if not s.is_aead]


def _short(suite: CipherSuite) -> str:
    return OPENSSL_NAMES[suite.code]


# Every way the engine can protect records: each suite, and each CBC suite
# a second time with encrypt-then-MAC.
VARIANTS = [pytest.param(suite, False, id=_short(suite)) for suite in ALL_SUITES] + [
    pytest.param(suite, True, id=f"{_short(suite)}+EtM") for suite in CBC_SUITES
]
CBC_MTE = [pytest.param(suite, id=_short(suite)) for suite in CBC_SUITES]


def _key_material(suite: CipherSuite) -> KeyMaterial:
    pattern = bytes((7 * i + 3) % 256 for i in range(suite.key_block_length))
    return split_key_block(suite, pattern)


def _pair(
    suite: CipherSuite, etm: bool, **kwargs: Any
) -> tuple[RecordProtection, RecordProtection]:
    keys = _key_material(suite).client
    writer = new_record_protection(suite, keys, encrypt_then_mac=etm, **kwargs)
    reader = new_record_protection(suite, keys, encrypt_then_mac=etm, **kwargs)
    return writer, reader


def _expect_alert(
    description: AlertDescription, action: Callable[[], object]
) -> LocalProtocolError:
    with pytest.raises(LocalProtocolError) as caught:
        action()
    assert caught.value.description == description
    return caught.value


def _hash_class(mac: MacAlgorithm) -> type[hashes.HashAlgorithm]:
    return {
        MacAlgorithm.HMAC_SHA1: hashes.SHA1,
        MacAlgorithm.HMAC_SHA256: hashes.SHA256,
        MacAlgorithm.HMAC_SHA384: hashes.SHA384,
    }[mac]


# ---------------------------------------------------------------------------
# The suite table
# ---------------------------------------------------------------------------


def test_suite_table_matches_iana_code_points() -> None:
    assert {s.name: s.code for s in ALL_SUITES} == {
        name: code for name, (code, _) in IANA.items()
    }
    assert {code: s.name for code, s in SUITES_BY_CODE.items()} == {
        code: name for name, (code, _) in IANA.items()
    }


@pytest.mark.parametrize("suite", ALL_SUITES, ids=_short)
def test_suite_parameters_follow_the_suite_name(suite: CipherSuite) -> None:
    # Everything below is read off the IANA name, independently of how the
    # table was built.
    name = suite.name
    assert suite.key_exchange is KeyExchange.ECDHE
    assert suite.authentication is (
        Authentication.ECDSA if "_ECDSA_" in name else Authentication.RSA
    )
    assert suite.prf_hash == ("sha384" if name.endswith("SHA384") else "sha256")
    assert suite.verify_data_length == 12
    if "_GCM_" in name:
        assert suite.bulk_cipher is BulkCipher.AES_GCM
        assert (suite.fixed_iv_length, suite.record_iv_length) == (4, 8)
    elif "CHACHA20" in name:
        assert suite.bulk_cipher is BulkCipher.CHACHA20_POLY1305
        assert (suite.fixed_iv_length, suite.record_iv_length) == (12, 0)
    else:
        assert suite.bulk_cipher is BulkCipher.AES_CBC
        assert (suite.fixed_iv_length, suite.record_iv_length) == (0, 16)
    assert suite.enc_key_length == (16 if "_128_" in name else 32)
    if suite.is_aead:
        assert (suite.mac, suite.mac_length, suite.mac_key_length) == (
            MacAlgorithm.AEAD,
            0,
            0,
        )
    else:
        digest = {"SHA": 20, "SHA256": 32, "SHA384": 48}[name.rsplit("_", 1)[1]]
        assert suite.mac_length == suite.mac_key_length == digest


@pytest.mark.parametrize(
    ("code", "length"),
    [
        (0xC02F, 2 * (16 + 4)),
        (0xC030, 2 * (32 + 4)),
        (0xCCA8, 2 * (32 + 12)),
        (0xC013, 2 * (20 + 16)),
        (0xC014, 2 * (20 + 32)),
        (0xC027, 2 * (32 + 16)),
        (0xC028, 2 * (48 + 32)),
    ],
)
def test_key_block_length_covers_both_directions(code: int, length: int) -> None:
    assert SUITES_BY_CODE[code].key_block_length == length


@pytest.mark.parametrize("suite", ALL_SUITES, ids=_short)
def test_split_key_block_follows_rfc5246_order(suite: CipherSuite) -> None:
    block = bytes(i % 256 for i in range(suite.key_block_length))
    mac, key, iv = suite.mac_key_length, suite.enc_key_length, suite.fixed_iv_length

    keys = split_key_block(suite, block + b"unused tail")

    expected = []
    offset = 0
    for length in (mac, mac, key, key, iv, iv):
        expected.append(block[offset : offset + length])
        offset += length
    assert [
        keys.client.mac_key,
        keys.server.mac_key,
        keys.client.enc_key,
        keys.server.enc_key,
        keys.client.fixed_iv,
        keys.server.fixed_iv,
    ] == expected


def test_split_key_block_rejects_short_block() -> None:
    suite = SUITES_BY_CODE[0xC02F]
    with pytest.raises(ValueError, match="key block too short"):
        split_key_block(suite, bytes(suite.key_block_length - 1))


def test_key_material_repr_shows_no_key_bytes() -> None:
    keys = DirectionKeys(mac_key=b"\xaa" * 20, enc_key=b"\xbb" * 16, fixed_iv=b"")
    assert "aa" not in repr(keys) and "bb" not in repr(keys)


# ---------------------------------------------------------------------------
# The factory
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "etm", "family"),
    [
        (0xC02F, False, AesGcmProtection),
        (0xC02C, False, AesGcmProtection),
        (0xCCA8, False, ChaCha20Poly1305Protection),
        (0xC013, False, CbcMacThenEncrypt),
        (0xC028, True, CbcEncryptThenMac),
    ],
)
def test_factory_picks_the_suite_family(
    code: int, etm: bool, family: type[RecordProtection]
) -> None:
    suite = SUITES_BY_CODE[code]
    state = new_record_protection(
        suite, _key_material(suite).server, encrypt_then_mac=etm
    )
    assert type(state) is family
    assert state.sequence_number == 0


@pytest.mark.parametrize("suite", AEAD_SUITES, ids=_short)
def test_factory_refuses_encrypt_then_mac_for_aead(suite: CipherSuite) -> None:
    with pytest.raises(ValueError, match="RFC 7366"):
        new_record_protection(suite, _key_material(suite).client, encrypt_then_mac=True)


def test_factory_rejects_keys_of_another_suite() -> None:
    gcm128, gcm256 = SUITES_BY_CODE[0xC02F], SUITES_BY_CODE[0xC030]
    with pytest.raises(ValueError, match="enc_key: 32 bytes, expected 16"):
        new_record_protection(gcm128, _key_material(gcm256).client)


def test_factory_rejects_sequence_number_outside_uint64() -> None:
    suite = SUITES_BY_CODE[0xC02F]
    with pytest.raises(ValueError, match="uint64"):
        new_record_protection(
            suite, _key_material(suite).client, sequence_number=SEQUENCE_NUMBER_LIMIT
        )


# ---------------------------------------------------------------------------
# Behaviour shared by every family
# ---------------------------------------------------------------------------

LENGTHS = [0, 1, 15, 16, 17, 31, 32, 47, 48, 255, 256, 1000, MAX_PLAINTEXT_LENGTH]


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_round_trips_every_length(suite: CipherSuite, etm: bool) -> None:
    writer, reader = _pair(suite, etm)
    for length in LENGTHS:
        plaintext = bytes((length + i) % 251 for i in range(length))
        fragment = writer.encrypt(APPLICATION_DATA, plaintext)
        assert fragment != plaintext or length == 0
        assert len(fragment) <= MAX_CIPHERTEXT_LENGTH
        assert reader.decrypt(APPLICATION_DATA, fragment) == plaintext
    assert writer.sequence_number == reader.sequence_number == len(LENGTHS)


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_seal_is_the_encrypted_fragment_framed_in_two_pieces(
    suite: CipherSuite, etm: bool
) -> None:
    sealer, encrypter = _pair(suite, etm, random_bytes=lambda n: b"\x5a" * n)
    for length in LENGTHS:
        plaintext = bytes(length)
        head, tail = sealer.seal(APPLICATION_DATA, plaintext)
        fragment = encrypter.encrypt(APPLICATION_DATA, plaintext)

        header = RECORD_HEADER.pack(APPLICATION_DATA, TLS12, len(fragment))
        assert head + tail == header + fragment
        # The bulk ciphertext is the tail, never copied next to the header.
        assert len(tail) >= length
    assert sealer.sequence_number == len(LENGTHS)


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
@pytest.mark.parametrize("tamper", [False, True], ids=["good", "tampered"])
def test_decrypt_reads_a_view_in_place_and_does_not_keep_it(
    suite: CipherSuite, etm: bool, tamper: bool
) -> None:
    writer, reader = _pair(suite, etm)
    data = bytearray(writer.encrypt(APPLICATION_DATA, b"in place" * 100))
    if tamper:
        data[-1] ^= 0x01

    view = memoryview(data)
    try:
        if tamper:
            _expect_alert(
                AlertDescription.bad_record_mac,
                lambda: reader.decrypt(APPLICATION_DATA, view),
            )
        else:
            assert reader.decrypt(APPLICATION_DATA, view) == b"in place" * 100
    finally:
        view.release()
    # BufferError here would mean a view of ``data`` outlived the call (for
    # a failure: inside the traceback the sticky error keeps).
    data.clear()


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_sequence_number_advances_once_per_record(
    suite: CipherSuite, etm: bool
) -> None:
    writer, reader = _pair(suite, etm, sequence_number=41)
    fragments = [writer.encrypt(ALERT + i % 3, b"m%d" % i) for i in range(5)]
    assert writer.sequence_number == 46

    for i, fragment in enumerate(fragments):
        assert reader.sequence_number == 41 + i
        assert reader.decrypt(ALERT + i % 3, fragment) == b"m%d" % i
    assert reader.sequence_number == 46


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
@pytest.mark.parametrize(
    ("attack", "order"),
    [("replay", [0, 1, 1]), ("reorder", [1]), ("drop", [0, 2])],
)
def test_rejects_records_out_of_sequence(
    suite: CipherSuite, etm: bool, attack: str, order: list[int]
) -> None:
    writer, reader = _pair(suite, etm)
    fragments = [writer.encrypt(APPLICATION_DATA, b"record %d" % i) for i in range(3)]

    *accepted, refused = order
    for index in accepted:
        reader.decrypt(APPLICATION_DATA, fragments[index])
    _expect_alert(
        AlertDescription.bad_record_mac,
        lambda: reader.decrypt(APPLICATION_DATA, fragments[refused]),
    )


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_rejects_every_single_bit_flip(suite: CipherSuite, etm: bool) -> None:
    keys = _key_material(suite).client
    writer = new_record_protection(suite, keys, encrypt_then_mac=etm)
    fragment = writer.encrypt(APPLICATION_DATA, b"attack at dawn, bring snacks!!!!!")

    for bit in range(len(fragment) * 8):
        tampered = bytearray(fragment)
        tampered[bit // 8] ^= 0x80 >> (bit % 8)
        reader = new_record_protection(suite, keys, encrypt_then_mac=etm)
        _expect_alert(
            AlertDescription.bad_record_mac,
            functools.partial(reader.decrypt, APPLICATION_DATA, bytes(tampered)),
        )


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_rejects_a_different_content_type(suite: CipherSuite, etm: bool) -> None:
    writer, reader = _pair(suite, etm)
    fragment = writer.encrypt(APPLICATION_DATA, b"typed")
    _expect_alert(
        AlertDescription.bad_record_mac,
        lambda: reader.decrypt(CONTENT_HANDSHAKE, fragment),
    )


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_rejects_every_truncation(suite: CipherSuite, etm: bool) -> None:
    keys = _key_material(suite).client
    writer = new_record_protection(suite, keys, encrypt_then_mac=etm)
    fragment = writer.encrypt(APPLICATION_DATA, b"x" * 40)

    for length in range(len(fragment)):
        reader = new_record_protection(suite, keys, encrypt_then_mac=etm)
        _expect_alert(
            AlertDescription.bad_record_mac,
            functools.partial(reader.decrypt, APPLICATION_DATA, fragment[:length]),
        )


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
@settings(max_examples=60, deadline=None)
@given(garbage=st.binary(max_size=400))
def test_random_fragments_never_open(
    suite: CipherSuite, etm: bool, garbage: bytes
) -> None:
    _, reader = _pair(suite, etm)
    _expect_alert(
        AlertDescription.bad_record_mac,
        lambda: reader.decrypt(APPLICATION_DATA, garbage),
    )


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_failure_is_sticky(suite: CipherSuite, etm: bool) -> None:
    writer, reader = _pair(suite, etm)
    good = writer.encrypt(APPLICATION_DATA, b"fine")
    first = _expect_alert(
        AlertDescription.bad_record_mac,
        lambda: reader.decrypt(APPLICATION_DATA, good[:-1] + bytes([good[-1] ^ 1])),
    )

    # The valid record at the same sequence number no longer opens.
    again = _expect_alert(
        AlertDescription.bad_record_mac,
        lambda: reader.decrypt(APPLICATION_DATA, good),
    )
    assert again is first
    assert reader.sequence_number == 0


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_rejects_oversized_ciphertext_with_record_overflow(
    suite: CipherSuite, etm: bool
) -> None:
    _, reader = _pair(suite, etm)
    _expect_alert(
        AlertDescription.record_overflow,
        lambda: reader.decrypt(APPLICATION_DATA, bytes(MAX_CIPHERTEXT_LENGTH + 1)),
    )


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_rejects_oversized_plaintext_with_record_overflow(
    suite: CipherSuite, etm: bool
) -> None:
    # A broken peer: seal one byte more than TLSPlaintext may hold, which
    # the public encrypt refuses to do.
    writer, reader = _pair(suite, etm)
    oversized = bytes(MAX_PLAINTEXT_LENGTH + 1)
    head, tail = writer._seal(0, APPLICATION_DATA, oversized)
    fragment = head[5:] + tail
    assert len(fragment) <= MAX_CIPHERTEXT_LENGTH

    _expect_alert(
        AlertDescription.record_overflow,
        lambda: reader.decrypt(APPLICATION_DATA, fragment),
    )


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_refuses_to_encrypt_more_than_a_record_holds(
    suite: CipherSuite, etm: bool
) -> None:
    writer, _ = _pair(suite, etm)
    with pytest.raises(ValueError, match=r"TLSPlaintext\.fragment"):
        writer.encrypt(APPLICATION_DATA, bytes(MAX_PLAINTEXT_LENGTH + 1))
    assert writer.sequence_number == 0


@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_sequence_number_never_wraps(suite: CipherSuite, etm: bool) -> None:
    last = SEQUENCE_NUMBER_LIMIT - 1
    writer, reader = _pair(suite, etm, sequence_number=last)

    fragment = writer.encrypt(APPLICATION_DATA, b"last one")
    assert reader.decrypt(APPLICATION_DATA, fragment) == b"last one"

    _expect_alert(
        AlertDescription.internal_error,
        lambda: writer.encrypt(APPLICATION_DATA, b"one too many"),
    )
    _expect_alert(
        AlertDescription.unexpected_message,
        lambda: reader.decrypt(APPLICATION_DATA, fragment),
    )


# ---------------------------------------------------------------------------
# Nonces and IVs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", [0xC02B, 0xC030])
def test_gcm_sends_sequence_number_as_explicit_nonce(code: int) -> None:
    suite = SUITES_BY_CODE[code]
    writer, _ = _pair(suite, False, sequence_number=0x0102030405060708)
    fragment = writer.encrypt(APPLICATION_DATA, b"nonce")
    assert fragment[:8] == bytes.fromhex("0102030405060708")
    assert len(fragment) == 8 + len(b"nonce") + 16


@pytest.mark.parametrize("code", [0xCCA8, 0xCCA9])
def test_chacha20_nonce_is_iv_xor_padded_sequence_number(code: int) -> None:
    suite = SUITES_BY_CODE[code]
    keys = _key_material(suite).client
    seq = 0x1122334455667788
    writer = new_record_protection(suite, keys, sequence_number=seq)
    fragment = writer.encrypt(APPLICATION_DATA, b"poly")

    # RFC 7905 §2 spelled out by hand.
    padded = bytes(4) + seq.to_bytes(8, "big")
    nonce = bytes(a ^ b for a, b in zip(keys.fixed_iv, padded, strict=True))
    aad = struct.pack("!QBHH", seq, APPLICATION_DATA, TLS12, len(b"poly"))
    assert ChaCha20Poly1305(keys.enc_key).decrypt(nonce, fragment, aad) == b"poly"


@pytest.mark.parametrize(
    ("suite", "etm"), [v for v in VARIANTS if v.values[0] in CBC_SUITES]
)
def test_cbc_takes_each_iv_from_the_random_source(
    suite: CipherSuite, etm: bool
) -> None:
    ivs = iter([b"A" * BLOCK, b"B" * BLOCK])
    writer, reader = _pair(suite, etm, random_bytes=lambda n: next(ivs))
    first = writer.encrypt(APPLICATION_DATA, b"one")
    second = writer.encrypt(APPLICATION_DATA, b"one")
    assert (first[:BLOCK], second[:BLOCK]) == (b"A" * BLOCK, b"B" * BLOCK)
    assert reader.decrypt(APPLICATION_DATA, first) == b"one"
    assert reader.decrypt(APPLICATION_DATA, second) == b"one"


def test_cbc_rejects_a_short_random_source() -> None:
    suite = SUITES_BY_CODE[0xC013]
    writer, _ = _pair(suite, False, random_bytes=lambda n: bytes(n - 1))
    with pytest.raises(ValueError, match="CBC IV"):
        writer.encrypt(APPLICATION_DATA, b"x")


# ---------------------------------------------------------------------------
# CBC MAC-then-encrypt: padding oracle and Lucky Thirteen defences
# ---------------------------------------------------------------------------


def _cbc_fragment(keys: DirectionKeys, plaintext: bytes) -> bytes:
    iv = bytes(range(BLOCK))
    encryptor = Cipher(algorithms.AES(keys.enc_key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(plaintext) + encryptor.finalize()


def _mte_fragment(
    suite: CipherSuite,
    keys: DirectionKeys,
    content: bytes,
    padding: bytes,
    *,
    mac_seq: int = 0,
    mac_content: bytes | None = None,
) -> bytes:
    # RFC 5246 §6.2.3.1-2 built by hand, so the padding and the MAC input
    # can be anything a test wants.
    mac_content = content if mac_content is None else mac_content
    header = struct.pack("!QBHH", mac_seq, APPLICATION_DATA, TLS12, len(content))
    mac = hmac.HMAC(keys.mac_key, _hash_class(suite.mac)())
    mac.update(header)
    mac.update(mac_content)
    plaintext = content + mac.finalize() + padding
    assert len(plaintext) % BLOCK == 0
    return _cbc_fragment(keys, plaintext)


def _good_padding(length: int) -> bytes:
    return bytes([length]) * (length + 1)


# Same fragment length for every case below: 21 blocks after the IV, room
# for the longest padding and the longest MAC.
BODY = 21 * BLOCK


def _content_for(suite: CipherSuite, padding: bytes) -> bytes:
    return b"c" * (BODY - suite.mac_length - len(padding))


@pytest.mark.parametrize("suite", CBC_MTE)
@pytest.mark.parametrize("padding_length", [0, 1, 15, 100, 255])
def test_mac_then_encrypt_accepts_any_valid_padding_length(
    suite: CipherSuite, padding_length: int
) -> None:
    keys = _key_material(suite).client
    padding = _good_padding(padding_length)
    content = _content_for(suite, padding)
    fragment = _mte_fragment(suite, keys, content, padding)

    reader = new_record_protection(suite, keys)
    assert reader.decrypt(APPLICATION_DATA, fragment) == content


def _bad_records(suite: CipherSuite, keys: DirectionKeys) -> dict[str, bytes]:
    # Records of BODY bytes that a correct sender never makes.
    good = _good_padding(20)
    wrong_byte = good[:5] + b"\x13" + good[6:]
    overclaimed = bytes([7]) * 7 + bytes([200])
    content = _content_for(suite, good)
    return {
        "padding byte differs": _mte_fragment(
            suite, keys, _content_for(suite, wrong_byte), wrong_byte
        ),
        "padding_length claims 200 bytes": _mte_fragment(
            suite, keys, _content_for(suite, overclaimed), overclaimed
        ),
        "MAC under another sequence number": _mte_fragment(
            suite, keys, content, good, mac_seq=1
        ),
        "MAC of other content": _mte_fragment(
            suite, keys, content, good, mac_content=b"d" * len(content)
        ),
    }


@pytest.mark.parametrize("suite", CBC_MTE)
def test_mac_then_encrypt_bad_padding_and_bad_mac_are_one_error(
    suite: CipherSuite,
) -> None:
    keys = _key_material(suite).client
    errors = {}
    for case, fragment in _bad_records(suite, keys).items():
        reader = new_record_protection(suite, keys)
        errors[case] = _expect_alert(
            AlertDescription.bad_record_mac,
            functools.partial(reader.decrypt, APPLICATION_DATA, fragment),
        )

    assert len({(type(e), e.description, str(e)) for e in errors.values()}) == 1


def _block_size(algorithm: hashes.HashAlgorithm) -> int:
    assert algorithm.block_size is not None
    return algorithm.block_size


@dataclass
class _HashLog:
    # Bytes fed to each HMAC and plain hash, to count compression blocks.
    entries: list[tuple[str, int, int]]

    def compression_blocks(self) -> int:
        total = 0
        for kind, block_size, fed in self.entries:
            length_field = 16 if block_size == 128 else 8
            if kind == "hmac":
                # Inner hash: ipad block + message; outer: opad block +
                # inner digest.  Digest size is at most one block here.
                total += -(-(block_size + fed + 1 + length_field) // block_size)
                total += 2
            else:
                total += -(-(fed + 1 + length_field) // block_size)
        return total


@pytest.fixture
def hash_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[_HashLog]:
    log = _HashLog(entries=[])

    class CountingHmac:
        def __init__(self, key: bytes, algorithm: hashes.HashAlgorithm) -> None:
            self._real = hmac.HMAC(key, algorithm)
            self._block = _block_size(algorithm)
            self._fed = 0

        def update(self, data: bytes) -> None:
            self._fed += len(data)
            self._real.update(data)

        def finalize(self) -> bytes:
            log.entries.append(("hmac", self._block, self._fed))
            return self._real.finalize()

    class CountingHash:
        def __init__(self, algorithm: hashes.HashAlgorithm) -> None:
            self._real = hashes.Hash(algorithm)
            self._block = _block_size(algorithm)
            self._fed = 0

        def update(self, data: bytes) -> None:
            self._fed += len(data)
            self._real.update(data)

        def finalize(self) -> bytes:
            log.entries.append(("hash", self._block, self._fed))
            return self._real.finalize()

    monkeypatch.setattr(record, "hmac", SimpleNamespace(HMAC=CountingHmac))
    monkeypatch.setattr(record, "hashes", SimpleNamespace(Hash=CountingHash))
    yield log


@pytest.mark.parametrize("suite", CBC_MTE)
def test_mac_then_encrypt_hashes_the_same_blocks_whatever_the_padding(
    suite: CipherSuite, hash_log: _HashLog
) -> None:
    keys = _key_material(suite).client
    cases = {
        f"valid padding {n}": _mte_fragment(
            suite, keys, _content_for(suite, _good_padding(n)), _good_padding(n)
        )
        for n in (0, 1, 47, 48, 63, 64, 100, 191, 192, 255)
    }
    cases.update(_bad_records(suite, keys))
    assert len({len(f) for f in cases.values()}) == 1

    work = {}
    for case, fragment in cases.items():
        hash_log.entries.clear()
        reader = new_record_protection(suite, keys)
        try:
            reader.decrypt(APPLICATION_DATA, fragment)
        except LocalProtocolError:
            pass
        work[case] = hash_log.compression_blocks()

    assert len(set(work.values())) == 1, work


@pytest.mark.parametrize("suite", CBC_MTE)
@pytest.mark.parametrize("overlap", ["into the MAC", "whole record"])
def test_mac_then_encrypt_rejects_padding_that_leaves_no_room_for_the_mac(
    suite: CipherSuite, overlap: str, hash_log: _HashLog
) -> None:
    # The shortest body the MAC fits in, plus one block; its padding bytes
    # are all valid, but too many of them for a MAC to precede.
    body = -(-(suite.mac_length + 1) // BLOCK) * BLOCK + BLOCK
    padding_length = body - suite.mac_length if overlap == "into the MAC" else body - 1
    keys = _key_material(suite).client
    fragment = _cbc_fragment(keys, bytes([padding_length]) * body)

    _expect_alert(
        AlertDescription.bad_record_mac,
        lambda: new_record_protection(suite, keys).decrypt(APPLICATION_DATA, fragment),
    )
    refused_work = hash_log.compression_blocks()

    # As much hashing as a valid record of the same length.
    hash_log.entries.clear()
    content = b"v" * (body - suite.mac_length - 1)
    valid = _mte_fragment(suite, keys, content, _good_padding(0))
    assert (
        new_record_protection(suite, keys).decrypt(APPLICATION_DATA, valid) == content
    )
    assert hash_log.compression_blocks() == refused_work


@pytest.mark.parametrize("suite", CBC_MTE)
def test_mac_then_encrypt_does_not_open_encrypt_then_mac_records(
    suite: CipherSuite,
) -> None:
    keys = _key_material(suite).client
    etm_writer = new_record_protection(suite, keys, encrypt_then_mac=True)
    mte_writer = new_record_protection(suite, keys)
    etm_reader = new_record_protection(suite, keys, encrypt_then_mac=True)
    mte_reader = new_record_protection(suite, keys)

    _expect_alert(
        AlertDescription.bad_record_mac,
        lambda: mte_reader.decrypt(
            APPLICATION_DATA, etm_writer.encrypt(APPLICATION_DATA, b"z" * 64)
        ),
    )
    _expect_alert(
        AlertDescription.bad_record_mac,
        lambda: etm_reader.decrypt(
            APPLICATION_DATA, mte_writer.encrypt(APPLICATION_DATA, b"z" * 64)
        ),
    )


# ---------------------------------------------------------------------------
# CBC encrypt-then-MAC
# ---------------------------------------------------------------------------


def _etm_fragment(
    suite: CipherSuite, keys: DirectionKeys, padded: bytes, *, seq: int = 0
) -> bytes:
    # RFC 7366 §3 built by hand, with whatever padding the test asks for.
    iv = bytes(range(BLOCK))
    encryptor = Cipher(algorithms.AES(keys.enc_key), modes.CBC(iv)).encryptor()
    protected = iv + encryptor.update(padded) + encryptor.finalize()
    mac = hmac.HMAC(keys.mac_key, _hash_class(suite.mac)())
    mac.update(struct.pack("!QBHH", seq, APPLICATION_DATA, TLS12, len(protected)))
    mac.update(protected)
    return protected + mac.finalize()


@pytest.mark.parametrize("suite", CBC_MTE)
def test_encrypt_then_mac_matches_rfc7366_layout(suite: CipherSuite) -> None:
    keys = _key_material(suite).client
    content = b"encrypt, then MAC"
    padded = content + _good_padding(BLOCK - len(content) % BLOCK - 1)
    expected = _etm_fragment(suite, keys, padded, seq=3)

    writer = new_record_protection(
        suite,
        keys,
        encrypt_then_mac=True,
        sequence_number=3,
        random_bytes=lambda n: bytes(range(n)),
    )
    assert writer.encrypt(APPLICATION_DATA, content) == expected


@pytest.mark.parametrize("suite", CBC_MTE)
def test_encrypt_then_mac_checks_mac_before_decrypting(
    suite: CipherSuite, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, reader = _pair(suite, True)
    fragment = bytearray(writer.encrypt(APPLICATION_DATA, b"authentic?"))
    fragment[-1] ^= 1

    def must_not_decrypt(*args: object) -> bytes:
        raise AssertionError("decrypted a record whose MAC failed")

    monkeypatch.setattr(CbcEncryptThenMac, "_cbc_decrypt", must_not_decrypt)
    _expect_alert(
        AlertDescription.bad_record_mac,
        lambda: reader.decrypt(APPLICATION_DATA, bytes(fragment)),
    )


@pytest.mark.parametrize("suite", CBC_MTE)
@pytest.mark.parametrize(
    "padded",
    [
        b"y" * 14 + b"\x03\x01",  # padding bytes disagree
        b"y" * 15 + b"\x10",  # padding longer than the plaintext
    ],
    ids=["mismatch", "too-long"],
)
def test_encrypt_then_mac_rejects_bad_padding_under_a_good_mac(
    suite: CipherSuite, padded: bytes
) -> None:
    keys = _key_material(suite).client
    fragment = _etm_fragment(suite, keys, padded)
    reader = new_record_protection(suite, keys, encrypt_then_mac=True)
    _expect_alert(
        AlertDescription.bad_record_mac,
        lambda: reader.decrypt(APPLICATION_DATA, fragment),
    )


# ---------------------------------------------------------------------------
# Interoperability with OpenSSL
# ---------------------------------------------------------------------------


def _record(content_type: int, fragment: bytes) -> bytes:
    return RECORD_HEADER.pack(content_type, TLS12, len(fragment)) + fragment


def _extension_types(server_hello: bytes) -> list[int]:
    # RFC 5246 §7.4.1.3: version, random, session_id<0..32>, cipher_suite,
    # compression_method, then extensions<0..2^16-1>.
    position = RANDOM_END
    position += 1 + server_hello[position]
    position += 2 + 1
    types: list[int] = []
    if position == len(server_hello):
        return types
    end = position + 2 + int.from_bytes(server_hello[position : position + 2], "big")
    position += 2
    while position < end:
        ext_type, ext_length = struct.unpack_from("!HH", server_hello, position)
        types.append(ext_type)
        position += 4 + ext_length
    return types


def _cipher_suite(server_hello: bytes) -> int:
    position = RANDOM_END + 1 + server_hello[RANDOM_END]
    return int.from_bytes(server_hello[position : position + 2], "big")


def _after_change_cipher_spec(stream: bytes) -> list[tuple[int, bytes]]:
    records = [(t, f) for t, _, f in split_records(stream)]
    types = [t for t, _ in records]
    return records[types.index(CONTENT_CHANGE_CIPHER_SPEC) + 1 :]


@dataclass
class _Session:
    # A finished OpenSSL handshake and the keys we derived for it.
    suite: CipherSuite
    etm: bool
    pair: PairResult
    keys: KeyMaterial

    def reader(self, side: str) -> RecordProtection:
        keys = self.keys.client if side == "client" else self.keys.server
        return new_record_protection(self.suite, keys, encrypt_then_mac=self.etm)

    def writer(self, side: str, sequence_number: int) -> RecordProtection:
        keys = self.keys.client if side == "client" else self.keys.server
        return new_record_protection(
            self.suite,
            keys,
            encrypt_then_mac=self.etm,
            sequence_number=sequence_number,
        )

    def endpoints(self, side: str) -> tuple[MemoryBioEndpoint, MemoryBioEndpoint]:
        # (the side that sends, the side that receives)
        client, server = self.pair.client_endpoint, self.pair.server_endpoint
        return (client, server) if side == "client" else (server, client)

    def stream(self, side: str) -> bytes:
        return self.pair.client_stream if side == "client" else self.pair.server_stream


def _handshake(
    suite: CipherSuite,
    etm: bool,
    identity: TlsIdentity,
    keylog: Path,
) -> _Session:
    name = OPENSSL_NAMES[suite.code]
    options = 0 if etm else SSL_OP_NO_ENCRYPT_THEN_MAC
    client_ctx = ssl_context("client", ciphers=name, keylog=keylog, options=options)
    server_ctx = ssl_context("server", identity, ciphers=name, options=options)
    pair = run_openssl_pair(client_ctx, server_ctx)
    assert pair.client.version() == "TLSv1.2"
    cipher = pair.client.cipher()
    assert cipher is not None and cipher[0] == name

    # Our table's code point is the one OpenSSL put on the wire, and
    # encrypt-then-MAC is on exactly when we asked for it.
    client_hello = handshake_messages(pair.client_stream)[0]
    server_hello = handshake_messages(pair.server_stream)[0]
    assert server_hello[0] == SERVER_HELLO
    assert _cipher_suite(server_hello) == suite.code
    assert (EXT_ENCRYPT_THEN_MAC in _extension_types(server_hello)) is etm

    (master,) = [line.secret for line in pair.keylog if line.label == "CLIENT_RANDOM"]
    block = key_block(
        master,
        client_random=client_hello[RANDOM_START:RANDOM_END],
        server_random=server_hello[RANDOM_START:RANDOM_END],
        length=suite.key_block_length,
        hash=suite.prf_hash,
    )
    return _Session(suite, etm, pair, split_key_block(suite, block))


@pytest.fixture
def session_for(
    rsa_identity: TlsIdentity, ecdsa_identity: TlsIdentity, tmp_path: Path
) -> Callable[[CipherSuite, bool], _Session]:
    def start(suite: CipherSuite, etm: bool) -> _Session:
        identity = (
            ecdsa_identity
            if suite.authentication is Authentication.ECDSA
            else rsa_identity
        )
        return _handshake(suite, etm, identity, tmp_path / "keylog.txt")

    return start


# A short message, two full records and a remainder, and a single byte.
MESSAGES = [
    b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    bytes(i % 256 for i in range(2 * MAX_PLAINTEXT_LENGTH + 123)),
    b"!",
]


def _fragments(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), MAX_PLAINTEXT_LENGTH):
        yield data[start : start + MAX_PLAINTEXT_LENGTH]


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_opens_openssl_records(
    session_for: Callable[[CipherSuite, bool], _Session],
    suite: CipherSuite,
    etm: bool,
    side: str,
) -> None:
    session = session_for(suite, etm)
    sender, receiver = session.endpoints(side)
    reader = session.reader(side)

    # Record 0 after ChangeCipherSpec is the sender's Finished.
    ((finished_type, finished_record),) = _after_change_cipher_spec(
        session.stream(side)
    )
    assert finished_type == CONTENT_HANDSHAKE
    finished = reader.decrypt(CONTENT_HANDSHAKE, finished_record)
    assert finished[0] == FINISHED and len(finished) == FINISHED_LENGTH

    # Application data from seq 1 on; OpenSSL's peer reads the same bytes.
    for message in MESSAGES:
        sender.write(message)
        wire = sender.take()
        records = split_records(wire)
        assert len(records) == len(list(_fragments(message)))
        opened = b""
        for content_type, version, fragment in records:
            assert (content_type, version) == (CONTENT_APPLICATION_DATA, TLS12)
            opened += reader.decrypt(content_type, fragment)
        assert opened == message

        receiver.feed(wire)
        assert receiver.read() == message
    assert reader.sequence_number == 1 + sum(len(list(_fragments(m))) for m in MESSAGES)


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_openssl_opens_our_records(
    session_for: Callable[[CipherSuite, bool], _Session],
    suite: CipherSuite,
    etm: bool,
    side: str,
) -> None:
    session = session_for(suite, etm)
    _, receiver = session.endpoints(side)

    # The peer has seen only the Finished (seq 0) in this direction.
    writer = session.writer(side, sequence_number=1)
    for message in MESSAGES:
        wire = b"".join(
            _record(APPLICATION_DATA, writer.encrypt(APPLICATION_DATA, part))
            for part in _fragments(message)
        )
        receiver.feed(wire)
        assert receiver.read() == message


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize(("suite", "etm"), VARIANTS)
def test_openssl_rejects_our_record_with_a_flipped_bit(
    session_for: Callable[[CipherSuite, bool], _Session],
    suite: CipherSuite,
    etm: bool,
    side: str,
) -> None:
    session = session_for(suite, etm)
    _, receiver = session.endpoints(side)
    writer = session.writer(side, sequence_number=1)
    fragment = bytearray(writer.encrypt(APPLICATION_DATA, b"tamper with me"))
    fragment[len(fragment) // 2] ^= 0x01

    receiver.feed(_record(APPLICATION_DATA, bytes(fragment)))
    with pytest.raises(ssl.SSLError, match=r"(?i)bad record mac"):
        receiver.read()

    # OpenSSL answers with a fatal bad_record_mac alert, protected as its
    # record 1 in the other direction; our reader opens it.
    other = "server" if side == "client" else "client"
    alert_reader = session.reader(other)
    ((_, finished_record),) = _after_change_cipher_spec(session.stream(other))
    alert_reader.decrypt(CONTENT_HANDSHAKE, finished_record)
    ((alert_type, _, alert_fragment),) = split_records(receiver.take())
    assert alert_type == ALERT
    assert alert_reader.decrypt(ALERT, alert_fragment) == bytes(
        (2, AlertDescription.bad_record_mac)
    )
