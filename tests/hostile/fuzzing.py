"""Fuzz targets and the hypothesis profiles that run them.

A :class:`FuzzTarget` is a strategy and a check.  The tests in this folder
run each target under the CI profile: a fixed number of examples,
derandomized, so every run tries the same inputs and finishes in bounded
time.  ``scripts/fuzz.py --minutes N`` runs the same targets under the
long profile, with fresh randomness and an example database, for as long
as it is told.

The profile is picked by the ``TLSSPEC_FUZZ_PROFILE`` environment variable
(default :data:`CI_PROFILE`).
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from tests.hostile.harness import check_mutation, check_replay, watchdog
from tests.hostile.mutations import CHUNK_SIZES, Mutation, mutations
from tests.hostile.transcripts import TRANSCRIPT_NAMES, transcript_named

PROFILE_VARIABLE: Final = "TLSSPEC_FUZZ_PROFILE"
CI_PROFILE: Final = "hostile-ci"
LONG_PROFILE: Final = "hostile-long"
#: Examples per mutation target in CI; ten targets.
CI_EXAMPLES: Final = 120
#: Examples per target and round of a long run.
LONG_BATCH: Final = 500
DATABASE: Final = Path(__file__).resolve().parents[2] / ".hypothesis" / "fuzz"
_QUIET: Final = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
]

#: How many examples each target ran in this process.
EXAMPLES_RUN: Final[collections.Counter[str]] = collections.Counter()


def register_profiles() -> None:
    """Register the CI and long-run profiles (idempotent)."""
    settings.register_profile(
        CI_PROFILE,
        max_examples=CI_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=_QUIET,
        print_blob=True,
    )
    settings.register_profile(
        LONG_PROFILE,
        max_examples=LONG_BATCH,
        derandomize=False,
        deadline=None,
        database=DirectoryBasedExampleDatabase(str(DATABASE)),
        suppress_health_check=_QUIET,
        print_blob=True,
    )


def fuzz_settings(**overrides: Any) -> settings:
    """The profile named by ``TLSSPEC_FUZZ_PROFILE``, with ``overrides``."""
    register_profiles()
    profile = settings.get_profile(os.environ.get(PROFILE_VARIABLE, CI_PROFILE))
    return settings(profile, **overrides)


@dataclass(frozen=True)
class FuzzTarget:
    """Something to fuzz, run under given settings."""

    name: str
    runner: Callable[[settings], None]

    def run(self, run_settings: settings) -> None:
        """Run as many examples as ``run_settings`` say.

        Raises:
            Exception: The failure hypothesis found, after shrinking.
        """
        self.runner(run_settings)


def property_target(
    name: str, strategy: st.SearchStrategy[Any], check: Callable[[Any], None]
) -> FuzzTarget:
    """A target whose examples from ``strategy`` must pass ``check``."""

    def runner(run_settings: settings) -> None:
        @run_settings
        @given(strategy)
        def example(value: Any) -> None:
            EXAMPLES_RUN[name] += 1
            with watchdog():
                check(value)

        example()

    return FuzzTarget(name, runner)


def mutation_target(name: str) -> FuzzTarget:
    """A recorded transcript, mutated, fed in drawn chunks."""

    def check(mutation: Mutation) -> None:
        transcript = transcript_named(name)
        stream = mutation.apply(transcript.stream)
        check_mutation(transcript, mutation.chunks(stream), stream)

    return property_target(f"mutate:{name}", mutations(), check)


def replay_target(name: str) -> FuzzTarget:
    """A recorded transcript, untouched, fed in drawn chunks."""

    def check(sizes: tuple[int, ...]) -> None:
        transcript = transcript_named(name)
        chunks = Mutation(False, (), (), sizes).chunks(transcript.stream)
        check_replay(transcript, chunks)

    return property_target(f"replay:{name}", CHUNK_SIZES, check)


def message_order_target(steps: int) -> FuzzTarget:
    """The state machine of orders.py, ``steps`` steps per sequence."""
    from hypothesis.stateful import run_state_machine_as_test

    from tests.hostile.orders import MessageOrders

    def runner(run_settings: settings) -> None:
        before = MessageOrders.examples_run
        try:
            # Each engine call runs under its own watchdog (orders.py).
            run_state_machine_as_test(
                MessageOrders,
                settings=settings(run_settings, stateful_step_count=steps),
            )
        finally:
            EXAMPLES_RUN["orders"] += MessageOrders.examples_run - before

    return FuzzTarget("orders", runner)


def codec_target() -> FuzzTarget:
    """Hostile bytes for a drawn spec type, in a drawn shape."""
    from tests.hostile.codec_inputs import SHAPES, TYPES, check_decodes_or_refuses

    inputs = st.sampled_from(sorted(SHAPES)).flatmap(
        lambda shape: st.sampled_from(TYPES).flatmap(SHAPES[shape])
    )
    return property_target("codecs", inputs, check_decodes_or_refuses)


def all_targets(*, steps: int = 30) -> list[FuzzTarget]:
    """Every target: mutations, the state machine, codecs, then replays."""
    out = [mutation_target(name) for name in TRANSCRIPT_NAMES]
    out.append(message_order_target(steps))
    out.append(codec_target())
    out += [replay_target(name) for name in TRANSCRIPT_NAMES]
    return out
