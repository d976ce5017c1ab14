"""The model as Python source: straight-line parse and build functions.

Each spec type becomes a ``_parse_Name(buf, pos, end, ctx)`` function that
returns ``(value, new_pos)`` and never reads past ``end``, and a
``_build_Name(value, out, ctx)`` function that appends to a ``bytearray``.
Every bound, exact-consumption and element-multiple check the RFC demands is
written out inline, so the fast path is the only path. The functions keep the
name of the member being worked on in a local ``f``; a failure deeper down
gets that name prefixed, which yields paths such as
``ClientHello.extensions[2].extension_data``.

A select with many arms, each a call to a type's function (``Handshake.body``),
looks the function up in a dict printed after the type's functions, rather
than comparing its tag with each arm in turn.

This module decides the code; ``templates/module.py.j2`` only lays it out.
"""

from __future__ import annotations

from tlsspec.codegen.buildfuncs import BuildEmitter
from tlsspec.codegen.parsefuncs import ParseEmitter
from tlsspec.codegen.pycode import lazy_alias

__all__ = ["Emitter", "lazy_alias"]


class Emitter(ParseEmitter, BuildEmitter):
    """Writes the parse and build functions of one module's types.

    Call ``start_type`` before a type's ``parse_function`` and
    ``build_function``; ``refs``, ``lazy_refs`` and ``tables`` then say what
    the module must import and print after the type's functions.
    """
