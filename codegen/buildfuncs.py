"""Build functions: ``_build_Name(value, out, ctx)`` for each type.

Each appends to a ``bytearray``. A length prefix whose body is still to be
written is reserved as zero bytes and filled in once the body is out. The
bounds the parser enforces are checked here too.
"""

from __future__ import annotations

from collections.abc import Callable

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
    ceiling_checked,
    container_keys,
    inline_alias,
    member_names,
    unalias_scalar,
)

__all__ = ["BuildEmitter"]

_INT_PACK = {
    2: "_c.P16({x})",
    3: "{x}.to_bytes(3, 'big')",
    4: "_c.P32({x})",
    8: "_c.P64({x})",
}
# Writes a length into bytes already reserved at `out[{at}]`.
_INT_PUT = {
    2: "_c.P16_AT(out, {at}, {x})",
    4: "_c.P32_AT(out, {at}, {x})",
    8: "_c.P64_AT(out, {at}, {x})",
}


class BuildEmitter(EmitterBase):
    """Writes the build function of each type."""

    # The current struct's key checks per arm of its nameless select: set
    # by build_function for each type.
    arm_checks: dict[int, tuple[list[str], list[str]]]

    def build_function(self, t: TypeDef) -> list[str]:
        if isinstance(t, StructType) and not t.attribute and not t.members:
            code = Code()
            code("del out, ctx  # an empty struct has no bytes")
            self.empty_check(code, "value")
            return code.lines
        self.arm_checks = {}
        if isinstance(t, StructType) and not t.attribute:
            self.arm_checks = self.split_keys(t.members)
        lines = hoist_first_path(self._build_function(t))
        if isinstance(t, StructType) and not t.attribute and not self.arm_checks:
            # Outside the try: the struct itself, not its first field, is
            # where a stray key is.
            code = Code()
            self.keys_check(code, container_keys(t.members), "value", "")
            lines = code.lines + lines
        return lines

    def split_keys(
        self, members: list[Member]
    ) -> dict[int, tuple[list[str], list[str]]]:
        """The keys of each arm's path, for a struct with one nameless select.

        Checked in the arm, such a struct's keys are exactly those of the
        arm taken (no other arm's key slips through) and the count is known,
        so the set comparison is rarely needed. Keyed by ``id(arm)``; empty
        when the struct's keys are checked as one set.
        """
        nameless = [m for m in members if isinstance(m, SelectMember) and not m.name]
        if len(nameless) != 1 or any(isinstance(m, OptionalMember) for m in members):
            return {}
        (sel,) = nameless
        found = container_keys([m for m in members if m is not sel])
        assert found is not None
        keys, optional = found
        checks = {}
        for arm in sel.arms:
            if arm.rest_opaque or arm.single is not None:
                return {}
            inner = container_keys(arm.members)
            if inner is None:
                return {}
            extra = [k for k in inner[0] if k not in keys]
            checks[id(arm)] = (keys + extra, optional + inner[1])
        return checks

    def count_check(self, code: Code, val: str, keys: list[str]) -> None:
        """Refuse more keys than ``keys``, all of which build reads."""
        names = "{" + ", ".join(repr(k) for k in keys) + "}"
        code(f"if len({val}) > {len(keys)}:")
        code(f"    _c.check_fields({val}, {names})")

    def empty_check(self, code: Code, val: str) -> None:
        """Refuse anything but an empty mapping (``{}`` or parse's own)."""
        # Truth and class first: Container's own == runs Python code.
        empty = f"{val}.__class__ is _Container or {val}.__class__ is dict"
        code(f"if {val} or not ({empty}):")
        code(f"    _c.check_empty({val})")

    def keys_check(
        self,
        code: Code,
        found: tuple[list[str], list[str]] | None,
        val: str,
        where: str,
    ) -> None:
        """Refuse a key that no member reads, which build would drop.

        ``found`` is what ``container_keys`` says of the members. Cheap on
        the hot path: a length comparison, and more only when the value
        holds more keys than build always reads.
        """
        if found is None:
            return
        keys, optional = found
        required = len(keys) - len(optional)
        if not optional:
            self.count_check(code, val, keys)
            return
        names = "{" + ", ".join(repr(k) for k in keys) + "}"
        if len(optional) == 1:
            # One key build may do without: its presence accounts for one
            # key more, and a second more is a stray one.
            code(
                f"if len({val}) > {required} and "
                f'(len({val}) > {len(keys)} or "{optional[0]}" not in {val}):'
            )
            code(f"    _c.check_fields({val}, {names})")
            return
        table = "_".join(p for p in (self.current, where) if p) + "_fields"
        table = "_" + table.replace(".", "_")
        self.tables += ["", "", f"{table} = frozenset({names})"]
        code(f"if len({val}) > {required} and not {table}.issuperset({val}):")
        code(f"    _c.check_fields({val}, {table})")

    def _build_function(self, t: TypeDef) -> list[str]:
        code = Code()
        code('f = ""')
        with code.block("try:"):
            if isinstance(t, AliasType):
                assert t.target is not None
                self.build_texpr(code, t.target, "value")
            elif isinstance(t, SelectType):
                assert t.select is not None
                self.build_select(
                    code, t.select, Ctx("value", "", ""), value_expr="value", path=""
                )
            else:
                assert isinstance(t, StructType)
                if t.attribute:
                    code("out += value")
                else:
                    self.build_members(code, t, t.members, Ctx("value", "", ""))
        with code.block("except _CodecError as e:"):
            code("e.prefix(f)")
            code("raise")
        with code.block("except _c.BUILD_FAILURES as e:"):
            code("raise _c.encode_failure(f, e) from None")
        return code.lines

    def build_members(
        self, code: Code, owner: StructType | None, members: list[Member], ctx: Ctx
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
        code: Code,
        owner: StructType | None,
        m: Member,
        ctx: Ctx,
        pending: dict[str, tuple[str, int]],
        shared: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        src = ctx.target
        if isinstance(m, FieldMember):
            self.build_field(code, owner, m, ctx, pending, shared)
        elif isinstance(m, SelectMember):
            self.set_path(code, ctx, m.name or "")
            if m.bounds is not None:
                mark, width = pending.pop(m.bounds)
                self.build_counted(
                    code, mark, width, lambda: self.build_select(code, m, ctx)
                )
            else:
                self.build_select(code, m, ctx)
        elif isinstance(m, OptionalMember):
            names = member_names(m.members)
            first = names[0] if names else None
            with code.block(f'if {src}.get("{first}") is not None:'):
                self.build_members(code, owner, m.members, ctx)
        elif isinstance(m, CipheredMember):
            self.set_path(code, ctx, m.name)
            code(f'out += {src}["{m.name}"]')
        elif isinstance(m, SignedMember):
            self.build_signed(code, m, ctx)

    def build_field(
        self,
        code: Code,
        owner: StructType | None,
        m: FieldMember,
        ctx: Ctx,
        pending: dict[str, tuple[str, int]],
        shared: frozenset[str] | set[str],
    ) -> None:
        self.set_path(code, ctx, m.name)
        var = f"v_{python_name(m.name)}"
        if m.computed:
            self.reserve_length(code, m, pending)
            return
        if m.fixed is not None:
            self.build_fixed(code, m, ctx.target, var)
            return
        code(f'{var} = {ctx.target}["{m.name}"]')
        if m.bounds is not None:
            mark, width = pending.pop(m.bounds)
            self.build_counted(
                code, mark, width, lambda: self.build_texpr(code, m.texpr, var)
            )
        elif self.sized_by_field(m, pending):
            self.build_sized(code, m, var, pending, shared)
        else:
            self.build_texpr(code, m.texpr, var)
        if owner is not None and m.name in owner.exports:
            self.export(code, m.name, var)

    def reserve_length(
        self, code: Code, m: FieldMember, pending: dict[str, tuple[str, int]]
    ) -> None:
        """Zero bytes for a length field, written once its body is out."""
        scalar = unalias_scalar(m.texpr)
        assert scalar is not None
        width = scalar.size or 1
        mark = f"at_{python_name(m.name)}"
        code(f"{mark} = len(out)")
        code(f"out += {bytes(width)!r}")
        pending[m.name] = (mark, width)

    def build_fixed(self, code: Code, m: FieldMember, src: str, var: str) -> None:
        """A fixed field: its value when absent, else checked against it."""
        assert m.fixed is not None
        code(f'{var} = {src}.get("{m.name}")')
        with code.block(f"if {var} is None:"):
            code(f"out += {m.fixed!r}")
        with code.block("else:"):
            mark = code.temp("at")
            code(f"{mark} = len(out)")
            self.build_texpr(code, m.texpr, var)
            code(f"if out[{mark}:] != {m.fixed!r}:")
            code(f"    raise _c.fixed_differs({m.fixed!r})")

    def build_counted(
        self, code: Code, mark: str, width: int, body: Callable[[], None]
    ) -> str:
        """Write ``body``, then its byte count into the prefix at ``mark``."""
        start = code.temp("start")
        code(f"{start} = len(out)")
        body()
        return self.backpatch(code, mark, width, f"len(out) - {start}")

    def build_sized(
        self,
        code: Code,
        m: FieldMember,
        var: str,
        pending: dict[str, tuple[str, int]],
        shared: frozenset[str] | set[str],
    ) -> None:
        # `opaque fragment[TLSPlaintext.length]`: the length field before it
        # takes this field's size.
        assert m.texpr.vector is not None and m.texpr.vector.size
        size_name = m.texpr.vector.size.name
        mark, width = pending.pop(size_name)
        if isinstance(m.texpr.base, OpaqueType):
            n = self.build_counted(code, mark, width, lambda: code(f"out += {var}"))
        else:
            base = m.texpr.base
            n = self.build_counted(
                code, mark, width, lambda: self.build_elements(code, base, var)
            )
        if size_name in shared:
            code(f"v_{python_name(size_name)} = {n}")

    def build_signed(self, code: Code, m: SignedMember, ctx: Ctx) -> None:
        src = ctx.target
        holder = src
        if m.name is not None:
            self.set_path(code, ctx, m.name)
            holder = code.temp("s")
            code(f'{holder} = {src}["{m.name}"]')
            self.count_check(code, holder, ["algorithm", "signature"])
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

    def backpatch(self, code: Code, mark: str, width: int, count: str) -> str:
        """Write ``count`` into the prefix at ``mark``; return its variable."""
        n = code.temp("n")
        code(f"{n} = {count}")
        self.put_length(code, mark, n, width, fits=False)
        return n

    def put_length(
        self, code: Code, at: str, n: str, width: int, *, fits: bool
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

    def fit_check(self, code: Code, n: str, width: int) -> None:
        code(f"if {n} > {256**width - 1}:")
        code(f"    raise _c.too_long({n}, {width})")

    def build_select(
        self,
        code: Code,
        sel: SelectMember,
        ctx: Ctx,
        value_expr: str | None = None,
        path: str | None = None,
        own: bool | None = None,
    ) -> None:
        if path is None:
            path = join_path(ctx.path, sel.name)
        src = ctx.target
        if value_expr is not None:
            val = value_expr
        elif sel.name is not None:
            val = f"v_{python_name(sel.name)}"
            code(f'{val} = {src}["{sel.name}"]')
        else:
            val = src
        # A named select (or a select type) holds its arm's fields in a
        # value of its own; a nameless one's go into the enclosing struct.
        if own is None:
            own = value_expr is not None or sel.name is not None
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
                lambda arm: self.build_arm(code, arm, ctx, val, path, own),
                no_case,
            )
        if start is not None and sel.vector is not None:
            n = code.temp("n")
            w = sel.vector.width
            code(f"{n} = len(out) - {start} - {w}")
            vec = sel.vector
            self.build_check(code, n, vec)
            self.put_length(code, start, n, w, fits=ceiling_checked(vec))

    def build_arm(
        self, code: Code, arm: Arm, ctx: Ctx, val: str, path: str, own: bool
    ) -> None:
        if arm.rest_opaque:
            code(f"out += {val}")
            return
        if isinstance(arm.single, TypeExpr):
            self.build_texpr(code, arm.single, val)
            return
        if isinstance(arm.single, SelectMember):
            self.build_select(code, arm.single, ctx, value_expr=val, path=path, own=own)
            return
        if own and not arm.members:
            self.empty_check(code, val)
            return
        label = arm.label_names[0] if arm.label_names else "default"
        if own:
            found = container_keys(arm.members)
            self.keys_check(code, found, val, f"{path}.{label}")
        elif id(arm) in self.arm_checks:
            # The enclosing struct's keys, as this arm leaves them.
            self.keys_check(code, self.arm_checks[id(arm)], val, f"{path}.{label}")
            if not arm.members:
                return
        self.build_members(code, None, arm.members, Ctx(val, path, ""))
        if not arm.members:
            code("pass")

    def build_texpr(self, code: Code, texpr: TypeExpr, var: str) -> None:
        vec = texpr.vector
        base = texpr.base
        if vec is None:
            scalar = unalias_scalar(texpr)
            if scalar is not None and (isinstance(scalar, IntType) or scalar.module):
                self.pack_int(code, scalar, var)
                return
            if inline_alias(base):
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
                # The class too, as parse checks it: 12.0 and True compare
                # equal to lengths.
                code(f"if {p}.__class__ is not int or len({var}) != {p}:")
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
            if not ceiling_checked(vec):
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
        self.put_length(code, start, n, w, fits=ceiling_checked(vec))

    def build_check(self, code: Code, n: str, vec: Vector) -> None:
        conds = []
        if vec.floor > 0:
            conds.append(f"{n} < {vec.floor}")
        if ceiling_checked(vec):
            conds.append(f"{n} > {vec.ceiling}")
        if conds:
            code(f"if {' or '.join(conds)}:")
            code(f"    raise _c.build_bounds({n}, {vec.floor}, {vec.ceiling})")

    def build_elements(self, code: Code, elem: TypeDef, var: str) -> None:
        scalar = unalias_scalar(TypeExpr(elem))
        if scalar is not None and scalar.size in LIST_FMT:
            fmt = LIST_FMT[scalar.size]
            enum = self.ref(scalar, "class") if isinstance(scalar, EnumType) else "None"
            code(f'out += _c.pack_list("{fmt}", {var}, {enum})')
            return
        # Bytes would iterate as one element per byte.
        code(f"if {var}.__class__ is not list and isinstance({var}, _c.NOT_A_LIST):")
        code(f"    raise _c.not_a_list({var})")
        item = code.temp("item")
        idx = code.temp("i")
        with code.block(f"for {idx}, {item} in enumerate({var}):"):
            with code.block("try:"):
                self.build_texpr(code, TypeExpr(elem), item)
            with code.block("except _CodecError as e:"):
                code(f'e.prefix(f"[{{{idx}}}]")')
                code("raise")

    def pack_int(self, code: Code, scalar: TypeDef, var: str) -> None:
        width = scalar.size or 1
        # A plain int (or the enum's own member) goes straight through;
        # anything else is a name to look up or the wrong type.
        if isinstance(scalar, EnumType):
            cls = self.ref(scalar, "class")
            # Members (what parse gives and the engine passes) are tested
            # first, unless reaching the class costs an attribute lookup.
            first, second = ("int", cls) if self.is_lazy(scalar) else (cls, "int")
            kind = f"{var}.__class__"
            code(f"if {kind} is not {first} and {kind} is not {second}:")
            code(f"    {var} = _c.int_value({var}, {cls})")
        else:
            code(f"if {var}.__class__ is not int:")
            code(f"    {var} = _c.int_value({var})")
        self.pack_int_expr(code, width, var)

    def pack_int_expr(self, code: Code, width: int, var: str) -> None:
        if width == 1:
            code(f"out.append({var})")
        else:
            code(f"out += {_INT_PACK[width].format(x=var)}")
