"""Support for generated codecs: the ``Codec`` construct and error helpers.

Generated modules define straight-line parse and build functions and wrap
each in a :class:`Codec`, a ``construct.Construct`` subclass. ``Codec.parse``
and ``Codec.build`` call the functions directly (the fast path users get);
the ``_parse``/``_build`` hooks let a codec sit inside ordinary construct
definitions too.
"""

from __future__ import annotations

import enum
import importlib
import re
import struct
from collections.abc import Callable, Collection, Mapping
from typing import Any

from construct import Construct, Container, SizeofError

from tlsspec.errors import CodecError, DecodeError, EncodeError
from tlsspec.names import python_name

__all__ = ["Codec"]

U32 = struct.Struct(">I").unpack_from
U64 = struct.Struct(">Q").unpack_from
P16 = struct.Struct(">H").pack
P32 = struct.Struct(">I").pack
P64 = struct.Struct(">Q").pack
# Backpatch a length into bytes reserved earlier: (out, offset, value).
P16_AT = struct.Struct(">H").pack_into
P32_AT = struct.Struct(">I").pack_into
P64_AT = struct.Struct(">Q").pack_into
unpack = struct.unpack_from

# What a malformed value raises inside generated build code.
BUILD_FAILURES = (
    KeyError,
    TypeError,
    ValueError,
    OverflowError,
    struct.error,
    AttributeError,
    IndexError,
)

ParseFn = Callable[[bytes, int, int, dict[str, Any]], tuple[Any, int]]
BuildFn = Callable[[Any, bytearray, dict[str, Any]], None]


# -- decode failures -------------------------------------------------------


def byte_count(n: int | Any) -> str:
    """``n`` bytes, in words: "1 byte", "2 bytes"."""
    return f"{n} byte" if n == 1 else f"{n} bytes"


def short(pos: int, need: int | Any, lim: int) -> DecodeError:
    left = max(lim - pos, 0)
    return DecodeError(
        f"truncated: needs {byte_count(need)}, {left} remain{'s' if left == 1 else ''}",
        offset=pos,
    )


def overrun(pos: int, length: int, lim: int) -> DecodeError:
    left = max(lim - pos, 0)
    return DecodeError(
        f"length {length} runs past the end: {byte_count(left)} "
        f"remain{'s' if left == 1 else ''}",
        offset=pos,
    )


def trailing(pos: int, stop: int) -> DecodeError:
    left = stop - pos
    return DecodeError(
        f"{byte_count(left)} left over inside the declared length", offset=pos
    )


def out_of_bounds(pos: int, length: int, floor: int, ceiling: int) -> DecodeError:
    return DecodeError(f"length {length} outside <{floor}..{ceiling}>", offset=pos)


def not_multiple(pos: int, length: int, size: int) -> DecodeError:
    return DecodeError(
        f"length {length} is not a multiple of the element size {size}",
        offset=pos,
    )


def no_progress(pos: int, count: int) -> DecodeError:
    return DecodeError(
        f"element [{count}] takes no bytes; the vector cannot end", offset=pos
    )


def fixed_mismatch(buf: bytes, pos: int, fixed: bytes) -> DecodeError:
    seen = buf[pos : pos + len(fixed)]
    if len(seen) < len(fixed):
        return short(pos, len(fixed), len(buf))
    return DecodeError(
        f"fixed value is {fixed.hex()}, found {seen.hex()}",
        offset=pos,
        alert="illegal_parameter",
    )


def no_case(tag: object, pos: int, enum_name: str) -> DecodeError:
    return DecodeError(
        f"no case for {enum_name} {_show(tag)}",
        offset=pos,
        alert="illegal_parameter",
    )


def missing(name: str, pos: int) -> DecodeError:
    # A missing parameter is the caller's mistake, not the peer's: the alert
    # is internal_error, and the message names the keyword.
    return DecodeError(
        f"needs the parse parameter {name}=...", offset=pos, alert="internal_error"
    )


# -- encode failures -------------------------------------------------------


def bad_size_param(name: str, value: object, building: bool) -> CodecError:
    reason = f"parameter {name}={value!r} must be a non-negative int"
    if building:
        return EncodeError(reason)
    return DecodeError(reason, alert="internal_error")


