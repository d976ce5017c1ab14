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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tlsspec.codegen.model import (
    AliasType,
    Arm,
    CipheredMember,
    EnumType,
    FieldMember,
    IntType,
    Member,
    Module,
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
    python_name,
)

__all__ = ["Emitter"]

_INT_READ = {
    1: "buf[{p}]",
    2: "(buf[{p}] << 8) | buf[{p} + 1]",
    3: "(buf[{p}] << 16) | (buf[{p} + 1] << 8) | buf[{p} + 2]",
    4: "_c.U32(buf, {p})[0]",
    8: "_c.U64(buf, {p})[0]",
}
_INT_PACK = {
    2: "_c.P16({x})",
    3: "{x}.to_bytes(3, 'big')",
    4: "_c.P32({x})",
    8: "_c.P64({x})",
}
_LIST_FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}
# From this many labelled arms on, a select whose every arm is one function
# call finds the function in a dict: one lookup instead of a comparison per
# arm before the one that matches.
_TABLE_ARMS = 6
# Writes a length into bytes already reserved at `out[{at}]`.
_INT_PUT = {
    2: "_c.P16_AT(out, {at}, {x})",
    4: "_c.P32_AT(out, {at}, {x})",
    8: "_c.P64_AT(out, {at}, {x})",
}


def _unalias_scalar(texpr: TypeExpr) -> TypeDef | None:
    """The int or enum type behind a scalar type expression, if any."""
    t: TypeDef = texpr.base
    if texpr.vector is not None:
        return None
    while isinstance(t, AliasType) and t.target is not None:
        if t.target.vector is not None:
            return None
        t = t.target.base
    return t if isinstance(t, IntType | EnumType) else None


