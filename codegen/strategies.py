"""Hypothesis strategies derived from a spec.

Every spec type gets a strategy of ``(value, params)`` pairs: a value the
type's codec builds, and the parse parameters it needs. Property tests then
check, for every type of every spec file, that ``parse(build(v)) == v`` and
that ``build(parse(b)) == b`` for bytes that parse, so a new message gets
these tests without writing any.

Values stay small: a variable vector holds at most a few elements and at most
:data:`MAX_BYTES` opaque bytes beyond its floor.

Usage::

    from tlsspec.codegen.strategies import SpecStrategies
    strategies = SpecStrategies.from_package(Path("specs"), "tlsspec.generated")
    example = strategies.example("ClientHello")  # SearchStrategy[Example]
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tlsspec.codec import Codec
from tlsspec.codegen.generate import load_spec, spec_files
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
    Spec,
    StructType,
    TypeDef,
    TypeExpr,
    Vector,
)
from tlsspec.errors import EncodeError

__all__ = ["MAX_BYTES", "MAX_ITEMS", "Example", "SpecStrategies"]

MAX_BYTES = 24
MAX_ITEMS = 3
MAX_DEPTH = 6
SMALL_SIZE_PARAM = 48

Draw = Callable[[st.SearchStrategy[Any]], Any]


@dataclass(frozen=True)
class Example:
    """A value of a spec type and the parameters its codec needs."""

    value: Any
    params: dict[str, Any] = field(default_factory=dict)


class _UnbuildableError(Exception):
    """The drawn value cannot satisfy the type's bounds; draw again."""


class SpecStrategies:
    """Strategies for every type of a compiled spec.

    Args:
        spec: The checked model (``tlsspec.codegen.generate.load_spec``).
        codecs: Codec objects by spec type name, from the generated modules.
    """

    def __init__(self, spec: Spec, codecs: dict[str, Codec]) -> None:
        self.spec = spec
        self.codecs = codecs

    @classmethod
    def from_package(cls, spec_dir: Path, package: str) -> SpecStrategies:
        """Load the specs of a folder and the codecs generated from them.

        Args:
            spec_dir: The folder given to ``tlsspec generate``.
            package: Import name of the generated package.
        """
        spec = load_spec(spec_files(spec_dir))
        codecs: dict[str, Codec] = {}
        for module in spec.modules:
            mod = importlib.import_module(f"{package}.{module.name}")
            for name in dir(mod):
                obj = getattr(mod, name)
                if isinstance(obj, Codec):
                    codecs[obj.name] = obj
        return cls(spec, codecs)

    def type_names(self) -> list[str]:
        """Every spec type that has a public codec, in spec order."""
        names = []
        for module in self.spec.modules:
            for item in module.items:
                if isinstance(item, TypeDef) and item.name in self.codecs:
                    names.append(item.name)
        return names

    def example(self, name: str) -> st.SearchStrategy[Example]:
        """Strategy of buildable values of spec type ``name``."""
        t = self.spec.types[name]
        codec = self.codecs[name]
        gen = _Generator(self)

        @st.composite
        def build(draw: Draw) -> Example:
            params = gen.params(draw, name)
            try:
                value = gen.type_value(draw, t, params, 0)
                codec.build(value, **params)
            except (_UnbuildableError, EncodeError):
                from hypothesis import reject

                reject()
            return Example(value, params)

        return build()