def wrong_param_size(name: str, param: object, got: int) -> EncodeError:
    if param is None:
        return build_missing(name)
    if param.__class__ is not int or param < 0:  # type: ignore[operator]
        return EncodeError(f"parameter {name}={param!r} must be a non-negative int")
    return wrong_size(got, param)  # type: ignore[arg-type]


def build_missing(name: str) -> EncodeError:
    return EncodeError(f"needs the build parameter {name}=...")


_STRUCT_RANGE = re.compile(r"requires 0 <= number <= (\d+)")


def encode_failure(path: str, exc: BaseException) -> EncodeError:
    if isinstance(exc, KeyError):
        reason = f"missing field {exc.args[0]!r}"
    elif isinstance(exc, struct.error | OverflowError):
        # struct's own words name its format codes, not the field.
        limit = _STRUCT_RANGE.search(str(exc))
        reason = "integer out of range for the field" + (
            f": expected 0 to {limit.group(1)}" if limit else ""
        )
    elif isinstance(exc, TypeError | AttributeError | IndexError):
        reason = f"value of the wrong type or shape ({exc})"
    else:
        reason = f"cannot encode: {exc}"
    return EncodeError(reason, path=path)


# What a vector refuses: iterating these gives one element per byte (or
# character), never the values meant, or elements in no particular order.
# Bytes still stand for a vector of one-byte elements.
NOT_A_LIST = (bytes, bytearray, memoryview, str, set, frozenset, dict)
_BYTE_STRINGS = (bytes, bytearray, memoryview)


def not_a_list(value: object) -> EncodeError:
    return EncodeError(
        f"expected a list or tuple of elements, got {type(value).__name__}"
    )


def int_value(value: object, enum_cls: type[enum.IntEnum] | None = None) -> int:
    """``value`` as an integer field takes it: an int, a member or a name.

    Generated code calls this only for a value whose class is not ``int``
    (nor the field's own enum), so plain ints stay on the fast path.
    """
    if enum_cls is not None and value.__class__ is str:
        return enum_value(enum_cls, value)  # type: ignore[arg-type]
    # bool is an int subclass, but True is no number of the wire format; the
    # engine's own settings refuse it the same way.
    if isinstance(value, int) and value.__class__ is not bool:
        return value
    raise wrong_int_type(value, enum_cls)


def wrong_int_type(value: object, enum_cls: type[enum.IntEnum] | None) -> EncodeError:
    expected = f"an int or a name from {enum_cls.__name__}" if enum_cls else "an int"
    return EncodeError(f"expected {expected}, got {type(value).__name__}")


def check_fields(value: object, fields: Collection[str]) -> None:
    """Refuse a value with a key that is none of ``fields``.

    Generated code calls this only when the value holds more keys than the
    fields build always reads. Keys starting with ``_`` are construct's own
    (a Container parsed by construct carries ``_io``) and are passed over,
    as construct's Container equality does.
    """
    if not isinstance(value, Mapping):
        raise EncodeError(f"expected a mapping of fields, got {type(value).__name__}")
    extra = sorted(
        repr(k)
        for k in value
        if k not in fields and not (isinstance(k, str) and k.startswith("_"))
    )
    if extra:
        many = "s" if len(extra) > 1 else ""
        raise EncodeError(f"unknown field{many} {', '.join(extra)}")


def check_empty(value: object) -> None:
    """Refuse anything but an empty mapping for an empty struct."""
    if not isinstance(value, Mapping):
        raise EncodeError(
            f"an empty struct takes an empty mapping, got {type(value).__name__}"
        )
    check_fields(value, ())


def fixed_differs(fixed: bytes) -> EncodeError:
    return EncodeError(f"value must encode as the fixed {fixed.hex()}")


def enum_value(enum_cls: type[enum.IntEnum], name: str) -> int:
    # The spec's name (`3des`, `class`) or the Python one (`_3des`, `class_`).
    member = enum_cls.__members__.get(name) or enum_cls.__members__.get(
        python_name(name)
    )
    if member is None:
        raise EncodeError(f"{name!r} is not a member of {enum_cls.__name__}")
    return int(member)


def too_long(n: int, width: int) -> EncodeError:
    return EncodeError(f"length {n} does not fit in {byte_count(width)}")


