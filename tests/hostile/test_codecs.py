"""Hostile bytes never make a generated codec raise anything but DecodeError.

Extends tests/test_properties.py (64 random bytes) to long inputs and to
inputs that start as a valid encoding and turn into garbage, for every
type of every spec file; see codec_inputs.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.hostile.codec_inputs import (
    SHAPES,
    TYPES,
    CodecInput,
    check_decodes_or_refuses,
)
from tests.hostile.fuzzing import fuzz_settings

#: Examples per type and input shape.
EXAMPLES = 25


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", TYPES)
def test_hostile_bytes_decode_or_raise_decode_error(name: str, shape: str) -> None:
    @fuzz_settings(max_examples=EXAMPLES)
    @given(SHAPES[shape](name))
    def check(item: CodecInput) -> None:
        check_decodes_or_refuses(item)

    check()
