"""Session tickets: sealing, opening, tampering, rotation, session state.

Every refusal must come back as ``None`` with one DEBUG line naming the
reason (RFC 5077 §3.2: the server falls back to a full handshake), and no
log line may carry key bytes or the master secret.  The oracle for the
ticket layout is computed here with ``cryptography`` directly, never with
the code under test.
"""

from __future__ import annotations

import logging
import random
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tlsspec import DecodeError
from tlsspec.generated.handshake import CipherSuite
from tlsspec.generated.record import ProtocolVersion
from tlsspec.generated.ticket import MasterSecretKind, StatePlaintext, ticket
from tlsspec.runtime.tickets import (
    CLOCK_SKEW_ALLOWANCE,
    DEFAULT_RETIRE_AFTER,
    IV_LENGTH,
    KEY_NAME_LENGTH,
    MAC_LENGTH,
    MAX_STATE_LENGTH,
    SessionState,
    TicketKey,
    TicketKeyRing,
    Unsealed,
    open_session,
    seal_session,
)

LOGGER = "tlsspec.runtime.tickets"
START = 1_700_000_000.0
LIFETIME = 7200
MASTER_SECRET = bytes(range(0x40, 0x70))
STATE = SessionState(
    version=ProtocolVersion.tls1_2,
    cipher_suite=CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    master_secret=MASTER_SECRET,
    extended_master_secret=True,
    creation_time=int(START),
    lifetime=LIFETIME,
    server_name="www.example.com",
    alpn_protocol=b"h2",
)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def seeded_random(seed: int) -> Callable[[int], bytes]:
    source = random.Random(seed)
    return source.randbytes


@dataclass
class Fleet:
    """A ring with its clock, plus an unrelated ring."""

    ring: TicketKeyRing
    clock: FakeClock
    stranger: TicketKeyRing


@pytest.fixture
def fleet() -> Fleet:
    clock = FakeClock()
    ring = TicketKeyRing.generate(clock=clock, random=seeded_random(1))
    stranger = TicketKeyRing.generate(clock=clock, random=seeded_random(2))
    return Fleet(ring=ring, clock=clock, stranger=stranger)