# Generated code checks the fit and packs in line; modules generated by an
# earlier compiler call this instead.
def length_bytes(n: int, width: int) -> bytes:
    if n >= 1 << (8 * width):
        raise too_long(n, width)
    return n.to_bytes(width, "big")


def build_bounds(n: int, floor: int, ceiling: int) -> EncodeError:
    return EncodeError(f"length {n} outside <{floor}..{ceiling}>")


def wrong_size(got: int, want: int) -> EncodeError:
    return EncodeError(f"has {byte_count(got)}, the fixed size is {want}")


def no_build_case(tag: object, enum_name: str) -> EncodeError:
    return EncodeError(f"no case for {enum_name} {_show(tag)}")


# Compiled packers for lists of up to _CACHED_COUNT integers, by format and
# count: compiling a format string costs more than packing a short list.
_LIST_PACKERS: dict[tuple[str, int], Callable[..., bytes]] = {}
_CACHED_COUNT = 255


def pack_list(fmt: str, items: list[Any], enum_cls: type[enum.IntEnum] | None) -> bytes:
    if (
        items.__class__ is not list
        and isinstance(items, NOT_A_LIST)
        and (fmt != "B" or not isinstance(items, _BYTE_STRINGS))
    ):
        raise not_a_list(items)
    key = (fmt, len(items))
    pack = _LIST_PACKERS.get(key)
    if pack is None:
        pack = struct.Struct(f">{key[1]}{fmt}").pack
        if key[1] <= _CACHED_COUNT:
            _LIST_PACKERS[key] = pack
    try:
        return pack(*items)
    except struct.error:
        pass
    # Names become members; anything neither int nor name is named as the
    # wrong type, and an int out of range fails pack() again below.
    values = [i if isinstance(i, int) else int_value(i, enum_cls) for i in items]
    return pack(*values)


def _show(tag: object) -> str:
    if isinstance(tag, enum.Enum):
        return f"{tag.name} ({tag.value})"
    return repr(tag)


# -- the construct ---------------------------------------------------------


