"""Select rules: tags, arms, optional tails, and the parameters they need.

A select's tag is a field of the struct, a qualified field, the type of an
earlier field, or else a parse-time parameter (see the README's "Selects").
This part of the analysis also works out which parameters each type needs
and which it gets by default from the one select case it is the body of.
"""

from __future__ import annotations

from typing import Any

from tlsspec.codegen import syntax as ast
from tlsspec.codegen.diagnostics import Pos, SpecError
from tlsspec.codegen.model import (
    Arm,
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
    Tag,
    TypeDef,
    TypeExpr,
    snake_case,
)
from tlsspec.codegen.walk import (
    Scope,
    all_members,
    dependencies,
    flat_named,
    scope_fields,
    unalias,
    walk_fields,
)


class SelectRules:
    """Analysis steps for selects; mixed into the analyzer."""

    # Provided by the analyzer.
    defs: dict[str, tuple[Any, str]]
    types: dict[str, TypeDef]
    builtins: dict[str, TypeDef]
    exports: set[tuple[str, str]]
    param_uses: dict[str, dict[str, TypeDef | None]]
    modules: dict[str, Module]
    module_order: dict[str, list[str]]
    constants: dict[str, Constant]
    empty_selects: list[SelectMember]
    errors: list[SpecError]
    current: str
    current_module: str
    error: Any
    lookup_type: Any
    param_name: Any
    members: Any
    vector: Any

    def build_select_type(self, d: ast.SelectDef, modname: str) -> SelectType:
        node = ast.FieldNode(
            "select", d.pos, name="value", tag=d.tag, tag_pos=d.tag_pos, arms=d.arms
        )
        sel = self.select_member(node, Scope(d.name, {}))
        return SelectType(d.name, modname, d.pos, d.text, select=sel, node=d)

    def resolve_tag(self, name: str, pos: Pos, scope: Scope) -> Tag:
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
            for fm in scope_fields(scope):
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
        for f in walk_fields(owner[0].fields):
            if f.name == tail and f.type_ref is not None:
                ftype = f.type_ref.name
        if ftype is None:
            raise self.error(
                pos, f"{head} has no field {tail!r}", f"name a field of {head}"
            )
        enum_t = self.lookup_type(ftype, pos)
        enum_t = unalias(enum_t)
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
                t = unalias(self.lookup_type(cand, Pos("", 0, 0)))
                if isinstance(t, EnumType):
                    return t
        return None

    def field_tag(self, fm: FieldMember, pos: Pos) -> Tag:
        enum = unalias(fm.texpr.base)
        if not isinstance(enum, EnumType) or fm.texpr.vector is not None:
            raise self.error(
                pos,
                f"select tag {fm.name!r} has type {fm.texpr.base.name}, not an enum",
                "select on an enum-typed field; declare the field's type as an enum",
            )
        return Tag("field", fm.name, enum)

    def select_member(self, node: ast.FieldNode, scope: Scope) -> SelectMember:
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
        if name is None:
            for arm in arms:
                if arm.rest_opaque:
                    self.error(
                        arm.pos,
                        "an 'opaque;' arm of a nameless select has no field to "
                        "hold its bytes",
                        "name the select, e.g. '} data;'",
                    )
        sel = SelectMember(name, tag, arms, node.pos, vector=vec, owner=scope.struct)
        if not arms:
            # An 'extend select' of another file may still give it arms:
            # checked once all are applied (see check_empty_selects).
            self.empty_selects.append(sel)
        for arm in arms:
            if arm.rest_opaque and vec is None and sel.bounds is None:
                pass
        return sel

    def optional_member(self, node: ast.FieldNode, scope: Scope) -> Member:
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
            inner = self.members(false_arm.fields, Scope(scope.struct, {}, scope))
            if any(flat_named(inner)):
                raise self.error(
                    false_arm.pos,
                    "the 'case false' arm of an optional tail must be empty",
                    "write 'case false: struct {};'",
                )
        true_arm = labels.get("true")
        reported = len(self.errors)
        members = self.members(true_arm.fields, scope) if true_arm else []
        if not members and len(self.errors) == reported:
            raise self.error(
                true_arm.pos if true_arm else node.pos,
                f"select ({node.tag}) has no optional fields",
                "list the fields that may follow under 'case true:', or remove "
                "the select",
            )
        return OptionalMember(members, node.pos)

    def arm(self, node: ast.Arm, tag: Tag, scope: Scope) -> Arm:
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
            inner = self.select_member(fields[0], Scope(scope.struct, {}, scope))
            if isinstance(inner, SelectMember) and inner.name == "body":
                inner.name = None
                arm.single = inner
                return arm
            arm.members = [inner]
            return arm
        arm.members = self.members(fields, Scope(scope.struct, {}, scope))
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
                        f"case {_label(tag, value)} appears twice (first at "
                        f"{seen[value]})",
                        "remove the repeated case label",
                    )
                seen[value] = arm.pos
        if defaults > 1:
            self.error(arms[-1].pos, "more than one default arm", "keep one 'default:'")

    def check_empty_selects(self) -> None:
        """Selects without arms, once every 'extend select' has added its."""
        for sel in self.empty_selects:
            if not sel.arms:
                self.error(
                    sel.pos,
                    "a select needs at least one arm",
                    "add a case, e.g. 'case a: uint8 x;', here or from another "
                    "spec file with 'extend select'",
                )

    def apply_extend_select(self, node: ast.ExtendSelect, modname: str) -> None:
        head, _, tail = node.target.rpartition(".")
        if not head:
            # A whole type written as a select (RFC 8422's Signature).
            head, tail = tail, ""
        owner = self.types.get(head)
        target: SelectMember | None = None
        if isinstance(owner, StructType) and tail:
            for m in all_members(owner.members):
                if isinstance(m, SelectMember) and m.name == tail:
                    target = m
        elif isinstance(owner, SelectType) and not tail:
            target = owner.select
        if target is None:
            self.error(
                node.pos,
                f"'extend select' target {node.target!r} is not a select",
                "name a named select as Struct.field (Extension.extension_data) "
                "or a select type by its name (Signature)",
            )
            return
        saved = (self.current, self.current_module)
        self.current, self.current_module = head, modname
        try:
            arms = [self.arm(a, target.tag, Scope(head, {})) for a in node.arms]
        finally:
            self.current, self.current_module = saved
        for arm in arms:
            if arm.is_default:
                self.error(
                    arm.pos,
                    "'extend select' cannot add a default arm",
                    "give case labels",
                )
        # A refused default arm is not added, so it is not reported twice.
        arms = [arm for arm in arms if not arm.is_default]
        self.check_labels(target.arms + arms, target.tag)
        for arm in arms:
            target.extended.append((modname, arm))
        target.arms.extend(arms)
        if owner is not None:
            owner.extended_by.append((self.modules[modname].path, node.text))

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
                for dep in dependencies(t):
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
            for m in all_members(t.members):
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


def _label(tag: Tag, value: int) -> str:
    # The member name as the spec wrote it, with its value: "server_name (0)".
    if tag.enum is not None:
        for member in tag.enum.members:
            if member.value == value:
                return f"{member.name} ({value})"
    return str(value)
