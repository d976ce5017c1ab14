"""Our key schedule and transcript rules against real OpenSSL handshakes.

An OpenSSL client and server (Python's ``ssl``, in memory) complete a
handshake; OpenSSL's NSS key log tells us the master secret.  From the raw
records alone we then rebuild what tlsspec would compute:

* ClientHello.random, read from the first record, is the key log's
  CLIENT_RANDOM;
* the transcript (RFC 5246 §7.4.9) of the plaintext handshake messages, with
  the PRF hash fixed after ServerHello;
* the key block from the master secret and both randoms, which must decrypt
  both Finished messages, and each Finished must carry the verify_data we
  compute: the client's over ClientHello..ClientKeyExchange, the server's
  over those plus the client's Finished and the NewSessionTicket OpenSSL
  sends in the clear before its ChangeCipherSpec;
* with RSA key exchange we own the server key, so we decrypt the
  pre-master secret from ClientKeyExchange and derive the master secret
  ourselves: the extended one (RFC 7627, session hash taken right after
  ClientKeyExchange) when extension 23 was negotiated, the classic one when
  it was switched off.

The TLS 1.0 runs pin the MD5/SHA-1 PRF and transcript hash the same way.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.runtime._openssl import (
    CHANGE_CIPHER_SPEC,
    HANDSHAKE,
    HANDSHAKE_HEADER_LENGTH,
    RECORD_HEADER_LENGTH,
    Handshake,
    KeyType,
    Record,
    Side,
    run_handshake,
)
from tlsspec.runtime.finished import compute_verify_data, verify_finished
from tlsspec.runtime.prf import (
    LEGACY_PRF,
    extended_master_secret,
    key_block,
    master_secret,
    verify_data,
)
from tlsspec.runtime.transcript import Transcript

# RFC 5246 §7.4: HandshakeType values.
CLIENT_HELLO: Final = 1
SERVER_HELLO: Final = 2
NEW_SESSION_TICKET: Final = 4
CERTIFICATE: Final = 11
SERVER_KEY_EXCHANGE: Final = 12
SERVER_HELLO_DONE: Final = 14
CLIENT_KEY_EXCHANGE: Final = 16
FINISHED: Final = 20

# RFC 7627 §5.1 and RFC 7366 §2: extension types.
EXTENDED_MASTER_SECRET_EXTENSION: Final = 23
ENCRYPT_THEN_MAC_EXTENSION: Final = 22

PROTOCOL_VERSION_LENGTH: Final = 2
RANDOM_LENGTH: Final = 32
# RFC 5246 §6.2.3.3 (AEAD) and §6.2.3.1 (MAC): the first record after
# ChangeCipherSpec has sequence number 0.
FIRST_SEQUENCE_NUMBER: Final = bytes(8)
# RFC 5288 §3: 8-byte explicit nonce, 16-byte tag.
GCM_EXPLICIT_NONCE_LENGTH: Final = 8
GCM_TAG_LENGTH: Final = 16
# RFC 5288 §3: 4-byte implicit salt; RFC 2246 §6.3: a block cipher's IV
# is one block.
GCM_FIXED_IV_LENGTH: Final = 4
AES_BLOCK_LENGTH: Final = 16
HMAC_SHA1_LENGTH: Final = 20
# RFC 5246 §7.4.9.
VERIFY_DATA_LENGTH: Final = 12
FINISHED_HEADER: Final = bytes((FINISHED, 0, 0, VERIFY_DATA_LENGTH))


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    name: str
    key_type: KeyType
    cipher: str
    version: ssl.TLSVersion
    prf_hash: str
    ems: bool
    protection: Literal["gcm", "cbc-etm"]
    key_length: int
    security_level: int | None = None

    @property
    def mac_length(self) -> int:
        return HMAC_SHA1_LENGTH if self.protection == "cbc-etm" else 0

    @property
    def iv_length(self) -> int:
        return GCM_FIXED_IV_LENGTH if self.protection == "gcm" else AES_BLOCK_LENGTH

    @property
    def record_version(self) -> int:
        return 0x0303 if self.version is ssl.TLSVersion.TLSv1_2 else 0x0301


TLS12 = ssl.TLSVersion.TLSv1_2
TLS10 = ssl.TLSVersion.TLSv1
ECDHE = Scenario(
    name="tls12-ecdhe-ecdsa-aes128gcm-sha256",
    key_type="ecdsa",
    cipher="ECDHE-ECDSA-AES128-GCM-SHA256",
    version=TLS12,
    prf_hash="sha256",
    ems=True,
    protection="gcm",
    key_length=16,
)
RSA_SCENARIOS = [
    Scenario(
        name="tls12-rsa-aes128gcm-sha256",
        key_type="rsa",
        cipher="AES128-GCM-SHA256",
        version=TLS12,
        prf_hash="sha256",
        ems=True,
        protection="gcm",
        key_length=16,
    ),
    Scenario(
        name="tls12-rsa-aes256gcm-sha384",
        key_type="rsa",
        cipher="AES256-GCM-SHA384",
        version=TLS12,
        prf_hash="sha384",
        ems=True,
        protection="gcm",
        key_length=32,
    ),
    Scenario(
        name="tls12-rsa-aes128gcm-sha256-no-ems",
        key_type="rsa",
        cipher="AES128-GCM-SHA256",
        version=TLS12,
        prf_hash="sha256",
        ems=False,
        protection="gcm",
        key_length=16,
    ),
    Scenario(
        name="tls10-rsa-aes128cbc-sha",
        key_type="rsa",
        cipher="AES128-SHA",
        version=TLS10,
        prf_hash=LEGACY_PRF,
        ems=True,
        protection="cbc-etm",
        key_length=16,
        security_level=0,
    ),
    Scenario(
        name="tls10-rsa-aes128cbc-sha-no-ems",
        key_type="rsa",
        cipher="AES128-SHA",
        version=TLS10,
        prf_hash=LEGACY_PRF,
        ems=False,
        protection="cbc-etm",
        key_length=16,
        security_level=0,
    ),
]
ALL_SCENARIOS = [ECDHE, *RSA_SCENARIOS]


@pytest.fixture(scope="module")
def handshakes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[Scenario], Handshake]:
    done: dict[str, Handshake] = {}

    def get(scenario: Scenario) -> Handshake:
        if scenario.name not in done:
            workdir: Path = tmp_path_factory.mktemp(scenario.name)
            try:
                done[scenario.name] = run_handshake(
                    workdir,
                    key_type=scenario.key_type,
                    cipher=scenario.cipher,
                    version=scenario.version,
                    extended_master_secret=scenario.ems,
                    security_level=scenario.security_level,
                )
            except ssl.SSLError as error:
                if scenario.version is TLS12:
                    raise
                pytest.skip(f"this OpenSSL build refuses {scenario.name}: {error}")
        return done[scenario.name]

    return get


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """The handshake as seen on the wire, split the way tlsspec needs it."""

    #: Plaintext handshake messages in send order, with their sender.
    messages: list[tuple[Side, bytes]]
    #: Each side's first handshake record after its ChangeCipherSpec.
    protected: dict[Side, Record]

    def first(self, msg_type: int) -> bytes:
        return next(message for _, message in self.messages if message[0] == msg_type)


def _walk(records: list[Record]) -> Flow:
    messages: list[tuple[Side, bytes]] = []
    protected: dict[Side, Record] = {}
    pending: dict[Side, bytes] = {"client": b"", "server": b""}
    encrypting: set[Side] = set()

    for record in records:
        if record.content_type == CHANGE_CIPHER_SPEC:
            encrypting.add(record.sender)
            continue
        if record.content_type != HANDSHAKE:
            continue
        if record.sender in encrypting:
            protected.setdefault(record.sender, record)
            continue

        # Reassemble: a record may hold part of a message or several.
        stream = pending[record.sender] + record.fragment
        while len(stream) >= HANDSHAKE_HEADER_LENGTH:
            length = int.from_bytes(stream[1:HANDSHAKE_HEADER_LENGTH], "big")
            end = HANDSHAKE_HEADER_LENGTH + length
            if len(stream) < end:
                break
            messages.append((record.sender, stream[:end]))
            stream = stream[end:]
        pending[record.sender] = stream

    assert pending == {"client": b"", "server": b""}
    return Flow(messages=messages, protected=protected)


def _random(hello: bytes) -> bytes:
    # RFC 5246 §7.4.1.2/3: the body opens with version(2) then random(32).
    start = HANDSHAKE_HEADER_LENGTH + PROTOCOL_VERSION_LENGTH
    return hello[start : start + RANDOM_LENGTH]


def _extension_types(hello: bytes) -> list[int]:
    body = hello[HANDSHAKE_HEADER_LENGTH:]
    offset = PROTOCOL_VERSION_LENGTH + RANDOM_LENGTH
    offset += 1 + body[offset]  # session_id<0..32>
    if hello[0] == CLIENT_HELLO:
        offset += 2 + int.from_bytes(body[offset : offset + 2], "big")
        offset += 1 + body[offset]  # compression_methods<1..2^8-1>
    else:
        offset += 2 + 1  # cipher_suite, compression_method
    if offset == len(body):
        return []
    end = offset + 2 + int.from_bytes(body[offset : offset + 2], "big")
    offset += 2
    types = []
    while offset < end:
        types.append(int.from_bytes(body[offset : offset + 2], "big"))
        offset += 4 + int.from_bytes(body[offset + 2 : offset + 4], "big")
    return types


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectionKeys:
    mac_key: bytes
    key: bytes
    iv: bytes


def _split_key_block(
    block: bytes, scenario: Scenario
) -> tuple[DirectionKeys, DirectionKeys]:
    # RFC 5246 §6.3: client MAC key, server MAC key, client key, server key,
    # client IV, server IV.
    sizes = [scenario.mac_length] * 2 + [scenario.key_length] * 2
    sizes += [scenario.iv_length] * 2
    parts = []
    offset = 0
    for size in sizes:
        parts.append(block[offset : offset + size])
        offset += size
    assert offset == len(block)
    client = DirectionKeys(mac_key=parts[0], key=parts[2], iv=parts[4])
    server = DirectionKeys(mac_key=parts[1], key=parts[3], iv=parts[5])
    return client, server


def _open_gcm(keys: DirectionKeys, record: Record) -> bytes:
    # RFC 5288 §3: nonce = salt(4) || nonce_explicit(8); RFC 5246 §6.2.3.3:
    # additional_data = seq_num + type + version + plaintext length.
    explicit = record.fragment[:GCM_EXPLICIT_NONCE_LENGTH]
    sealed = record.fragment[GCM_EXPLICIT_NONCE_LENGTH:]
    plaintext_length = len(sealed) - GCM_TAG_LENGTH
    additional_data = (
        FIRST_SEQUENCE_NUMBER
        + bytes((record.content_type,))
        + record.version.to_bytes(2, "big")
        + plaintext_length.to_bytes(2, "big")
    )
    return AESGCM(keys.key).decrypt(keys.iv + explicit, sealed, additional_data)


def _open_cbc_encrypt_then_mac(keys: DirectionKeys, record: Record) -> bytes:
    # RFC 7366 §3: the MAC follows the ciphertext and covers seq_num, the
    # header fields and the ciphertext; TLS 1.0 sends no explicit IV, the
    # first record uses the key block's IV (RFC 2246 §6.2.3.2).
    ciphertext = record.fragment[:-HMAC_SHA1_LENGTH]
    tag = record.fragment[-HMAC_SHA1_LENGTH:]
    mac = hmac.HMAC(keys.mac_key, hashes.SHA1())
    mac.update(
        FIRST_SEQUENCE_NUMBER
        + bytes((record.content_type,))
        + record.version.to_bytes(2, "big")
        + len(ciphertext).to_bytes(2, "big")
        + ciphertext
    )
    mac.verify(tag)

    decryptor = Cipher(algorithms.AES(keys.key), modes.CBC(keys.iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    # RFC 2246 §6.2.3.2: padding_length is the last byte, and every padding
    # byte carries that same value.
    padding_length = padded[-1]
    assert padded[-padding_length - 1 :] == bytes((padding_length,)) * (
        padding_length + 1
    )
    return padded[: -padding_length - 1]


def _open(scenario: Scenario, keys: DirectionKeys, record: Record) -> bytes:
    if scenario.protection == "gcm":
        return _open_gcm(keys, record)
    return _open_cbc_encrypt_then_mac(keys, record)


@pytest.mark.parametrize("scenario", ALL_SCENARIOS, ids=lambda s: s.name)
def test_client_random_in_the_keylog_is_the_one_in_client_hello(
    scenario: Scenario, handshakes: Callable[[Scenario], Handshake]
) -> None:
    handshake = handshakes(scenario)
    first = handshake.records[0]
    raw = (
        bytes((first.content_type,))
        + first.version.to_bytes(2, "big")
        + len(first.fragment).to_bytes(2, "big")
        + first.fragment
    )

    # Record header, handshake header, client_version: random at offset 11.
    offset = RECORD_HEADER_LENGTH + HANDSHAKE_HEADER_LENGTH + PROTOCOL_VERSION_LENGTH
    client_random = raw[offset : offset + RANDOM_LENGTH]

    assert first.fragment[0] == CLIENT_HELLO
    assert set(handshake.keylog) == {client_random}


@pytest.mark.parametrize("scenario", ALL_SCENARIOS, ids=lambda s: s.name)
def test_both_hellos_carry_extended_master_secret_exactly_when_enabled(
    scenario: Scenario, handshakes: Callable[[Scenario], Handshake]
) -> None:
    flow = _walk(handshakes(scenario).records)

    for hello in (flow.first(CLIENT_HELLO), flow.first(SERVER_HELLO)):
        offered = EXTENDED_MASTER_SECRET_EXTENSION in _extension_types(hello)
        assert offered is scenario.ems


@pytest.mark.parametrize("scenario", ALL_SCENARIOS, ids=lambda s: s.name)
def test_finished_messages_from_openssl_match_our_key_schedule(
    scenario: Scenario, handshakes: Callable[[Scenario], Handshake]
) -> None:
    handshake = handshakes(scenario)
    flow = _walk(handshake.records)
    client_random = _random(flow.first(CLIENT_HELLO))
    server_random = _random(flow.first(SERVER_HELLO))
    secret = handshake.keylog[client_random]
    expected_flow = [
        ("client", CLIENT_HELLO),
        ("server", SERVER_HELLO),
        ("server", CERTIFICATE),
        *([("server", SERVER_KEY_EXCHANGE)] if scenario.key_type == "ecdsa" else []),
        ("server", SERVER_HELLO_DONE),
        ("client", CLIENT_KEY_EXCHANGE),
        ("server", NEW_SESSION_TICKET),
    ]
    assert [(side, message[0]) for side, message in flow.messages] == expected_flow
    if scenario.protection == "cbc-etm":
        extensions = _extension_types(flow.first(SERVER_HELLO))
        assert ENCRYPT_THEN_MAC_EXTENSION in extensions

    # Keys for the suite, from the master secret and both randoms.
    key_material_length = 2 * (
        scenario.mac_length + scenario.key_length + scenario.iv_length
    )
    client_keys, server_keys = _split_key_block(
        key_block(
            secret,
            client_random=client_random,
            server_random=server_random,
            length=key_material_length,
            hash=scenario.prf_hash,
        ),
        scenario,
    )

    # ClientHello .. ClientKeyExchange, hash fixed once ServerHello is in.
    transcript = Transcript()
    for _, message in flow.messages[:-1]:
        transcript.add(message)
        if message[0] == SERVER_HELLO:
            transcript.set_hash(scenario.prf_hash)

    # The client's Finished covers everything up to ClientKeyExchange.
    client_finished = _open(scenario, client_keys, flow.protected["client"])
    assert client_finished[:HANDSHAKE_HEADER_LENGTH] == FINISHED_HEADER
    expected_client = verify_data(
        secret,
        sender="client",
        handshake_hash=transcript.digest(),
        hash=scenario.prf_hash,
    )
    assert client_finished[HANDSHAKE_HEADER_LENGTH:] == expected_client
    verify_finished(expected_client, client_finished[HANDSHAKE_HEADER_LENGTH:])

    # The server's also covers the client's Finished and NewSessionTicket.
    transcript.add(client_finished)
    transcript.add(flow.first(NEW_SESSION_TICKET))
    server_finished = _open(scenario, server_keys, flow.protected["server"])
    assert server_finished[:HANDSHAKE_HEADER_LENGTH] == FINISHED_HEADER
    expected_server = compute_verify_data(
        secret,
        sender="server",
        transcript_hash=transcript.digest(),
        hash=scenario.prf_hash,
    )
    assert server_finished[HANDSHAKE_HEADER_LENGTH:] == expected_server


@pytest.mark.parametrize("scenario", RSA_SCENARIOS, ids=lambda s: s.name)
def test_master_secret_from_openssl_matches_our_derivation(
    scenario: Scenario, handshakes: Callable[[Scenario], Handshake]
) -> None:
    handshake = handshakes(scenario)
    flow = _walk(handshake.records)
    client_hello = flow.first(CLIENT_HELLO)
    client_key_exchange = flow.first(CLIENT_KEY_EXCHANGE)

    # RFC 5246 §7.4.7.1: EncryptedPreMasterSecret is opaque<0..2^16-1>.
    body = client_key_exchange[HANDSHAKE_HEADER_LENGTH:]
    encrypted_length = int.from_bytes(body[:2], "big")
    assert len(body) == 2 + encrypted_length
    assert isinstance(handshake.server_key, rsa.RSAPrivateKey)
    pre_master_secret = handshake.server_key.decrypt(body[2:], padding.PKCS1v15())
    client_version = client_hello[
        HANDSHAKE_HEADER_LENGTH : HANDSHAKE_HEADER_LENGTH + PROTOCOL_VERSION_LENGTH
    ]
    assert pre_master_secret[:PROTOCOL_VERSION_LENGTH] == client_version
    assert len(pre_master_secret) == 48

    # RFC 7627 §3: the session hash ends with ClientKeyExchange.
    transcript = Transcript()
    for _, message in flow.messages:
        transcript.add(message)
        if message[0] == SERVER_HELLO:
            transcript.set_hash(scenario.prf_hash)
        if message[0] == CLIENT_KEY_EXCHANGE:
            break
    session_hash = transcript.digest()
    extended = extended_master_secret(
        pre_master_secret, session_hash=session_hash, hash=scenario.prf_hash
    )
    classic = master_secret(
        pre_master_secret,
        client_random=_random(client_hello),
        server_random=_random(flow.first(SERVER_HELLO)),
        hash=scenario.prf_hash,
    )

    openssl_secret = handshake.keylog[_random(client_hello)]
    assert openssl_secret == (extended if scenario.ems else classic)
    assert extended != classic
