"""Walking the model and the syntax trees during analysis."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tlsspec.codegen import syntax as ast
from tlsspec.codegen.diagnostics import Pos
from tlsspec.codegen.model import (
    AliasType,
    CipheredMember,
    FieldMember,
    Member,
    OptionalMember,
    SelectMember,
    SelectType,
    SignedMember,
    StructType,
    TypeDef,
    TypeExpr,
)


@dataclass
class Scope:
    struct: str
    fields: dict[str, FieldMember]
    parent: Scope | None = None

    def find(self, name: str) -> FieldMember | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.fields:
                return scope.fields[name]
            scope = scope.parent
        return None

    def names(self) -> Iterator[str]:
        scope: Scope | None = self
        while scope is not None:
            yield scope.struct
            scope = scope.parent


def unalias(t: TypeDef | None) -> TypeDef | None:
    while isinstance(t, AliasType) and t.target is not None and t.target.vector is None:
        t = t.target.base
    return t


def walk_fields(nodes: Iterable[ast.FieldNode]) -> Iterator[ast.FieldNode]:
    for n in nodes:
        yield n
        yield from walk_fields(n.fields)
        for arm in n.arms:
            yield from walk_fields(arm.fields)


def scope_fields(scope: Scope) -> Iterator[FieldMember]:
    s: Scope | None = scope
    while s is not None:
        yield from s.fields.values()
        s = s.parent


def all_members(members: Iterable[Member]) -> Iterator[Member]:
    for m in members:
        yield m
        if isinstance(m, SelectMember):
            for arm in m.arms:
                yield from all_members(arm.members)
                if isinstance(arm.single, SelectMember):
                    yield from all_members([arm.single])
        elif isinstance(m, OptionalMember):
            yield from all_members(m.members)


def flat_named(members: Iterable[Member]) -> Iterator[tuple[str, Pos]]:
    for m in members:
        if isinstance(m, FieldMember | CipheredMember):
            yield m.name, m.pos
        elif isinstance(m, SignedMember):
            if m.name is None:
                yield "algorithm", m.pos
                yield "signature", m.pos
            else:
                yield m.name, m.pos
        elif isinstance(m, SelectMember):
            if m.name is not None:
                yield m.name, m.pos
        elif isinstance(m, OptionalMember):
            yield from flat_named(m.members)


def texpr_deps(texpr: TypeExpr) -> Iterator[str]:
    if texpr.base.module:
        yield texpr.base.name


def dependencies(t: TypeDef) -> Iterator[str]:
    if isinstance(t, AliasType) and t.target is not None:
        yield from texpr_deps(t.target)
    elif isinstance(t, StructType):
        yield from member_deps(t.members)
    elif isinstance(t, SelectType) and t.select is not None:
        yield from member_deps([t.select])


def member_deps(members: Iterable[Member]) -> Iterator[str]:
    for m in members:
        if isinstance(m, FieldMember):
            if isinstance(m.texpr.base, StructType) and "." in m.texpr.base.name:
                yield from member_deps(m.texpr.base.members)
            else:
                yield from texpr_deps(m.texpr)
        elif isinstance(m, SelectMember):
            for arm in m.arms:
                if isinstance(arm.single, TypeExpr):
                    yield from texpr_deps(arm.single)
                elif isinstance(arm.single, SelectMember):
                    yield from member_deps([arm.single])
                yield from member_deps(arm.members)
        elif isinstance(m, OptionalMember):
            yield from member_deps(m.members)
        elif isinstance(m, SignedMember):
            yield from texpr_deps(m.algorithm)
