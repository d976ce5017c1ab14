"""How spec names become Python names, shared by the compiler and codecs."""

from __future__ import annotations

import keyword
import re

__all__ = ["python_name"]


def python_name(name: str) -> str:
    """Map a spec name to a valid Python identifier.

    ``ASN.1Cert`` -> ``ASN_1Cert``, ``3des`` -> ``_3des``, ``2^9`` ->
    ``_2_pow_9``, a Python keyword gets a trailing underscore.
    """
    out = name.replace("^", "_pow_").replace(".", "_")
    out = re.sub(r"[^A-Za-z0-9_]", "_", out)
    if out[:1].isdigit():
        out = "_" + out
    if keyword.iskeyword(out):
        out += "_"
    return out
