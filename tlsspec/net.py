"""``tlsspec serve`` and ``tlsspec connect``: the engine on real sockets.

The engine is sans-I/O; these commands move its bytes over asyncio streams.
Every byte each side sends also goes through a :class:`~tlsspec.trace.WireTrace`,
so ``--trace`` draws the messages that really crossed.

This module is the public face of both: :mod:`tlsspec.serve` and
:mod:`tlsspec.connect` hold the commands, :mod:`tlsspec.netbase` what they
share (option files, timeouts, the key log, trace printing).  The names
imported ``as`` themselves are not public; they are re-exported for callers
that build configurations the way the commands do.
"""

from __future__ import annotations

from tlsspec.connect import ConnectError as ConnectError
from tlsspec.connect import ConnectOptions, connect
from tlsspec.connect import client_config as client_config
from tlsspec.netbase import OptionError
from tlsspec.netbase import _reason as _reason
from tlsspec.serve import ServeOptions, serve
from tlsspec.serve import server_config as server_config

__all__ = ["ConnectOptions", "OptionError", "ServeOptions", "connect", "serve"]
