"""Enum rules: widths, ranges, repeated names, and `extend enum`.

RFC 5246 §4.5 gives an enum's width by its largest value or a width marker
such as `(255)`; RFC 8422 §5.1 repeats names across value ranges. Enums are
open: values the spec does not name still parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tlsspec.codegen import syntax as ast
from tlsspec.codegen.diagnostics import Pos, byte_count
from tlsspec.codegen.model import (
    MAX_BOUND,
    EnumMember,
    EnumType,
    Module,
    python_name,
    width_for,
)

__all__ = ["EnumRules"]


class EnumRules:
    """Analysis steps for enums; mixed into the analyzer."""

    # Provided by the analyzer.
    enum_extensions: dict[str, list[tuple[ast.ExtendEnum, str]]]
    modules: dict[str, Module]
    error: Any
    const_expr: Any

    # -- enums -------------------------------------------------------------

    def build_enum(
        self, name: str, body: ast.EnumBody, modname: str, pos: Pos, text: str
    ) -> EnumType:
        enum = EnumType(name, modname, pos, text, body=body)
        items = self.enum_items(enum, body)
        values = self.enum_values(items)
        if not values.order:
            # Counted after any 'extend enum': a width marker alone may be
            # filled in from other spec files.
            self.error(
                pos,
                "an enum needs at least one value",
                "give it a member, e.g. 'enum { a(0), (255) } E;'",
            )
        enum.width = self.enum_width(enum, items, values, pos)
        self.check_enum_repeats(values)
        self.check_enum_names(values)
        self.add_enum_members(enum, values)
        return enum

    def enum_items(self, enum: EnumType, body: ast.EnumBody) -> list[ast.EnumItem]:
        """The enum's own items, then those of each `extend enum` of it."""
        items = list(body.items)
        for ext, ext_module in self.enum_extensions.get(enum.name, []):
            enum.extensions.append(ext)
            enum.extended_by.append((self.modules[ext_module].path, ext.text))
            items.extend(i for i in ext.body.items if i.kind != "width")
            for i in ext.body.items:
                if i.kind == "width":
                    self.error(
                        i.pos,
                        "'extend enum' cannot change the enum's width",
                        "remove the width marker; the width comes from the enum",
                    )
        return items

    def enum_values(self, items: list[ast.EnumItem]) -> _Values:
        """Each item's value or range, in spec order."""
        values = _Values()
        next_value = 0
        for item in items:
            if item.kind == "width":
                assert item.high is not None
                marker = self.const_expr(item.high, "enum width")
                values.width_marker = (marker, item.pos)
                continue
            if item.kind == "range":
                self.enum_range(item, values)
                continue
            if item.kind == "bare":
                # RFC 5246 §6.1 writes enums such as ConnectionEnd without
                # values; they never reach the wire, so number them in order.
                value = next_value
            else:
                assert item.low is not None
                value = self.const_expr(item.low, "enum value")
            if value < 0:
                self.error(item.pos, "enum values cannot be negative", "use 0 or more")
            values.singles.setdefault(item.name, []).append((value, item.pos))
            values.tops.append((item, value))
            if item.name not in values.order:
                values.order.append(item.name)
            values.max_value = max(values.max_value, value)
            next_value = value + 1
        return values

    def enum_range(self, item: ast.EnumItem, values: _Values) -> None:
        """One range item such as ``deprecated(1..22)``."""
        assert item.low is not None and item.high is not None
        low = self.const_expr(item.low, "enum range")
        high = self.const_expr(item.high, "enum range")
        if low > high:
            self.error(
                item.pos,
                f"enum range {item.name}({low}..{high}) runs backwards",
                "write the smaller value first",
            )
        values.ranges.setdefault(item.name, []).append((low, high))
        values.tops.append((item, high))
        if item.name not in values.order:
            values.order.append(item.name)
        values.max_value = max(values.max_value, high)

    def enum_width(
        self, enum: EnumType, items: list[ast.EnumItem], values: _Values, pos: Pos
    ) -> int:
        """The width in bytes: from the width marker, else the largest value."""
        if values.width_marker is None:
            if values.max_value > MAX_BOUND:
                self.error(
                    pos,
                    f"enum value {values.max_value} is above 2^32-1",
                    "use a smaller value",
                )
            return self.inferred_width(enum, values)
        marker, marker_pos = values.width_marker
        width = width_for(marker)
        if width is None:
            self.error(
                marker_pos,
                f"width marker {marker} is above 2^32-1",
                "use at most (4294967295)",
            )
            width = 4
        self.check_enum_fit(items, values, marker, width)
        enum.explicit_width = True
        return width

    def inferred_width(self, enum: EnumType, values: _Values) -> int:
        """The width the enum's own largest value gives, kept by extensions.

        Without a width marker, an 'extend enum' in another file must not
        change how every struct holding the enum is laid out on the wire.
        """
        assert enum.body is not None
        own = {id(item) for item in enum.body.items}
        own_max = max((v for i, v in values.tops if id(i) in own), default=0)
        width = width_for(own_max) or 4
        for item, value in values.tops:
            wider = width_for(value) or 4
            if id(item) in own or wider <= width:
                continue
            self.error(
                item.pos,
                f"'extend enum' value {value} of {item.name!r} would widen "
                f"{enum.name} from {byte_count(width)} to {byte_count(wider)}",
                f"add a width marker to {enum.name}'s declaration: "
                f"({256**wider - 1}) makes it {byte_count(wider)}; with "
                f"({256**width - 1}) it stays {byte_count(width)} and the value "
                "must fit",
            )
        return width

    def check_enum_fit(
        self, items: list[ast.EnumItem], values: _Values, marker: int, width: int
    ) -> None:
        """Every value within the width marker and the width it gives."""
        limit = 256**width - 1
        for item in items:
            if item.kind not in ("value", "range", "bare"):
                continue
            given = values.singles.get(item.name, [])
            found = [v for v, p in given if p == item.pos]
            if item.kind == "range":
                found += [hi for lo, hi in values.ranges.get(item.name, [])]
            for v in found:
                if v > marker or v > limit:
                    self.error(
                        item.pos,
                        f"enum value {v} of {item.name!r} does not fit the "
                        f"declared width ({marker}, {width} byte"
                        f"{'s' if width > 1 else ''})",
                        "raise the width marker to "
                        f"({256 ** (width_for(v) or 4) - 1}) or fix the value",
                    )

    def check_enum_repeats(self, values: _Values) -> None:
        """A name given two values, or a value given two names."""
        for member_name, given in values.singles.items():
            if len(given) > 1:
                self.error(
                    given[1][1],
                    f"enum member {member_name!r} is given twice (first at "
                    f"{given[0][1]})",
                    "give each member one value; a repeated name is only for "
                    "ranges such as deprecated(1..22)",
                )
        by_value: dict[int, tuple[str, Pos]] = {}
        for member_name in values.order:
            for value, mpos in values.singles.get(member_name, [])[:1]:
                if value in by_value:
                    first, first_pos = by_value[value]
                    self.error(
                        mpos,
                        f"enum value {value} of {member_name!r} is already "
                        f"{first!r} (at {first_pos})",
                        "give each member its own value",
                    )
                by_value.setdefault(value, (member_name, mpos))

    def check_enum_names(self, values: _Values) -> None:
        """Member names Python's enum would refuse."""
        for member_name in values.order:
            if member_name not in values.singles:
                continue
            if member_name.startswith("_"):
                self.error(
                    values.singles[member_name][0][1],
                    f"enum member {member_name!r} starts with '_', which Python's "
                    "enum reserves",
                    "rename the member",
                )
            elif python_name(member_name) == "mro":
                # Enum classes refuse a member that would hide type.mro.
                self.error(
                    values.singles[member_name][0][1],
                    f"enum member {member_name!r} is a name Python's enum refuses",
                    "rename the member, e.g. 'mro_'",
                )

    def add_enum_members(self, enum: EnumType, values: _Values) -> None:
        """Named values become members; ranges, and names with several, do not."""
        singles, ranges = values.singles, values.ranges
        seen_py: dict[str, Pos] = {}
        for member_name in values.order:
            # A member given twice was reported above; its first value
            # stands, so case labels naming it still resolve.
            if member_name in singles and member_name not in ranges:
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


@dataclass
class _Values:
    # What an enum's items give, before any check on them.
    singles: dict[str, list[tuple[int, Pos]]] = field(default_factory=dict)
    ranges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    max_value: int = 0
    # Each value item and its (largest) value, in spec order.
    tops: list[tuple[ast.EnumItem, int]] = field(default_factory=list)
    width_marker: tuple[int, Pos] | None = None
