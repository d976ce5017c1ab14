"""Semantic model: syntax trees resolved into checked, typed definitions.

Everything the code generator needs is decided here: widths of integers,
enums and length prefixes, where a select finds its tag, which lengths are
computed on build, which parameters a type needs at parse time. Each check
that fails raises :class:`SpecError` at the spot in the spec that caused it.

Resolution rules beyond the RFC text (documented in the README):

* A select tag names a field of the same struct (``select (msg_type)``), a
  field of the struct by its qualified name (``select (Handshake.msg_type)``),
  or the type of an earlier field (``select (HandshakeType)``). Otherwise the
  tag is a parse-time parameter: ``KeyExchangeAlgorithm`` and
  ``key_exchange_algorithm`` both name the parameter
  ``key_exchange_algorithm`` of that enum type, and ``Handshake.msg_type``
  used inside another type names the parameter ``msg_type``, which
  ``Handshake`` passes down to the types it contains.
* ``select (extensions_present)`` with ``case false`` / ``case true`` is the
  optional tail of RFC 5246 §7.4.1.2: present when bytes remain.
* A ``uintN length;`` field directly followed by another member counts that
  member's bytes (the ``Handshake`` pattern), unless a later vector names it
  as its size (the ``TLSPlaintext`` pattern). Either way it is computed on
  build and checked on parse.
* A select written with a vector declarator (``select (...) {...}
  extension_data<0..2^16-1>;``) is one value inside a length prefix.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

from tlsspec.codegen import syntax as ast
from tlsspec.codegen.diagnostics import Pos, SpecError, SpecErrors

__all__ = [
    "AliasType",
    "Arm",
    "CipheredMember",
    "Constant",
    "EnumMember",
    "EnumType",
    "FieldMember",
    "IntType",
    "Member",
    "Module",
    "OpaqueType",
    "OptionalMember",
    "SelectMember",
    "SelectType",
    "SignedMember",
    "Size",
    "Spec",
    "StructType",
    "Tag",
    "TypeDef",
    "TypeExpr",
    "Vector",
    "analyze",
    "python_name",
    "snake_case",
]

MAX_BOUND = 2**32 - 1
INT_WIDTHS = {"uint8": 1, "uint16": 2, "uint24": 3, "uint32": 4, "uint64": 8}
CIPHERED = ("stream-ciphered", "block-ciphered", "aead-ciphered")
_WIDTH_LIMITS = ((0xFF, 1), (0xFFFF, 2), (0xFFFFFF, 3), (0xFFFFFFFF, 4))


def snake_case(name: str) -> str:
    """``KeyExchangeAlgorithm`` -> ``key_exchange_algorithm``."""
    name = name.replace(".", "_")
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    name = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", name)
    return name.lower()


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


def width_for(value: int) -> int | None:
    for limit, width in _WIDTH_LIMITS:
        if value <= limit:
            return width
    return None


# -- types -----------------------------------------------------------------


@dataclass(eq=False)
class TypeDef:
    name: str
    module: str
    pos: Pos | None
    text: str = ""

    @property
    def pyname(self) -> str:
        return python_name(self.name)

    @property
    def size(self) -> int | None:
        return None


@dataclass(eq=False)
class IntType(TypeDef):
    width: int = 1

    @property
    def size(self) -> int | None:
        return self.width


@dataclass(eq=False)
class OpaqueType(TypeDef):
    @property
    def size(self) -> int | None:
        return 1


@dataclass(eq=False)
class EnumMember:
    name: str
    pyname: str
    value: int
    pos: Pos


@dataclass(eq=False)
class EnumType(TypeDef):
    width: int = 1
    members: list[EnumMember] = field(default_factory=list)
    ranges: list[tuple[str, int, int]] = field(default_factory=list)
    explicit_width: bool = False
    body: ast.EnumBody | None = None
    extensions: list[ast.ExtendEnum] = field(default_factory=list)

    @property
    def size(self) -> int | None:
        return self.width

    def lookup(self, name: str) -> int | None:
        for member in self.members:
            if member.name == name:
                return member.value
        return None

    def member_names(self) -> list[str]:
        return [m.name for m in self.members]


@dataclass(eq=False)
class StructType(TypeDef):
    attribute: str | None = None
    members: list[Member] = field(default_factory=list)
    node: ast.StructDef | None = None
    exports: list[str] = field(default_factory=list)

    @property
    def size(self) -> int | None:
        if self.attribute:
            return None
        total = 0
        for member in self.members:
            if not isinstance(member, FieldMember) or member.texpr.size is None:
                return None
            total += member.texpr.size
        return total


@dataclass(eq=False)
class AliasType(TypeDef):
    target: TypeExpr | None = None
    node: ast.DeclDef | None = None

    @property
    def size(self) -> int | None:
        return self.target.size if self.target else None


@dataclass(eq=False)
class SelectType(TypeDef):
    select: SelectMember | None = None
    node: ast.SelectDef | None = None


@dataclass(eq=False)
class Constant:
    name: str
    module: str
    texpr: TypeExpr
    value: object
    encoded: bytes
    pos: Pos
    text: str

    @property
    def pyname(self) -> str:
        return python_name(self.name)


# -- type expressions and members ------------------------------------------


@dataclass(frozen=True)
class Size:
    """A fixed vector's byte count: a number, a parameter or a field."""

    kind: str  # "const", "param" or "field"
    value: int = 0
    name: str = ""


@dataclass(frozen=True)
class Vector:
    kind: str  # "fixed" or "var"
    size: Size | None = None
    floor: int = 0
    ceiling: int = 0
    width: int = 0


