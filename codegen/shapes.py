"""What the emitter asks about a type's wire shape.

Which integer or enum a type expression comes down to, the fewest bytes a
value can take, and whether a vector's ceiling needs a check of its own.
"""

from __future__ import annotations

from tlsspec.codegen.model import (
    AliasType,
    CipheredMember,
    EnumType,
    FieldMember,
    IntType,
    Member,
    OpaqueType,
    SelectMember,
    SelectType,
    SignedMember,
    StructType,
    TypeDef,
    TypeExpr,
    Vector,
)

__all__ = [
    "LIST_FMT",
    "ceiling_checked",
    "inline_alias",
    "member_names",
    "min_size",
    "unalias_scalar",
]

# `struct` format letter of each integer width a list packs in one call.
LIST_FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}


def unalias_scalar(texpr: TypeExpr) -> TypeDef | None:
    """The int or enum type behind a scalar type expression, if any."""
    t: TypeDef = texpr.base
    if texpr.vector is not None:
        return None
    while isinstance(t, AliasType) and t.target is not None:
        if t.target.vector is not None:
            return None
        t = t.target.base
    return t if isinstance(t, IntType | EnumType) else None


def min_size(texpr: TypeExpr, seen: frozenset[int] = frozenset()) -> int:
    """The fewest bytes a value of ``texpr`` can take."""
    vec = texpr.vector
    if vec is not None:
        if vec.kind == "var":
            return vec.width + vec.floor
        return texpr.size or 0
    t = texpr.base
    if id(t) in seen:
        return 0
    seen = seen | {id(t)}
    if isinstance(t, IntType | EnumType | OpaqueType):
        return t.size or 1
    if isinstance(t, AliasType) and t.target is not None:
        return min_size(t.target, seen)
    if isinstance(t, SelectType) and t.select is not None:
        return _members_min([t.select], seen)
    if isinstance(t, StructType) and not t.attribute:
        return _members_min(t.members, seen)
    return 0


def _members_min(members: list[Member], seen: frozenset[int]) -> int:
    total = 0
    for m in members:
        if isinstance(m, FieldMember):
            total += min_size(m.texpr, seen)
        elif isinstance(m, SignedMember):
            total += min_size(m.algorithm, seen) + 2
        elif isinstance(m, SelectMember):
            if m.vector is not None:
                total += m.vector.width + m.vector.floor
                continue
            sizes = []
            for arm in m.arms:
                if arm.rest_opaque:
                    sizes.append(0)
                elif isinstance(arm.single, TypeExpr):
                    sizes.append(min_size(arm.single, seen))
                elif isinstance(arm.single, SelectMember):
                    sizes.append(_members_min([arm.single], seen))
                else:
                    sizes.append(_members_min(arm.members, seen))
            total += min(sizes, default=0)
    return total


def ceiling_checked(vec: Vector) -> bool:
    """Whether the ceiling is below the prefix's maximum, so checked apart."""
    return vec.ceiling < 256**vec.width - 1


def inline_alias(t: TypeDef) -> bool:
    """Whether an alias of a plain vector is read and written in place."""
    if not isinstance(t, AliasType) or t.target is None:
        return False
    vec = t.target.vector
    if vec is None or (vec.size is not None and vec.size.kind == "field"):
        return False
    elem = t.target.base
    return isinstance(elem, OpaqueType) or unalias_scalar(TypeExpr(elem)) is not None


def member_names(members: list[Member]) -> list[str]:
    """The keys members put in their container, in spec order."""
    names = []
    for m in members:
        if isinstance(m, FieldMember | CipheredMember):
            names.append(m.name)
        elif isinstance(m, SelectMember) and m.name:
            names.append(m.name)
        elif isinstance(m, SignedMember):
            names.extend([m.name] if m.name else ["algorithm", "signature"])
    return names