class Codec(Construct):  # type: ignore[misc]
    """A generated codec for one spec type.

    ``parse(data, **params)`` decodes exactly ``data`` (trailing bytes are an
    error); ``build(value, **params)`` encodes a mapping (``dict`` or
    ``Container``). Enum-typed parameters and fields accept members, their
    names or integers.

    Attributes:
        name: The spec type's name.
        params: Parameter names the type may need at parse and build time.
        defaults: Parameter values supplied when the caller gives none.
    """

    def __init__(
        self,
        name: str,
        parse_fn: ParseFn,
        build_fn: BuildFn,
        *,
        size: int | None = None,
        params: tuple[str, ...] = (),
        defaults: Mapping[str, Any] | None = None,
        enum_params: Mapping[str, type[enum.IntEnum] | str] | None = None,
        doc: str = "",
    ) -> None:
        super().__init__()
        self.name = name
        self.parse_fn = parse_fn
        self.build_fn = build_fn
        self.fixed_size = size
        self.params = params
        self.defaults = dict(defaults or {})
        self.enum_params = dict(enum_params or {})
        self.docs = doc
        # Without defaults or enum parameters the caller's keywords are the
        # context as they are.
        self._plain = not self.defaults and not self.enum_params

    def __repr__(self) -> str:
        return f"<Codec {self.name}>"

    def enum_param(self, key: str) -> type[enum.IntEnum] | None:
        """The enum class parameter ``key`` takes, or None if not an enum."""
        enum_cls = self.enum_params.get(key)
        if isinstance(enum_cls, str):
            # "module:Class" names an enum of a sibling generated module.
            module, _, cls = enum_cls.partition(":")
            package = self.parse_fn.__module__.rpartition(".")[0]
            mod = importlib.import_module(f"{package}.{module}" if package else module)
            enum_cls = getattr(mod, cls)
            self.enum_params[key] = enum_cls
        return enum_cls

    def _context(self, given: dict[str, Any]) -> dict[str, Any]:
        # Generated code never changes a context in place, so the defaults
        # and the caller's keyword dict can be used as they are.
        # Only names need turning into enum members; integers and members
        # compare equal to case labels as they are. A plain loop: all() over
        # a generator costs more than the rest of a small message's build.
        names = False
        if self.enum_params:
            for value in given.values():
                if not isinstance(value, int):
                    names = True
                    break
        if not names:
            return {**self.defaults, **given} if self.defaults else given
        ctx = dict(self.defaults)
        for key, value in given.items():
            enum_cls = self.enum_param(key) if key in self.enum_params else None
            if enum_cls is not None and isinstance(value, str):
                try:
                    value = enum_cls[value]
                except KeyError:
                    raise DecodeError(
                        f"parameter {key}={value!r} is not a member of "
                        f"{enum_cls.__name__}",
                        path=self.name,
                        alert="internal_error",
                    ) from None
            elif enum_cls is not None and isinstance(value, int):
                value = enum_cls._value2member_map_.get(value, value)
            elif enum_cls is not None:
                raise DecodeError(
                    f"parameter {key}={value!r} must be a {enum_cls.__name__} "
                    "member, its name or an int",
                    path=self.name,
                    alert="internal_error",
                )
            ctx[key] = value
        return ctx

    def parse(self, data: bytes | bytearray | memoryview, **params: Any) -> Any:
        """Decode ``data``, which must hold exactly one value.

        Args:
            data: The encoded bytes.
            **params: Parse parameters, e.g. ``verify_data_length=12``.

        Returns:
            The decoded value: a ``Container`` for structs.

        Raises:
            DecodeError: The bytes are malformed, truncated or overlong.
            TypeError: ``data`` is not bytes, bytearray or memoryview.
        """
        if type(data) is bytes:
            buf = data
        elif isinstance(data, bytes | bytearray | memoryview):
            buf = bytes(data)
        else:
            raise TypeError(
                f"{self.name}.parse() takes bytes, bytearray or memoryview, "
                f"not {type(data).__name__}"
            )
        ctx = (
            (params if self._plain else self._context(params))
            if params
            else self.defaults
        )
        try:
            value, pos = self.parse_fn(buf, 0, len(buf), ctx)
        except DecodeError as e:
            e.prefix(self.name)
            raise
        if pos != len(buf):
            extra = len(buf) - pos
            raise DecodeError(
                f"{extra} trailing byte{'' if extra == 1 else 's'} after the message",
                path=self.name,
                offset=pos,
            )
        return value

    def parse_prefix(
        self, data: bytes, offset: int = 0, **params: Any
    ) -> tuple[Any, int]:
        """Decode one value at ``offset``; return it and the next offset.

        Raises:
            DecodeError: The bytes are malformed or truncated.
        """
        ctx = (
            (params if self._plain else self._context(params))
            if params
            else self.defaults
        )
        try:
            return self.parse_fn(data, offset, len(data), ctx)
        except DecodeError as e:
            e.prefix(self.name)
            raise

    def build(self, obj: Any, **params: Any) -> bytes:
        """Encode ``obj``.

        Args:
            obj: The value, a mapping for structs.
            **params: Build parameters, as for :meth:`parse`.

        Returns:
            The encoded bytes.

        Raises:
            EncodeError: The value does not fit the type.
        """
        out = bytearray()
        try:
            ctx = (
                (params if self._plain else self._context(params))
                if params
                else self.defaults
            )
            self.build_fn(obj, out, ctx)
        except CodecError as e:
            if isinstance(e, DecodeError):
                raise EncodeError(e.reason, path=e.path) from None
            e.prefix(self.name)
            raise
        except BUILD_FAILURES as e:
            raise encode_failure(self.name, e) from None
        return bytes(out)

    # construct's protocol, for use inside other construct definitions.

    def _context_params(self, context: Any) -> dict[str, Any]:
        # Keywords given to the outermost parse()/build() sit in `_params`.
        found = {}
        top = context.get("_params") or {}
        for key in self.params:
            if key in context:
                found[key] = context[key]
            elif key in top:
                found[key] = top[key]
        return found

    def _parse(self, stream: Any, context: Any, path: str) -> Any:
        start = stream.tell()
        data = stream.read()
        params = self._context_params(context)
        value, used = self.parse_prefix(data, 0, **params)
        stream.seek(start + used)
        return value

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> Any:
        params = self._context_params(context)
        stream.write(self.build(obj, **params))
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        if self.fixed_size is None:
            raise SizeofError(f"{self.name} has no fixed size")
        return self.fixed_size


_Container = Container