@dataclass(frozen=True, eq=False)
class TypeExpr:
    base: TypeDef
    vector: Vector | None = None

    @property
    def size(self) -> int | None:
        if self.vector is None:
            return self.base.size
        if self.vector.kind == "fixed" and self.vector.size is not None:
            if self.vector.size.kind == "const":
                return self.vector.size.value
        return None


@dataclass(frozen=True)
class Tag:
    kind: str  # "field", "param" or "presence"
    name: str
    enum: EnumType | None = None


@dataclass(eq=False)
class FieldMember:
    name: str
    texpr: TypeExpr
    pos: Pos
    fixed: bytes | None = None
    computed: bool = False
    bounds: str | None = None  # name of the length field counting this member


@dataclass(eq=False)
class Arm:
    labels: list[int]
    label_names: list[str]
    is_default: bool
    members: list[Member]
    pos: Pos
    # An arm that is a single nameless type takes that type's value.
    single: TypeExpr | SelectMember | None = None
    rest_opaque: bool = False


@dataclass(eq=False)
class SelectMember:
    name: str | None
    tag: Tag
    arms: list[Arm]
    pos: Pos
    vector: Vector | None = None
    bounds: str | None = None
    owner: str = ""
    extended: list[tuple[str, Arm]] = field(default_factory=list)

    @property
    def merged(self) -> bool:
        return self.name is None


@dataclass(eq=False)
class OptionalMember:
    """``select (extensions_present)``: members present when bytes remain."""

    members: list[Member]
    pos: Pos


@dataclass(eq=False)
class CipheredMember:
    """Protected bytes (``aead-ciphered struct {...}``): all that remains."""

    name: str
    attribute: str
    pos: Pos


@dataclass(eq=False)
class SignedMember:
    """``digitally-signed`` (RFC 5246 §4.7): algorithm, then signature."""

    name: str | None
    algorithm: TypeExpr
    pos: Pos


Member = FieldMember | SelectMember | OptionalMember | CipheredMember | SignedMember


@dataclass(eq=False)
class Module:
    name: str
    path: str
    source: str
    items: list[TypeDef | Constant] = field(default_factory=list)
    imports: dict[str, set[str]] = field(default_factory=dict)


@dataclass(eq=False)
class Spec:
    modules: list[Module]
    types: dict[str, TypeDef]
    constants: dict[str, Constant]
    params: dict[str, dict[str, TypeDef | None]]  # type -> param -> type
    defaults: dict[str, dict[str, tuple[EnumType, int]]]

    def module(self, name: str) -> Module:
        for module in self.modules:
            if module.name == name:
                return module
        raise KeyError(name)


# -- analysis --------------------------------------------------------------


def analyze(files: Iterable[ast.SourceFile]) -> Spec:
    """Resolve and check a set of parsed spec files compiled together.

    Args:
        files: Parsed spec files; names defined in one are visible in all.

    Returns:
        The checked model.

    Raises:
        SpecErrors: One or more problems, each with its position.
    """
    return _Analyzer(list(files)).run()


@dataclass
class _Scope:
    struct: str
    fields: dict[str, FieldMember]
    parent: _Scope | None = None

    def find(self, name: str) -> FieldMember | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.fields:
                return scope.fields[name]
            scope = scope.parent
        return None

    def names(self) -> Iterator[str]:
        scope: _Scope | None = self
        while scope is not None:
            yield scope.struct
            scope = scope.parent


