"""What goes into the handshake hash, and when it can be read."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes

from tlsspec.runtime.prf import LEGACY_PRF, PRF_HASHES
from tlsspec.runtime.transcript import HELLO_REQUEST_TYPE, Transcript

CLIENT_HELLO = 1
SERVER_HELLO = 2
CLIENT_KEY_EXCHANGE = 16
FINISHED = 20


def _message(msg_type: int, body: bytes) -> bytes:
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body


MESSAGES = [
    _message(CLIENT_HELLO, b"\x03\x03" + b"c" * 60),
    _message(SERVER_HELLO, b"\x03\x03" + b"s" * 50),
    _message(CLIENT_KEY_EXCHANGE, b"k" * 33),
]
HELLO_REQUEST = _message(HELLO_REQUEST_TYPE, b"")


def _expected_digest(name: str, data: bytes) -> bytes:
    if name == LEGACY_PRF:
        algorithms: list[hashes.HashAlgorithm] = [hashes.MD5(), hashes.SHA1()]
    else:
        algorithms = [getattr(hashes, name.upper())()]
    digest = b""
    for algorithm in algorithms:
        context = hashes.Hash(algorithm)
        context.update(data)
        digest += context.finalize()
    return digest


ALL_HASHES = [*PRF_HASHES, LEGACY_PRF]


@pytest.mark.parametrize("name", ALL_HASHES)
def test_buffering_before_set_hash_gives_the_same_digest_as_hashing_after(
    name: str,
) -> None:
    buffered = Transcript()
    buffered.add(MESSAGES[0])
    buffered.add(MESSAGES[1])
    buffered.set_hash(name)
    buffered.add(MESSAGES[2])

    hashed_throughout = Transcript()
    hashed_throughout.set_hash(name)
    for message in MESSAGES:
        hashed_throughout.add(message)

    assert buffered.digest() == hashed_throughout.digest()
    assert buffered.digest() == _expected_digest(name, b"".join(MESSAGES))


def test_legacy_digest_is_md5_then_sha1() -> None:
    transcript = Transcript()
    transcript.add(MESSAGES[0])
    transcript.set_hash(LEGACY_PRF)

    digest = transcript.digest()

    assert len(digest) == 36
    assert digest[:16] == _expected_digest("md5", MESSAGES[0])
    assert digest[16:] == _expected_digest("sha1", MESSAGES[0])


@pytest.mark.parametrize("set_hash_first", [False, True])
def test_hello_request_is_never_recorded(set_hash_first: bool) -> None:
    transcript = Transcript()
    if set_hash_first:
        transcript.set_hash("sha256")

    recorded = [transcript.add(HELLO_REQUEST)]
    recorded.append(transcript.add(MESSAGES[0]))
    recorded.append(transcript.add(HELLO_REQUEST))
    if not set_hash_first:
        transcript.set_hash("sha256")

    assert recorded == [False, True, False]
    assert transcript.digest() == _expected_digest("sha256", MESSAGES[0])


def test_digest_leaves_the_transcript_open_for_more_messages() -> None:
    transcript = Transcript()
    transcript.set_hash("sha256")
    transcript.add(MESSAGES[0])

    first = transcript.digest()
    again = transcript.digest()
    transcript.add(MESSAGES[1])

    assert first == again == _expected_digest("sha256", MESSAGES[0])
    assert transcript.digest() == _expected_digest("sha256", b"".join(MESSAGES[:2]))


def test_empty_transcript_digest_is_the_hash_of_nothing() -> None:
    transcript = Transcript()
    transcript.set_hash("sha384")

    assert transcript.digest() == _expected_digest("sha384", b"")


@pytest.mark.parametrize("set_hash_first", [False, True])
def test_snapshots_evolve_independently_of_the_original(set_hash_first: bool) -> None:
    original = Transcript()
    if set_hash_first:
        original.set_hash("sha256")
    original.add(MESSAGES[0])

    snapshot = original.copy()
    original.add(MESSAGES[1])
    snapshot.add(MESSAGES[2])
    if not set_hash_first:
        original.set_hash("sha256")
        snapshot.set_hash("sha256")

    assert original.digest() == _expected_digest("sha256", MESSAGES[0] + MESSAGES[1])
    assert snapshot.digest() == _expected_digest("sha256", MESSAGES[0] + MESSAGES[2])


def test_snapshot_keeps_the_hash_choice() -> None:
    original = Transcript()
    original.set_hash("sha384")

    assert original.copy().hash_name == "sha384"


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x01\x00\x00", id="short-header"),
        pytest.param(b"\x01\x00\x00\x05abcd", id="body-shorter-than-declared"),
        pytest.param(b"\x01\x00\x00\x01ab", id="body-longer-than-declared"),
        pytest.param(MESSAGES[0] + MESSAGES[1], id="two-messages"),
    ],
)
def test_add_rejects_anything_but_one_whole_message(message: bytes) -> None:
    transcript = Transcript()

    with pytest.raises(ValueError):
        transcript.add(message)


def test_digest_before_set_hash_is_refused() -> None:
    transcript = Transcript()
    transcript.add(MESSAGES[0])

    with pytest.raises(RuntimeError, match="set_hash"):
        transcript.digest()


def test_hash_can_only_be_chosen_once() -> None:
    transcript = Transcript()
    transcript.set_hash("sha256")

    with pytest.raises(RuntimeError, match="already set"):
        transcript.set_hash("sha384")


@pytest.mark.parametrize("name", ["md5", "sha1", "SHA256", ""])
def test_set_hash_rejects_names_that_are_no_prf_hash(name: str) -> None:
    with pytest.raises(ValueError, match="not supported"):
        Transcript().set_hash(name)


def test_kept_messages_are_the_raw_bytes_even_after_set_hash() -> None:
    transcript = Transcript(keep_messages=True)
    transcript.add(MESSAGES[0])
    transcript.add(HELLO_REQUEST)
    transcript.set_hash("sha256")
    transcript.add(MESSAGES[1])

    assert transcript.messages() == MESSAGES[0] + MESSAGES[1]
    assert transcript.copy().messages() == MESSAGES[0] + MESSAGES[1]


def test_raw_messages_are_dropped_at_set_hash_by_default() -> None:
    transcript = Transcript()
    transcript.add(MESSAGES[0])
    assert transcript.messages() == MESSAGES[0]

    transcript.set_hash("sha256")

    with pytest.raises(RuntimeError, match="keep_messages"):
        transcript.messages()
