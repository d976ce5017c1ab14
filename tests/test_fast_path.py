"""The generated fast path agrees with plain construct and keeps every check.

The seed messages of ``benchmarks/specs/seed.tls`` are compiled into a
temporary package and compared with the plain-construct definitions of the
same messages in ``benchmarks/references.py`` on OpenSSL's real bytes.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from construct import Int8ub, Struct

from benchmarks import references as ref
from benchmarks.capture import capture_hellos
from tlsspec import DecodeError
from tlsspec.codegen.generate import compile_files, write_output
from tlsspec.generated.alert import Alert, AlertDescription

SEED = Path(__file__).resolve().parent.parent / "benchmarks" / "specs" / "seed.tls"


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    folder = tmp_path_factory.mktemp("seed")
    write_output(folder / "fast_path_seed", compile_files([SEED]))
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(folder))
        return importlib.import_module("fast_path_seed.seed")


@pytest.fixture(scope="module")
def samples() -> dict[str, tuple[bytes, dict[str, Any]]]:
    hellos = capture_hellos()
    return {
        "Alert": (bytes([2, 40]), {}),
        "Finished": (bytes(range(12)), {"verify_data_length": 12}),
        "NewSessionTicket": (hellos["NewSessionTicket"][4:], {}),
        "ticket": (bytes(32) + b"\x00\x20" + bytes(32) + bytes(32), {}),
        "ClientHello": (hellos["ClientHello"][4:], {}),
        "ServerHello": (hellos["ServerHello"][4:], {}),
        "Handshake": (hellos["ClientHello"], {}),
    }


NAMES = [
    "Alert",
    "Finished",
    "NewSessionTicket",
    "ticket",
    "ClientHello",
    "ServerHello",
    "Handshake",
]


@pytest.mark.parametrize("name", NAMES)
def test_builds_the_same_bytes_as_plain_construct(
    seed: ModuleType, samples: dict[str, tuple[bytes, dict[str, Any]]], name: str
) -> None:
    data, params = samples[name]
    plain = getattr(ref, f"construct_{name}")
    ours = getattr(seed, name)
    assert plain.build(plain.parse(data)) == data
    assert ours.build(ours.parse(data, **params), **params) == data
    assert ours.build(plain.parse(data), **params) == data


@pytest.mark.parametrize("name", NAMES)
def test_rejects_every_truncation(
    seed: ModuleType, samples: dict[str, tuple[bytes, dict[str, Any]]], name: str
) -> None:
    data, params = samples[name]
    codec = getattr(seed, name)
    # A hello that ends right before its extensions block is complete
    # (RFC 5246 §7.4.1.2); every other cut is truncation.
    complete = set()
    if name in ("ClientHello", "ServerHello"):
        value = codec.parse(data)
        extensions = sum(4 + len(e["extension_data"]) for e in value["extensions"])
        complete = {len(data) - 2 - extensions}
    for cut in range(len(data)):
        if cut in complete:
            assert codec.parse(data[:cut], **params)["extensions"] is None
            continue
        with pytest.raises(DecodeError) as info:
            codec.parse(data[:cut], **params)
        assert info.value.alert == "decode_error"


@pytest.mark.parametrize("name", NAMES)
def test_rejects_trailing_bytes(
    seed: ModuleType, samples: dict[str, tuple[bytes, dict[str, Any]]], name: str
) -> None:
    data, params = samples[name]
    with pytest.raises(DecodeError) as info:
        getattr(seed, name).parse(data + b"\x00", **params)
    assert info.value.alert == "decode_error"
    assert info.value.offset == len(data)
    assert "trailing" in info.value.reason


def test_rejects_overlong_vector_length(
    seed: ModuleType, samples: dict[str, tuple[bytes, dict[str, Any]]]
) -> None:
    data, _ = samples["ClientHello"]
    # session_id length at offset 34: claim 33 bytes, above the ceiling of 32.
    bad = data[:34] + bytes([33]) + data[35:]
    with pytest.raises(DecodeError) as info:
        seed.ClientHello.parse(bad)
    assert info.value.path == "ClientHello.session_id"
    assert info.value.offset == 35
    assert info.value.reason == "length 33 outside <0..32>"


def test_works_inside_a_plain_construct_struct() -> None:
    outer = Struct("alert" / Alert, "tail" / Int8ub)
    value = outer.parse(b"\x02\x28\x07")
    assert value.alert == {
        "level": 2,
        "description": AlertDescription.handshake_failure,
    }
    assert value.tail == 7
    assert outer.build(value) == b"\x02\x28\x07"


def test_parse_parameters_reach_a_codec_inside_plain_construct() -> None:
    from tlsspec.generated.handshake import Finished

    outer = Struct("finished" / Finished, "tail" / Int8ub)
    data = bytes(range(12)) + b"\x07"
    value = outer.parse(data, verify_data_length=12)
    assert value.finished == {"verify_data": bytes(range(12))}
    assert outer.build(value, verify_data_length=12) == data
