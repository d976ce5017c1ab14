"""Compiler diagnostics: every error names ``file:line:col`` and a fix."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Pos", "SpecError", "SpecErrors", "byte_count"]


@dataclass(frozen=True, slots=True)
class Pos:
    """A place in a spec file; line and column count from 1."""

    file: str
    line: int
    col: int
    source: str = field(default="", repr=False, compare=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def source_line(self) -> str:
        lines = self.source.splitlines()
        if 1 <= self.line <= len(lines):
            return lines[self.line - 1]
        return ""


class SpecError(Exception):
    """One problem in a spec file.

    Attributes:
        pos: Where the problem is.
        message: What is wrong.
        hint: How to fix it.
    """

    def __init__(self, pos: Pos, message: str, hint: str = "") -> None:
        self.pos = pos
        self.message = message
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        """Return the diagnostic as the compiler prints it."""
        text = f"{self.pos}: error: {self.message}"
        line = self.pos.source_line()
        if line:
            shown, at = _clip(line.expandtabs(1), self.pos.col - 1)
            text += f"\n    {shown}\n    {' ' * at}^"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


# The most of a source line a diagnostic echoes: a generated or pasted
# spec can hold a line of megabytes, and the caret needs only its context.
ECHO_WIDTH = 100
_CUT = "..."


def _clip(line: str, col: int) -> tuple[str, int]:
    """``line`` cut to a window around ``col``, and where ``col`` now is."""
    if len(line) <= ECHO_WIDTH:
        return line, col
    start = min(max(col - ECHO_WIDTH // 2, 0), len(line) - ECHO_WIDTH)
    start = max(start, 0)
    end = start + ECHO_WIDTH
    shown = line[start:end]
    at = col - start
    if start > 0:
        shown = _CUT + shown
        at += len(_CUT)
    if end < len(line):
        shown += _CUT
    return shown, at


def byte_count(n: int) -> str:
    """``n`` bytes, in words: "1 byte", "2 bytes"."""
    return f"{n} byte" if n == 1 else f"{n} bytes"


class SpecErrors(Exception):  # noqa: N818 - a batch of SpecError
    """Several problems found in one compile, in source order."""

    def __init__(self, errors: list[SpecError]) -> None:
        # A check that runs again over a grown definition (each 'extend'
        # re-checks the select it extends) finds the same problem again;
        # each is reported once.
        unique = {(e.pos, e.message): e for e in reversed(errors)}
        self.errors = sorted(
            unique.values(), key=lambda e: (e.pos.file, e.pos.line, e.pos.col)
        )
        super().__init__(self.render())

    def render(self) -> str:
        """Return all diagnostics, one block each."""
        return "\n".join(e.render() for e in self.errors)
