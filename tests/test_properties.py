"""Round-trip properties of every generated type, from spec-derived strategies.

For each spec type: ``parse(build(v)) == v`` for values drawn from the spec,
``build(parse(b)) == b`` for every byte string that parses, and random bytes
never raise anything but ``DecodeError``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlsspec import DecodeError
from tlsspec.codegen.strategies import Example, SpecStrategies

ROOT = Path(__file__).resolve().parent.parent
STRATEGIES = SpecStrategies.from_package(ROOT / "specs", "tlsspec.generated")
TYPES = STRATEGIES.type_names()
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


def test_every_spec_type_has_a_strategy() -> None:
    assert {"Handshake", "ClientHello", "Alert", "ticket", "TLSPlaintext"} <= set(TYPES)


@pytest.mark.parametrize("name", TYPES)
def test_parse_of_build_returns_the_value(name: str) -> None:
    codec = STRATEGIES.codecs[name]

    @PROPERTY_SETTINGS
    @given(STRATEGIES.example(name))
    def check(example: Example) -> None:
        data = codec.build(example.value, **example.params)
        parsed = codec.parse(data, **example.params)
        assert _normalize(parsed) == _normalize(example.value)
        assert codec.build(parsed, **example.params) == data

    check()


@pytest.mark.parametrize("name", TYPES)
def test_random_bytes_raise_only_decode_error(name: str) -> None:
    codec = STRATEGIES.codecs[name]

    @PROPERTY_SETTINGS
    @given(st.binary(max_size=64), STRATEGIES.example(name))
    def check(data: bytes, example: Example) -> None:
        try:
            value = codec.parse(data, **example.params)
        except DecodeError:
            return
        assert codec.build(value, **example.params) == data

    check()


def _normalize(value: object) -> object:
    # Fixed-value fields may be left out of a value: build fills them in.
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return int(value) if isinstance(value, int) else value
