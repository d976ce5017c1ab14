"""The TLS 1.2 runtime: codecs' partners for a sans-I/O client and server.

The engine's public names are imported lazily, so importing one building
block (``tlsspec.runtime.prf``) does not pull in the whole engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tlsspec.runtime.client import ClientConnection
    from tlsspec.runtime.config import ClientConfig, ServerConfig
    from tlsspec.runtime.server import ServerConnection
    from tlsspec.runtime.session import Session

__all__ = [
    "ClientConfig",
    "ClientConnection",
    "ServerConfig",
    "ServerConnection",
    "Session",
]

_HOMES = {
    "ClientConfig": "tlsspec.runtime.config",
    "ServerConfig": "tlsspec.runtime.config",
    "ClientConnection": "tlsspec.runtime.client",
    "ServerConnection": "tlsspec.runtime.server",
    "Session": "tlsspec.runtime.session",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tlsspec.runtime' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
