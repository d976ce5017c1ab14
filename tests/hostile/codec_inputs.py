"""Hostile inputs for every generated codec, and the check they must pass.

Three shapes of input per spec type: random bytes up to 2 KiB; a valid
encoding cut anywhere and followed by up to 2 KiB of garbage (so the
headers and length prefixes parse and what follows does not); and a valid
encoding with bytes overwritten.  Whatever the input, ``parse`` either
succeeds, and then ``build`` gives the same bytes back, or raises
:class:`tlsspec.DecodeError`; any other exception is a codec bug.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hypothesis import strategies as st

from tlsspec import DecodeError
from tlsspec.codegen.strategies import SpecStrategies

ROOT: Final = Path(__file__).resolve().parents[2]
STRATEGIES: Final = SpecStrategies.from_package(ROOT / "specs", "tlsspec.generated")
TYPES: Final = tuple(STRATEGIES.type_names())
#: The longest input tried.
MAX_INPUT: Final = 2048


@dataclass(frozen=True)
class CodecInput:
    """Bytes to parse as ``name``, with the parse parameters to use."""

    name: str
    data: bytes
    params: dict[str, Any]


def _valid(draw: st.DrawFn, name: str) -> tuple[bytes, dict[str, Any]]:
    example = draw(STRATEGIES.example(name))
    return STRATEGIES.codecs[name].build(
        example.value, **example.params
    ), example.params


@st.composite
def random_bytes(draw: st.DrawFn, name: str) -> CodecInput:
    """Random bytes, up to :data:`MAX_INPUT`."""
    params = draw(STRATEGIES.example(name)).params
    return CodecInput(name, draw(st.binary(max_size=MAX_INPUT)), params)


@st.composite
def valid_then_garbage(draw: st.DrawFn, name: str) -> CodecInput:
    """A valid encoding, cut at a drawn point, then random bytes."""
    data, params = _valid(draw, name)
    cut = draw(st.integers(0, len(data)))
    garbage = draw(st.binary(max_size=MAX_INPUT - min(cut, MAX_INPUT)))
    return CodecInput(name, data[:cut] + garbage, params)


@st.composite
def valid_overwritten(draw: st.DrawFn, name: str) -> CodecInput:
    """A valid encoding with up to four bytes replaced."""
    data, params = _valid(draw, name)
    if not data:
        return CodecInput(name, data, params)
    changed = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(changed) - 1))
        changed[position] = draw(st.integers(0, 255))
    return CodecInput(name, bytes(changed), params)


SHAPES: Final = {
    "random": random_bytes,
    "valid-then-garbage": valid_then_garbage,
    "overwritten": valid_overwritten,
}


def check_decodes_or_refuses(item: CodecInput) -> None:
    """Parse ``item``: a value that builds back, or a DecodeError, only."""
    codec = STRATEGIES.codecs[item.name]
    try:
        value = codec.parse(item.data, **item.params)
    except DecodeError:
        return
    assert codec.build(value, **item.params) == item.data
