"""Python source as the emitter writes it: indented lines and value targets.

A generated function is a list of lines. ``Code`` indents them, opens blocks
and hands out numbered temporaries, whose names depend only on the order in
which a type's function is written, so output is the same on every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Code", "Ctx", "hoist_first_path", "join_path", "lazy_alias"]


class Code:
    """The lines of one generated function body."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1
        self.temps = 0

    def __call__(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self(header)
        self.depth += 1
        yield
        self.depth -= 1

    def temp(self, stem: str) -> str:
        self.temps += 1
        return f"{stem}{self.temps}"


def lazy_alias(module: str) -> str:
    """The name a module imported at the end of another one goes by."""
    return f"_m_{module}"


@dataclass
class Ctx:
    """Where generated statements put a member's value."""

    target: str  # Container variable receiving named members
    path: str  # path prefix for `f`
    lim: str  # variable holding the current parse limit


def hoist_first_path(lines: list[str]) -> list[str]:
    """``f = ""`` then, first thing in the ``try``, ``f = "field"``: set it once."""
    if len(lines) > 2 and lines[0].strip() == 'f = ""':
        for i, line in enumerate(lines[1:4], start=1):
            if line.strip() == "try:" and i + 1 < len(lines):
                first = lines[i + 1].strip()
                if first.startswith('f = "'):
                    return ["    " + first, *lines[1 : i + 1], *lines[i + 2 :]]
                break
    return lines


def join_path(path: str, name: str | None) -> str:
    """``path.name``, or whichever of the two is not empty."""
    if not name:
        return path
    return f"{path}.{name}" if path else name
