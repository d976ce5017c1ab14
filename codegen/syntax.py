"""Spec files to syntax trees.

The grammar (``grammar.lark``) accepts the presentation language as the RFCs
print it. This module turns lark's parse tree into small dataclasses that keep
the position of every name, so that semantic checks can point at the exact
spot, and the source text of every definition, so that generated code can
quote it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import lark
from lark import Lark, Token, Tree

from tlsspec.codegen.diagnostics import Pos, SpecError, SpecErrors

__all__ = [
    "Arm",
    "BinOp",
    "DeclDef",
    "EnumBody",
    "EnumDef",
    "EnumItem",
    "ExtendEnum",
    "ExtendSelect",
    "FieldNode",
    "Label",
    "Num",
    "Ref",
    "SelectDef",
    "SourceFile",
    "StructDef",
    "parse_source",
]


# -- expressions -----------------------------------------------------------


@dataclass(frozen=True)
class Num:
    value: int
    pos: Pos


@dataclass(frozen=True)
class Ref:
    name: str
    pos: Pos


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Expr
    right: Expr
    pos: Pos


Expr = Num | Ref | BinOp


@dataclass(frozen=True)
class FixedSize:
    size: Expr
    pos: Pos


@dataclass(frozen=True)
class VarSize:
    floor: Expr | None
    ceiling: Expr
    pos: Pos


Declarator = FixedSize | VarSize


@dataclass(frozen=True)
class FixedValue:
    """``= expr`` or ``= { a, b }`` after a field."""

    items: tuple[Expr, ...]
    braced: bool
    pos: Pos


# -- enums -----------------------------------------------------------------


@dataclass(frozen=True)
class EnumItem:
    kind: str  # "value", "range", "width" or "bare"
    name: str
    pos: Pos
    low: Expr | None = None
    high: Expr | None = None


@dataclass(frozen=True)
class EnumBody:
    items: tuple[EnumItem, ...]
    pos: Pos


# -- fields ----------------------------------------------------------------


@dataclass(frozen=True)
class TypeRef:
    name: str
    attribute: str | None
    pos: Pos


@dataclass(frozen=True)
class Label:
    value: str | int | None  # None for `default`
    pos: Pos


@dataclass(frozen=True)
class Arm:
    labels: tuple[Label, ...]
    fields: tuple[FieldNode, ...]
    pos: Pos


@dataclass(frozen=True)
class FieldNode:
    """One member of a struct or select arm.

    ``kind`` is ``"field"`` (``T name...;``), ``"type_only"`` (``T;``),
    ``"struct"`` (inline ``struct {...} [name];``), ``"select"`` (inline
    ``select (...) {...} [name];``) or ``"enum"`` (inline enum).
    """

    kind: str
    pos: Pos
    name: str | None = None
    name_pos: Pos | None = None
    type_ref: TypeRef | None = None
    declarator: Declarator | None = None
    fixed: FixedValue | None = None
    attribute: str | None = None
    fields: tuple[FieldNode, ...] = ()
    tag: str | None = None
    tag_pos: Pos | None = None
    arms: tuple[Arm, ...] = ()
    enum: EnumBody | None = None


# -- top level -------------------------------------------------------------


@dataclass(frozen=True)
class EnumDef:
    name: str
    body: EnumBody
    pos: Pos
    text: str


@dataclass(frozen=True)
class StructDef:
    name: str
    attribute: str | None
    fields: tuple[FieldNode, ...]
    pos: Pos
    text: str


@dataclass(frozen=True)
class SelectDef:
    name: str
    tag: str
    tag_pos: Pos
    arms: tuple[Arm, ...]
    pos: Pos
    text: str


@dataclass(frozen=True)
class DeclDef:
    """``T Name[decl];`` (a type alias) or ``T NAME = value;`` (a constant)."""

    name: str
    type_ref: TypeRef
    declarator: Declarator | None
    fixed: FixedValue | None
    pos: Pos
    text: str


@dataclass(frozen=True)
class ExtendEnum:
    name: str
    body: EnumBody
    pos: Pos
    text: str


@dataclass(frozen=True)
class ExtendSelect:
    target: str
    arms: tuple[Arm, ...]
    pos: Pos
    text: str


Definition = EnumDef | StructDef | SelectDef | DeclDef | ExtendEnum | ExtendSelect


@dataclass
class SourceFile:
    path: str
    source: str
    definitions: list[Definition] = field(default_factory=list)


# -- parsing ---------------------------------------------------------------

_TOKEN_TEXT = {
    "SEMICOLON": "';'",
    "COMMA": "','",
    "COLON": "':'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "LESSTHAN": "'<'",
    "MORETHAN": "'>'",
    "EQUAL": "'='",
    "CIRCUMFLEX": "'^'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "NAME": "a name",
    "NUMBER": "a number",
    "ATTRIBUTE": "an attribute such as 'digitally-signed'",
    "$END": "end of file",
}


@functools.cache
def _parser() -> Lark:
    grammar = Path(__file__).with_name("grammar.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=True)


def _token_text(name: str) -> str:
    if name in _TOKEN_TEXT:
        return _TOKEN_TEXT[name]
    for term in _parser().terminals:
        if term.name == name:
            return repr(term.pattern.value)
    return name.lower()


def _end_of_previous_token(source: str, offset: int) -> tuple[int, int]:
    """Line and column just after the last token before ``offset``."""
    i = offset
    while i > 0:
        while i > 0 and source[i - 1].isspace():
            i -= 1
        if source[max(0, i - 2) : i] == "*/":
            start = source.rfind("/*", 0, i - 2)
            if start < 0:
                break
            i = start
            continue
        break
    line = source.count("\n", 0, i) + 1
    col = i - (source.rfind("\n", 0, i) + 1) + 1
    return line, col


def _syntax_error(path: str, source: str, exc: lark.LarkError) -> SpecError:
    if isinstance(exc, lark.UnexpectedCharacters):
        pos = Pos(path, exc.line, exc.column, source)
        at = exc.pos_in_stream or 0
        char = source[at] if at < len(source) else ""
        if source.startswith("/*", at):
            return SpecError(
                pos,
                "comment is never closed",
                "end the comment with '*/'",
            )
        return SpecError(
            pos,
            f"unexpected character {char!r}",
            "remove it; names use letters, digits, '_' and '.'",
        )
    assert isinstance(exc, lark.UnexpectedInput)
    expected = sorted(getattr(exc, "expected", set()) or ())
    token = getattr(exc, "token", None)
    if isinstance(exc, lark.UnexpectedEOF) or token is None or token.type == "$END":
        opened = _unclosed_brace(source)
        if opened is not None:
            line = source.count("\n", 0, opened) + 1
            col = opened - (source.rfind("\n", 0, opened) + 1) + 1
            return SpecError(
                Pos(path, line, col, source),
                "'{' is never closed",
                "add the matching '}' (then the name and ';' for a definition)",
            )
        line = source.count("\n") + 1
        col = len(source) - (source.rfind("\n") + 1) + 1
        pos = Pos(path, line, col, source)
        found = "end of file"
    else:
        pos = Pos(path, token.line or 1, token.column or 1, source)
        found = repr(str(token))
    if token is not None and token.type != "$END":
        cause = _misread_token(path, source, token)
        if cause is not None:
            return cause
    for wanted in ("SEMICOLON", "COMMA"):
        if wanted in expected and token is not None and token.type != "$END":
            offset = token.start_pos or 0
            line, col = _end_of_previous_token(source, offset)
            where = Pos(path, line, col, source)
            mark = ";" if wanted == "SEMICOLON" else ","
            return SpecError(
                where,
                f"missing '{mark}' before {found}",
                f"add '{mark}' here",
            )
    names = ", ".join(_token_text(e) for e in expected[:8])
    if len(expected) > 8:
        names += ", ..."
    return SpecError(
        pos,
        f"unexpected {found}; expected {names}",
        "check the statement against RFC 5246 §4 notation",
    )


# Text just before an unexpected token: `^ 2` or `^ (...)` before a second
# '^', and the digits of a number the token's letters are glued to.
_POWER_BEFORE = re.compile(r"\^\s*(?:[A-Za-z0-9_.]+|\([^()]*\))\s*\Z")
_DIGITS_BEFORE = re.compile(r"(?<![A-Za-z0-9_])(?:0[xX][0-9A-Fa-f]*|[0-9]+)\Z")


def _misread_token(path: str, source: str, token: Token) -> SpecError | None:
    """The cause of a token the parser refused, where it is a cheap guess.

    The parser alone would report a missing ';' before both: `2^2^2` and
    `0x`, `1e5` end one expression early.
    """
    offset = token.start_pos or 0
    before = source[max(offset - 256, 0) : offset]
    if token.type == "CIRCUMFLEX" and _POWER_BEFORE.search(before):
        return SpecError(
            Pos(path, token.line or 1, token.column or 1, source),
            "chained powers are not supported",
            "write the value as one power, e.g. 2^16, or group with parentheses, "
            "e.g. (2^2)^2",
        )
    glued = _DIGITS_BEFORE.search(before)
    if token.type == "NAME" and glued is not None:
        start = offset - len(glued.group())
        line = source.count("\n", 0, start) + 1
        col = start - (source.rfind("\n", 0, start) + 1) + 1
        text = glued.group() + str(token)
        return SpecError(
            Pos(path, line, col, source),
            f"malformed number {text!r}",
            "write hexadecimal digits 0-9 and A-F after '0x', e.g. 0xFF"
            if text[:2] in ("0x", "0X")
            else "write decimal digits (255), hexadecimal digits after '0x' "
            "(0xFF), or a power with '^' (2^16)",
        )
    return None


MAX_SYNTAX_ERRORS = 20


# Spec values are at most 64 bits wide.  A literal may be wider than the
# field it bounds (that is checked later, with a better message), but not
# without limit: Python refuses decimal strings past 4300 digits, and
# arithmetic on such numbers takes unbounded time.
MAX_MAGNITUDE = 2**128


def _number(text: str, pos: Pos) -> int:
    # Decimal as written (`0777` is 777), or hexadecimal after 0x.
    hexadecimal = text[:2] in ("0x", "0X")
    digits = (text[2:] if hexadecimal else text).lstrip("0")
    # 33 hex or 39 decimal digits hold 2^128; more never fit.
    if len(digits) <= (33 if hexadecimal else 39):
        value = int(digits or "0", 16 if hexadecimal else 10)
        if value <= MAX_MAGNITUDE:
            return value
    shown = text if len(text) <= 24 else f"{text[:20]}... ({len(text)} characters)"
    raise SpecError(
        pos,
        f"number {shown} is too large",
        "spec values fit in 64 bits; write 2^n with n <= 64 for a bound",
    )


def _error_offset(exc: lark.UnexpectedInput, text: str) -> int:
    if isinstance(exc, lark.UnexpectedCharacters):
        return exc.pos_in_stream or 0
    token = getattr(exc, "token", None)
    if token is None or token.type == "$END":
        return len(text)
    return token.start_pos or 0


def _code_chars(text: str) -> list[tuple[int, str]]:
    """Offsets and characters of ``text`` outside comments."""
    out = []
    i = 0
    while i < len(text):
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        out.append((i, text[i]))
        i += 1
    return out


def _unclosed_brace(text: str) -> int | None:
    stack: list[int] = []
    for i, ch in _code_chars(text):
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _resync(text: str, offset: int) -> int | None:
    """Where the definition after the one holding ``offset`` starts."""
    depth = 0
    for i, ch in _code_chars(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        elif ch == ";" and depth == 0 and i >= offset:
            return i + 1
    return None


def parse_source(path: str, source: str) -> SourceFile:
    """Parse one spec file into syntax trees.

    Args:
        path: File name used in diagnostics.
        source: The file's text.

    Returns:
        The file's definitions in source order.

    Raises:
        SpecErrors: The text is not valid presentation language; after each
            syntax error parsing resumes at the next definition, so every
            broken definition is reported.
    """
    errors: list[SpecError] = []
    text = source
    while True:
        try:
            tree = _parser().parse(text)
            break
        except lark.UnexpectedInput as exc:
            errors.append(_syntax_error(path, source, exc))
            resume = _resync(text, _error_offset(exc, text))
            if resume is None or len(errors) >= MAX_SYNTAX_ERRORS:
                break
            # Blank what was read, keeping line breaks, so positions hold.
            text = re.sub(r"[^\n]", " ", text[:resume]) + text[resume:]
    if errors:
        raise SpecErrors(errors)
    builder = _Builder(path, source)
    result = SourceFile(path, source)
    for child in tree.children:
        assert isinstance(child, Tree)
        try:
            result.definitions.append(builder.definition(child))
        except SpecError as error:
            # One bad definition does not hide the next one's problems.
            errors.append(error)
        except RecursionError:
            errors.append(
                SpecError(
                    builder.pos(child),
                    "this definition is too long or too deeply nested to compile",
                    "write a long expression as its value, and move nested "
                    "structs and selects into named types",
                )
            )
    if errors:
        raise SpecErrors(errors)
    return result


class _Builder:
    def __init__(self, path: str, source: str) -> None:
        self.path = path
        self.source = source

    def pos(self, item: Tree | Token) -> Pos:
        if isinstance(item, Token):
            return Pos(self.path, item.line or 1, item.column or 1, self.source)
        return Pos(self.path, item.meta.line, item.meta.column, self.source)

    def text(self, tree: Tree) -> str:
        return self.source[tree.meta.start_pos : tree.meta.end_pos]

    def definition(self, tree: Tree) -> Definition:
        kind = tree.data
        ch = tree.children
        pos = self.pos(tree)
        text = self.text(tree)
        if kind == "enum_def":
            return EnumDef(str(ch[1]), self.enum_body(ch[0]), pos, text)
        if kind == "struct_def":
            attr, rest = self.split_attribute(ch)
            name = rest[-1]
            fields = tuple(self.field(c) for c in rest[:-1])
            return StructDef(str(name), attr, fields, pos, text)
        if kind == "select_def":
            tag, *arms, name = ch
            return SelectDef(
                str(name),
                str(tag),
                self.pos(tag),
                tuple(self.arm(a) for a in arms),
                pos,
                text,
            )
        if kind == "decl_def":
            type_ref, name, *rest = ch
            decl, fixed = self.decl_and_fixed(rest)
            return DeclDef(
                str(name), self.type_ref(type_ref), decl, fixed, self.pos(name), text
            )
        if kind == "extend_enum":
            return ExtendEnum(str(ch[0]), self.enum_body(ch[1]), pos, text)
        if kind == "extend_select":
            target, *arms = ch
            return ExtendSelect(
                str(target), tuple(self.arm(a) for a in arms), self.pos(target), text
            )
        raise AssertionError(kind)

    def split_attribute(self, children: list) -> tuple[str | None, list]:
        if children and isinstance(children[0], Token):
            if children[0].type == "ATTRIBUTE":
                return str(children[0]), children[1:]
            return None, children
        if children and children[0] is None:
            return None, children[1:]
        return None, children

    def type_ref(self, tree: Tree) -> TypeRef:
        attr, rest = self.split_attribute(tree.children)
        name = rest[0]
        return TypeRef(str(name), attr, self.pos(name))

    def decl_and_fixed(self, rest: list) -> tuple[Declarator | None, FixedValue | None]:
        decl = None
        fixed = None
        for item in rest:
            if item is None:
                continue
            if item.data == "fixed":
                fixed = self.fixed(item)
            else:
                decl = self.declarator(item)
        return decl, fixed

    def field(self, tree: Tree) -> FieldNode:
        kind = tree.data
        ch = tree.children
        pos = self.pos(tree)
        if kind == "field":
            type_ref, name, *rest = ch
            decl, fixed = self.decl_and_fixed(rest)
            return FieldNode(
                "field",
                pos,
                name=str(name),
                name_pos=self.pos(name),
                type_ref=self.type_ref(type_ref),
                declarator=decl,
                fixed=fixed,
            )
        if kind == "type_only":
            return FieldNode("type_only", pos, type_ref=self.type_ref(ch[0]))
        if kind == "anon_struct":
            return self.anon_struct(ch, pos)
        if kind == "anon_select":
            return self.anon_select(ch, pos)
        if kind == "inline_enum":
            body, name, *rest = ch
            fixed = self.fixed(rest[0]) if rest and rest[0] is not None else None
            return FieldNode(
                "enum",
                pos,
                name=str(name),
                name_pos=self.pos(name),
                enum=self.enum_body(body),
                fixed=fixed,
            )
        raise AssertionError(kind)

    def anon_struct(self, children: list, pos: Pos) -> FieldNode:
        # `struct {...} [name][declarator];` inside a struct or arm.
        attr, rest = self.split_attribute(children)
        fields = []
        name = None
        decl = None
        for item in rest:
            if item is None:
                continue
            if isinstance(item, Token):
                name = item
            elif item.data in ("fixed_size", "var_range", "var_ceiling"):
                decl = self.declarator(item)
            else:
                fields.append(self.field(item))
        return FieldNode(
            "struct",
            pos,
            name=str(name) if name else None,
            name_pos=self.pos(name) if name else None,
            attribute=attr,
            fields=tuple(fields),
            declarator=decl,
        )

    def anon_select(self, children: list, pos: Pos) -> FieldNode:
        # `select (tag) {...} [name][declarator];` inside a struct or arm.
        tag, *rest = children
        arms = []
        name = None
        decl = None
        for item in rest:
            if item is None:
                continue
            if isinstance(item, Token):
                name = item
            elif item.data == "arm":
                arms.append(self.arm(item))
            else:
                decl = self.declarator(item)
        return FieldNode(
            "select",
            pos,
            name=str(name) if name else None,
            name_pos=self.pos(name) if name else None,
            tag=str(tag),
            tag_pos=self.pos(tag),
            arms=tuple(arms),
            declarator=decl,
        )

    def arm(self, tree: Tree) -> Arm:
        labels: list[Label] = []
        fields: list[FieldNode] = []
        for item in tree.children:
            if item.data == "case_label":
                for value in item.children:
                    tok = value.children[0]
                    assert isinstance(tok, Token)
                    val: str | int = (
                        _number(str(tok), self.pos(tok))
                        if tok.type == "NUMBER"
                        else str(tok)
                    )
                    labels.append(Label(val, self.pos(tok)))
            elif item.data == "default_label":
                labels.append(Label(None, self.pos(item)))
            else:
                fields.append(self.field(item))
        return Arm(tuple(labels), tuple(fields), self.pos(tree))

    def enum_body(self, tree: Tree) -> EnumBody:
        items = []
        for item in tree.children:
            if item is None:
                continue
            kind = item.data
            ch = item.children
            pos = self.pos(item)
            if kind == "enum_width":
                items.append(EnumItem("width", "", pos, high=self.expr(ch[0])))
                continue
            name = self.member_name(ch[0])
            if kind == "enum_value":
                items.append(EnumItem("value", name, pos, low=self.expr(ch[1])))
            elif kind == "enum_range":
                items.append(
                    EnumItem(
                        "range",
                        name,
                        pos,
                        low=self.expr(ch[1]),
                        high=self.expr(ch[2]),
                    )
                )
            else:
                items.append(EnumItem("bare", name, pos))
        return EnumBody(tuple(items), self.pos(tree))

    def member_name(self, tree: Tree) -> str:
        # `3des` and `2^9` are written as one word in the RFCs; take the
        # characters as printed and refuse blanks inside the word.
        start, end = tree.meta.start_pos, tree.meta.end_pos
        text = self.source[start:end]
        if any(c.isspace() for c in text):
            raise SpecError(
                self.pos(tree),
                f"enum member name {text!r} contains white space",
                "write the name as one word, e.g. '3des' or '2^9'",
            )
        return text

    def declarator(self, tree: Tree) -> Declarator:
        ch = tree.children
        pos = self.pos(tree)
        if tree.data == "fixed_size":
            return FixedSize(self.expr(ch[0]), pos)
        if tree.data == "var_range":
            return VarSize(self.expr(ch[0]), self.expr(ch[1]), pos)
        return VarSize(None, self.expr(ch[0]), pos)

    def fixed(self, tree: Tree) -> FixedValue:
        value = tree.children[0]
        pos = self.pos(tree)
        if value.data == "brace_value":
            return FixedValue(tuple(self.expr(e) for e in value.children), True, pos)
        return FixedValue((self.expr(value.children[0]),), False, pos)

    def expr(self, tree: Tree | Token) -> Expr:
        if isinstance(tree, Token):
            raise AssertionError(tree)
        kind = tree.data
        pos = self.pos(tree)
        if kind == "number":
            return Num(_number(str(tree.children[0]), pos), pos)
        if kind == "ref":
            return Ref(str(tree.children[0]), pos)
        ops = {"add": "+", "sub": "-", "mul": "*", "pow": "^"}
        left, right = tree.children
        return BinOp(ops[kind], self.expr(left), self.expr(right), pos)