def flip_bit(data: bytes, bit: int) -> bytes:
    changed = bytearray(data)
    changed[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(changed)


def independent_mac(key: TicketKey, authenticated: bytes) -> bytes:
    mac = hmac.HMAC(key.hmac_key, hashes.SHA256())
    mac.update(authenticated)
    return mac.finalize()


def forge(key: TicketKey, plaintext: bytes, *, pad: bool = True) -> bytes:
    """Seal ``plaintext`` under ``key`` by hand, with a valid MAC.

    With ``pad=False`` the plaintext is encrypted as is, so it must be whole
    blocks, and its last byte decides what the unpadder sees.
    """
    if pad:
        padder = padding.PKCS7(128).padder()
        plaintext = padder.update(plaintext) + padder.finalize()
    iv = bytes(range(IV_LENGTH))
    encryptor = Cipher(algorithms.AES(key.aes_key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(plaintext) + encryptor.finalize()
    body = key.name + iv + struct.pack(">H", len(encrypted)) + encrypted
    return body + independent_mac(key, body)


def secrets_of(*rings: TicketKeyRing) -> list[str]:
    hexes = [MASTER_SECRET.hex()]
    for ring in rings:
        for key in ring.keys:
            hexes += [key.aes_key.hex(), key.hmac_key.hex()]
    return hexes


# Round trip and layout.


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 83, 1000, MAX_STATE_LENGTH])
def test_unseal_returns_exactly_the_sealed_state(fleet: Fleet, size: int) -> None:
    state = bytes(i % 251 for i in range(size))

    unsealed = fleet.ring.unseal(fleet.ring.seal(state))

    assert unsealed == Unsealed(state=state, renew=False)


def test_seal_refuses_a_state_too_long_for_new_session_ticket(fleet: Fleet) -> None:
    with pytest.raises(ValueError, match=str(MAX_STATE_LENGTH)):
        fleet.ring.seal(bytes(MAX_STATE_LENGTH + 1))


def test_longest_state_gives_a_ticket_that_fits_new_session_ticket(
    fleet: Fleet,
) -> None:
    sealed = fleet.ring.seal(bytes(MAX_STATE_LENGTH))

    assert len(sealed) <= 2**16 - 1
    assert len(sealed) + 16 > 2**16 - 1  # one more block would not fit


def test_ticket_parses_with_generated_codec_and_mac_matches_hmac(
    fleet: Fleet,
) -> None:
    state = STATE.to_bytes()
    key = fleet.ring.current

    sealed = fleet.ring.seal(state)
    fields = ticket.parse(sealed)

    assert fields["key_name"] == key.name
    assert len(fields["iv"]) == IV_LENGTH
    assert len(fields["encrypted_state"]) % 16 == 0
    # RFC 5077 §4: HMAC-SHA-256 over key_name, iv, then encrypted_state's
    # 2-byte length and its contents.
    authenticated = (
        fields["key_name"]
        + fields["iv"]
        + struct.pack(">H", len(fields["encrypted_state"]))
        + fields["encrypted_state"]
    )
    assert fields["mac"] == independent_mac(key, authenticated)
    assert sealed == authenticated + fields["mac"]


def test_encrypted_state_is_aes_cbc_with_pkcs7_of_the_state(fleet: Fleet) -> None:
    state = STATE.to_bytes()
    key = fleet.ring.current
    fields = ticket.parse(fleet.ring.seal(state))

    cipher = Cipher(algorithms.AES(key.aes_key), modes.CBC(fields["iv"]))
    decryptor = cipher.decryptor()
    padded = decryptor.update(fields["encrypted_state"]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()

    assert unpadder.update(padded) + unpadder.finalize() == state


def test_every_ticket_in_a_run_matches_a_fresh_cbc_context(fleet: Fleet) -> None:
    # The ring keeps its CBC contexts open between tickets; each ticket must
    # still be exactly what a context made for its own IV produces, and
    # opening must not depend on what was opened before.
    ring = fleet.ring
    key = ring.current
    rng = random.Random(5077)
    for round_number in range(40):
        state = rng.randbytes(rng.choice([0, 1, 15, 16, 17, 83, 200]))
        sealed = ring.seal(state)
        fields = ticket.parse(sealed)
        encryptor = Cipher(algorithms.AES(key.aes_key), modes.CBC(fields["iv"]))
        padder = padding.PKCS7(128).padder()
        context = encryptor.encryptor()
        expected = context.update(padder.update(state) + padder.finalize())

        assert fields["encrypted_state"] == expected + context.finalize()
        if round_number % 3 == 0:
            assert ring.unseal(forge(key, state)) == Unsealed(state, False)
        if round_number % 5 == 0:
            assert ring.unseal(sealed[:-1] + bytes([sealed[-1] ^ 1])) is None
        assert ring.unseal(sealed) == Unsealed(state, False)


def test_threads_sharing_a_ring_get_tickets_that_open() -> None:
    ring = TicketKeyRing.generate()
    failures: list[bytes] = []

    def work(tag: int) -> None:
        for count in range(300):
            state = bytes([tag]) * (count % 70)
            if ring.unseal(ring.seal(state)) != Unsealed(state, False):
                failures.append(state)

    threads = [threading.Thread(target=work, args=(tag,)) for tag in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []


def test_each_ticket_gets_a_fresh_iv() -> None:
    ring = TicketKeyRing.generate()

    ivs = {ticket.parse(ring.seal(b"same state"))["iv"] for _ in range(50)}

    assert len(ivs) == 50


def test_unseal_reads_any_memoryview_layout(fleet: Fleet) -> None:
    sealed = fleet.ring.seal(b"state")
    spread = bytearray(2 * len(sealed))
    spread[::2] = sealed
    padded = sealed + bytes(len(sealed) % 2)

    strided = memoryview(spread)[::2]
    assert fleet.ring.unseal(strided) == Unsealed(b"state", False)
    words = memoryview(bytearray(padded)).cast("H")
    expected = None if len(sealed) % 2 else Unsealed(b"state", False)
    assert fleet.ring.unseal(words) == expected


@pytest.mark.parametrize("value", ["ticket", None, 7, [1, 2]])
def test_unseal_refuses_what_is_not_bytes(fleet: Fleet, value: object) -> None:
    with pytest.raises(TypeError, match="ticket must be bytes"):
        fleet.ring.unseal(value)  # type: ignore[arg-type]


def test_unseal_accepts_bytearray_and_memoryview(fleet: Fleet) -> None:
    sealed = fleet.ring.seal(b"state")

    assert fleet.ring.unseal(bytearray(sealed)) == Unsealed(b"state", False)
    assert fleet.ring.unseal(memoryview(sealed)) == Unsealed(b"state", False)


# Tampering: nothing but the exact ticket opens.


def test_every_single_bit_flip_is_rejected(fleet: Fleet) -> None:
    sealed = fleet.ring.seal(STATE.to_bytes())

    opened = [
        bit
        for bit in range(8 * len(sealed))
        if fleet.ring.unseal(flip_bit(sealed, bit)) is not None
    ]

    assert opened == []


def test_every_truncation_is_rejected(fleet: Fleet) -> None:
    sealed = fleet.ring.seal(STATE.to_bytes())

    opened = [n for n in range(len(sealed)) if fleet.ring.unseal(sealed[:n])]

    assert opened == []


@pytest.mark.parametrize("filler", [b"\x00", b"\xff", b"\x10"])
def test_extension_by_1_to_64_bytes_is_rejected(fleet: Fleet, filler: bytes) -> None:
    sealed = fleet.ring.seal(STATE.to_bytes())

    opened = [n for n in range(1, 65) if fleet.ring.unseal(sealed + filler * n)]

    assert opened == []


def test_extension_by_its_own_mac_is_rejected(fleet: Fleet) -> None:
    sealed = fleet.ring.seal(STATE.to_bytes())

    assert fleet.ring.unseal(sealed + sealed[-MAC_LENGTH:]) is None


# Malformed and unacceptable tickets: input, expected log reason.


def _garbage(fleet: Fleet) -> bytes:
    return random.Random(3).randbytes(150)


def _empty(fleet: Fleet) -> bytes:
    return b""


def _shorter_than_a_ticket(fleet: Fleet) -> bytes:
    return bytes(KEY_NAME_LENGTH + IV_LENGTH + 2 + MAC_LENGTH - 1)


def _wrong_key_name(fleet: Fleet) -> bytes:
    return fleet.stranger.seal(STATE.to_bytes())


def _bad_mac(fleet: Fleet) -> bytes:
    sealed = fleet.ring.seal(STATE.to_bytes())
    return flip_bit(sealed, 8 * len(sealed) - 1)


def _mac_under_the_wrong_key(fleet: Fleet) -> bytes:
    own = fleet.ring.current
    impostor = TicketKey(
        name=own.name,
        aes_key=own.aes_key,
        hmac_key=fleet.stranger.current.hmac_key,
    )
    return forge(impostor, STATE.to_bytes())


def _bad_padding(fleet: Fleet) -> bytes:
    # Whole blocks whose last byte, 0x00, is no PKCS#7 padding length.
    return forge(fleet.ring.current, bytes(32), pad=False)


def _inconsistent_padding(fleet: Fleet) -> bytes:
    # Last byte says 3 bytes of padding, the two before it disagree.
    return forge(fleet.ring.current, bytes(29) + b"\x01\x02\x03", pad=False)


def _not_whole_blocks(fleet: Fleet) -> bytes:
    key = fleet.ring.current
    body = key.name + bytes(IV_LENGTH) + struct.pack(">H", 17) + bytes(17)
    return body + independent_mac(key, body)


def _not_a_state_plaintext(fleet: Fleet) -> bytes:
    return forge(fleet.ring.current, b"valid MAC, valid padding, not a state")


def _state_with_trailing_bytes(fleet: Fleet) -> bytes:
    return forge(fleet.ring.current, STATE.to_bytes() + b"\x00")


def _expired(fleet: Fleet) -> bytes:
    sealed = seal_session(fleet.ring, STATE)
    fleet.clock.now = START + LIFETIME
    return sealed


def _lifetime_zero(fleet: Fleet) -> bytes:
    return seal_session(fleet.ring, _replace(STATE, lifetime=0))


def _created_in_the_future(fleet: Fleet) -> bytes:
    future = int(START) + CLOCK_SKEW_ALLOWANCE + 1
    return seal_session(fleet.ring, _replace(STATE, creation_time=future))


def _replace(state: SessionState, **changes: object) -> SessionState:
    fields = {
        "version": state.version,
        "cipher_suite": state.cipher_suite,
        "master_secret": state.master_secret,
        "extended_master_secret": state.extended_master_secret,
        "creation_time": state.creation_time,
        "lifetime": state.lifetime,
        "server_name": state.server_name,
        "alpn_protocol": state.alpn_protocol,
    }
    fields.update(changes)
    return SessionState(**fields)  # type: ignore[arg-type]


BAD_TICKETS = [
    pytest.param(_garbage, "malformed ticket", id="garbage"),
    pytest.param(_empty, "malformed ticket", id="empty"),
    pytest.param(_shorter_than_a_ticket, "malformed ticket", id="short"),
    pytest.param(_wrong_key_name, "unknown key name", id="wrong-key-name"),
    pytest.param(_bad_mac, "bad MAC", id="bad-mac"),
    pytest.param(_mac_under_the_wrong_key, "bad MAC", id="mac-wrong-key"),
    pytest.param(_not_whole_blocks, "not whole AES blocks", id="partial-block"),
    pytest.param(_bad_padding, "bad padding", id="bad-padding"),
    pytest.param(_inconsistent_padding, "bad padding", id="uneven-padding"),
    pytest.param(_not_a_state_plaintext, "state does not decode", id="not-state"),
    pytest.param(_state_with_trailing_bytes, "state does not decode", id="trailing"),
    pytest.param(_expired, "expired", id="expired"),
    pytest.param(_lifetime_zero, "expired", id="lifetime-0"),
    pytest.param(_created_in_the_future, "in the future", id="future"),
]


@pytest.mark.parametrize(("make", "reason"), BAD_TICKETS)
def test_bad_ticket_is_refused_with_one_debug_line_naming_why(
    fleet: Fleet,
    caplog: pytest.LogCaptureFixture,
    make: Callable[[Fleet], bytes],
    reason: str,
) -> None:
    bad = make(fleet)
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    result = open_session(fleet.ring, bad, now=fleet.clock.now)

    assert result is None
    records = [r for r in caplog.records if r.name == LOGGER]
    assert [r.levelno for r in records] == [logging.DEBUG]
    assert records[0].getMessage().startswith("ticket rejected: ")
    assert reason in records[0].getMessage()


@pytest.mark.parametrize(("make", "reason"), BAD_TICKETS)
def test_rejection_logs_never_carry_key_bytes_or_the_master_secret(
    fleet: Fleet,
    caplog: pytest.LogCaptureFixture,
    make: Callable[[Fleet], bytes],
    reason: str,
) -> None:
    bad = make(fleet)
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    open_session(fleet.ring, bad, now=fleet.clock.now)

    logged = " ".join(r.getMessage() for r in caplog.records).lower()
    assert caplog.records
    for secret in secrets_of(fleet.ring, fleet.stranger):
        assert secret not in logged


def test_unseal_logs_its_own_refusal(
    fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    assert fleet.ring.unseal(_bad_mac(fleet)) is None

    assert [r.getMessage() for r in caplog.records] == ["ticket rejected: bad MAC"]


def test_unknown_key_name_log_names_the_key_name(
    fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    fleet.ring.unseal(_wrong_key_name(fleet))

    assert fleet.stranger.current.name.hex() in caplog.records[0].getMessage()


# Keys: the newest seals, every key in its window opens.


def test_newest_key_seals_after_rotation(fleet: Fleet) -> None:
    old = fleet.ring.current

    new = fleet.ring.rotate()

    assert fleet.ring.current == new
    assert new.name != old.name
    assert ticket.parse(fleet.ring.seal(b"s"))["key_name"] == new.name


def test_resumes_with_ticket_from_previous_key_and_asks_for_renewal(
    fleet: Fleet,
) -> None:
    sealed = seal_session(fleet.ring, STATE)
    fleet.ring.rotate()

    assert open_session(fleet.ring, sealed, now=START + 1) == (STATE, True)


def test_ticket_from_current_key_needs_no_renewal(fleet: Fleet) -> None:
    sealed = seal_session(fleet.ring, STATE)

    assert open_session(fleet.ring, sealed, now=START + 1) == (STATE, False)


def test_previous_key_is_refused_once_its_retire_window_passes(
    fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    sealed = fleet.ring.seal(b"state")
    fleet.clock.now = START + 1000
    fleet.ring.rotate()

    fleet.clock.now = START + 1000 + DEFAULT_RETIRE_AFTER - 1
    assert fleet.ring.unseal(sealed) == Unsealed(b"state", renew=True)

    caplog.set_level(logging.DEBUG, logger=LOGGER)
    fleet.clock.now = START + 1000 + DEFAULT_RETIRE_AFTER
    assert fleet.ring.unseal(sealed) is None
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1
    assert "unknown key name" in messages[0]
    assert len(fleet.ring.keys) == 1


def test_each_key_retires_from_when_it_stopped_being_current() -> None:
    clock = FakeClock()
    ring = TicketKeyRing.generate(retire_after=100, clock=clock)
    first = ring.seal(b"first")
    clock.now += 60
    ring.rotate()
    second = ring.seal(b"second")
    clock.now += 60
    ring.rotate()

    clock.now += 50  # first retired 110 s ago, second 50 s ago
    assert ring.unseal(first) is None
    assert ring.unseal(second) == Unsealed(b"second", renew=True)


def test_rotate_keeps_the_aes_key_length() -> None:
    ring = TicketKeyRing.generate(aes_key_length=32)

    assert len(ring.rotate().aes_key) == 32


def test_keys_lists_current_first_then_newest_previous(fleet: Fleet) -> None:
    first = fleet.ring.current
    second = fleet.ring.rotate()
    third = fleet.ring.rotate()

    assert fleet.ring.keys == (third, second, first)


def test_first_key_given_is_current_and_later_ones_only_open() -> None:
    current = TicketKey.generate(random=seeded_random(10))
    previous = TicketKey.generate(random=seeded_random(11))
    old_ring = TicketKeyRing([previous])
    old_ticket = old_ring.seal(b"old")

    ring = TicketKeyRing([current, previous])

    assert ring.current == current
    assert ticket.parse(ring.seal(b"x"))["key_name"] == current.name
    assert ring.unseal(old_ticket) == Unsealed(b"old", renew=True)


def test_add_makes_the_first_key_current_and_later_keys_previous() -> None:
    ring = TicketKeyRing()
    first = TicketKey.generate()
    second = TicketKey.generate()

    ring.add(first)
    ring.add(second)

    assert ring.current == first
    assert ring.unseal(TicketKeyRing([second]).seal(b"s")) == Unsealed(b"s", True)


def test_given_previous_keys_retire_from_when_they_joined() -> None:
    clock = FakeClock()
    previous = TicketKey.generate()
    sealed = TicketKeyRing([previous]).seal(b"s")
    ring = TicketKeyRing([TicketKey.generate(), previous], clock=clock)

    clock.now += DEFAULT_RETIRE_AFTER

    assert ring.unseal(sealed) is None


def test_retire_after_infinity_keeps_previous_keys_like_nginx() -> None:
    clock = FakeClock()
    previous = TicketKey.generate()
    sealed = TicketKeyRing([previous]).seal(b"s")
    ring = TicketKeyRing(
        [TicketKey.generate(), previous], retire_after=float("inf"), clock=clock
    )

    clock.now += 10 * 365 * 86400

    assert ring.unseal(sealed) == Unsealed(b"s", renew=True)


def test_rejects_two_keys_with_the_same_name() -> None:
    key = TicketKey.generate()
    twin = TicketKey(name=key.name, aes_key=bytes(16), hmac_key=bytes(16))

    with pytest.raises(ValueError, match=key.name.hex()):
        TicketKeyRing([key, twin])


def test_rejects_negative_retire_window() -> None:
    with pytest.raises(ValueError, match="retire_after"):
        TicketKeyRing(retire_after=-1)


def test_empty_ring_cannot_seal_and_opens_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ring = TicketKeyRing()
    sealed = TicketKeyRing.generate().seal(b"s")
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    with pytest.raises(LookupError):
        ring.seal(b"s")
    with pytest.raises(LookupError):
        _ = ring.current
    assert ring.unseal(sealed) is None
    assert "unknown key name" in caplog.records[0].getMessage()


def test_rotate_gives_an_empty_ring_its_first_key() -> None:
    ring = TicketKeyRing()

    key = ring.rotate()

    assert ring.current == key
    assert ring.unseal(ring.seal(b"s")) == Unsealed(b"s", renew=False)


# TicketKey.


def test_ticket_key_repr_shows_the_name_but_no_key_bytes() -> None:
    key = TicketKey.generate(aes_key_length=32)

    text = repr(key)

    assert key.name.hex() in text
    assert key.aes_key.hex() not in text
    assert key.hmac_key.hex() not in text
    assert "256 bits" in text


@pytest.mark.parametrize(
    ("name", "aes_key", "hmac_key", "field"),
    [
        pytest.param(bytes(15), bytes(16), bytes(16), "name", id="name-15"),
        pytest.param(bytes(17), bytes(16), bytes(16), "name", id="name-17"),
        pytest.param(bytes(16), bytes(24), bytes(16), "aes_key", id="aes-192"),
        pytest.param(bytes(16), b"", bytes(16), "aes_key", id="aes-empty"),
        pytest.param(bytes(16), bytes(16), bytes(20), "hmac_key", id="hmac-20"),
        pytest.param(bytes(16), bytes(16), bytes(64), "hmac_key", id="hmac-64"),
    ],
)
def test_ticket_key_rejects_wrong_lengths(
    name: bytes, aes_key: bytes, hmac_key: bytes, field: str
) -> None:
    with pytest.raises(ValueError, match=rf"TicketKey\.{field}\b"):
        TicketKey(name=name, aes_key=aes_key, hmac_key=hmac_key)


def test_ticket_key_rejects_non_bytes() -> None:
    with pytest.raises(TypeError, match=r"TicketKey\.name"):
        TicketKey(name="x" * 16, aes_key=bytes(16), hmac_key=bytes(16))  # type: ignore[arg-type]


@pytest.mark.parametrize("length", [16, 32])
def test_generated_key_draws_name_and_keys_from_the_injected_random(
    length: int,
) -> None:
    key = TicketKey.generate(aes_key_length=length, random=seeded_random(5))
    stream = seeded_random(5)

    assert key.name == stream(16)
    assert key.aes_key == stream(length)
    assert key.hmac_key == stream(32)  # RFC 5077 §4: a 256-bit HMAC key


def test_generate_rejects_aes_192() -> None:
    with pytest.raises(ValueError, match="aes_key_length"):
        TicketKey.generate(aes_key_length=24)


@pytest.mark.parametrize("length", ["16", 16.0, True])
def test_generate_refuses_an_aes_key_length_that_is_not_an_int(length: object) -> None:
    with pytest.raises(TypeError, match=r"^aes_key_length: expected an int"):
        TicketKey.generate(aes_key_length=length)  # type: ignore[arg-type]


def test_ticket_keys_compare_by_value() -> None:
    key = TicketKey.generate()
    same = TicketKey(name=key.name, aes_key=key.aes_key, hmac_key=key.hmac_key)
    other = TicketKey(name=key.name, aes_key=key.aes_key, hmac_key=bytes(16))

    assert key == same
    assert key != other


# SessionState and the StatePlaintext codec.


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(STATE, id="ems-sni-alpn"),
        pytest.param(_replace(STATE, server_name=None, alpn_protocol=None), id="bare"),
        pytest.param(
            _replace(
                STATE,
                extended_master_secret=False,
                cipher_suite=0xFEFE,
                version=ProtocolVersion.tls1_0,
            ),
            id="unknown-suite",
        ),
    ],
)
def test_session_state_round_trips_through_state_plaintext(
    state: SessionState,
) -> None:
    encoded = state.to_bytes()

    assert SessionState.from_bytes(encoded) == state
    assert StatePlaintext.build(StatePlaintext.parse(encoded)) == encoded


def test_session_state_fields_land_in_the_state_plaintext_fields() -> None:
    fields = StatePlaintext.parse(STATE.to_bytes())

    assert fields["protocol_version"] == ProtocolVersion.tls1_2
    assert fields["cipher_suite"] == STATE.cipher_suite
    assert fields["compression_method"] == 0
    assert fields["master_secret"] == MASTER_SECRET
    assert fields["client_identity"]["client_authentication_type"] == 0
    assert fields["timestamp"] == int(START)
    assert fields["master_secret_kind"] == MasterSecretKind.extended
    assert fields["lifetime"] == LIFETIME
    assert fields["server_name"] == b"www.example.com"
    assert fields["alpn_protocol"] == b"h2"


def _state_bytes(**changes: object) -> bytes:
    fields = dict(StatePlaintext.parse(STATE.to_bytes()))
    fields.update(changes)
    return StatePlaintext.build(fields)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        pytest.param(b"", "StatePlaintext", id="empty"),
        pytest.param(STATE.to_bytes()[:-1], "StatePlaintext", id="truncated"),
        pytest.param(STATE.to_bytes() + b"\x00", "StatePlaintext", id="trailing"),
        pytest.param(
            _state_bytes(compression_method=1),
            "StatePlaintext.compression_method",
            id="deflate",
        ),
        pytest.param(
            _state_bytes(
                client_identity={
                    "client_authentication_type": 2,
                    "psk_identity": b"client",
                }
            ),
            "StatePlaintext.client_identity",
            id="psk-identity",
        ),
        pytest.param(
            _state_bytes(master_secret_kind=2),
            "StatePlaintext.master_secret_kind",
            id="unknown-ems-kind",
        ),
        pytest.param(
            _state_bytes(server_name="é.example".encode()),
            "StatePlaintext.server_name",
            id="non-ascii-sni",
        ),
    ],
)
def test_session_state_from_bytes_rejects_what_it_cannot_resume(
    data: bytes, path: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        SessionState.from_bytes(data)

    assert caught.value.path.startswith(path)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"master_secret": bytes(47)}, "master_secret", id="ms-47"),
        pytest.param({"creation_time": -1}, "creation_time", id="negative-time"),
        pytest.param({"lifetime": 2**32}, "lifetime", id="lifetime-overflow"),
        pytest.param({"cipher_suite": 2**16}, "cipher_suite", id="suite-overflow"),
        pytest.param({"server_name": ""}, "server_name", id="empty-sni"),
        pytest.param({"server_name": "é.example"}, "server_name", id="sni-utf8"),
        pytest.param({"alpn_protocol": b""}, "alpn_protocol", id="empty-alpn"),
        pytest.param({"alpn_protocol": bytes(256)}, "alpn_protocol", id="alpn-256"),
    ],
)
def test_session_state_rejects_out_of_range_fields(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=rf"SessionState\.{field}\b"):
        _replace(STATE, **changes)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"version": "tls1_2"}, "version", id="version-str"),
        pytest.param({"creation_time": 1.5}, "creation_time", id="time-float"),
        pytest.param({"lifetime": True}, "lifetime", id="lifetime-bool"),
        pytest.param({"master_secret": "x" * 48}, "master_secret", id="ms-str"),
        pytest.param({"extended_master_secret": "no"}, "extended_master_secret"),
        pytest.param({"server_name": b"example.com"}, "server_name", id="sni-bytes"),
        pytest.param({"alpn_protocol": "h2"}, "alpn_protocol", id="alpn-str"),
    ],
)
def test_session_state_rejects_fields_of_the_wrong_type(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(TypeError, match=rf"SessionState\.{field}\b"):
        _replace(STATE, **changes)


def test_session_state_repr_hides_the_master_secret() -> None:
    assert MASTER_SECRET.hex() not in repr(STATE)
    assert repr(MASTER_SECRET) not in repr(STATE)


def test_session_states_differing_only_in_master_secret_are_unequal() -> None:
    assert _replace(STATE, master_secret=bytes(48)) != STATE


# open_session: lifetime and clock skew boundaries.


def test_open_session_accepts_until_the_last_second_of_the_lifetime(
    fleet: Fleet,
) -> None:
    sealed = seal_session(fleet.ring, STATE)

    assert open_session(fleet.ring, sealed, now=START + LIFETIME - 1) == (
        STATE,
        False,
    )
    assert open_session(fleet.ring, sealed, now=START + LIFETIME) is None


def test_open_session_tolerates_clock_skew_up_to_the_allowance(
    fleet: Fleet,
) -> None:
    ahead = _replace(STATE, creation_time=int(START) + CLOCK_SKEW_ALLOWANCE)
    sealed = seal_session(fleet.ring, ahead)

    assert open_session(fleet.ring, sealed, now=START) == (ahead, False)


def test_threads_unsealing_while_keys_expire_and_rotate_never_raise() -> None:
    failures: list[BaseException] = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(10):
            clock = FakeClock()
            keys = [TicketKey.generate() for _ in range(150)]
            ring = TicketKeyRing(keys, clock=clock, retire_after=10)
            tickets = [TicketKeyRing([key]).seal(b"x") for key in keys]
            _race(ring, clock, tickets, failures)
    finally:
        sys.setswitchinterval(interval)

    assert failures == []
    assert ring.unseal(ring.seal(b"after")) == Unsealed(b"after", False)
    assert ring.keys[0] == ring.current
    # Every key still held is current or inside its retire window.
    clock.now = START + 1000
    assert ring.keys == (ring.current,)


def _race(
    ring: TicketKeyRing,
    clock: FakeClock,
    tickets: list[bytes],
    failures: list[BaseException],
) -> None:
    barrier = threading.Barrier(5)

    def unseal(part: int) -> None:
        barrier.wait()
        clock.now = START + 100  # every previous key is past its window
        for sealed in tickets[part::4]:
            try:
                ring.unseal(sealed)
            except BaseException as exc:
                failures.append(exc)

    def rotate() -> None:
        barrier.wait()
        for _ in range(5):
            try:
                ring.rotate()
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=unseal, args=(part,)) for part in range(4)]
    threads.append(threading.Thread(target=rotate))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("now", [float("nan"), float("inf"), float("-inf"), None])
