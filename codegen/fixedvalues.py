"""Fixed values: ``uint8 type = 1;`` and constants, checked and encoded.

A fixed value is written in the spec as a number, an enum member, a
constant or a braced list, and kept as the bytes it encodes to, so a codec
compares or writes those bytes without knowing where they came from.
"""

from __future__ import annotations

from typing import Any

from tlsspec.codegen import syntax as ast
from tlsspec.codegen.diagnostics import Pos, byte_count
from tlsspec.codegen.model import (
    AliasType,
    EnumType,
    FieldMember,
    IntType,
    OpaqueType,
    StructType,
    TypeExpr,
)


class FixedValueRules:
    """Analysis steps for fixed values; mixed into the analyzer."""

    # Provided by the analyzer.
    error: Any
    const_expr: Any

    def encode_fixed(self, fixed: ast.FixedValue, texpr: TypeExpr) -> bytes:
        value = self.fixed_value(fixed, texpr)
        return self.encode_value(value, texpr, fixed.pos)

    def fixed_value(self, fixed: ast.FixedValue, texpr: TypeExpr) -> object:
        base = texpr.base
        while isinstance(base, AliasType) and texpr.vector is None and base.target:
            texpr = base.target
            base = texpr.base
        items = list(fixed.items)
        if not fixed.braced:
            expr = items[0]
            if (
                isinstance(expr, ast.Ref)
                and isinstance(base, EnumType)
                and texpr.vector is None
            ):
                value = base.lookup(expr.name)
                if value is None:
                    raise self.error(
                        expr.pos,
                        f"{expr.name!r} is not a member of enum {base.name}",
                        f"use one of: {', '.join(base.member_names()[:10])}",
                    )
                return value
            return self.const_expr(expr, "fixed value")
        values = [self.const_expr(e, "fixed value") for e in items]
        if isinstance(base, StructType):
            fields = [m for m in base.members if isinstance(m, FieldMember)]
            if len(fields) != len(values) or len(fields) != len(base.members):
                raise self.error(
                    fixed.pos,
                    f"{len(values)} values given for {base.name}, which has "
                    f"{len(base.members)} fields",
                    "give one value per field",
                )
            return {f.name: v for f, v in zip(fields, values, strict=True)}
        if texpr.vector is not None and texpr.vector.kind == "fixed":
            return values
        if len(values) == 1:
            return values[0]
        # `uint16 v = { 3, 3 }` spells the two bytes.
        return values

    def encode_value(self, value: object, texpr: TypeExpr, pos: Pos) -> bytes:
        base = texpr.base
        vec = texpr.vector
        if vec is not None:
            if not isinstance(value, list):
                raise self.error(
                    pos, "a vector needs a braced list of values", "write { a, b }"
                )
            elem = TypeExpr(base)
            data = b"".join(self.encode_value(v, elem, pos) for v in value)
            if (
                vec.kind == "fixed"
                and texpr.size is not None
                and len(data) != texpr.size
            ):
                raise self.error(
                    pos,
                    f"value has {len(data)} bytes, the type needs {texpr.size}",
                    "give exactly as many values as the vector holds",
                )
            if vec.kind == "var":
                return len(data).to_bytes(vec.width, "big") + data
            return data
        if isinstance(base, AliasType) and base.target is not None:
            return self.encode_value(value, base.target, pos)
        if isinstance(base, IntType | EnumType | OpaqueType):
            width = base.size or 1
            if isinstance(value, list):
                if len(value) != width or any(not 0 <= v <= 255 for v in value):
                    raise self.error(
                        pos,
                        f"{len(value)} byte values given for a {width}-byte type",
                        f"give {width} byte values, or one number",
                    )
                return bytes(value)
            assert isinstance(value, int)
            if not 0 <= value < 256**width:
                raise self.error(
                    pos,
                    f"value {value} does not fit {base.name} ({byte_count(width)})",
                    "use a smaller value",
                )
            return value.to_bytes(width, "big")
        if isinstance(base, StructType) and isinstance(value, dict):
            out = b""
            for m in base.members:
                assert isinstance(m, FieldMember)
                out += self.encode_value(value[m.name], m.texpr, pos)
            return out
        raise self.error(
            pos,
            f"fixed values of type {base.name} are not supported",
            "give fixed values only to integer, enum, opaque and struct types",
        )
