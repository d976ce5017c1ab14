"""Ticket keys from nginx ``ssl_session_ticket_key`` files, and the fleet case.

The key files in ``tests/data/tickets/`` hold random bytes; the known-answer
tickets in ``known_answer.json`` were computed from them with
``cryptography`` primitives alone (the file names its source), and this
module computes them again independently before comparing with the ring.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tlsspec.generated.handshake import CipherSuite
from tlsspec.generated.record import ProtocolVersion
from tlsspec.runtime.tickets import (
    NGINX_AES128_KEY_FILE_LENGTH,
    NGINX_AES256_KEY_FILE_LENGTH,
    SessionState,
    TicketKey,
    TicketKeyRing,
    Unsealed,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "tickets"
AES128_FILE = DATA / "nginx_aes128.key"
AES256_FILE = DATA / "nginx_aes256.key"
KNOWN_ANSWERS: dict[str, Any] = json.loads((DATA / "known_answer.json").read_text())


def test_48_byte_file_is_name_then_aes128_key_then_hmac_key() -> None:
    data = AES128_FILE.read_bytes()

    key = TicketKey.from_nginx_file(AES128_FILE)

    assert len(data) == NGINX_AES128_KEY_FILE_LENGTH
    assert key.name == data[0:16]
    assert key.aes_key == data[16:32]
    assert key.hmac_key == data[32:48]


def test_80_byte_file_is_name_then_hmac_key_then_aes256_key() -> None:
    data = AES256_FILE.read_bytes()

    key = TicketKey.from_nginx_file(AES256_FILE)

    assert len(data) == NGINX_AES256_KEY_FILE_LENGTH
    assert key.name == data[0:16]
    assert key.hmac_key == data[16:48]
    assert key.aes_key == data[48:80]


def test_key_file_path_may_be_a_string() -> None:
    assert TicketKey.from_nginx_file(str(AES128_FILE)) == TicketKey.from_nginx_file(
        AES128_FILE
    )


@pytest.mark.parametrize("size", [0, 16, 32, 47, 49, 64, 79, 81, 96, 128])
def test_other_sizes_are_refused_naming_the_size_and_the_two_allowed(
    size: int,
) -> None:
    with pytest.raises(ValueError) as caught:
        TicketKey.from_nginx_bytes(bytes(size))

    message = str(caught.value)
    assert f"is {size} bytes" in message
    assert "48" in message
    assert "80" in message


def test_key_file_with_a_trailing_newline_is_refused_naming_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ticket.key"
    path.write_bytes(AES128_FILE.read_bytes() + b"\n")

    with pytest.raises(ValueError, match="49 bytes") as caught:
        TicketKey.from_nginx_file(path)

    assert str(path) in str(caught.value)


def test_missing_key_file_raises_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        TicketKey.from_nginx_file(tmp_path / "absent.key")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_device_is_refused_as_not_a_regular_file_without_reading_it(
    device: str,
) -> None:
    # /dev/zero never ends: reading it whole would exhaust memory.
    with pytest.raises(ValueError, match=f"^{device}: not a regular file"):
        TicketKey.from_nginx_file(device)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_at_once_instead_of_waiting_for_a_writer(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "ticket.key"
    os.mkfifo(fifo)

    with pytest.raises(ValueError, match="not a regular file"):
        TicketKey.from_nginx_file(fifo)


def test_directory_is_refused_as_not_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"^{tmp_path}: not a regular file"):
        TicketKey.from_nginx_file(tmp_path)


def test_huge_key_file_is_refused_with_its_size_after_reading_81_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ticket.key"
    size = 2**30
    with path.open("wb") as file:
        file.truncate(size)  # sparse: no gigabyte is written
    asked: list[int] = []
    real_read = os.read

    def counting_read(fd: int, count: int) -> bytes:
        asked.append(count)
        return real_read(fd, count)

    monkeypatch.setattr(os, "read", counting_read)

    with pytest.raises(ValueError, match=f"is {size} bytes; expected 48") as caught:
        TicketKey.from_nginx_file(path)

    assert str(caught.value).startswith(f"{path}: ")
    assert sum(asked) <= NGINX_AES256_KEY_FILE_LENGTH + 1


def _independent_ticket(key_file: bytes, iv: bytes, state: bytes) -> bytes:
    # The nginx layouts and RFC 5077 §4, written out without tlsspec.
    name = key_file[:16]
    if len(key_file) == 48:
        aes_key, hmac_key = key_file[16:32], key_file[32:48]
    else:
        hmac_key, aes_key = key_file[16:48], key_file[48:80]
    padder = padding.PKCS7(128).padder()
    padded = padder.update(state) + padder.finalize()
    encryptor = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    body = name + iv + struct.pack(">H", len(encrypted)) + encrypted
    mac = hmac.HMAC(hmac_key, hashes.SHA256())
    mac.update(body)
    return body + mac.finalize()


@pytest.mark.parametrize(
    "vector",
    KNOWN_ANSWERS["vectors"],
    ids=[vector["key_file"] for vector in KNOWN_ANSWERS["vectors"]],
)
def test_seal_matches_known_answer_for_fixed_key_file_iv_and_state(
    vector: dict[str, str],
) -> None:
    path = DATA / vector["key_file"]
    iv = bytes.fromhex(vector["iv"])
    state = bytes.fromhex(vector["state"])
    expected = bytes.fromhex(vector["ticket"])
    ring = TicketKeyRing([TicketKey.from_nginx_file(path)], random=lambda n: iv[:n])

    sealed = ring.seal(state)

    assert _independent_ticket(path.read_bytes(), iv, state) == expected
    assert sealed == expected
    assert ring.unseal(expected) == Unsealed(state=state, renew=False)


def test_known_answer_state_decodes_to_the_fields_its_file_lists() -> None:
    state = SessionState.from_bytes(bytes.fromhex(KNOWN_ANSWERS["vectors"][0]["state"]))

    assert state == SessionState(
        version=ProtocolVersion.tls1_2,
        cipher_suite=CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        master_secret=bytes(range(48)),
        extended_master_secret=True,
        creation_time=1_700_000_000,
        lifetime=7200,
        server_name="example.com",
        alpn_protocol=b"h2",
    )


@pytest.mark.parametrize("path", [AES128_FILE, AES256_FILE], ids=["48", "80"])
def test_two_servers_loading_one_key_file_open_each_others_tickets(
    path: Path,
) -> None:
    server_a = TicketKeyRing([TicketKey.from_nginx_file(path)])
    server_b = TicketKeyRing([TicketKey.from_nginx_file(path)])

    from_a = server_a.seal(b"session sealed on A")
    from_b = server_b.seal(b"session sealed on B")

    assert server_b.unseal(from_a) == Unsealed(b"session sealed on A", False)
    assert server_a.unseal(from_b) == Unsealed(b"session sealed on B", False)


def test_fleet_mid_rotation_opens_old_tickets_and_asks_for_renewal() -> None:
    # Like nginx with `ssl_session_ticket_key current.key;` followed by
    # `ssl_session_ticket_key previous.key;` on the upgraded servers.
    previous = TicketKey.from_nginx_file(AES128_FILE)
    current = TicketKey.from_nginx_file(AES256_FILE)
    not_yet_upgraded = TicketKeyRing([previous])
    upgraded = TicketKeyRing([current, previous])

    old_ticket = not_yet_upgraded.seal(b"old")
    new_ticket = upgraded.seal(b"new")

    assert upgraded.unseal(old_ticket) == Unsealed(b"old", renew=True)
    assert upgraded.unseal(new_ticket) == Unsealed(b"new", renew=False)
    assert not_yet_upgraded.unseal(new_ticket) is None


@pytest.mark.parametrize("data", [48, 80, [0] * 48, "x" * 48, None])
def test_key_bytes_that_are_not_bytes_are_refused(data: object) -> None:
    with pytest.raises(TypeError, match="must be bytes"):
        TicketKey.from_nginx_bytes(data)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", [0, 3, None])
def test_key_file_path_that_is_not_a_path_is_refused(path: object) -> None:
    # open() would read a file descriptor (0 is stdin) and close it.
    with pytest.raises(TypeError, match="path must be"):
        TicketKey.from_nginx_file(path)  # type: ignore[arg-type]