def test_open_session_refuses_a_time_that_is_not_finite(
    fleet: Fleet, now: object
) -> None:
    sealed = seal_session(fleet.ring, STATE)

    with pytest.raises(ValueError, match="now"):
        open_session(fleet.ring, sealed, now=now)  # type: ignore[arg-type]


def test_unsealed_repr_hides_the_state(fleet: Fleet) -> None:
    unsealed = fleet.ring.unseal(fleet.ring.seal(STATE.to_bytes()))

    assert MASTER_SECRET.hex() not in repr(unsealed)
    assert "renew=False" in repr(unsealed)


@pytest.mark.parametrize("name", ["clock", "random"])
def test_ring_refuses_a_clock_or_random_that_cannot_be_called(name: str) -> None:
    # Caught when the ring is built, not as an internal_error in the first
    # handshake that seals a ticket.
    with pytest.raises(TypeError, match=f"^{name}: expected a callable, got int$"):
        TicketKeyRing(**{name: 5})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=f"^{name}: expected a callable, got int$"):
        TicketKeyRing.generate(**{name: 5})  # type: ignore[arg-type]


@pytest.mark.parametrize("keys", [5, b"x" * 48, None])
def test_ring_refuses_keys_that_are_not_an_iterable_of_keys(keys: object) -> None:
    with pytest.raises(TypeError, match=r"^keys: expected an iterable of TicketKey"):
        TicketKeyRing(keys)  # type: ignore[arg-type]


