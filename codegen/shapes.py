"""What the emitter asks about a type's wire shape.

Which integer or enum a type expression comes down to, the fewest bytes a
value can take, and whether a vector's ceiling needs a check of its own.
"""

from __future__ import annotations

from tlsspec.codegen.model import (
    AliasType,
    Arm,
    CipheredMember,
    EnumType,
    FieldMember,
    IntType,
    Member,
    OpaqueType,
    OptionalMember,
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
    "container_keys",
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


def container_keys(members: list[Member]) -> tuple[list[str], list[str]] | None:
    """Every key parse may put in the members' container, and those of them
    build may do without (the rest it reads on every path).

    None when a nameless select has an arm that is no list of members: its
    value is the container itself, and no key set describes it.
    """
    keys: list[str] = []
    optional: list[str] = []
    for m in members:
        if isinstance(m, FieldMember):
            keys.append(m.name)
            # A computed length is written from its body; a fixed value may
            # be left out.
            if m.computed or m.fixed is not None:
                optional.append(m.name)
        elif isinstance(m, CipheredMember) or (isinstance(m, SelectMember) and m.name):
            keys.append(m.name or "")
        elif isinstance(m, SignedMember):
            keys += [m.name] if m.name else ["algorithm", "signature"]
        elif isinstance(m, OptionalMember | SelectMember):
            inner = (
                [m.members]
                if isinstance(m, OptionalMember)
                else [_arm_members(arm) for arm in m.arms]
            )
            for group in inner:
                found = None if group is None else container_keys(group)
                if found is None:
                    return None
                new = [k for k in found[0] if k not in keys]
                keys += new
                optional += new
    return keys, optional


def _arm_members(arm: Arm) -> list[Member] | None:
    if arm.rest_opaque or isinstance(arm.single, TypeExpr):
        return None
    if isinstance(arm.single, SelectMember):
        return [arm.single]
    return arm.members
