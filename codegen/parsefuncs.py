"""Parse functions: ``_parse_Name(buf, pos, end, ctx)`` for each type.

Each returns ``(value, new_pos)`` and never reads past ``end``. Vector
bounds, exact consumption of a length-prefixed body and element-multiple
checks are written out inline.
"""

from __future__ import annotations

from tlsspec.codegen.emitbase import EmitterBase
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
    python_name,
)
from tlsspec.codegen.pycode import Code, Ctx, hoist_first_path, join_path
from tlsspec.codegen.shapes import (
    LIST_FMT,
    inline_alias,
    member_names,
    min_size,
    unalias_scalar,
)

__all__ = ["ParseEmitter"]

_INT_READ = {
    1: "buf[{p}]",
    2: "(buf[{p}] << 8) | buf[{p} + 1]",
    3: "(buf[{p}] << 16) | (buf[{p} + 1] << 8) | buf[{p} + 2]",
    4: "_c.U32(buf, {p})[0]",
    8: "_c.U64(buf, {p})[0]",
}


class ParseEmitter(EmitterBase):
    """Writes the parse function of each type."""

    def parse_function(self, t: TypeDef) -> list[str]:
        lines = hoist_first_path(self._parse_function(t))
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
        code = Code()
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
                    code, sel, Ctx("r", "", "end"), value_var="v", path=""
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
                self.parse_members(code, t, t.members, Ctx("r", "", "end"))
                code("return r, pos")
        self.parse_except(code)
        return code.lines

    def parse_except(self, code: Code) -> None:
        with code.block("except _DecodeError as e:"):
            code("e.prefix(f)")
            code("raise")

    def parse_members(
        self, code: Code, owner: StructType | None, members: list[Member], ctx: Ctx
    ) -> None:
        for m in members:
            self.parse_member(code, owner, m, ctx)

    def trace(self, code: Code, name: str) -> None:
        # `tlsspec parse` asks for field offsets through ctx["_trace"].
        if name:
            code("if tr is not None:")
            code(f'    tr.append(("{name}", pos))')

    def parse_member(
        self, code: Code, owner: StructType | None, m: Member, ctx: Ctx
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
                for name in member_names(m.members):
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

    def open_bound(self, code: Code, length: str, lim: str) -> str:
        sub = code.temp("stop")
        code(f"{sub} = pos + {length}")
        code(f"if {sub} > {lim}:")
        code(f"    raise _c.overrun(pos, {length}, {lim})")
        return sub

    def close_bound(self, code: Code, sub: str) -> None:
        code(f"if pos != {sub}:")
        code(f"    raise _c.trailing(pos, {sub})")

    def parse_select(
        self,
        code: Code,
        sel: SelectMember,
        ctx: Ctx,
        value_var: str | None = None,
        path: str | None = None,
    ) -> None:
        if path is None:
            path = join_path(ctx.path, sel.name)
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

    def parse_arm(
        self,
        code: Code,
        arm: Arm,
        ctx: Ctx,
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
                Ctx(ctx.target, ctx.path, lim),
                value_var=out,
                path=path,
            )
            return
        if out is not None:
            code(f"{out} = _Container()")
            inner = Ctx(out, path, lim)
        else:
            inner = Ctx(ctx.target, ctx.path, lim)
        self.parse_members(code, None, arm.members, inner)
        if not arm.members:
            code("pass")

    def read_int(self, code: Code, width: int, var: str, lim: str) -> None:
        code(f"if pos + {width} > {lim}:")
        code(f"    raise _c.short(pos, {width}, {lim})")
        code(f"{var} = {_INT_READ[width].format(p='pos')}")
        code(f"pos += {width}")

    def check_bounds(self, code: Code, n: str, vec: Vector) -> None:
        conds = []
        if vec.floor > 0:
            conds.append(f"{n} < {vec.floor}")
        if vec.ceiling < 256**vec.width - 1:
            conds.append(f"{n} > {vec.ceiling}")
        if conds:
            code(f"if {' or '.join(conds)}:")
            code(f"    raise _c.out_of_bounds(pos, {n}, {vec.floor}, {vec.ceiling})")

    def parse_texpr(self, code: Code, texpr: TypeExpr, var: str, lim: str) -> None:
        vec = texpr.vector
        base = texpr.base
        if vec is None:
            scalar = unalias_scalar(texpr)
            if scalar is not None and (isinstance(scalar, IntType) or scalar.module):
                self.read_int(code, scalar.size or 1, var, lim)
                if isinstance(scalar, EnumType):
                    get = self.ref(scalar, "get")
                    code(f"{var} = {get}({var}, {var})")
                return
            if inline_alias(base):
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
        self, code: Code, elem: TypeDef, var: str, n: str, stop: str
    ) -> None:
        if isinstance(elem, OpaqueType):
            code(f"{var} = buf[pos:{stop}]")
            code(f"pos = {stop}")
            return
        scalar = unalias_scalar(TypeExpr(elem))
        if scalar is not None and scalar.size in LIST_FMT:
            width = scalar.size
            if width > 1:
                code(f"if {n} % {width}:")
                code(f"    raise _c.not_multiple(pos, {n}, {width})")
            if width == 1:
                items = f"buf[pos:{stop}]"
            else:
                fmt = f'f">{{{n} // {width}}}{LIST_FMT[width]}"'
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
        empty = min_size(TypeExpr(elem)) == 0
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
