"""The clock and the random source that configs and key rings are given.

Both are injected, so tests can fix time and randomness, and both are the
caller's code: a source that returns the wrong thing is a mistake of the
caller, not of the peer.  Each value is checked where it is drawn, so the
mistake is named there (``random(32) returned 1 byte``) instead of
surfacing later as an encoding or arithmetic error in a message that was
never meant to carry it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["Clock", "Random", "check_callable", "checked_clock", "checked_random"]

Clock = Callable[[], float]
Random = Callable[[int], bytes]


def check_callable(name: str, value: object) -> None:
    """Refuse a clock or random source that cannot be called.

    Raises:
        TypeError: ``value`` is not callable; the message names ``name``.
    """
    if not callable(value):
        raise TypeError(f"{name}: expected a callable, got {type(value).__name__}")


def checked_random(source: Random) -> Random:
    """Wrap ``source`` so that each call returns exactly the bytes asked for.

    Args:
        source: ``random(n)``, e.g. ``os.urandom``.

    Returns:
        A callable like ``source`` that raises instead of returning
        anything but ``n`` bytes: ``TypeError`` for another type,
        ``ValueError`` for another length.
    """

    def random(n: int) -> bytes:
        value = source(n)
        if type(value) is bytes and len(value) == n:
            return value
        if not isinstance(value, bytes):
            raise TypeError(
                f"random({n}) returned {type(value).__name__}; expected {n} bytes"
            )
        got = len(value)
        raise ValueError(
            f"random({n}) returned {got} byte{'' if got == 1 else 's'}; expected {n}"
        )

    return random


def checked_clock(source: Clock) -> Clock:
    """Wrap ``source`` so that each call returns a finite number of seconds.

    Args:
        source: ``clock()``, e.g. ``time.time``.

    Returns:
        A callable like ``source`` that raises ``TypeError`` for a value
        that is not an int or float (bools included) and ``ValueError`` for
        NaN or an infinity.
    """

    def clock() -> float:
        value = source()
        kind = type(value)
        if kind is float or kind is int:
            if kind is int or math.isfinite(value):
                return value
            raise ValueError(f"clock() returned {value}; expected finite seconds")
        raise TypeError(
            f"clock() returned {type(value).__name__}; expected seconds as "
            "an int or float"
        )

    return clock
