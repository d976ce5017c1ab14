"""What the parse and build emitters share.

Names of the functions and enum classes a type refers to, and the imports
they need; the field path kept in ``f``; context parameters; and the
dispatch of a select on its tag, by an ``if``/``elif`` chain or by a dict
from tag value to arm function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tlsspec.codegen.model import (
    AliasType,
    Arm,
    EnumType,
    Module,
    SelectMember,
    SelectType,
    Spec,
    StructType,
    TypeDef,
    TypeExpr,
    Vector,
    python_name,
)
from tlsspec.codegen.pycode import Code, Ctx, lazy_alias
from tlsspec.codegen.shapes import inline_alias, unalias_scalar

__all__ = ["EmitterBase"]

# From this many labelled arms on, a select whose every arm is one function
# call finds the function in a dict: one lookup instead of a comparison per
# arm before the one that matches.
_TABLE_ARMS = 6


@dataclass
class EmitterBase:
    """One module's emitter state: what it imports, defines and tabulates."""

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

    # -- paths and parameters ---------------------------------------------

    def set_path(self, code: Code, ctx: Ctx, name: str) -> None:
        path = f"{ctx.path}.{name}" if ctx.path else name
        code(f'f = "{path}"')

    def export(self, code: Code, name: str, var: str) -> None:
        # A copy: the caller's context stays as it was.
        code("ctx = ctx.copy()")
        code(f'ctx["{name}"] = {var}')

    def tag_expr(self, code: Code, sel: SelectMember, building: bool) -> str:
        tag = sel.tag
        if tag.kind == "field":
            return f"v_{python_name(tag.name)}"
        return self.param_fetch(code, tag.name, building)

    def param_fetch(
        self, code: Code, name: str, building: bool, size: bool = False
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

    def size_expr(self, code: Code, vec: Vector, building: bool = False) -> str:
        assert vec.size is not None
        if vec.size.kind == "const":
            return str(vec.size.value)
        if vec.size.kind == "field":
            return f"v_{python_name(vec.size.name)}"
        return self.param_fetch(code, vec.size.name, building, size=True)

    # -- select dispatch ---------------------------------------------------

    def dispatch(
        self,
        code: Code,
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
        if texpr.vector is not None or unalias_scalar(texpr) is not None:
            return None
        if not isinstance(base, StructType | SelectType | AliasType):
            return None
        if inline_alias(base):
            return None
        if self.is_lazy(base):
            # The table is built at import, before the module it would
            # reach has loaded in one of the two import orders.
            return None
        fn = self.ref(base, what)
        imported = base.module and base.module != self.module.name
        return fn if imported or fn in self.defined else None

    def table_lookup(
        self, code: Code, table: tuple[str, str | None], tag: str, no_case: str
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
