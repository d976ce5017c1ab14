"""Errors raised by generated codecs.

A codec never lets a ``construct``, ``struct`` or index error escape: every
failure to decode is a :class:`DecodeError` and every failure to encode is an
:class:`EncodeError`. Both name the field path where the problem sits, so a
message such as ``ClientHello.extensions[2].extension_data`` points at the
exact element, and a decode error names the TLS alert (RFC 5246 §7.2.2) that a
peer receiving such bytes must send.
"""

from __future__ import annotations

from construct import ConstructError

__all__ = ["CodecError", "DecodeError", "EncodeError"]


class CodecError(ConstructError):
    """Base class of codec failures.

    Attributes:
        path: Dotted field path, outermost type first, e.g.
            ``"Handshake.body.cipher_suites"``.
        reason: What went wrong, without the path.
    """

    def __init__(self, reason: str, *, path: str = "") -> None:
        self.reason = reason
        self.path = path
        super().__init__(self._render())
        # construct's base class resets `path`; keep ours.
        self.path = path

    def _render(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason

    def prefix(self, part: str) -> None:
        """Prepend one path element (``"Name"``, ``"field"`` or ``"[3]"``)."""
        if not self.path:
            self.path = part
        elif self.path.startswith("["):
            self.path = part + self.path
        else:
            self.path = f"{part}.{self.path}"
        self.args = (self._render(),)

    def __str__(self) -> str:
        return self._render()


class DecodeError(CodecError):
    """Bytes that do not decode as the requested type.

    Attributes:
        offset: Byte offset into the input where the problem was found.
        alert: Name of the RFC 5246 alert description this failure maps to:
            ``"decode_error"`` for truncation, broken bounds and trailing
            bytes, ``"illegal_parameter"`` for a fixed value that differs.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str = "",
        offset: int = 0,
        alert: str = "decode_error",
    ) -> None:
        self.offset = offset
        self.alert = alert
        super().__init__(reason, path=path)

    def _render(self) -> str:
        where = f" (offset {self.offset}, alert {self.alert})"
        return super()._render() + where


class EncodeError(CodecError):
    """A value that cannot be encoded as the requested type."""
