"""The analyzer: syntax trees in, the checked model out.

Resolution rules beyond the RFC text are listed in :mod:`tlsspec.codegen.model`
and the README.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import PurePath

from tlsspec.codegen import syntax as ast
from tlsspec.codegen.diagnostics import Pos, SpecError, SpecErrors, byte_count
from tlsspec.codegen.enums import EnumRules
from tlsspec.codegen.fixedvalues import FixedValueRules
from tlsspec.codegen.model import (
    CIPHERED,
    INT_WIDTHS,
    MAX_BOUND,
    AliasType,
    CipheredMember,
    Constant,
    EnumType,
    FieldMember,
    IntType,
    Member,
    Module,
    OpaqueType,
    OptionalMember,
    SelectMember,
    SignedMember,
    Size,
    Spec,
    StructType,
    TypeDef,
    TypeExpr,
    Vector,
    python_name,
    snake_case,
    width_for,
)
from tlsspec.codegen.selects import SelectRules
from tlsspec.codegen.walk import (
    Scope,
    flat_named,
    unalias,
    walk_fields,
)

__all__ = ["RESERVED_NAMES", "Analyzer"]

# Names generated modules use: a spec type, constant or enum of this name
# would shadow them, or be replaced by them.  Every other module-level name
# the template (templates/module.py.j2) writes starts with '_', which no
# definition may: the imports (_c, _Codec, ...), _parse_X, _build_X, _X_get,
# arm tables and lazily imported modules (_m_X); and __all__.
RESERVED_NAMES = frozenset(
    {"ENUM_RANGES", "enum"}  # the template's own
    # built-ins the parse and build functions call
    | {"bytes", "enumerate", "int", "isinstance", "len", "list", "str"}
)
# Parameter names that Codec.parse and Codec.build take for themselves.
RESERVED_PARAMS = frozenset({"self", "data", "obj", "offset", "_trace"})


class Analyzer(SelectRules, EnumRules, FixedValueRules):
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
        self.empty_selects: list[SelectMember] = []
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
            if modname.startswith("_"):
                self.error(
                    Pos(f.path, 1, 1, f.source),
                    f"spec file name {stem!r} would make module {modname!r}; "
                    "names starting with '_' are reserved",
                    "rename the file, e.g. to a plain word like 'records.tls'",
                )
                continue
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
        self.check_empty_selects()
        for name, extensions in self.enum_extensions.items():
            if not isinstance(self.types.get(name), EnumType):
                what = "unknown enum" if name not in self.types else "non-enum type"
                for node, _ in extensions:
                    self.error(
                        node.pos,
                        f"'extend enum' names {what} {name!r}",
                        "name an enum declared in one of the spec files",
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
        py = python_name(name)
        if py.startswith("_") or py in RESERVED_NAMES:
            self.error(
                d.pos,
                f"{name!r} would be the Python name {py!r}, which the generated "
                "code needs for itself",
                "rename the definition",
            )
            return
        for other, (_, other_module) in self.defs.items():
            if other_module == modname and python_name(other) == py:
                self.error(
                    d.pos,
                    f"{name!r} and {other!r} both become the Python name {py!r}",
                    "rename one of them",
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
            value = left + right
        elif expr.op == "-":
            value = left - right
        elif expr.op == "*":
            value = left * right
        elif right > 64 or right < 0:
            raise self.error(
                expr.pos,
                f"exponent {right} is out of range",
                "use 2^n with 0 <= n <= 64",
            )
        else:
            value = left**right
        # Operands are within the bound, so each result is small enough to
        # compute; only nesting could make them grow without limit.
        if abs(value) > ast.MAX_MAGNITUDE:
            raise self.error(
                expr.pos,
                f"{what} is too large (above 2^128)",
                "spec values fit in 64 bits; write 2^n with n <= 64 for a bound",
            )
        return value

    def constant_value(self, name: str, pos: Pos) -> int | None:
        if name in self.resolving and name not in self.constants:
            chain = " -> ".join([*self.resolving[self.resolving.index(name) :], name])
            raise self.error(
                pos,
                f"cyclic definition: {chain}",
                "give one of the constants a number",
            )
        if name not in self.constants and name in self.defs:
            d, _ = self.defs[name]
            if isinstance(d, ast.DeclDef) and d.fixed is not None:
                self.resolve_name(name)
        const = self.constants.get(name)
        if const is not None and isinstance(const.value, int):
            return const.value
        return None

    # -- declarators ------------------------------------------------------

    def vector(
        self,
        decl: ast.Declarator,
        element: TypeDef,
        scope: Scope | None,
    ) -> Vector:
        if isinstance(decl, ast.FixedSize):
            size = self.size_expr(decl.size, scope)
            elem_size = element.size
            if size.kind == "const" and elem_size:
                if size.value % elem_size:
                    self.error(
                        decl.pos,
                        f"fixed vector of {size.value} bytes is not a multiple of "
                        f"{element.name}'s size ({byte_count(elem_size)})",
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
        if ceiling < 0:
            self.error(
                decl.ceiling.pos,
                f"vector ceiling {ceiling} is negative",
                "check the arithmetic: a ceiling counts bytes, 0 or more",
            )
        elif floor > ceiling:
            self.error(
                decl.pos,
                f"vector floor {floor} is above its ceiling {ceiling}",
                "swap the bounds or fix the floor",
            )
        if floor < 0:
            self.error(decl.pos, "vector floor is negative", "use 0 or more")
        elem_size = element.size or 0
        fewest = -(-floor // elem_size) * elem_size if elem_size > 1 else floor
        if 0 <= floor <= ceiling < fewest:
            # Parse refuses every length and build every list: no length
            # in range is a whole number of elements.
            self.error(
                decl.pos,
                f"no whole number of {element.name} elements ({elem_size} bytes "
                f"each) fits <{floor}..{ceiling}>",
                "the bounds count bytes, not elements: take in a multiple of "
                f"{elem_size}, e.g. <{floor // elem_size * elem_size}..{fewest}>",
            )
        width = width_for(max(ceiling, 0)) or 4
        return Vector("var", floor=floor, ceiling=ceiling, width=width)

    def size_expr(self, expr: ast.Expr, scope: Scope | None) -> Size:
        if isinstance(expr, ast.Ref):
            name = expr.name
            if self.constant_value(name, expr.pos) is not None:
                return Size("const", value=self.constant_value(name, expr.pos) or 0)
            head, _, tail = name.rpartition(".")
            if scope is not None:
                found = None
                if not head and scope.find(name) is not None:
                    found = scope.find(name)
                elif head in scope.names() and scope.find(tail) is not None:
                    found = scope.find(tail)
                if found is not None:
                    if not isinstance(unalias(found.texpr.base), IntType) or (
                        found.texpr.vector is not None
                    ):
                        raise self.error(
                            expr.pos,
                            f"size {name!r} names field {found.name!r} of type "
                            f"{found.texpr.base.name}, not an integer",
                            "give the size as a number, a parameter or a uintN field",
                        )
                    return Size("field", name=found.name)
                if head in scope.names():
                    raise self.error(
                        expr.pos,
                        f"{name!r} names no earlier field of {head}",
                        "a size may only name a field declared before it",
                    )
            return Size("param", name=self.param_name(name, expr.pos, None))
        value = self.const_expr(expr, "vector size")
        if value < 0:
            raise self.error(
                expr.pos, f"vector size {value} is negative", "use 0 or more"
            )
        return Size("const", value=value)

    def param_name(self, name: str, pos: Pos, kind: TypeDef | None) -> str:
        head, _, tail = name.rpartition(".")
        if head:
            owner = self.defs.get(head)
            if owner is not None and isinstance(owner[0], ast.StructDef):
                if any(f.name == tail for f in walk_fields(owner[0].fields)):
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
        if param in RESERVED_PARAMS:
            raise self.error(
                pos,
                f"parameter {param!r} would clash with the codec's own "
                "argument of that name",
                "rename the size or tag",
            )
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
        scope = Scope(d.name, {})
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
        self, nodes: Iterable[ast.FieldNode], scope: Scope, top: bool = False
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
        for m in flat_named(out):
            name, pos = m
            if name in names:
                self.error(
                    pos,
                    f"duplicate field {name!r} (first at {names[name]})",
                    "rename one of the fields",
                )
            names[name] = pos
        self.check_merged_names(out, names)
        self.check_greedy(out)
        return out

    def check_merged_names(self, members: list[Member], names: dict[str, Pos]) -> None:
        # The fields of a nameless select's arms land in the struct itself.
        for m in members:
            if not isinstance(m, SelectMember) or m.name is not None:
                continue
            for arm in m.arms:
                for name, pos in flat_named(arm.members):
                    if name in names:
                        self.error(
                            pos,
                            f"field {name!r} of a nameless select repeats the "
                            f"struct's field {name!r} (at {names[name]})",
                            "rename the field, or name the select",
                        )

    def check_greedy(self, members: list[Member]) -> None:
        # A member that takes every remaining byte leaves none for later ones.
        for i, m in enumerate(members[:-1]):
            what = None
            if isinstance(m, OptionalMember):
                what = "an optional tail (extensions_present)"
            elif isinstance(m, CipheredMember):
                what = f"a {m.attribute} struct"
            elif isinstance(m, SelectMember) and m.vector is None and not m.bounds:
                if any(a.rest_opaque for a in m.arms):
                    what = "a select with an 'opaque;' arm"
            if what is not None:
                self.error(
                    members[i + 1].pos,
                    f"this member follows {what}, which takes all remaining bytes",
                    "make that member the last one, or wrap it in a length",
                )

    def link_lengths(self, members: list[Member], scope: Scope) -> None:
        # LIMITATION: only vectors among ``members`` make a size field
        # computed; a vector inside a select arm sized by a field of the
        # enclosing struct does not (the arm not taken would otherwise
        # overwrite a given value).  Matters when building such a struct;
        # instead build checks the vector against the size the caller gives.
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
            nxt = members[i + 1]
            # Only a select follows its length unprefixed (RFC 5246 §7.4's
            # Handshake, §6.2.3's TLSCiphertext); a field has its own size.
            if not isinstance(nxt, SelectMember) or nxt.vector is not None:
                continue
            if not isinstance(m, FieldMember) or m.name not in (
                "length",
                f"{nxt.name}_length",  # RFC 6961 §2.2: request_length, request
            ):
                continue
            if m.computed or not isinstance(m.texpr.base, IntType) or m.texpr.vector:
                continue
            m.computed = True
            nxt.bounds = m.name

    def member(self, node: ast.FieldNode, scope: Scope) -> list[Member]:
        if node.kind == "field":
            return [self.field_member(node, scope)]
        if node.kind == "type_only":
            assert node.type_ref is not None
            t = self.lookup_type(node.type_ref.name, node.type_ref.pos)
            if t is None:
                raise SpecError(node.pos, "unresolved")
            if isinstance(t, OpaqueType):
                # Only a select arm of its own may be `opaque;` (the bytes
                # left in the select's length, see SelectRules.arm).
                raise self.error(
                    node.pos,
                    "a bare 'opaque;' has no name and no size",
                    "write 'opaque name<floor..ceiling>;' or 'opaque name[n];'; "
                    "'opaque;' stands alone only as a select arm "
                    "('case x: opaque;')",
                )
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
            if (
                enum_name in self.types
                or enum_name in self.defs
                or enum_name in RESERVED_NAMES
            ):
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

    def struct_member(self, node: ast.FieldNode, scope: Scope) -> list[Member]:
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
        inner = self.members(node.fields, Scope(scope.struct, {}, scope))
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

    def field_member(self, node: ast.FieldNode, scope: Scope) -> Member:
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

    # -- constants -----------------------------------------------------------

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