class _Analyzer:
    def __init__(self, files: list[ast.SourceFile]) -> None:
        self.files = files
        self.errors: list[SpecError] = []
        self.types: dict[str, TypeDef] = {}
        self.constants: dict[str, Constant] = {}
        self.defs: dict[str, tuple[ast.Definition, str]] = {}
        self.modules: dict[str, Module] = {}
        self.resolving: list[str] = []
        self.done: set[str] = set()
        self.param_uses: dict[str, dict[str, TypeDef | None]] = {}
        self.exports: set[tuple[str, str]] = set()
        self.current: str = ""
        self.current_module: str = ""
        self.extend_selects: list[tuple[ast.ExtendSelect, str]] = []
        self.enum_extensions: dict[str, list[tuple[ast.ExtendEnum, str]]] = {}
        self.module_order: dict[str, list[str]] = {}

    def error(self, pos: Pos, message: str, hint: str = "") -> SpecError:
        err = SpecError(pos, message, hint)
        self.errors.append(err)
        return err

    # -- driver ------------------------------------------------------------

    def run(self) -> Spec:
        builtins = {
            name: IntType(name, "", None, width=w) for name, w in INT_WIDTHS.items()
        }
        builtins["opaque"] = OpaqueType("opaque", "", None)
        self.builtins = builtins
        for f in self.files:
            stem = PurePath(f.path).stem
            modname = python_name(stem)
            if modname in self.modules:
                first = self.modules[modname].path
                self.error(
                    Pos(f.path, 1, 1, f.source),
                    f"two spec files would both generate module {modname!r}",
                    f"rename this file or {first}",
                )
                continue
            self.modules[modname] = Module(modname, f.path, f.source)
            self.module_order[modname] = []
            for d in f.definitions:
                if isinstance(d, ast.ExtendEnum):
                    self.enum_extensions.setdefault(d.name, []).append((d, modname))
                    continue
                if isinstance(d, ast.ExtendSelect):
                    self.extend_selects.append((d, modname))
                    continue
                self.declare(d, modname)
        for name in list(self.defs):
            self.resolve_name(name)
        for node, modname in self.extend_selects:
            self.apply_extend_select(node, modname)
        for name, extensions in self.enum_extensions.items():
            if name not in self.types:
                for node, _ in extensions:
                    self.error(
                        node.pos,
                        f"'extend enum' names unknown enum {name!r}",
                        "declare the enum first, or fix the name",
                    )
        if self.errors:
            raise SpecErrors(self.errors)
        spec = self.finish()
        if self.errors:
            raise SpecErrors(self.errors)
        return spec

    def declare(self, d: ast.Definition, modname: str) -> None:
        name = d.name  # type: ignore[union-attr]
        if name in self.builtins:
            self.error(
                d.pos,
                f"{name!r} is a built-in type and cannot be redefined",
                "choose another name",
            )
            return
        if name in self.defs:
            first = self.defs[name][0].pos
            self.error(
                d.pos,
                f"duplicate definition of {name!r} (first defined at {first})",
                "remove one definition or rename it",
            )
            return
        self.defs[name] = (d, modname)
        self.module_order[modname].append(name)

    # -- name resolution ---------------------------------------------------

    def lookup_type(self, name: str, pos: Pos) -> TypeDef | None:
        if name in self.builtins:
            return self.builtins[name]
        if name in self.types:
            return self.types[name]
        if name in self.defs:
            d, _ = self.defs[name]
            if isinstance(d, ast.DeclDef) and d.fixed is not None:
                self.error(
                    pos,
                    f"{name!r} is a constant, not a type",
                    "use the constant's type here",
                )
                return None
            if name in self.resolving:
                chain = " -> ".join(
                    [*self.resolving[self.resolving.index(name) :], name]
                )
                self.error(
                    pos,
                    f"cyclic definition: {chain}",
                    "a TLS type cannot contain itself; remove the cycle",
                )
                return None
            return self.resolve_name(name)
        self.error(pos, f"unknown type {name!r}", self.suggest(name))
        return None

    def suggest(self, name: str) -> str:
        import difflib

        candidates = list(self.defs) + list(self.builtins)
        close = difflib.get_close_matches(name, candidates, n=1)
        if close:
            return f"did you mean {close[0]!r}? Otherwise define {name!r}"
        return f"define {name!r} in a spec file compiled together with this one"

    def resolve_name(self, name: str) -> TypeDef | None:
        if name in self.types:
            return self.types[name]
        if name in self.done:
            return None
        d, modname = self.defs[name]
        saved = (self.current, self.current_module)
        self.current_module = modname
        self.resolving.append(name)
        try:
            if isinstance(d, ast.EnumDef):
                self.types[name] = self.build_enum(name, d.body, modname, d.pos, d.text)
            elif isinstance(d, ast.StructDef):
                self.current = name
                self.types[name] = self.build_struct(d, modname)
            elif isinstance(d, ast.SelectDef):
                self.current = name
                self.types[name] = self.build_select_type(d, modname)
            elif isinstance(d, ast.DeclDef):
                if d.fixed is None:
                    self.current = name
                    self.types[name] = self.build_alias(d, modname)
                else:
                    self.build_constant(d, modname)
        except SpecError:
            pass
        finally:
            self.resolving.pop()
            self.done.add(name)
            self.current, self.current_module = saved
        return self.types.get(name)

    # -- expressions -------------------------------------------------------

    def const_expr(self, expr: ast.Expr, what: str) -> int:
        if isinstance(expr, ast.Num):
            return expr.value
        if isinstance(expr, ast.Ref):
            value = self.constant_value(expr.name, expr.pos)
            if value is None:
                raise self.error(
                    expr.pos,
                    f"{what} uses {expr.name!r}, which is not a numeric constant",
                    "use a number, or define 'uint32 NAME = value;'",
                )
            return value
        left = self.const_expr(expr.left, what)
        right = self.const_expr(expr.right, what)
        if expr.op == "+":
            return left + right
        if expr.op == "-":
            return left - right
        if expr.op == "*":
            return left * right
        if right > 64:
            raise self.error(
                expr.pos, f"exponent {right} is too large", "use 2^n with n <= 64"
            )
        return left**right

    def constant_value(self, name: str, pos: Pos) -> int | None:
        if name not in self.constants and name in self.defs:
            d, _ = self.defs[name]
            if isinstance(d, ast.DeclDef) and d.fixed is not None:
                self.resolve_name(name)
        const = self.constants.get(name)
        if const is not None and isinstance(const.value, int):
            return const.value
        return None

    # -- enums -------------------------------------------------------------

    def build_enum(
        self, name: str, body: ast.EnumBody, modname: str, pos: Pos, text: str
    ) -> EnumType:
        enum = EnumType(name, modname, pos, text, body=body)
        items = list(body.items)
        for ext, _ in self.enum_extensions.get(name, []):
            enum.extensions.append(ext)
            items.extend(i for i in ext.body.items if i.kind != "width")
            for i in ext.body.items:
                if i.kind == "width":
                    self.error(
                        i.pos,
                        "'extend enum' cannot change the enum's width",
                        "remove the width marker; the width comes from the enum",
                    )
        width_marker: tuple[int, Pos] | None = None
        singles: dict[str, list[tuple[int, Pos]]] = {}
        ranges: dict[str, list[tuple[int, int]]] = {}
        order: list[str] = []
        next_value = 0
        implicit = False
        max_value = 0
        for item in items:
            if item.kind == "width":
                assert item.high is not None
                width_marker = (self.const_expr(item.high, "enum width"), item.pos)
                continue
            if item.kind == "bare":
                # RFC 5246 §6.1 writes enums such as ConnectionEnd without
                # values; they never reach the wire, so number them in order.
                value = next_value
                implicit = True
            elif item.kind == "value":
                assert item.low is not None
                value = self.const_expr(item.low, "enum value")
            else:
                assert item.low is not None and item.high is not None
                low = self.const_expr(item.low, "enum range")
                high = self.const_expr(item.high, "enum range")
                if low > high:
                    self.error(
                        item.pos,
                        f"enum range {item.name}({low}..{high}) runs backwards",
                        "write the smaller value first",
                    )
                ranges.setdefault(item.name, []).append((low, high))
                if item.name not in order:
                    order.append(item.name)
                max_value = max(max_value, high)
                continue
            if value < 0:
                self.error(item.pos, "enum values cannot be negative", "use 0 or more")
            singles.setdefault(item.name, []).append((value, item.pos))
            if item.name not in order:
                order.append(item.name)
            max_value = max(max_value, value)
            next_value = value + 1
        del implicit
        if width_marker is not None:
            marker, marker_pos = width_marker
            width = width_for(marker)
            if width is None:
                self.error(
                    marker_pos,
                    f"width marker {marker} is above 2^32-1",
                    "use at most (4294967295)",
                )
                width = 4
            limit = 256**width - 1
            for item in items:
                if item.kind in ("value", "range", "bare"):
                    values = [v for v, p in singles.get(item.name, []) if p == item.pos]
                    values += (
                        [hi for lo, hi in ranges.get(item.name, [])]
                        if item.kind == "range"
                        else []
                    )
                    for v in values:
                        if v > marker or v > limit:
                            self.error(
                                item.pos,
                                f"enum value {v} of {item.name!r} does not fit the "
                                f"declared width ({marker}, {width} byte"
                                f"{'s' if width > 1 else ''})",
                                f"raise the width marker to ({256 ** (width + 1) - 1}) "
                                "or fix the value",
                            )
            enum.explicit_width = True
        else:
            width = width_for(max_value) or 4
            if max_value > MAX_BOUND:
                self.error(
                    pos,
                    f"enum value {max_value} is above 2^32-1",
                    "use a smaller value",
                )
        enum.width = width
        seen_py: dict[str, Pos] = {}
        for member_name in order:
            if (
                member_name in singles
                and member_name not in ranges
                and len(singles[member_name]) == 1
            ):
                value, mpos = singles[member_name][0]
                py = python_name(member_name)
                if py in seen_py:
                    self.error(
                        mpos,
                        f"enum member {member_name!r} maps to Python name {py!r}, "
                        f"already used at {seen_py[py]}",
                        "rename one of the members",
                    )
                    continue
                seen_py[py] = mpos
                enum.members.append(EnumMember(member_name, py, value, mpos))
            else:
                for value, _ in singles.get(member_name, []):
                    enum.ranges.append((member_name, value, value))
                for low, high in ranges.get(member_name, []):
                    enum.ranges.append((member_name, low, high))
        return enum

    # -- declarators ------------------------------------------------------

    def vector(
        self,
        decl: ast.Declarator,
        element: TypeDef,
        scope: _Scope | None,
    ) -> Vector:
        if isinstance(decl, ast.FixedSize):
            size = self.size_expr(decl.size, scope)
            elem_size = element.size
            if size.kind == "const" and elem_size:
                if size.value % elem_size:
                    self.error(
                        decl.pos,
                        f"fixed vector of {size.value} bytes is not a multiple of "
                        f"{element.name}'s size ({elem_size} bytes)",
                        f"use a multiple of {elem_size}: the size counts bytes, "
                        "not elements",
                    )
            if size.kind == "const" and size.value > MAX_BOUND:
                self.error(
                    decl.pos, f"size {size.value} is above 2^32-1", "use a smaller size"
                )
            return Vector("fixed", size=size)
        ceiling = self.const_expr(decl.ceiling, "vector ceiling")
        floor = self.const_expr(decl.floor, "vector floor") if decl.floor else 0
        if ceiling > MAX_BOUND:
            self.error(
                decl.ceiling.pos,
                f"vector ceiling {ceiling} is above 2^32-1",
                "TLS length prefixes are at most 4 bytes; use at most 2^32-1",
            )
        if floor > ceiling:
            self.error(
                decl.pos,
                f"vector floor {floor} is above its ceiling {ceiling}",
                "swap the bounds or fix the floor",
            )
        if floor < 0:
            self.error(decl.pos, "vector floor is negative", "use 0 or more")
        width = width_for(max(ceiling, 0)) or 4
        return Vector("var", floor=floor, ceiling=ceiling, width=width)

    def size_expr(self, expr: ast.Expr, scope: _Scope | None) -> Size:
        if isinstance(expr, ast.Ref):
            name = expr.name
            if self.constant_value(name, expr.pos) is not None:
                return Size("const", value=self.constant_value(name, expr.pos) or 0)
            head, _, tail = name.rpartition(".")
            if scope is not None:
                if not head and scope.find(name) is not None:
                    return Size("field", name=name)
                if head in scope.names() and scope.find(tail) is not None:
                    return Size("field", name=tail)
                if head in scope.names():
                    raise self.error(
                        expr.pos,
                        f"{name!r} names no earlier field of {head}",
                        "a size may only name a field declared before it",
                    )
            return Size("param", name=self.param_name(name, expr.pos, None))
        return Size("const", value=self.const_expr(expr, "vector size"))

    def param_name(self, name: str, pos: Pos, kind: TypeDef | None) -> str:
        head, _, tail = name.rpartition(".")
        if head:
            owner = self.defs.get(head)
            if owner is not None and isinstance(owner[0], ast.StructDef):
                if any(f.name == tail for f in _walk_fields(owner[0].fields)):
                    self.exports.add((head, tail))
                    param = tail
                else:
                    raise self.error(
                        pos,
                        f"{head} has no field {tail!r}",
                        f"name one of {head}'s fields",
                    )
            else:
                param = snake_case(head) + "_" + tail
        else:
            param = name if name == name.lower() else snake_case(name)
        param = python_name(param)
        self.param_uses.setdefault(self.current, {})[param] = kind
        return param

    # -- structs -----------------------------------------------------------

    def build_struct(self, d: ast.StructDef, modname: str) -> StructType:
        struct = StructType(
            d.name, modname, d.pos, d.text, attribute=d.attribute, node=d
        )
        if d.attribute in CIPHERED:
            # Protected bytes: check the fields refer to real types, decode
            # the whole as an opaque fragment.
            self.check_ciphered(d.fields)
            return struct
        if d.attribute == "digitally-signed":
            struct.members = [
                SignedMember("signature", self.signature_algorithm(d.pos), d.pos)
            ]
            return struct
        if d.attribute is not None:
            self.error(
                d.pos,
                f"'{d.attribute}' does not apply to a type definition",
                "put the attribute on the field that holds the value",
            )
        scope = _Scope(d.name, {})
        struct.members = self.members(d.fields, scope, top=True)
        return struct

    def check_ciphered(self, fields: Iterable[ast.FieldNode]) -> None:
        for f in fields:
            if f.type_ref is not None:
                self.lookup_type(f.type_ref.name, f.type_ref.pos)
            self.check_ciphered(f.fields)

    def signature_algorithm(self, pos: Pos) -> TypeExpr:
        for candidate in ("SignatureAndHashAlgorithm", "SignatureScheme"):
            if candidate in self.defs or candidate in self.types:
                t = self.lookup_type(candidate, pos)
                if t is not None:
                    return TypeExpr(t)
        return TypeExpr(self.builtins["uint16"])

    def members(
        self, nodes: Iterable[ast.FieldNode], scope: _Scope, top: bool = False
    ) -> list[Member]:
        out: list[Member] = []
        nodes = list(nodes)
        for node in nodes:
            try:
                out.extend(self.member(node, scope))
            except SpecError:
                continue
        self.link_lengths(out, scope)
        names: dict[str, Pos] = {}
        for m in _flat_named(out):
            name, pos = m
            if name in names:
                self.error(
                    pos,
                    f"duplicate field {name!r} (first at {names[name]})",
                    "rename one of the fields",
                )
            names[name] = pos
        return out

    def link_lengths(self, members: list[Member], scope: _Scope) -> None:
        referenced = set()
        for m in members:
            if isinstance(m, FieldMember) and m.texpr.vector and m.texpr.vector.size:
                if m.texpr.vector.size.kind == "field":
                    referenced.add(m.texpr.vector.size.name)
        for m in members:
            if not isinstance(m, FieldMember) or m.name not in referenced:
                continue
            if not isinstance(m.texpr.base, IntType) or m.texpr.vector is not None:
                continue
            m.computed = True
        for i, m in enumerate(members[:-1]):
            if not isinstance(m, FieldMember) or m.name != "length":
                continue
            if m.computed or not isinstance(m.texpr.base, IntType) or m.texpr.vector:
                continue
            nxt = members[i + 1]
            if isinstance(nxt, FieldMember | SelectMember):
                m.computed = True
                nxt.bounds = m.name

    def member(self, node: ast.FieldNode, scope: _Scope) -> list[Member]:
        if node.kind == "field":
            return [self.field_member(node, scope)]
        if node.kind == "type_only":
            assert node.type_ref is not None
            t = self.lookup_type(node.type_ref.name, node.type_ref.pos)
            if t is None:
                raise SpecError(node.pos, "unresolved")
            if isinstance(t, StructType) and not t.attribute:
                # A nameless struct reference in a struct body: its fields
                # appear in place, as in RFC 8446 §4.4.2's CertificateEntry.
                return [
                    FieldMember(python_name(snake_case(t.name)), TypeExpr(t), node.pos)
                ]
            return [FieldMember(python_name(snake_case(t.name)), TypeExpr(t), node.pos)]
        if node.kind == "enum":
            assert node.enum is not None and node.name is not None
            enum_name = self.current + node.name[:1].upper() + node.name[1:]
            enum_name = python_name(enum_name.replace("_", ""))
            enum = self.build_enum(
                enum_name, node.enum, self.current_module, node.pos, ""
            )
            if enum_name in self.types or enum_name in self.defs:
                raise self.error(
                    node.pos,
                    f"inline enum would be named {enum_name!r}, which is taken",
                    "define the enum at top level under its own name",
                )
            self.types[enum_name] = enum
            order = self.module_order[self.current_module]
            order.insert(order.index(self.current), enum_name)
            fm = FieldMember(node.name, TypeExpr(enum), node.name_pos or node.pos)
            if node.fixed is not None:
                fm.fixed = self.encode_fixed(node.fixed, fm.texpr)
            scope.fields[fm.name] = fm
            return [fm]
        if node.kind == "struct":
            return self.struct_member(node, scope)
        if node.kind == "select":
            return [self.select_member(node, scope)]
        raise AssertionError(node.kind)

    def struct_member(self, node: ast.FieldNode, scope: _Scope) -> list[Member]:
        attr = node.attribute
        if attr in CIPHERED:
            self.check_ciphered(node.fields)
            name = node.name or python_name(attr.replace("-", "_"))
            return [CipheredMember(name, attr, node.pos)]
        if attr == "digitally-signed":
            return [
                SignedMember(node.name, self.signature_algorithm(node.pos), node.pos)
            ]
        if attr == "public-key-encrypted":
            opaque = self.builtins["opaque"]
            vec = Vector("var", floor=0, ceiling=2**16 - 1, width=2)
            return [
                FieldMember(node.name or "encrypted", TypeExpr(opaque, vec), node.pos)
            ]
        if node.declarator is not None:
            self.error(
                node.declarator.pos,
                "a vector of an inline struct needs a named type",
                "define the struct at top level and declare 'Name field<...>;'",
            )
        inner = self.members(node.fields, _Scope(scope.struct, {}, scope))
        if node.name is None:
            for m in inner:
                if isinstance(m, FieldMember):
                    scope.fields[m.name] = m
            return inner
        anon = StructType(
            f"{scope.struct}.{node.name}", self.current_module, node.pos, members=inner
        )
        fm = FieldMember(node.name, TypeExpr(anon), node.name_pos or node.pos)
        scope.fields[node.name] = fm
        return [fm]

    def field_member(self, node: ast.FieldNode, scope: _Scope) -> Member:
        assert node.type_ref is not None and node.name is not None
        ref = node.type_ref
        base = self.lookup_type(ref.name, ref.pos)
        if base is None:
            raise SpecError(ref.pos, "unresolved")
        if ref.attribute == "digitally-signed":
            return SignedMember(node.name, self.signature_algorithm(ref.pos), node.pos)
        if ref.attribute == "public-key-encrypted":
            vec = Vector("var", floor=0, ceiling=2**16 - 1, width=2)
            fm = FieldMember(
                node.name, TypeExpr(self.builtins["opaque"], vec), node.pos
            )
            scope.fields[node.name] = fm
            return fm
        if ref.attribute in CIPHERED:
            return CipheredMember(node.name, ref.attribute, node.pos)
        vec = self.vector(node.declarator, base, scope) if node.declarator else None
        if vec is None and isinstance(base, OpaqueType):
            self.error(
                ref.pos,
                f"'opaque {node.name}' needs a size",
                f"write 'opaque {node.name}[n]' or "
                f"'opaque {node.name}<floor..ceiling>'",
            )
        texpr = TypeExpr(base, vec)
        fm = FieldMember(node.name, texpr, node.name_pos or node.pos)
        if node.fixed is not None:
            fm.fixed = self.encode_fixed(node.fixed, texpr)
        scope.fields[node.name] = fm
        return fm

    # -- fixed values and constants ----------------------------------------

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
                    f"value {value} does not fit {base.name} ({width} bytes)",
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

    def build_constant(self, d: ast.DeclDef, modname: str) -> None:
        assert d.fixed is not None
        base = self.lookup_type(d.type_ref.name, d.type_ref.pos)
        if base is None:
            return
        vec = self.vector(d.declarator, base, None) if d.declarator else None
        texpr = TypeExpr(base, vec)
        value = self.fixed_value(d.fixed, texpr)
        encoded = self.encode_value(value, texpr, d.fixed.pos)
        self.constants[d.name] = Constant(
            d.name, modname, texpr, value, encoded, d.pos, d.text
        )

    # -- aliases and selects -----------------------------------------------

    def build_alias(self, d: ast.DeclDef, modname: str) -> AliasType:
        base = self.lookup_type(d.type_ref.name, d.type_ref.pos)
        alias = AliasType(d.name, modname, d.pos, d.text, node=d)
        if base is None:
            return alias
        vec = self.vector(d.declarator, base, None) if d.declarator else None
        if vec is None and isinstance(base, OpaqueType):
            self.error(
                d.type_ref.pos,
                f"'opaque {d.name}' needs a size",
                f"write 'opaque {d.name}[n]' or 'opaque {d.name}<floor..ceiling>'",
            )
        alias.target = TypeExpr(base, vec)
        return alias

    def build_select_type(self, d: ast.SelectDef, modname: str) -> SelectType:
        node = ast.FieldNode(
            "select", d.pos, name="value", tag=d.tag, tag_pos=d.tag_pos, arms=d.arms
        )
        sel = self.select_member(node, _Scope(d.name, {}))
        return SelectType(d.name, modname, d.pos, d.text, select=sel, node=d)

    def resolve_tag(self, name: str, pos: Pos, scope: _Scope) -> Tag:
        head, _, tail = name.rpartition(".")
        if not head:
            fm = scope.find(name)
            if fm is not None:
                return self.field_tag(fm, pos)
        elif head in scope.names():
            fm = scope.find(tail)
            if fm is not None:
                return self.field_tag(fm, pos)
            raise self.error(
                pos,
                f"{head} has no field {tail!r} before this select",
                "a select tag must be declared before the select",
            )
        if not head:
            # A type named as the tag: an earlier field of that type, or a
            # parameter of that type.
            for fm in _scope_fields(scope):
                if fm.texpr.base.name == name and fm.texpr.vector is None:
                    return self.field_tag(fm, pos)
            enum = self.enum_for_tag(name)
            if enum is not None:
                return Tag(
                    "param", self.param_name(snake_case(enum.name), pos, enum), enum
                )
            raise self.error(
                pos,
                f"select tag {name!r} is neither a field nor an enum type",
                "name an earlier field, or an enum type to select on a "
                "parse-time parameter",
            )
        owner = self.defs.get(head)
        if owner is None or not isinstance(owner[0], ast.StructDef):
            raise self.error(
                pos,
                f"select tag {name!r}: {head!r} is not a struct",
                "write Struct.field or name a field of this struct",
            )
        ftype = None
        for f in _walk_fields(owner[0].fields):
            if f.name == tail and f.type_ref is not None:
                ftype = f.type_ref.name
        if ftype is None:
            raise self.error(
                pos, f"{head} has no field {tail!r}", f"name a field of {head}"
            )
        enum_t = self.lookup_type(ftype, pos)
        enum_t = _unalias(enum_t)
        if not isinstance(enum_t, EnumType):
            raise self.error(
                pos,
                f"select tag {name!r} has type {ftype}, not an enum",
                "select on an enum-typed field",
            )
        return Tag("param", self.param_name(name, pos, enum_t), enum_t)

    def enum_for_tag(self, name: str) -> EnumType | None:
        candidates = [name]
        if name == name.lower():
            candidates += [n for n in self.defs if snake_case(n) == name and n != name]
        for cand in candidates:
            if cand in self.defs or cand in self.types:
                d = self.defs.get(cand)
                if d is not None and not isinstance(d[0], ast.EnumDef | ast.DeclDef):
                    continue
                t = _unalias(self.lookup_type(cand, Pos("", 0, 0)))
                if isinstance(t, EnumType):
                    return t
        return None

    def field_tag(self, fm: FieldMember, pos: Pos) -> Tag:
        enum = _unalias(fm.texpr.base)
        if not isinstance(enum, EnumType) or fm.texpr.vector is not None:
            raise self.error(
                pos,
                f"select tag {fm.name!r} has type {fm.texpr.base.name}, not an enum",
                "select on an enum-typed field; declare the field's type as an enum",
            )
        return Tag("field", fm.name, enum)

    def select_member(self, node: ast.FieldNode, scope: _Scope) -> SelectMember:
        assert node.tag is not None and node.tag_pos is not None
        if node.tag.endswith("_present") and scope.find(node.tag) is None:
            return self.optional_member(node, scope)  # type: ignore[return-value]
        tag = self.resolve_tag(node.tag, node.tag_pos, scope)
        arms = [self.arm(a, tag, scope) for a in node.arms]
        self.check_labels(arms, tag)
        vec = None
        if node.declarator is not None:
            if not isinstance(node.declarator, ast.VarSize):
                raise self.error(
                    node.declarator.pos,
                    "a select can only be wrapped in a variable-length vector",
                    "write 'select (...) {...} name<floor..ceiling>;'",
                )
            vec = self.vector(node.declarator, self.builtins["opaque"], scope)
        name = node.name
        if name is None and any(a.single is not None for a in arms):
            if all(a.single is not None or not a.members for a in arms):
                name = "body"
        sel = SelectMember(name, tag, arms, node.pos, vector=vec, owner=scope.struct)
        for arm in arms:
            if arm.rest_opaque and vec is None and sel.bounds is None:
                pass
        return sel

    def optional_member(self, node: ast.FieldNode, scope: _Scope) -> Member:
        labels = {}
        for arm in node.arms:
            for label in arm.labels:
                if label.value not in ("true", "false"):
                    raise self.error(
                        label.pos,
                        f"select ({node.tag}) takes case true and case false, "
                        f"not {label.value!r}",
                        "use 'case false:' for the short form, 'case true:' for "
                        "the form with the optional fields",
                    )
                labels[label.value] = arm
        false_arm = labels.get("false")
        if false_arm is not None:
            inner = self.members(false_arm.fields, _Scope(scope.struct, {}, scope))
            if any(_flat_named(inner)):
                raise self.error(
                    false_arm.pos,
                    "the 'case false' arm of an optional tail must be empty",
                    "write 'case false: struct {};'",
                )
        true_arm = labels.get("true")
        members = self.members(true_arm.fields, scope) if true_arm else []
        return OptionalMember(members, node.pos)

    def arm(self, node: ast.Arm, tag: Tag, scope: _Scope) -> Arm:
        labels: list[int] = []
        names: list[str] = []
        default = False
        assert tag.enum is not None
        for label in node.labels:
            if label.value is None:
                default = True
                continue
            if isinstance(label.value, int):
                labels.append(label.value)
                names.append(str(label.value))
                continue
            value = tag.enum.lookup(label.value)
            if value is None:
                self.error(
                    label.pos,
                    f"case label {label.value!r} is not a member of enum "
                    f"{tag.enum.name}",
                    "use one of: " + ", ".join(tag.enum.member_names()[:12]),
                )
                continue
            labels.append(value)
            names.append(label.value)
        arm = Arm(labels, names, default, [], node.pos)
        fields = list(node.fields)
        if len(fields) == 1 and fields[0].kind == "type_only":
            ref = fields[0].type_ref
            assert ref is not None
            if ref.name == "opaque":
                arm.rest_opaque = True
                return arm
            t = self.lookup_type(ref.name, ref.pos)
            if t is None:
                return arm
            if (
                isinstance(t, StructType)
                and not t.attribute
                and not t.members
                and t.name.startswith(scope.struct + ".")
            ):
                return arm
            arm.single = TypeExpr(t)
            return arm
        if len(fields) == 1 and fields[0].kind == "struct" and fields[0].name is None:
            f0 = fields[0]
            if not f0.fields and not f0.attribute:
                return arm
        if len(fields) == 1 and fields[0].kind == "select" and fields[0].name is None:
            inner = self.select_member(fields[0], _Scope(scope.struct, {}, scope))
            if isinstance(inner, SelectMember) and inner.name == "body":
                inner.name = None
                arm.single = inner
                return arm
            arm.members = [inner]
            return arm
        arm.members = self.members(fields, _Scope(scope.struct, {}, scope))
        return arm

    def check_labels(self, arms: list[Arm], tag: Tag) -> None:
        seen: dict[int, Pos] = {}
        defaults = 0
        width = tag.enum.width if tag.enum else 4
        for arm in arms:
            defaults += arm.is_default
            for value in arm.labels:
                if value >= 256**width:
                    self.error(
                        arm.pos,
                        f"case value {value} does not fit the tag's {width} bytes",
                        "use a value the tag can hold",
                    )
                if value in seen:
                    self.error(
                        arm.pos,
                        f"case {value} appears twice (first at {seen[value]})",
                        "remove the repeated case label",
                    )
                seen[value] = arm.pos
        if defaults > 1:
            self.error(arms[-1].pos, "more than one default arm", "keep one 'default:'")

    def apply_extend_select(self, node: ast.ExtendSelect, modname: str) -> None:
        head, _, tail = node.target.rpartition(".")
        owner = self.types.get(head)
        target: SelectMember | None = None
        if isinstance(owner, StructType):
            for m in _all_members(owner.members):
                if isinstance(m, SelectMember) and m.name == tail:
                    target = m
        elif isinstance(owner, SelectType) and not tail:
            target = owner.select
        if target is None:
            self.error(
                node.pos,
                f"'extend select' target {node.target!r} is not a select",
                "name it as Struct.field, e.g. Extension.extension_data",
            )
            return
        saved = (self.current, self.current_module)
        self.current, self.current_module = head, modname
        try:
            arms = [self.arm(a, target.tag, _Scope(head, {})) for a in node.arms]
        finally:
            self.current, self.current_module = saved
        for arm in arms:
            if arm.is_default:
                self.error(
                    arm.pos,
                    "'extend select' cannot add a default arm",
                    "give case labels",
                )
        self.check_labels(target.arms + arms, target.tag)
        for arm in arms:
            target.extended.append((modname, arm))
        target.arms.extend(arms)

    # -- results -----------------------------------------------------------

    def finish(self) -> Spec:
        for struct_name, fname in self.exports:
            t = self.types.get(struct_name)
            if isinstance(t, StructType) and fname not in t.exports:
                t.exports.append(fname)
        params = self.compute_params()
        defaults = self.compute_defaults(params)
        modules = []
        for mod in self.modules.values():
            for name in self.module_order[mod.name]:
                if name in self.types:
                    mod.items.append(self.types[name])
                elif name in self.constants:
                    mod.items.append(self.constants[name])
            modules.append(mod)
        return Spec(modules, self.types, self.constants, params, defaults)

    def compute_params(self) -> dict[str, dict[str, TypeDef | None]]:
        result: dict[str, dict[str, TypeDef | None]] = {}

        def visit(name: str, stack: tuple[str, ...]) -> dict[str, TypeDef | None]:
            if name in result:
                return result[name]
            if name in stack:
                return {}
            own = dict(self.param_uses.get(name, {}))
            t = self.types.get(name)
            if t is not None:
                for dep in _dependencies(t):
                    for p, k in visit(dep, (*stack, name)).items():
                        own.setdefault(p, k)
            if isinstance(t, StructType):
                for export in t.exports:
                    own.pop(export, None)
            result[name] = own
            return own

        for name in self.types:
            visit(name, ())
        return result

    def compute_defaults(
        self, params: dict[str, dict[str, TypeDef | None]]
    ) -> dict[str, dict[str, tuple[EnumType, int]]]:
        arms_of: dict[str, list[tuple[str, EnumType, int]]] = {}
        for t in self.types.values():
            if not isinstance(t, StructType):
                continue
            for m in _all_members(t.members):
                if not isinstance(m, SelectMember) or m.tag.kind != "field":
                    continue
                if m.tag.name not in t.exports or m.tag.enum is None:
                    continue
                for arm in m.arms:
                    if isinstance(arm.single, TypeExpr) and len(arm.labels) == 1:
                        arms_of.setdefault(arm.single.base.name, []).append(
                            (m.tag.name, m.tag.enum, arm.labels[0])
                        )
        defaults: dict[str, dict[str, tuple[EnumType, int]]] = {}
        for name, uses in arms_of.items():
            if len(uses) != 1:
                continue
            param, enum, value = uses[0]
            if param in params.get(name, {}):
                defaults.setdefault(name, {})[param] = (enum, value)
        return defaults