class _Generator:
    def __init__(self, owner: SpecStrategies) -> None:
        self.owner = owner
        self.spec = owner.spec

    # -- parameters --------------------------------------------------------

    def params(self, draw: Draw, name: str) -> dict[str, Any]:
        needed = self.spec.params.get(name, {})
        defaults = self.spec.defaults.get(name, {})
        params: dict[str, Any] = {}
        for pname, kind in sorted(needed.items()):
            if pname in defaults:
                continue
            if isinstance(kind, EnumType):
                values = self.param_labels(pname) or [m.value for m in kind.members]
                params[pname] = draw(st.sampled_from(values or [0]))
            else:
                params[pname] = draw(st.integers(0, SMALL_SIZE_PARAM))
        for pname, (_, value) in defaults.items():
            params[pname] = value
        return params

    def param_labels(self, pname: str) -> list[int]:
        labels: set[int] = set()
        for t in self.spec.types.values():
            members: list[Member] = []
            if isinstance(t, StructType):
                members = t.members
            elif isinstance(t, SelectType) and t.select is not None:
                members = [t.select]
            for m in _selects(members):
                if m.tag.kind == "param" and m.tag.name == pname:
                    for arm in m.arms:
                        labels.update(arm.labels)
        return sorted(labels)

    # -- values ------------------------------------------------------------

    def type_value(
        self, draw: Draw, t: TypeDef, params: dict[str, Any], depth: int
    ) -> Any:
        if depth > MAX_DEPTH:
            raise _UnbuildableError
        if isinstance(t, IntType):
            return draw(st.integers(0, 256**t.width - 1))
        if isinstance(t, EnumType):
            return self.enum_value(draw, t)
        if isinstance(t, AliasType):
            assert t.target is not None
            return self.texpr_value(draw, t.target, params, {}, depth + 1)
        if isinstance(t, SelectType):
            assert t.select is not None
            return self.select_value(draw, t.select, params, {}, depth + 1)
        assert isinstance(t, StructType)
        if t.attribute:
            return draw(st.binary(max_size=MAX_BYTES))
        return self.struct_value(draw, t.members, params, depth + 1)

    def enum_value(self, draw: Draw, t: EnumType) -> int:
        known = [m.value for m in t.members]
        unknown = st.integers(0, 256**t.width - 1)
        if known:
            return int(draw(st.one_of(st.sampled_from(known), unknown)))
        return int(draw(unknown))

    def struct_value(
        self, draw: Draw, members: list[Member], params: dict[str, Any], depth: int
    ) -> dict[str, Any]:
        value: dict[str, Any] = {}
        self.members_into(draw, members, value, params, depth)
        return value

    def members_into(
        self,
        draw: Draw,
        members: list[Member],
        value: dict[str, Any],
        params: dict[str, Any],
        depth: int,
    ) -> None:
        local = dict(params)
        tags = {
            m.tag.name: m
            for m in members
            if isinstance(m, SelectMember) and m.tag.kind == "field"
        }
        for m in members:
            if isinstance(m, FieldMember):
                sel = tags.get(m.name)
                if sel is not None and not any(a.is_default for a in sel.arms):
                    labels = sorted({v for a in sel.arms for v in a.labels})
                    value[m.name] = draw(st.sampled_from(labels))
                elif m.fixed is not None:
                    value[m.name] = self.fixed_value(m)
                elif m.computed:
                    value[m.name] = 0
                else:
                    value[m.name] = self.texpr_value(draw, m.texpr, local, value, depth)
                local[m.name] = value[m.name]
            elif isinstance(m, SelectMember):
                selected = self.select_value(draw, m, local, value, depth)
                if m.name is not None:
                    value[m.name] = selected
            elif isinstance(m, OptionalMember):
                if draw(st.booleans()):
                    self.members_into(draw, m.members, value, local, depth)
                else:
                    for name in _names(m.members):
                        value[name] = None
            elif isinstance(m, CipheredMember):
                value[m.name] = draw(st.binary(max_size=MAX_BYTES))
            elif isinstance(m, SignedMember):
                signed = {
                    "algorithm": self.texpr_value(draw, m.algorithm, local, {}, depth),
                    "signature": draw(st.binary(max_size=MAX_BYTES)),
                }
                if m.name is None:
                    value.update(signed)
                else:
                    value[m.name] = signed
        self.fill_lengths(members, value, local)

    def fixed_value(self, m: FieldMember) -> Any:
        assert m.fixed is not None
        codec_value = int.from_bytes(m.fixed, "big")
        scalar = _scalar(m.texpr)
        if scalar is not None:
            return codec_value
        # Struct-typed fixed values are filled in by the codec.
        return None

    def fill_lengths(
        self, members: list[Member], value: dict[str, Any], params: dict[str, Any]
    ) -> None:
        # A computed length must equal what parse will read back.
        for i, m in enumerate(members):
            if not isinstance(m, FieldMember) or not m.computed:
                continue
            for nxt in members[i + 1 :]:
                size = self.sized_member_length(nxt, m.name, value, params)
                if size is not None:
                    value[m.name] = size
                    break

    def sized_member_length(
        self, m: Member, length_name: str, value: dict[str, Any], params: dict[str, Any]
    ) -> int | None:
        if isinstance(m, FieldMember):
            vec = m.texpr.vector
            if vec and vec.size and vec.size.kind == "field":
                if vec.size.name == length_name:
                    return self.encoded_length(m.texpr, value[m.name], params)
            if m.bounds == length_name:
                return self.encoded_length(m.texpr, value[m.name], params)
        if isinstance(m, SelectMember) and m.bounds == length_name and m.name:
            tag = self.tag_value(m, value, params)
            arm = _arm_for(m, tag)
            if arm is None:
                raise _UnbuildableError
            if arm.rest_opaque:
                return len(value[m.name])
            if isinstance(arm.single, TypeExpr):
                return self.encoded_length(arm.single, value[m.name], params)
            if not arm.members and arm.single is None:
                return 0
            raise _UnbuildableError
        return None

    def encoded_length(
        self, texpr: TypeExpr, value: Any, params: dict[str, Any]
    ) -> int:
        if texpr.vector is None:
            size = texpr.base.size
            if size is not None:
                return size
            codec = self.owner.codecs.get(texpr.base.name)
            if codec is None:
                raise _UnbuildableError
            return len(codec.build(value, **params))
        if isinstance(texpr.base, OpaqueType):
            return len(value)
        elem = texpr.base.size
        if elem is None:
            raise _UnbuildableError
        return elem * len(value)

    def tag_value(
        self, m: SelectMember, value: dict[str, Any], params: dict[str, Any]
    ) -> int:
        if m.tag.kind == "field":
            return int(value.get(m.tag.name, params.get(m.tag.name, 0)))
        return int(params.get(m.tag.name, 0))

    def select_value(
        self,
        draw: Draw,
        m: SelectMember,
        params: dict[str, Any],
        value: dict[str, Any],
        depth: int,
        *,
        transparent: bool = False,
    ) -> Any:
        tag = self.tag_value(m, value, params)
        arm = _arm_for(m, tag)
        if arm is None:
            raise _UnbuildableError
        if arm.rest_opaque:
            return draw(st.binary(max_size=MAX_BYTES))
        if isinstance(arm.single, TypeExpr):
            return self.texpr_value(draw, arm.single, params, {}, depth + 1)
        if isinstance(arm.single, SelectMember):
            return self.select_value(
                draw, arm.single, params, value, depth + 1, transparent=True
            )
        if m.name is None and not transparent:
            self.members_into(draw, arm.members, value, params, depth + 1)
            return None
        return self.struct_value(draw, arm.members, params, depth + 1)

    def texpr_value(
        self,
        draw: Draw,
        texpr: TypeExpr,
        params: dict[str, Any],
        value: dict[str, Any],
        depth: int,
    ) -> Any:
        vec = texpr.vector
        if vec is None:
            return self.type_value(draw, texpr.base, params, depth)
        if vec.kind == "fixed":
            size = self.fixed_size(vec, params, value, draw)
            return self.sized_elements(draw, texpr.base, size, params, depth)
        return self.var_elements(draw, texpr.base, vec, params, depth)

    def fixed_size(
        self, vec: Vector, params: dict[str, Any], value: dict[str, Any], draw: Draw
    ) -> int:
        assert vec.size is not None
        if vec.size.kind == "const":
            return vec.size.value
        if vec.size.kind == "param":
            return int(params[vec.size.name])
        # Sized by an earlier (computed) field: choose the size here, once
        # for every vector of the struct that names the same field.
        key = f"{vec.size.name}\0size"
        if key not in params:
            params[key] = draw(st.integers(0, MAX_BYTES))
        return int(params[key])

    def sized_elements(
        self, draw: Draw, elem: TypeDef, size: int, params: dict[str, Any], depth: int
    ) -> Any:
        if isinstance(elem, OpaqueType):
            return draw(st.binary(min_size=size, max_size=size))
        width = elem.size
        if not width or size % width:
            raise _UnbuildableError
        return [
            self.type_value(draw, elem, params, depth + 1) for _ in range(size // width)
        ]

    def var_elements(
        self, draw: Draw, elem: TypeDef, vec: Vector, params: dict[str, Any], depth: int
    ) -> Any:
        if isinstance(elem, OpaqueType):
            high = min(vec.ceiling, vec.floor + MAX_BYTES)
            return draw(st.binary(min_size=vec.floor, max_size=high))
        width = elem.size
        if width:
            low = -(-vec.floor // width)
            high = min(vec.ceiling // width, low + MAX_ITEMS)
            if low > high:
                raise _UnbuildableError
            count = draw(st.integers(low, high))
        else:
            count = draw(st.integers(1 if vec.floor else 0, MAX_ITEMS))
        return [self.type_value(draw, elem, params, depth + 1) for _ in range(count)]


def _scalar(texpr: TypeExpr) -> TypeDef | None:
    t: TypeDef = texpr.base
    if texpr.vector is not None:
        return None
    while isinstance(t, AliasType) and t.target is not None:
        if t.target.vector is not None:
            return None
        t = t.target.base
    return t if isinstance(t, IntType | EnumType) else None


def _arm_for(m: SelectMember, tag: int) -> Arm | None:
    default = None
    for arm in m.arms:
        if tag in arm.labels:
            return arm
        if arm.is_default:
            default = arm
    return default


def _selects(members: list[Member]) -> list[SelectMember]:
    found = []
    for m in members:
        if isinstance(m, SelectMember):
            found.append(m)
            for arm in m.arms:
                found.extend(_selects(arm.members))
                if isinstance(arm.single, SelectMember):
                    found.extend(_selects([arm.single]))
        elif isinstance(m, OptionalMember):
            found.extend(_selects(m.members))
    return found


def _names(members: list[Member]) -> list[str]:
    out = []
    for m in members:
        if isinstance(m, FieldMember | CipheredMember):
            out.append(m.name)
        elif isinstance(m, SelectMember) and m.name:
            out.append(m.name)
    return out
