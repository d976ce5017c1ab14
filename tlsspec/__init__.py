"""tlsspec: RFC presentation-language TLS definitions compiled to construct codecs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tlsspec.errors import DecodeError, EncodeError

__all__ = ["DecodeError", "EncodeError"]


def __getattr__(name: str) -> Any:
    # The errors load construct, tens of milliseconds: on first use, so the
    # command line is quick to start and a Ctrl-C then meets its handler.
    if name in __all__:
        from tlsspec import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'tlsspec' has no attribute {name!r}")
