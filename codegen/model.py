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
* A ``uintN length;`` field directly followed by a select counts that
  select's bytes (the ``Handshake`` pattern), as does ``uintN X_length;``
  directly followed by a select named ``X`` (RFC 6961's ``request_length``
  and ``request``); a field a later vector names as its size (the
  ``TLSPlaintext`` pattern) is that vector's size. Either way it is
  computed on build and checked on parse.
* A select written with a vector declarator (``select (...) {...}
  extension_data<0..2^16-1>;``) is one value inside a length prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tlsspec.codegen import syntax as ast
from tlsspec.codegen.diagnostics import Pos
from tlsspec.names import python_name

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
    # `extend` statements of other spec files that changed this type:
    # (spec file, statement text).
    extended_by: list[tuple[str, str]] = field(default_factory=list)

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

    _size: tuple[int, int | None] | None = field(default=None, repr=False)

    @property
    def size(self) -> int | None:
        # Cached per member count: nested types would otherwise be sized
        # once per path to them, which grows exponentially with depth.
        if self._size is not None and self._size[0] == len(self.members):
            return self._size[1]
        total: int | None = 0
        if self.attribute:
            total = None
        for member in self.members:
            size = member.texpr.size if isinstance(member, FieldMember) else None
            if size is None or total is None:
                total = None
                break
            total += size
        self._size = (len(self.members), total)
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
    from tlsspec.codegen.analysis import Analyzer

    return Analyzer(list(files)).run()