def test_ring_refuses_what_is_not_a_ticket_key() -> None:
    with pytest.raises(TypeError, match="TicketKey"):
        TicketKeyRing([b"x" * 48])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("retire_after", "type_name"), [("10", "str"), (None, "NoneType"), (True, "bool")]
)
def test_retire_after_that_is_not_a_number_is_refused_by_name(
    retire_after: object, type_name: str
) -> None:
    with pytest.raises(
        TypeError,
        match=f"^retire_after: expected a number of seconds, got {type_name}$",
    ):
        TicketKeyRing(retire_after=retire_after)  # type: ignore[arg-type]


@pytest.mark.parametrize(("state", "type_name"), [("abc", "str"), (None, "NoneType")])
def test_seal_refuses_a_state_that_is_not_bytes_by_name(
    fleet: Fleet, state: object, type_name: str
) -> None:
    with pytest.raises(
        TypeError,
        match=f"^state: expected bytes, bytearray or memoryview, got {type_name}$",
    ):
        fleet.ring.seal(state)  # type: ignore[arg-type]


@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_seal_accepts_bytes_like_state(fleet: Fleet, wrap: type) -> None:
    unsealed = fleet.ring.unseal(fleet.ring.seal(wrap(b"state")))

    assert unsealed == Unsealed(state=b"state", renew=False)
