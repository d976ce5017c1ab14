"""The PRF and the secrets derived from it, against published vectors.

Vectors live in ``tests/data/prf_vectors*.json``; every entry names where its
numbers come from.  Each file declares its ``kind``, which says which
derivation its entries exercise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, hmac

from tlsspec.runtime import prf as prf_module
from tlsspec.runtime.prf import (
    CLIENT_FINISHED_LABEL,
    EXTENDED_MASTER_SECRET_LABEL,
    KEY_EXPANSION_LABEL,
    LEGACY_PRF,
    MASTER_SECRET_LABEL,
    MASTER_SECRET_LENGTH,
    PRF_HASHES,
    RANDOM_LENGTH,
    SERVER_FINISHED_LABEL,
    digest_size,
    extended_master_secret,
    key_block,
    master_secret,
    prf,
    prf_tls10,
    verify_data,
)

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
VECTOR_FILES = sorted(DATA_DIR.glob("prf_vectors*.json"))


def _load(kind: str) -> list[Any]:
    params = []
    for path in VECTOR_FILES:
        document = json.loads(path.read_text())
        if document["kind"] != kind:
            continue
        for index, vector in enumerate(document["vectors"]):
            vector_id = f"{path.stem}[{index}]-{vector['hash']}"
            params.append(pytest.param(vector, id=vector_id))
    assert params, f"no {kind} vectors found in {DATA_DIR}"
    return params


def _hex(value: str) -> bytes:
    return bytes.fromhex(value)


PRF_VECTORS = _load("prf")
KDF_VECTORS = _load("tls_kdf")
EMS_VECTORS = _load("extended_master_secret")


def test_every_vector_file_names_a_source_for_each_entry() -> None:
    assert VECTOR_FILES
    for path in VECTOR_FILES:
        document = json.loads(path.read_text())
        assert document["kind"] in {"prf", "tls_kdf", "extended_master_secret"}
        assert document["notes"], path.name
        for vector in document["vectors"]:
            assert vector["source"].strip(), (path.name, vector)


@pytest.mark.parametrize("vector", PRF_VECTORS)
def test_prf_reproduces_published_output(vector: dict[str, str]) -> None:
    expected = _hex(vector["output"])
    arguments = {
        "label": vector["label"].encode("ascii"),
        "seed": _hex(vector["seed"]),
        "length": len(expected),
    }

    if vector["hash"] == LEGACY_PRF:
        output = prf_tls10(_hex(vector["secret"]), **arguments)
    else:
        output = prf(_hex(vector["secret"]), hash=vector["hash"], **arguments)

    assert output == expected


@pytest.mark.parametrize("vector", KDF_VECTORS)
def test_master_secret_reproduces_nist_vector(vector: dict[str, str]) -> None:
    derived = master_secret(
        _hex(vector["pre_master_secret"]),
        client_random=_hex(vector["client_hello_random"]),
        server_random=_hex(vector["server_hello_random"]),
        hash=vector["hash"],
    )

    assert derived == _hex(vector["master_secret"])


@pytest.mark.parametrize("vector", KDF_VECTORS + EMS_VECTORS)
def test_key_block_reproduces_nist_vector(vector: dict[str, str]) -> None:
    expected = _hex(vector["key_block"])

    derived = key_block(
        _hex(vector["master_secret"]),
        client_random=_hex(vector["client_random"]),
        server_random=_hex(vector["server_random"]),
        length=len(expected),
        hash=vector["hash"],
    )

    assert derived == expected


@pytest.mark.parametrize("vector", EMS_VECTORS)
def test_extended_master_secret_reproduces_nist_vector(
    vector: dict[str, str],
) -> None:
    derived = extended_master_secret(
        _hex(vector["pre_master_secret"]),
        session_hash=_hex(vector["session_hash"]),
        hash=vector["hash"],
    )

    assert derived == _hex(vector["master_secret"])


def test_labels_are_the_exact_rfc_strings() -> None:
    assert MASTER_SECRET_LABEL == b"master secret"
    assert EXTENDED_MASTER_SECRET_LABEL == b"extended master secret"
    assert KEY_EXPANSION_LABEL == b"key expansion"
    assert CLIENT_FINISHED_LABEL == b"client finished"
    assert SERVER_FINISHED_LABEL == b"server finished"


@pytest.mark.parametrize("hash_name", PRF_HASHES)
def test_shorter_output_is_a_prefix_of_longer_output(hash_name: str) -> None:
    full = prf(b"secret", label=b"label", seed=b"seed", length=200, hash=hash_name)

    for length in range(200):
        part = prf(
            b"secret", label=b"label", seed=b"seed", length=length, hash=hash_name
        )
        assert part == full[:length]


def test_tls10_shorter_output_is_a_prefix_of_longer_output() -> None:
    full = prf_tls10(b"secret", label=b"label", seed=b"seed", length=120)

    for length in range(120):
        part = prf_tls10(b"secret", label=b"label", seed=b"seed", length=length)
        assert part == full[:length]


def _reference_p_hash(
    algorithm: hashes.HashAlgorithm, secret: bytes, seed: bytes, length: int
) -> bytes:
    # A direct reading of RFC 5246 §5, one fresh HMAC per call.
    def mac(data: bytes) -> bytes:
        fresh = hmac.HMAC(secret, algorithm)
        fresh.update(data)
        return fresh.finalize()

    output = b""
    chain = seed
    while len(output) < length:
        chain = mac(chain)
        output += mac(chain + seed)
    return output[:length]


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=True))


def test_tls10_prf_shares_the_middle_byte_of_an_odd_length_secret() -> None:
    # RFC 2246 §5: for an odd-length secret, "the last byte of the first
    # half will be the same as the first byte of the second".
    secret = bytes(range(1, 8))
    labelled_seed = b"label" + b"seed"
    expected = _xor(
        _reference_p_hash(hashes.MD5(), secret[:4], labelled_seed, 50),
        _reference_p_hash(hashes.SHA1(), secret[3:], labelled_seed, 50),
    )

    output = prf_tls10(secret, label=b"label", seed=b"seed", length=50)

    assert output == expected


def test_tls10_prf_splits_an_even_length_secret_without_overlap() -> None:
    secret = bytes(range(1, 9))
    labelled_seed = b"label" + b"seed"
    expected = _xor(
        _reference_p_hash(hashes.MD5(), secret[:4], labelled_seed, 50),
        _reference_p_hash(hashes.SHA1(), secret[4:], labelled_seed, 50),
    )

    output = prf_tls10(secret, label=b"label", seed=b"seed", length=50)

    assert output == expected


@pytest.mark.parametrize("hash_name", PRF_HASHES)
def test_prf_matches_a_fresh_hmac_per_block_reading_of_rfc5246(
    hash_name: str,
) -> None:
    algorithm = prf_module.hash_algorithm(hash_name)
    for length in (0, 1, 48, 104, 300):
        expected = _reference_p_hash(algorithm, b"k" * 48, b"label" + b"s" * 64, length)
        output = prf(
            b"k" * 48, label=b"label", seed=b"s" * 64, length=length, hash=hash_name
        )
        assert output == expected


@pytest.mark.parametrize("name", ["md5", "sha1", "SHA256", "sha3_256", LEGACY_PRF, ""])
def test_prf_rejects_hash_names_that_are_not_tls12_prf_hashes(name: str) -> None:
    with pytest.raises(ValueError, match="not supported"):
        prf(b"s", label=b"l", seed=b"s", length=12, hash=name)


def test_derivations_reject_unknown_hash_names() -> None:
    randoms = {"client_random": bytes(32), "server_random": bytes(32)}
    with pytest.raises(ValueError):
        master_secret(b"pms", hash="sha1", **randoms)
    with pytest.raises(ValueError):
        key_block(b"ms", length=40, hash="md5", **randoms)
    with pytest.raises(ValueError):
        verify_data(b"ms", sender="client", handshake_hash=b"h", hash="sha1")
    with pytest.raises(ValueError):
        extended_master_secret(b"pms", session_hash=bytes(32), hash="sha1")


@pytest.mark.parametrize("name", [None, 256, b"sha256"])
def test_hash_names_that_are_not_str_are_type_errors(name: object) -> None:
    randoms = {"client_random": bytes(32), "server_random": bytes(32)}
    type_name = type(name).__name__
    message = f"^PRF hash: expected a name such as 'sha256', got {type_name}$"
    with pytest.raises(TypeError, match=message):
        prf(b"s", label=b"l", seed=b"s", length=12, hash=name)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=message):
        master_secret(b"pms", hash=name, **randoms)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=message):
        prf_module.digest_size(name)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=message):
        prf_module.hash_algorithm(name)  # type: ignore[arg-type]


def test_prf_rejects_negative_length() -> None:
    with pytest.raises(ValueError, match="negative"):
        prf(b"s", label=b"l", seed=b"s", length=-1)
    with pytest.raises(ValueError, match="negative"):
        prf_tls10(b"s", label=b"l", seed=b"s", length=-1)


@pytest.mark.parametrize("hash_name", [*PRF_HASHES, LEGACY_PRF])
def test_master_secret_is_always_48_bytes(hash_name: str) -> None:
    randoms = {"client_random": bytes(32), "server_random": bytes(32)}

    derived = master_secret(b"pre-master", hash=hash_name, **randoms)
    extended = extended_master_secret(
        b"pre-master", session_hash=bytes(digest_size(hash_name)), hash=hash_name
    )

    assert len(derived) == len(extended) == MASTER_SECRET_LENGTH


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_randoms_must_be_32_bytes(length: int) -> None:
    good, bad = bytes(RANDOM_LENGTH), bytes(length)

    with pytest.raises(ValueError, match="client_random"):
        master_secret(b"pms", client_random=bad, server_random=good, hash="sha256")
    with pytest.raises(ValueError, match="server_random"):
        key_block(
            b"ms", client_random=good, server_random=bad, length=40, hash="sha256"
        )


@pytest.mark.parametrize(
    ("hash_name", "wrong_size"), [("sha256", 48), ("sha384", 32), (LEGACY_PRF, 20)]
)
def test_extended_master_secret_rejects_session_hash_of_another_hash(
    hash_name: str, wrong_size: int
) -> None:
    with pytest.raises(ValueError, match="session_hash"):
        extended_master_secret(b"pms", session_hash=bytes(wrong_size), hash=hash_name)


def test_master_secret_and_key_block_order_the_randoms_differently() -> None:
    # RFC 5246 §8.1 seeds with client + server, §6.3 with server + client.
    client, server = b"C" * 32, b"S" * 32

    derived = master_secret(
        b"pms", client_random=client, server_random=server, hash="sha256"
    )
    block = key_block(
        b"ms", client_random=client, server_random=server, length=40, hash="sha256"
    )

    assert derived == prf(
        b"pms", label=MASTER_SECRET_LABEL, seed=client + server, length=48
    )
    assert block == prf(
        b"ms", label=KEY_EXPANSION_LABEL, seed=server + client, length=40
    )


@pytest.mark.parametrize(
    ("sender", "label"),
    [("client", CLIENT_FINISHED_LABEL), ("server", SERVER_FINISHED_LABEL)],
)
@pytest.mark.parametrize("hash_name", ["sha256", "sha384", LEGACY_PRF])
def test_verify_data_is_the_prf_under_the_sender_label(
    sender: str, label: bytes, hash_name: str
) -> None:
    handshake_hash = b"h" * digest_size(hash_name)
    if hash_name == LEGACY_PRF:
        expected = prf_tls10(b"m" * 48, label=label, seed=handshake_hash, length=12)
    else:
        expected = prf(
            b"m" * 48, label=label, seed=handshake_hash, length=12, hash=hash_name
        )

    output = verify_data(
        b"m" * 48,
        sender=sender,  # type: ignore[arg-type]
        handshake_hash=handshake_hash,
        hash=hash_name,
    )

    assert output == expected


def test_verify_data_rejects_unknown_sender() -> None:
    with pytest.raises(ValueError, match="sender"):
        verify_data(
            b"m" * 48,
            sender="both",  # type: ignore[arg-type]
            handshake_hash=bytes(32),
            hash="sha256",
        )


@pytest.mark.parametrize(
    ("hash_name", "size"),
    [("sha224", 28), ("sha256", 32), ("sha384", 48), ("sha512", 64), (LEGACY_PRF, 36)],
)
def test_digest_size_matches_the_handshake_hash(hash_name: str, size: int) -> None:
    assert digest_size(hash_name) == size


@pytest.mark.parametrize("length", [0, 1, 11])
def test_verify_data_shorter_than_12_bytes_is_refused(length: int) -> None:
    # RFC 5246 §7.4.9: a suite's verify_data_length "MUST be at least 12".
    with pytest.raises(ValueError, match="at least 12"):
        verify_data(
            bytes(48),
            sender="client",
            handshake_hash=bytes(32),
            length=length,
            hash="sha256",
        )


def test_derivations_name_the_legacy_prf_among_the_hashes_they_take() -> None:
    with pytest.raises(ValueError, match="md5sha1") as caught:
        master_secret(
            bytes(48), client_random=bytes(32), server_random=bytes(32), hash="sha1"
        )
    assert "sha256" in str(caught.value)
    with pytest.raises(ValueError, match="md5sha1"):
        digest_size("sha1")
    with pytest.raises(ValueError, match="not supported") as plain:
        prf(b"", label=b"x", seed=b"", length=1, hash="md5sha1")
    assert str(plain.value).endswith("expected one of sha224, sha256, sha384, sha512")


_RANDOMS = {"client_random": bytes(32), "server_random": bytes(32)}

# Every derivation, called with one argument swapped for a wrong type.
_DERIVATIONS: dict[str, Any] = {
    "prf": lambda **kw: prf(
        **{"secret": b"s", "label": b"l", "seed": b"s", "length": 4, **kw}
    ),
    "prf_tls10": lambda **kw: prf_tls10(
        **{"secret": b"s", "label": b"l", "seed": b"s", "length": 4, **kw}
    ),
    "master_secret": lambda **kw: master_secret(
        **{"pre_master_secret": b"p", **_RANDOMS, "hash": "sha256", **kw}
    ),
    "extended_master_secret": lambda **kw: extended_master_secret(
        **{"pre_master_secret": b"p", "session_hash": bytes(32), "hash": "sha256"} | kw
    ),
    "key_block": lambda **kw: key_block(
        **{"master_secret": bytes(48), **_RANDOMS, "length": 40, "hash": "sha256"} | kw
    ),
    "verify_data": lambda **kw: verify_data(
        **{
            "master_secret": bytes(48),
            "sender": "client",
            "handshake_hash": bytes(32),
            "hash": "sha256",
        }
        | kw
    ),
}

_BYTE_ARGUMENTS = [
    ("prf", "secret"),
    ("prf", "label"),
    ("prf", "seed"),
    ("prf_tls10", "secret"),
    ("prf_tls10", "label"),
    ("prf_tls10", "seed"),
    ("master_secret", "pre_master_secret"),
    ("master_secret", "client_random"),
    ("master_secret", "server_random"),
    ("extended_master_secret", "pre_master_secret"),
    ("extended_master_secret", "session_hash"),
    ("key_block", "master_secret"),
    ("key_block", "client_random"),
    ("verify_data", "master_secret"),
    ("verify_data", "handshake_hash"),
]


@pytest.mark.parametrize(("function", "argument"), _BYTE_ARGUMENTS)
@pytest.mark.parametrize("wrong", ["s", None, [1]])
def test_byte_string_arguments_of_another_type_are_refused_by_name(
    function: str, argument: str, wrong: object
) -> None:
    with pytest.raises(TypeError) as caught:
        _DERIVATIONS[function](**{argument: wrong})

    assert str(caught.value).startswith(
        f"{argument}: expected bytes, bytearray or memoryview, got "
        f"{type(wrong).__name__}"
    )


@pytest.mark.parametrize(("function", "argument"), _BYTE_ARGUMENTS)
@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_byte_string_arguments_accept_any_bytes_like_value(
    function: str, argument: str, wrap: Any
) -> None:
    derive = _DERIVATIONS[function]
    good = {
        "secret": b"s",
        "label": b"l",
        "seed": b"s",
        "pre_master_secret": b"p",
        "client_random": bytes(32),
        "server_random": bytes(32),
        "session_hash": bytes(32),
        "master_secret": bytes(48),
        "handshake_hash": bytes(32),
    }[argument]

    assert derive(**{argument: wrap(good)}) == derive(**{argument: good})


@pytest.mark.parametrize("function", ["prf", "prf_tls10", "key_block", "verify_data"])
@pytest.mark.parametrize(
    ("length", "type_name"),
    [(1.5, "float"), (12.0, "float"), ("4", "str"), (True, "bool"), (None, "NoneType")],
)
def test_length_that_is_not_an_int_is_refused_by_name(
    function: str, length: object, type_name: str
) -> None:
    with pytest.raises(TypeError, match=f"^length: expected an int, got {type_name}$"):
        _DERIVATIONS[function](length=length)


@pytest.mark.parametrize("sender", [["client"], b"client", None, "Client"])
def test_verify_data_sender_of_any_wrong_kind_is_a_value_error_naming_sender(
    sender: object,
) -> None:
    with pytest.raises(ValueError, match=r"^sender must be 'client' or 'server', got "):
        _DERIVATIONS["verify_data"](sender=sender)


@pytest.mark.parametrize("size", [0, 5, 32, 47, 49])
def test_verify_data_master_secret_must_be_48_bytes(size: int) -> None:
    with pytest.raises(
        ValueError, match=f"^master_secret must be 48 bytes .*, got {size}$"
    ):
        _DERIVATIONS["verify_data"](master_secret=bytes(size))


@pytest.mark.parametrize(
    ("hash_name", "wrong_size"),
    [("sha256", 0), ("sha256", 5), ("sha256", 48), ("sha384", 32), (LEGACY_PRF, 32)],
)
def test_verify_data_handshake_hash_must_match_the_prf_hash(
    hash_name: str, wrong_size: int
) -> None:
    expected = digest_size(hash_name)

    with pytest.raises(
        ValueError,
        match=f"^handshake_hash must be {expected} bytes for PRF '{hash_name}', "
        f"got {wrong_size}$",
    ):
        verify_data(
            bytes(48),
            sender="client",
            handshake_hash=bytes(wrong_size),
            hash=hash_name,
        )