def _unalias(t: TypeDef | None) -> TypeDef | None:
    while isinstance(t, AliasType) and t.target is not None and t.target.vector is None:
        t = t.target.base
    return t


def _walk_fields(nodes: Iterable[ast.FieldNode]) -> Iterator[ast.FieldNode]:
    for n in nodes:
        yield n
        yield from _walk_fields(n.fields)
        for arm in n.arms:
            yield from _walk_fields(arm.fields)


def _scope_fields(scope: _Scope) -> Iterator[FieldMember]:
    s: _Scope | None = scope
    while s is not None:
        yield from s.fields.values()
        s = s.parent


def _all_members(members: Iterable[Member]) -> Iterator[Member]:
    for m in members:
        yield m
        if isinstance(m, SelectMember):
            for arm in m.arms:
                yield from _all_members(arm.members)
                if isinstance(arm.single, SelectMember):
                    yield from _all_members([arm.single])
        elif isinstance(m, OptionalMember):
            yield from _all_members(m.members)


def _flat_named(members: Iterable[Member]) -> Iterator[tuple[str, Pos]]:
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
            yield from _flat_named(m.members)


def _texpr_deps(texpr: TypeExpr) -> Iterator[str]:
    if texpr.base.module:
        yield texpr.base.name


def _dependencies(t: TypeDef) -> Iterator[str]:
    if isinstance(t, AliasType) and t.target is not None:
        yield from _texpr_deps(t.target)
    elif isinstance(t, StructType):
        yield from _member_deps(t.members)
    elif isinstance(t, SelectType) and t.select is not None:
        yield from _member_deps([t.select])


def _member_deps(members: Iterable[Member]) -> Iterator[str]:
    for m in members:
        if isinstance(m, FieldMember):
            if isinstance(m.texpr.base, StructType) and "." in m.texpr.base.name:
                yield from _member_deps(m.texpr.base.members)
            else:
                yield from _texpr_deps(m.texpr)
        elif isinstance(m, SelectMember):
            for arm in m.arms:
                if isinstance(arm.single, TypeExpr):
                    yield from _texpr_deps(arm.single)
                elif isinstance(arm.single, SelectMember):
                    yield from _member_deps([arm.single])
                yield from _member_deps(arm.members)
        elif isinstance(m, OptionalMember):
            yield from _member_deps(m.members)
        elif isinstance(m, SignedMember):
            yield from _texpr_deps(m.algorithm)