class _Code:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1
        self.temps = 0

    def __call__(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self(header)
        self.depth += 1
        yield
        self.depth -= 1

    def temp(self, stem: str) -> str:
        self.temps += 1
        return f"{stem}{self.temps}"


def lazy_alias(module: str) -> str:
    """The name a module imported at the end of another one goes by."""
    return f"_m_{module}"


@dataclass
class _Ctx:
    """Where generated statements put a member's value."""

    target: str  # Container variable receiving named members
    path: str  # path prefix for `f`
    lim: str  # variable holding the current parse limit


@dataclass
class Emitter:
    spec: Spec
    module: Module
    # Modules reached through a module alias imported at the end of this
    # one, because they import this one: see generate.lazy_edges.
    lazy: frozenset[str] = frozenset()
    refs: dict[str, set[str]] = field(default_factory=dict)
    lazy_refs: set[str] = field(default_factory=set)
    # Parse and build functions defined so far, in module order.
    defined: set[str] = field(default_factory=set)
    # Module-level lines that follow the current type's functions.
    tables: list[str] = field(default_factory=list)
    table_names: set[str] = field(default_factory=set)
    current: str = ""

    def start_type(self, t: TypeDef) -> None:
        """Begin a type: its own functions count as defined from here on."""
        self.current = t.pyname.replace(".", "__")
        self.defined |= {f"_parse_{self.current}", f"_build_{self.current}"}
        self.tables = []

    # -- naming ------------------------------------------------------------

    def ref(self, t: TypeDef, what: str) -> str:
        """Name of a type's enum class or function, importing it if needed."""
        if isinstance(t, EnumType):
            name = t.pyname if what == "class" else f"_{t.pyname}_get"
        else:
            name = f"_{what}_{t.pyname.replace('.', '__')}"
        if t.module and t.module != self.module.name:
            if t.module in self.lazy:
                # Read when a codec runs, by then both modules are loaded.
                self.lazy_refs.add(t.module)
                return f"{lazy_alias(t.module)}.{name}"
            self.refs.setdefault(t.module, set()).add(name)
        return name

    def is_lazy(self, t: TypeDef) -> bool:
        """Whether ``t`` lives in a module only functions may reach."""
        return bool(t.module) and t.module in self.lazy

    # -- parse -------------------------------------------------------------

    def parse_function(self, t: TypeDef) -> list[str]:
        lines = _hoist_first_path(self._parse_function(t))
        body = "\n".join(lines)
        # Drop set-up lines whose variable the body never reads.
        if "tr.append" not in body:
            lines = [ln for ln in lines if ln.strip() != 'tr = ctx.get("_trace")']
        if 'r["' not in body and "return r," not in body:
            lines = [ln for ln in lines if ln.strip() != "r = _Container()"]
        return lines

    def _parse_function(self, t: TypeDef) -> list[str]:
        if isinstance(t, StructType) and not t.attribute and not t.members:
            return ["    return _Container(), pos"]
        code = _Code()
        code.depth = 1
        if isinstance(t, AliasType):
            assert t.target is not None
            code('f = ""')
            with code.block("try:"):
                self.parse_texpr(code, t.target, "v", "end")
                code("return v, pos")
            self.parse_except(code)
            return code.lines
        if isinstance(t, SelectType):
            assert t.select is not None
            code('f = ""')
            code("r = _Container()")
            code('tr = ctx.get("_trace")')
            with code.block("try:"):
                sel = t.select
                self.parse_select(
                    code, sel, _Ctx("r", "", "end"), value_var="v", path=""
                )
                code("return v, pos")
            self.parse_except(code)
            return code.lines
        assert isinstance(t, StructType)
        code('f = ""')
        code("r = _Container()")
        if not t.attribute:
            code('tr = ctx.get("_trace")')
        with code.block("try:"):
            if t.attribute:
                code("r = buf[pos:end]")
                code("return r, end")
            else:
                self.parse_members(code, t, t.members, _Ctx("r", "", "end"))
                code("return r, pos")
        self.parse_except(code)
        return code.lines

    def parse_except(self, code: _Code) -> None:
        with code.block("except _DecodeError as e:"):
            code("e.prefix(f)")
            code("raise")

    def parse_members(
        self, code: _Code, owner: StructType | None, members: list[Member], ctx: _Ctx
    ) -> None:
        for m in members:
            self.parse_member(code, owner, m, ctx)

    def set_path(self, code: _Code, ctx: _Ctx, name: str) -> None:
        path = f"{ctx.path}.{name}" if ctx.path else name
        code(f'f = "{path}"')

    def trace(self, code: _Code, name: str) -> None:
        # `tlsspec parse` asks for field offsets through ctx["_trace"].
        if name:
            code("if tr is not None:")
            code(f'    tr.append(("{name}", pos))')

    def parse_member(
        self, code: _Code, owner: StructType | None, m: Member, ctx: _Ctx
    ) -> None:
        if isinstance(m, FieldMember):
            self.set_path(code, ctx, m.name)
            self.trace(code, m.name)
            var = f"v_{python_name(m.name)}"
            lim = ctx.lim
            if m.bounds is not None:
                lim = self.open_bound(code, f"v_{python_name(m.bounds)}", ctx.lim)
            self.parse_texpr(code, m.texpr, var, lim)
            if m.fixed is not None:
                n = len(m.fixed)
                code(f"if buf[pos - {n}:pos] != {m.fixed!r}:")
                code(f"    raise _c.fixed_mismatch(buf, pos - {n}, {m.fixed!r})")
            if m.bounds is not None:
                self.close_bound(code, lim)
            code(f'{ctx.target}["{m.name}"] = {var}')
            if owner is not None and m.name in owner.exports:
                self.export(code, m.name, var)
        elif isinstance(m, SelectMember):
            self.set_path(code, ctx, m.name or "")
            self.trace(code, m.name or "")
            self.parse_select(code, m, ctx)
        elif isinstance(m, OptionalMember):
            with code.block(f"if pos < {ctx.lim}:"):
                self.parse_members(code, owner, m.members, ctx)
            with code.block("else:"):
                for name in _member_names(m.members):
                    code(f'{ctx.target}["{name}"] = None')
        elif isinstance(m, CipheredMember):
            self.set_path(code, ctx, m.name)
            self.trace(code, m.name)
            code(f'{ctx.target}["{m.name}"] = buf[pos:{ctx.lim}]')
            code(f"pos = {ctx.lim}")
        elif isinstance(m, SignedMember):
            target = ctx.target
            if m.name is not None:
                self.set_path(code, ctx, m.name)
                self.trace(code, m.name)
                target = code.temp("s")
                code(f"{target} = _Container()")
            self.trace(code, "algorithm")
            self.parse_texpr(code, m.algorithm, "alg", ctx.lim)
            code(f'{target}["algorithm"] = alg')
            self.trace(code, "signature")
            sig = TypeExpr(
                OpaqueType("opaque", "", None),
                Vector("var", floor=0, ceiling=0xFFFF, width=2),
            )
            self.parse_texpr(code, sig, "sig", ctx.lim)
            code(f'{target}["signature"] = sig')
            if m.name is not None:
                code(f'{ctx.target}["{m.name}"] = {target}')

    def export(self, code: _Code, name: str, var: str) -> None:
        # A copy: the caller's context stays as it was.
        code("ctx = ctx.copy()")
        code(f'ctx["{name}"] = {var}')

    def open_bound(self, code: _Code, length: str, lim: str) -> str:
        sub = code.temp("stop")
        code(f"{sub} = pos + {length}")
        code(f"if {sub} > {lim}:")
        code(f"    raise _c.overrun(pos, {length}, {lim})")
        return sub

    def close_bound(self, code: _Code, sub: str) -> None:
        code(f"if pos != {sub}:")
        code(f"    raise _c.trailing(pos, {sub})")

    def tag_expr(self, code: _Code, sel: SelectMember, building: bool) -> str:
        tag = sel.tag
        if tag.kind == "field":
            return f"v_{python_name(tag.name)}"
        return self.param_fetch(code, tag.name, building)

    def param_fetch(
        self, code: _Code, name: str, building: bool, size: bool = False
    ) -> str:
        var = code.temp("p")
        code(f'{var} = ctx.get("{name}")')
        code(f"if {var} is None:")
        if building:
            code(f'    raise _c.build_missing("{name}")')
        else:
            code(f'    raise _c.missing("{name}", pos)')
        if size:
            code(f"if {var}.__class__ is not int or {var} < 0:")
            code(f'    raise _c.bad_size_param("{name}", {var}, {building})')
        return var

    def parse_select(
        self,
        code: _Code,
        sel: SelectMember,
        ctx: _Ctx,
        value_var: str | None = None,
        path: str | None = None,
    ) -> None:
        if path is None:
            path = _join(ctx.path, sel.name)
        lim = ctx.lim
        sub = None
        if sel.vector is not None:
            n = code.temp("n")
            self.read_int(code, sel.vector.width, n, lim)
            self.check_bounds(code, n, sel.vector)
            sub = self.open_bound(code, n, lim)
        elif sel.bounds is not None:
            sub = self.open_bound(code, f"v_{python_name(sel.bounds)}", lim)
        inner_lim = sub or lim
        tag = code.temp("t")
        code(f"{tag} = {self.tag_expr(code, sel, False)}")
        out = value_var or (f"v_{python_name(sel.name)}" if sel.name else None)
        assert sel.tag.enum is not None
        no_case = f'raise _c.no_case({tag}, pos, "{sel.tag.enum.name}")'
        table = self.arm_table(sel, path, "parse")
        if table is not None:
            fn = self.table_lookup(code, table, tag, no_case)
            code(f"{out or '_'}, pos = {fn}(buf, pos, {inner_lim}, ctx)")
        else:
            self.dispatch(
                code,
                sel,
                tag,
                lambda arm: self.parse_arm(code, arm, ctx, out, inner_lim, path),
                no_case,
            )
        if sub is not None:
            code(f'f = "{path}"')
            self.close_bound(code, sub)
        if sel.name is not None and value_var is None:
            code(f'{ctx.target}["{sel.name}"] = {out}')

    def dispatch(
        self,
        code: _Code,
        sel: SelectMember,
        tag: str,
        emit_arm: Callable[[Arm], None],
        no_case: str,
    ) -> None:
        """``if``/``elif`` per arm on the tag, then the default or ``no_case``."""
        first = True
        default_arm: Arm | None = None
        for arm in sel.arms:
            if arm.is_default:
                default_arm = arm
                if not arm.labels:
                    continue
            with code.block(
                f"{'if' if first else 'elif'} {self.arm_condition(tag, arm)}:"
            ):
                emit_arm(arm)
            first = False
        if first:
            # No labelled arm: the default, or the refusal, stands alone.
            if default_arm is not None:
                emit_arm(default_arm)
            else:
                code(no_case)
            return
        with code.block("else:"):
            if default_arm is not None:
                emit_arm(default_arm)
            else:
                code(no_case)

    def arm_table(
        self, sel: SelectMember, path: str, what: str
    ) -> tuple[str, str | None] | None:
        """A dict from tag value to arm function, for a select worth one.

        Returns the dict's name and the default arm's function (or None),
        after adding the dict to ``self.tables``; None when the select keeps
        its ``if``/``elif`` chain: too few arms, an arm written out inline,
        or a function defined further down the module.
        """
        labelled = [arm for arm in sel.arms if arm.labels]
        if len(labelled) < _TABLE_ARMS:
            return None
        functions = [self.arm_function(arm, what) for arm in sel.arms]
        if None in functions:
            return None
        where = ".".join(p for p in (self.current, path) if p)
        name = f"_{where.replace('.', '_')}_{what}"
        if name in self.table_names:
            return None
        self.table_names.add(name)
        default = None
        entries = []
        for arm, fn in zip(sel.arms, functions, strict=True):
            if arm.is_default:
                default = fn
            for label, label_name in zip(arm.labels, arm.label_names, strict=True):
                entries.append(f"    {label}: {fn},  # {label_name}")
        assert sel.tag.enum is not None
        self.tables += [
            "",
            "",
            f"# {where}: the {what} function for each {sel.tag.enum.name} case.",
            f"{name} = {{",
            *entries,
            "}",
        ]
        return name, default

    def arm_function(self, arm: Arm, what: str) -> str | None:
        """The function an arm is, when it is a single call to one."""
        texpr = arm.single
        if arm.rest_opaque or not isinstance(texpr, TypeExpr):
            return None
        base = texpr.base
        if texpr.vector is not None or _unalias_scalar(texpr) is not None:
            return None
        if not isinstance(base, StructType | SelectType | AliasType):
            return None
        if _inline_alias(base):
            return None
        if self.is_lazy(base):
            # The table is built at import, before the module it would
            # reach has loaded in one of the two import orders.
            return None
        fn = self.ref(base, what)
        imported = base.module and base.module != self.module.name
        return fn if imported or fn in self.defined else None

    def table_lookup(
        self, code: _Code, table: tuple[str, str | None], tag: str, no_case: str
    ) -> str:
        name, default = table
        if default is not None:
            code(f"arm = {name}.get({tag}, {default})")
        else:
            code(f"arm = {name}.get({tag})")
            code("if arm is None:")
            code(f"    {no_case}")
        return "arm"

    def arm_condition(self, tag: str, arm: Arm) -> str:
        if len(arm.labels) == 1:
            return f"{tag} == {arm.labels[0]}"
        return f"{tag} in ({', '.join(str(v) for v in arm.labels)})"

    def parse_arm(
        self,
        code: _Code,
        arm: Arm,
        ctx: _Ctx,
        out: str | None,
        lim: str,
        path: str,
    ) -> None:
        if arm.rest_opaque:
            code(f"{out or '_'} = buf[pos:{lim}]")
            code(f"pos = {lim}")
            return
        if isinstance(arm.single, TypeExpr):
            self.parse_texpr(code, arm.single, out or "_", lim)
            return
        if isinstance(arm.single, SelectMember):
            self.parse_select(
                code,
                arm.single,
                _Ctx(ctx.target, ctx.path, lim),
                value_var=out,
                path=path,
            )
            return
        if out is not None:
            code(f"{out} = _Container()")
            inner = _Ctx(out, path, lim)
        else:
            inner = _Ctx(ctx.target, ctx.path, lim)
        self.parse_members(code, None, arm.members, inner)
        if not arm.members:
            code("pass")

    def read_int(self, code: _Code, width: int, var: str, lim: str) -> None:
        code(f"if pos + {width} > {lim}:")
        code(f"    raise _c.short(pos, {width}, {lim})")
        code(f"{var} = {_INT_READ[width].format(p='pos')}")
        code(f"pos += {width}")

    def check_bounds(self, code: _Code, n: str, vec: Vector) -> None:
        conds = []
        if vec.floor > 0:
            conds.append(f"{n} < {vec.floor}")
        if vec.ceiling < 256**vec.width - 1:
            conds.append(f"{n} > {vec.ceiling}")
        if conds:
            code(f"if {' or '.join(conds)}:")
            code(f"    raise _c.out_of_bounds(pos, {n}, {vec.floor}, {vec.ceiling})")

    def size_expr(self, code: _Code, vec: Vector, building: bool = False) -> str:
        assert vec.size is not None
        if vec.size.kind == "const":
            return str(vec.size.value)
        if vec.size.kind == "field":
            return f"v_{python_name(vec.size.name)}"
        return self.param_fetch(code, vec.size.name, building, size=True)

    def parse_texpr(self, code: _Code, texpr: TypeExpr, var: str, lim: str) -> None:
        vec = texpr.vector
        base = texpr.base
        if vec is None:
            scalar = _unalias_scalar(texpr)
            if scalar is not None and (isinstance(scalar, IntType) or scalar.module):
                self.read_int(code, scalar.size or 1, var, lim)
                if isinstance(scalar, EnumType):
                    get = self.ref(scalar, "get")
                    code(f"{var} = {get}({var}, {var})")
                return
            if _inline_alias(base):
                # An alias of a plain vector (`opaque HostName<1..2^16-1>;`)
                # is read in place rather than through a call.
                assert isinstance(base, AliasType) and base.target is not None
                self.parse_texpr(code, base.target, var, lim)
                return
            fn = self.ref(base, "parse")
            code(f"{var}, pos = {fn}(buf, pos, {lim}, ctx)")
            return
        if vec.kind == "fixed":
            n = self.size_expr(code, vec)
            stop = code.temp("stop")
            code(f"{stop} = pos + {n}")
            code(f"if {stop} > {lim}:")
            code(f"    raise _c.short(pos, {n}, {lim})")
        else:
            n = code.temp("n")
            self.read_int(code, vec.width, n, lim)
            self.check_bounds(code, n, vec)
            stop = code.temp("stop")
            code(f"{stop} = pos + {n}")
            code(f"if {stop} > {lim}:")
            code(f"    raise _c.overrun(pos, {n}, {lim})")
        self.parse_elements(code, base, var, n, stop)

    def parse_elements(
        self, code: _Code, elem: TypeDef, var: str, n: str, stop: str
    ) -> None:
        if isinstance(elem, OpaqueType):
            code(f"{var} = buf[pos:{stop}]")
            code(f"pos = {stop}")
            return
        scalar = _unalias_scalar(TypeExpr(elem))
        if scalar is not None and scalar.size in _LIST_FMT:
            width = scalar.size
            if width > 1:
                code(f"if {n} % {width}:")
                code(f"    raise _c.not_multiple(pos, {n}, {width})")
            if width == 1:
                items = f"buf[pos:{stop}]"
            else:
                fmt = f'f">{{{n} // {width}}}{_LIST_FMT[width]}"'
                items = f"_c.unpack({fmt}, buf, pos)"
            if isinstance(scalar, EnumType):
                get = self.ref(scalar, "get")
                code(f"{var} = [{get}(x, x) for x in {items}]")
            else:
                code(f"{var} = list({items})")
            code(f"pos = {stop}")
            return
        size = elem.size
        if size:
            code(f"if {n} % {size}:")
            code(f"    raise _c.not_multiple(pos, {n}, {size})")
        item = code.temp("item")
        empty = _min_size(TypeExpr(elem)) == 0
        code(f"{var} = []")
        with code.block(f"while pos < {stop}:"):
            if empty:
                # An element may take no bytes: stop rather than loop forever.
                code("at = pos")
            with code.block("try:"):
                self.parse_texpr(code, TypeExpr(elem), item, stop)
            with code.block("except _DecodeError as e:"):
                code(f'e.prefix(f"[{{len({var})}}]")')
                code("raise")
            if empty:
                code("if pos == at:")
                code(f"    raise _c.no_progress(pos, len({var}))")
            code(f"{var}.append({item})")

    # -- build -------------------------------------------------------------

    def build_function(self, t: TypeDef) -> list[str]:
        if isinstance(t, StructType) and not t.attribute and not t.members:
            return ["    del value, out, ctx  # an empty struct has no bytes"]
        return _hoist_first_path(self._build_function(t))

    def _build_function(self, t: TypeDef) -> list[str]:
        code = _Code()
        code('f = ""')
        with code.block("try:"):
            if isinstance(t, AliasType):
                assert t.target is not None
                self.build_texpr(code, t.target, "value")
            elif isinstance(t, SelectType):
                assert t.select is not None
                self.build_select(
                    code, t.select, _Ctx("value", "", ""), value_expr="value", path=""
                )
            else:
                assert isinstance(t, StructType)
                if t.attribute:
                    code("out += value")
                else:
                    self.build_members(code, t, t.members, _Ctx("value", "", ""))
        with code.block("except _CodecError as e:"):
            code("e.prefix(f)")
            code("raise")
        with code.block("except _c.BUILD_FAILURES as e:"):
            code("raise _c.encode_failure(f, e) from None")
        return code.lines

    def build_members(
        self, code: _Code, owner: StructType | None, members: list[Member], ctx: _Ctx
    ) -> None:
        pending: dict[str, tuple[str, int]] = {}
        # A size field that several vectors name: the first one computes
        # it, the others are checked against that value.
        sizes = [
            m.texpr.vector.size.name
            for m in members
            if isinstance(m, FieldMember)
            and m.texpr.vector is not None
            and m.texpr.vector.size is not None
            and m.texpr.vector.size.kind == "field"
        ]
        shared = {name for name in sizes if sizes.count(name) > 1}
        for m in members:
            self.build_member(code, owner, m, ctx, pending, shared)

    def build_member(
        self,
        code: _Code,
        owner: StructType | None,
        m: Member,
        ctx: _Ctx,
        pending: dict[str, tuple[str, int]],
        shared: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        src = ctx.target
        if isinstance(m, FieldMember):
            self.set_path(code, ctx, m.name)
            var = f"v_{python_name(m.name)}"
            if m.computed:
                scalar = _unalias_scalar(m.texpr)
                assert scalar is not None
                width = scalar.size or 1
                mark = f"at_{python_name(m.name)}"
                code(f"{mark} = len(out)")
                code(f"out += {bytes(width)!r}")
                pending[m.name] = (mark, width)
                return
            if m.fixed is not None:
                code(f'{var} = {src}.get("{m.name}")')
                with code.block(f"if {var} is None:"):
                    code(f"out += {m.fixed!r}")
                with code.block("else:"):
                    mark = code.temp("at")
                    code(f"{mark} = len(out)")
                    self.build_texpr(code, m.texpr, var)
                    code(f"if out[{mark}:] != {m.fixed!r}:")
                    code(f"    raise _c.fixed_differs({m.fixed!r})")
                return
            code(f'{var} = {src}["{m.name}"]')
            if m.bounds is not None:
                mark, width = pending.pop(m.bounds)
                start = code.temp("start")
                code(f"{start} = len(out)")
                self.build_texpr(code, m.texpr, var)
                self.backpatch(code, mark, width, f"len(out) - {start}")
            elif self.sized_by_field(m, pending):
                # `opaque fragment[TLSPlaintext.length]`: the length field
                # before it takes this field's size.
                assert m.texpr.vector is not None and m.texpr.vector.size
                size_name = m.texpr.vector.size.name
                mark, width = pending.pop(size_name)
                start = code.temp("start")
                code(f"{start} = len(out)")
                if isinstance(m.texpr.base, OpaqueType):
                    code(f"out += {var}")
                else:
                    self.build_elements(code, m.texpr.base, var)
                n = self.backpatch(code, mark, width, f"len(out) - {start}")
                if size_name in shared:
                    code(f"v_{python_name(size_name)} = {n}")
            else:
                self.build_texpr(code, m.texpr, var)
            if owner is not None and m.name in owner.exports:
                self.export(code, m.name, var)
        elif isinstance(m, SelectMember):
            self.set_path(code, ctx, m.name or "")
            if m.bounds is not None:
                mark, width = pending.pop(m.bounds)
                start = code.temp("start")
                code(f"{start} = len(out)")
                self.build_select(code, m, ctx)
                self.backpatch(code, mark, width, f"len(out) - {start}")
            else:
                self.build_select(code, m, ctx)
        elif isinstance(m, OptionalMember):
            names = _member_names(m.members)
            first = names[0] if names else None
            with code.block(f'if {src}.get("{first}") is not None:'):
                self.build_members(code, owner, m.members, ctx)
        elif isinstance(m, CipheredMember):
            self.set_path(code, ctx, m.name)
            code(f'out += {src}["{m.name}"]')
        elif isinstance(m, SignedMember):
            holder = src
            if m.name is not None:
                self.set_path(code, ctx, m.name)
                holder = code.temp("s")
                code(f'{holder} = {src}["{m.name}"]')
            code(f'alg = {holder}["algorithm"]')
            self.build_texpr(code, m.algorithm, "alg")
            sig = TypeExpr(
                OpaqueType("opaque", "", None),
                Vector("var", floor=0, ceiling=0xFFFF, width=2),
            )
            code(f'sig = {holder}["signature"]')
            self.build_texpr(code, sig, "sig")

    def sized_by_field(
        self, m: FieldMember, pending: dict[str, tuple[str, int]]
    ) -> bool:
        vec = m.texpr.vector
        if vec is None or vec.size is None or vec.size.kind != "field":
            return False
        return vec.size.name in pending

    def backpatch(self, code: _Code, mark: str, width: int, count: str) -> str:
        """Write ``count`` into the prefix at ``mark``; return its variable."""
        n = code.temp("n")
        code(f"{n} = {count}")
        self.put_length(code, mark, n, width, fits=False)
        return n

    def put_length(
        self, code: _Code, at: str, n: str, width: int, *, fits: bool
    ) -> None:
        """Write ``n`` into the ``width`` bytes reserved at ``out[at]``.

        ``fits`` says a bounds check already keeps ``n`` within the
        prefix's maximum; otherwise an overflow check comes first.
        """
        if not fits:
            self.fit_check(code, n, width)
        if width == 1:
            code(f"out[{at}] = {n}")
        elif width == 3:
            code(f"out[{at}] = {n} >> 16")
            code(f"out[{at} + 1] = {n} >> 8 & 255")
            code(f"out[{at} + 2] = {n} & 255")
        else:
            code(_INT_PUT[width].format(at=at, x=n))

    def fit_check(self, code: _Code, n: str, width: int) -> None:
        code(f"if {n} > {256**width - 1}:")
        code(f"    raise _c.too_long({n}, {width})")

    def build_select(
        self,
        code: _Code,
        sel: SelectMember,
        ctx: _Ctx,
        value_expr: str | None = None,
        path: str | None = None,
    ) -> None:
        if path is None:
            path = _join(ctx.path, sel.name)
        src = ctx.target
        if value_expr is not None:
            val = value_expr
        elif sel.name is not None:
            val = f"v_{python_name(sel.name)}"
            code(f'{val} = {src}["{sel.name}"]')
        else:
            val = src
        start = None
        if sel.vector is not None:
            start = code.temp("start")
            code(f"{start} = len(out)")
            code(f"out += {bytes(sel.vector.width)!r}")
        tag = code.temp("t")
        code(f"{tag} = {self.tag_expr(code, sel, True)}")
        assert sel.tag.enum is not None
        no_case = f'raise _c.no_build_case({tag}, "{sel.tag.enum.name}")'
        table = self.arm_table(sel, path, "build")
        if table is not None:
            fn = self.table_lookup(code, table, tag, no_case)
            code(f"{fn}({val}, out, ctx)")
        else:
            self.dispatch(
                code,
                sel,
                tag,
                lambda arm: self.build_arm(code, arm, ctx, val, path),
                no_case,
            )
        if start is not None and sel.vector is not None:
            n = code.temp("n")
            w = sel.vector.width
            code(f"{n} = len(out) - {start} - {w}")
            vec = sel.vector
            self.build_check(code, n, vec)
            self.put_length(code, start, n, w, fits=_ceiling_checked(vec))

    def build_arm(self, code: _Code, arm: Arm, ctx: _Ctx, val: str, path: str) -> None:
        if arm.rest_opaque:
            code(f"out += {val}")
            return
        if isinstance(arm.single, TypeExpr):
            self.build_texpr(code, arm.single, val)
            return
        if isinstance(arm.single, SelectMember):
            self.build_select(code, arm.single, ctx, value_expr=val, path=path)
            return
        self.build_members(code, None, arm.members, _Ctx(val, path, ""))
        if not arm.members:
            code("pass")

    def build_texpr(self, code: _Code, texpr: TypeExpr, var: str) -> None:
        vec = texpr.vector
        base = texpr.base
        if vec is None:
            scalar = _unalias_scalar(texpr)
            if scalar is not None and (isinstance(scalar, IntType) or scalar.module):
                self.pack_int(code, scalar, var)
                return
            if _inline_alias(base):
                assert isinstance(base, AliasType) and base.target is not None
                self.build_texpr(code, base.target, var)
                return
            code(f"{self.ref(base, 'build')}({var}, out, ctx)")
            return
        if vec.kind == "fixed":
            if isinstance(base, OpaqueType) and vec.size and vec.size.kind == "param":
                # One comparison on the way through; the error path tells a
                # missing or malformed parameter from a wrong length.
                p = code.temp("p")
                name = vec.size.name
                code(f'{p} = ctx.get("{name}")')
                code(f"if len({var}) != {p}:")
                code(f'    raise _c.wrong_param_size("{name}", {p}, len({var}))')
                code(f"out += {var}")
                return
            n = self.size_expr(code, vec, building=True)
            if isinstance(base, OpaqueType):
                code(f"if len({var}) != {n}:")
                code(f"    raise _c.wrong_size(len({var}), {n})")
                code(f"out += {var}")
                return
            start = code.temp("start")
            code(f"{start} = len(out)")
            self.build_elements(code, base, var)
            code(f"if len(out) - {start} != {n}:")
            code(f"    raise _c.wrong_size(len(out) - {start}, {n})")
            return
        w = vec.width
        if isinstance(base, OpaqueType):
            n = code.temp("n")
            code(f"{n} = len({var})")
            self.build_check(code, n, vec)
            if not _ceiling_checked(vec):
                self.fit_check(code, n, w)
            self.pack_int_expr(code, w, n)
            code(f"out += {var}")
            return
        start = code.temp("start")
        code(f"{start} = len(out)")
        code(f"out += {bytes(w)!r}")
        self.build_elements(code, base, var)
        n = code.temp("n")
        code(f"{n} = len(out) - {start} - {w}")
        self.build_check(code, n, vec)
        self.put_length(code, start, n, w, fits=_ceiling_checked(vec))

    def build_check(self, code: _Code, n: str, vec: Vector) -> None:
        conds = []
        if vec.floor > 0:
            conds.append(f"{n} < {vec.floor}")
        if _ceiling_checked(vec):
            conds.append(f"{n} > {vec.ceiling}")
        if conds:
            code(f"if {' or '.join(conds)}:")
            code(f"    raise _c.build_bounds({n}, {vec.floor}, {vec.ceiling})")

    def build_elements(self, code: _Code, elem: TypeDef, var: str) -> None:
        scalar = _unalias_scalar(TypeExpr(elem))
        if scalar is not None and scalar.size in _LIST_FMT:
            fmt = _LIST_FMT[scalar.size]
            enum = self.ref(scalar, "class") if isinstance(scalar, EnumType) else "None"
            code(f'out += _c.pack_list("{fmt}", {var}, {enum})')
            return
        item = code.temp("item")
        idx = code.temp("i")
        with code.block(f"for {idx}, {item} in enumerate({var}):"):
            with code.block("try:"):
                self.build_texpr(code, TypeExpr(elem), item)
            with code.block("except _CodecError as e:"):
                code(f'e.prefix(f"[{{{idx}}}]")')
                code("raise")

    def pack_int(self, code: _Code, scalar: TypeDef, var: str) -> None:
        width = scalar.size or 1
        if isinstance(scalar, EnumType):
            code(f"if {var}.__class__ is str:")
            code(f"    {var} = _c.enum_value({self.ref(scalar, 'class')}, {var})")
        self.pack_int_expr(code, width, var)

    def pack_int_expr(self, code: _Code, width: int, var: str) -> None:
        if width == 1:
            code(f"out.append({var})")
        else:
            code(f"out += {_INT_PACK[width].format(x=var)}")


def _min_size(texpr: TypeExpr, seen: frozenset[int] = frozenset()) -> int:
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
        return _min_size(t.target, seen)
    if isinstance(t, SelectType) and t.select is not None:
        return _members_min([t.select], seen)
    if isinstance(t, StructType) and not t.attribute:
        return _members_min(t.members, seen)
    return 0


def _members_min(members: list[Member], seen: frozenset[int]) -> int:
    total = 0
    for m in members:
        if isinstance(m, FieldMember):
            total += _min_size(m.texpr, seen)
        elif isinstance(m, SignedMember):
            total += _min_size(m.algorithm, seen) + 2
        elif isinstance(m, SelectMember):
            if m.vector is not None:
                total += m.vector.width + m.vector.floor
                continue
            sizes = []
            for arm in m.arms:
                if arm.rest_opaque:
                    sizes.append(0)
                elif isinstance(arm.single, TypeExpr):
                    sizes.append(_min_size(arm.single, seen))
                elif isinstance(arm.single, SelectMember):
                    sizes.append(_members_min([arm.single], seen))
                else:
                    sizes.append(_members_min(arm.members, seen))
            total += min(sizes, default=0)
    return total


def _ceiling_checked(vec: Vector) -> bool:
    """Whether the ceiling is below the prefix's maximum, so checked apart."""
    return vec.ceiling < 256**vec.width - 1


def _inline_alias(t: TypeDef) -> bool:
    if not isinstance(t, AliasType) or t.target is None:
        return False
    vec = t.target.vector
    if vec is None or (vec.size is not None and vec.size.kind == "field"):
        return False
    elem = t.target.base
    return isinstance(elem, OpaqueType) or _unalias_scalar(TypeExpr(elem)) is not None


def _hoist_first_path(lines: list[str]) -> list[str]:
    # `f = ""` then, first thing in the try, `f = "field"`: set it once.
    if len(lines) > 2 and lines[0].strip() == 'f = ""':
        for i, line in enumerate(lines[1:4], start=1):
            if line.strip() == "try:" and i + 1 < len(lines):
                first = lines[i + 1].strip()
                if first.startswith('f = "'):
                    return ["    " + first, *lines[1 : i + 1], *lines[i + 2 :]]
                break
    return lines


def _join(path: str, name: str | None) -> str:
    if not name:
        return path
    return f"{path}.{name}" if path else name


def _member_names(members: list[Member]) -> list[str]:
    names = []
    for m in members:
        if isinstance(m, FieldMember | CipheredMember):
            names.append(m.name)
        elif isinstance(m, SelectMember) and m.name:
            names.append(m.name)
        elif isinstance(m, SignedMember):
            names.extend([m.name] if m.name else ["algorithm", "signature"])
    return names
