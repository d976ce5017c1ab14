"""Mutated real transcripts: the engine continues or fails with one alert.

Each target replays what one side received in a real connection (ours or
OpenSSL's, full or resumed, AEAD or CBC), changed by hypothesis: bytes
flipped, truncated, records split, merged, reordered, duplicated, dropped
or injected, length fields changed, and fed in drawn chunk sizes.  The
invariant (``harness.py``) is checked after every call; the same stream fed
whole and in chunks must end the same way.
"""

from __future__ import annotations

import pytest

from tests.hostile.fuzzing import fuzz_settings, mutation_target, replay_target
from tests.hostile.transcripts import TRANSCRIPT_NAMES

#: Chunkings of each untouched transcript.
REPLAY_EXAMPLES = 15


@pytest.mark.parametrize("name", TRANSCRIPT_NAMES)
def test_untouched_transcript_ends_as_recorded_however_it_is_cut(name: str) -> None:
    replay_target(name).run(fuzz_settings(max_examples=REPLAY_EXAMPLES))


@pytest.mark.parametrize("name", TRANSCRIPT_NAMES)
def test_mutated_transcript_continues_or_ends_in_one_fatal_alert(name: str) -> None:
    mutation_target(name).run(fuzz_settings())
