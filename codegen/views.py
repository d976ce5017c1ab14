"""What the module template prints, laid out from the model.

The emitter (:mod:`tlsspec.codegen.emit`) writes the parse and build
functions; this module gathers them with enums, constants and the spec text
each definition came from, in spec order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from tlsspec.codegen.emit import Emitter, lazy_alias
from tlsspec.codegen.model import (
    Constant,
    EnumType,
    FieldMember,
    Member,
    Module,
    OptionalMember,
    SelectMember,
    SelectType,
    Spec,
    StructType,
    TypeDef,
)

__all__ = ["ConstView", "EnumView", "ModuleView", "TypeView", "module_view"]


@dataclass
class EnumView:
    name: str
    spec_name: str
    module: str
    text: str
    width: int
    members: list[tuple[str, int]]
    ranges: list[tuple[str, int, int]]


@dataclass
class TypeView:
    name: str
    spec_name: str
    text: str
    parse_lines: list[str]
    build_lines: list[str]
    tables: list[str]
    public: bool
    size: int | None
    params: list[str]
    defaults: list[tuple[str, str]]
    enum_params: list[tuple[str, str]]
    doc: str


@dataclass
class ConstView:
    name: str
    text: str
    value: str


@dataclass
class ModuleView:
    name: str
    spec_file: str
    sha256: str
    imports: list[tuple[str, list[str]]]
    items: list[EnumView | TypeView | ConstView]
    exports: list[str]
    ranges: list[tuple[str, list[tuple[str, int, int]]]]
    # (module, alias) imported at the end: modules that import this one.
    lazy_imports: list[tuple[str, str]] = field(default_factory=list)


def _quoted(t: TypeDef) -> str:
    """The spec text of a definition and of the `extend`s that changed it."""
    text = t.text
    for path, extension in t.extended_by:
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        text += f"\n/* extended in {name}: */\n{extension}"
    return text


def _anonymous_structs(t: TypeDef) -> Iterator[StructType]:
    members: list[Member] = []
    if isinstance(t, StructType):
        members = t.members
    elif isinstance(t, SelectType) and t.select is not None:
        members = [t.select]
    for m in _walk(members):
        if isinstance(m, FieldMember) and isinstance(m.texpr.base, StructType):
            if "." in m.texpr.base.name:
                yield from _anonymous_structs(m.texpr.base)
                yield m.texpr.base


def _walk(members: list[Member]) -> Iterator[Member]:
    for m in members:
        yield m
        if isinstance(m, SelectMember):
            for arm in m.arms:
                yield from _walk(arm.members)
                if isinstance(arm.single, SelectMember):
                    yield from _walk([arm.single])
        elif isinstance(m, OptionalMember):
            yield from _walk(m.members)


def _literal(value: object) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{k}={_literal(v)}" for k, v in value.items())
        return f"_Container({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, int):
        return hex(value) if value > 9 else str(value)
    return repr(value)


def _doc(t: TypeDef, params: dict[str, TypeDef | None]) -> str:
    if params:
        names = ", ".join(sorted(params))
        return f"{t.name}, parsed and built with parameters: {names}."
    return f"{t.name}."


def module_view(
    spec: Spec, module: Module, lazy: frozenset[str] = frozenset()
) -> ModuleView:
    """Lay out one spec file's generated module.

    Args:
        spec: The whole checked model (for cross-module names).
        module: The spec file to generate.
        lazy: Modules this one reaches only from inside its functions,
            through an alias imported at its end (they import this one).

    Returns:
        Everything the template prints, in spec order.
    """
    em = Emitter(spec, module, lazy)
    items: list[EnumView | TypeView | ConstView] = []
    exports: list[str] = []
    ranges: list[tuple[str, list[tuple[str, int, int]]]] = []
    for item in module.items:
        if isinstance(item, Constant):
            items.append(ConstView(item.pyname, item.text, _literal(item.value)))
            exports.append(item.pyname)
            continue
        if isinstance(item, EnumType):
            items.append(
                EnumView(
                    item.pyname,
                    item.name,
                    item.module,
                    _quoted(item),
                    item.width,
                    [(m.pyname, m.value) for m in item.members],
                    item.ranges,
                )
            )
            exports.append(item.pyname)
            if item.ranges:
                ranges.append((item.pyname, item.ranges))
            continue
        for anon in _anonymous_structs(item):
            items.append(_type_view(em, spec, anon, public=False))
        items.append(_type_view(em, spec, item, public=True))
        exports.append(item.pyname)
    imports = []
    for mod, names in sorted(em.refs.items()):
        imports.append((mod, sorted(names)))
    sha = hashlib.sha256(module.source.encode()).hexdigest()
    spec_file = module.path.replace("\\", "/").rsplit("/", 1)[-1]
    lazy_imports = [(mod, lazy_alias(mod)) for mod in sorted(em.lazy_refs)]
    return ModuleView(
        module.name, spec_file, sha, imports, items, exports, ranges, lazy_imports
    )


def _type_view(em: Emitter, spec: Spec, t: TypeDef, *, public: bool) -> TypeView:
    params = spec.params.get(t.name, {})
    defaults = []
    for pname, (enum, value) in sorted(spec.defaults.get(t.name, {}).items()):
        member = next((m.pyname for m in enum.members if m.value == value), None)
        if member is None or em.is_lazy(enum):
            # Defaults are read at import; a lazily reached enum is not
            # there yet, and the plain value compares equal to its member.
            defaults.append((pname, str(value)))
            continue
        defaults.append((pname, f"{em.ref(enum, 'class')}.{member}"))
    enum_params = []
    for pname, kind in sorted(params.items()):
        if isinstance(kind, EnumType):
            # Named, not referenced: the enum may be defined further down,
            # or in a module that imports this one.
            enum_params.append((pname, f'"{kind.module}:{kind.pyname}"'))
    em.start_type(t)
    parse_lines = em.parse_function(t)
    build_lines = em.build_function(t)
    return TypeView(
        name=t.pyname.replace(".", "__"),
        spec_name=t.name,
        text=_quoted(t),
        parse_lines=parse_lines,
        build_lines=build_lines,
        tables=em.tables,
        public=public,
        size=t.size,
        params=sorted(params),
        defaults=defaults,
        enum_params=enum_params,
        doc=_doc(t, params),
    )
