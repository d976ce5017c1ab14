"""Run the hostile-input fuzz targets for as long as asked.

    .venv/bin/python scripts/fuzz.py --minutes 30
    .venv/bin/python scripts/fuzz.py --minutes 5 --only mutate:openssl --only orders

The targets are those of ``tests/hostile`` (mutated OpenSSL and tlsspec
transcripts, message orders against the state table, replays in random
chunkings, hostile bytes for every codec), run round-robin in batches
under the long-run hypothesis profile: fresh randomness each batch, and
an example database in ``.hypothesis/fuzz`` so a failure found once is
tried first next time.  A target that fails is reported (with hypothesis'
``@reproduce_failure`` blob) and left out of later rounds.

At the end it prints, per target, the examples run and whether it failed,
and exits 1 when anything failed.  The CI tests run the same targets with
a fixed, derandomized number of examples.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The profile is read when the targets run: pick the long one first.
os.environ.setdefault("TLSSPEC_FUZZ_PROFILE", "hostile-long")

from tests.hostile.fuzzing import (  # noqa: E402 - needs the path set above
    EXAMPLES_RUN,
    LONG_BATCH,
    FuzzTarget,
    all_targets,
    fuzz_settings,
)

#: Seconds between progress lines.
_PROGRESS_EVERY = 30.0
#: Examples per target in the first round, so that every target runs some
#: before the long batches start, however short the run.
_FIRST_ROUND_BATCH = 20


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--minutes",
        type=float,
        required=True,
        help="how long to fuzz; a batch that has started is finished",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=LONG_BATCH,
        help=f"examples per target and round (default {LONG_BATCH})",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="run only targets whose name contains TEXT (repeatable)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=50,
        help="steps per message-order sequence (default 50)",
    )
    return parser.parse_args(argv)


def _selected(only: list[str], steps: int) -> list[FuzzTarget]:
    targets = all_targets(steps=steps)
    if only:
        targets = [t for t in targets if any(text in t.name for text in only)]
    return targets


def _report_failure(target: FuzzTarget, error: BaseException) -> str:
    text = "".join(traceback.format_exception(error))
    print(f"\nFAILED {target.name}\n{text}", flush=True)
    return text


def _fuzz(targets: list[FuzzTarget], minutes: float, batch: int) -> dict[str, str]:
    failures: dict[str, str] = {}
    deadline = time.monotonic() + minutes * 60
    next_progress = time.monotonic() + _PROGRESS_EVERY
    rounds = 0
    while time.monotonic() < deadline:
        alive = [t for t in targets if t.name not in failures]
        if not alive:
            break
        rounds += 1
        size = min(batch, _FIRST_ROUND_BATCH) if rounds == 1 else batch
        for target in alive:
            if time.monotonic() >= deadline:
                break
            try:
                target.run(fuzz_settings(max_examples=size))
            except Exception as error:
                failures[target.name] = _report_failure(target, error)
            if time.monotonic() >= next_progress:
                total = sum(EXAMPLES_RUN.values())
                print(
                    f"in round {rounds}: {total} examples so far, "
                    f"{len(failures)} failed"
                )
                next_progress = time.monotonic() + _PROGRESS_EVERY
    return failures


def main(argv: list[str] | None = None) -> int:
    """Fuzz for ``--minutes``; return 1 if any target failed."""
    args = _arguments(argv)
    targets = _selected(args.only, args.steps)
    if not targets:
        print("no target matches", args.only, file=sys.stderr)
        return 2
    print(f"fuzzing {len(targets)} targets for {args.minutes:g} minutes")
    started = time.monotonic()
    failures = _fuzz(targets, args.minutes, args.batch)

    elapsed = time.monotonic() - started
    print(f"\n{'target':<48} {'examples':>9}  result")
    not_run = 0
    for target in targets:
        if target.name in failures:
            result = "FAILED"
        elif EXAMPLES_RUN[target.name] == 0:
            result = "not run"
            not_run += 1
        else:
            result = "ok"
        print(f"{target.name:<48} {EXAMPLES_RUN[target.name]:>9}  {result}")
    total = sum(EXAMPLES_RUN[t.name] for t in targets)
    print(
        f"\n{total} examples in {elapsed:.0f} s; "
        f"{len(failures)} of {len(targets)} targets failed, {not_run} not run"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
