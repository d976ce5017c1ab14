"""``tlsspec parse``: decode bytes with the generated codecs and print them.

One message is decoded as a named spec type, found across the generated
modules, and printed as a tree of field names, values, enum names and
offsets.  With ``--records`` the input is a stream of TLS records, read as
the engine reads it: each record header, then each plaintext handshake
message and alert, stopping at the first record the engine would answer
with an alert.
"""

from __future__ import annotations

import argparse
import difflib
import enum
import importlib
import importlib.util
import pkgutil
import string
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tlsspec.codec import Codec, byte_count
from tlsspec.errors import DecodeError

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from tlsspec.runtime.alerts import LocalProtocolError
    from tlsspec.runtime.record import RecordProtection
    from tlsspec.runtime.recordlayer import RecordReader

__all__ = ["run"]

BYTES_SHOWN = 48
# parse reads its whole input before decoding; a bound keeps /dev/zero or an
# endless pipe from taking the machine's memory.  Far above any handshake
# message (2^24 bytes at most) or a capture's record stream.
MAX_PARSE_INPUT = 64 * 1024 * 1024
# RFC 5246 §7.1: the whole ChangeCipherSpec message.
CHANGE_CIPHER_SPEC_BODY = b"\x01"

_USER_PACKAGE = "_tlsspec_user_codecs"


def _codec_modules(codecs: Path | None) -> list[ModuleType]:
    """The modules of the generated package (raises ValueError if unusable)."""
    if codecs is None:
        package = _load("tlsspec.generated", None, codecs)
    else:
        # Load the folder under a private name, so a folder called `enum` or
        # `codecs` does not pick up the standard library's module.
        init = codecs / "__init__.py"
        if not init.is_file():
            raise ValueError(
                f"--codecs {codecs}: not a folder made by 'tlsspec generate'"
            )
        package = sys.modules.get(_USER_PACKAGE)  # type: ignore[assignment]
        if package is None:
            package = _load(_USER_PACKAGE, init, codecs)
    modules = []
    for info in pkgutil.iter_modules(package.__path__):
        name = f"{package.__name__}.{info.name}"
        file = None
        if codecs is not None:
            file = codecs / (info.name if info.ispkg else f"{info.name}.py")
        modules.append(_load(name, file, codecs))
    return modules


def _load(name: str, file: Path | None, codecs: Path | None) -> ModuleType:
    # A module runs its code when loaded: whatever that raises, a syntax
    # error or the module's own exception (SystemExit too), makes a codecs
    # folder parse cannot use (ValueError), named in one line by its file.
    try:
        if name != _USER_PACKAGE:
            return importlib.import_module(name)
        assert file is not None
        return _load_package(name, file)
    except (Exception, SystemExit) as e:
        reason = " ".join(f"{type(e).__name__}: {e}".split())
        if codecs is None:
            raise ValueError(f"cannot load {name}: {reason}") from None
        raise ValueError(f"--codecs {codecs}: cannot load {file}: {reason}") from None


def _load_package(name: str, init: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(init.parent)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    # Its modules import it by name while it runs; a package that fails
    # is not left behind half made.
    sys.modules[name] = package
    try:
        spec.loader.exec_module(package)
    except BaseException:
        del sys.modules[name]
        raise
    return package


def _find_codec(name: str, codecs: Path | None) -> Codec | None:
    for module in _codec_modules(codecs):
        obj = getattr(module, name, None)
        if isinstance(obj, Codec):
            return obj
    return None


def _param_value(text: str) -> Any:
    try:
        return int(text, 0)
    except ValueError:
        return text


def _read_input(args: argparse.Namespace) -> bytes:
    # Pipes are welcome (stdin, or <(...) as FILE), so no regular-file
    # check here; only the amount read is bounded.
    if args.file == "-":
        name, data = "stdin", sys.stdin.buffer.read(MAX_PARSE_INPUT + 1)
    else:
        name = args.file
        try:
            with open(args.file, "rb") as f:
                data = f.read(MAX_PARSE_INPUT + 1)
        except OSError as e:
            raise ValueError(f"{name}: {e.strerror or e}") from None
    if len(data) > MAX_PARSE_INPUT:
        raise ValueError(
            f"{name}: more than {MAX_PARSE_INPUT // (1024 * 1024)} MiB; parse "
            "reads one message or one record stream of at most that size"
        )
    if args.hex:
        digits = "".join(data.decode("ascii", errors="replace").split())
        wrong = next((c for c in digits if c not in string.hexdigits), None)
        if wrong is not None:
            raise ValueError(f"--hex: {wrong!r} is not a hex digit")
        if len(digits) % 2:
            raise ValueError(f"--hex: {len(digits)} hex digits; bytes need pairs")
        return bytes.fromhex(digits)
    return data


def _show_scalar(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return f"{value.name} ({value.value})"
    if isinstance(value, bytes):
        shown = value[:BYTES_SHOWN].hex()
        more = "..." if len(value) > BYTES_SHOWN else ""
        return f"{shown}{more} ({byte_count(len(value))})"
    if value is None:
        return "absent"
    return repr(value)


class _Printer:
    def __init__(self, trace: list[tuple[str, int]], out: SupportsWrite[str]) -> None:
        self.trace = trace
        self.cursor = 0
        self.out = out

    def offset(self, name: str) -> int | None:
        for i in range(self.cursor, len(self.trace)):
            if self.trace[i][0] == name:
                self.cursor = i + 1
                return self.trace[i][1]
        return None

    def line(self, depth: int, offset: int | None, text: str) -> None:
        where = f"@{offset}" if offset is not None else ""
        print(f"{where:>7}  {'  ' * depth}{text}", file=self.out)

    def value(self, depth: int, label: str, offset: int | None, value: Any) -> None:
        if isinstance(value, dict):
            self.line(depth, offset, f"{label}:")
            for key, item in value.items():
                self.value(depth + 1, key, self.offset(key), item)
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            self.line(depth, offset, f"{label}: {len(value)} items")
            for i, item in enumerate(value):
                self.value(depth + 1, f"[{i}]", None, item)
        elif isinstance(value, list):
            shown = ", ".join(_show_scalar(v) for v in value)
            self.line(depth, offset, f"{label}: [{shown}]")
        else:
            self.line(depth, offset, f"{label}: {_show_scalar(value)}")


def _codec(type_name: str, codecs: Path | None) -> Codec:
    # A type that cannot be found is the command line's mistake: ValueError.
    codec = _find_codec(type_name, codecs)
    if codec is None:
        where = "the generated modules" if codecs is None else f"--codecs {codecs}"
        hint = _suggest(type_name, codecs)
        raise ValueError(
            f"no type {type_name!r} in {where} "
            "(enums are decoded as fields of the types that use them)"
            + (f"; did you mean {hint!r}?" if hint else "")
        )
    return codec


def _suggest(type_name: str, codecs: Path | None) -> str | None:
    # The closest name of a type parse can decode, as generate suggests
    # the closest spec type for an unknown name.
    names = {
        name
        for module in _codec_modules(codecs)
        for name, obj in vars(module).items()
        if isinstance(obj, Codec)
    }
    close = difflib.get_close_matches(type_name, sorted(names), n=1)
    return close[0] if close else None


def _params(items: list[str]) -> dict[str, Any]:
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--param needs NAME=VALUE, got {item!r}")
        params[name] = _param_value(value)
    return params


def _check_params(type_name: str, codec: Codec, params: dict[str, Any]) -> None:
    # Every --param is checked before any input is read: a misspelt name
    # would be ignored, and a value the codec refuses would be reported
    # as a decoding failure of the input, though both are the command
    # line's fault (ValueError, exit 2).
    for name, value in params.items():
        if name not in codec.params:
            takes = ", ".join(codec.params) or "none"
            raise ValueError(
                f"--param {name}: {type_name} takes no such parameter "
                f"(it takes: {takes})"
            )
        enum_cls = codec.enum_param(name)
        if enum_cls is None:
            if not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"--param {name}={value}: expected a non-negative integer"
                )
            continue
        # Only a member selects a case; the codec would keep any other
        # number and then fail on the input's bytes instead.
        if isinstance(value, str):
            known = value in enum_cls.__members__
        else:
            known = value in {int(member) for member in enum_cls}
        if not known:
            members = ", ".join(_show_scalar(m) for m in enum_cls)
            raise ValueError(
                f"--param {name}={value}: expected a {enum_cls.__name__} name "
                f"or value: {members}"
            )


def _check_required_params(
    type_name: str, codec: Codec, params: dict[str, Any]
) -> None:
    # A parameter the type needs before it reads a byte is needed for every
    # input: leaving it out is the command line's mistake (ValueError, exit
    # 2), not something wrong with the bytes.  One only some inputs need
    # (a Finished inside Handshake) is reported with the input.
    from tlsspec.codec import missing

    if all(name in params or name in codec.defaults for name in codec.params):
        return
    try:
        codec.parse(b"", **params)
    except DecodeError as e:
        for name in codec.params:
            if name not in params and e.reason == missing(name, e.offset).reason:
                raise ValueError(
                    f"{type_name} needs the parse parameter {name}: give it "
                    f"with {_param_example(codec, name)}"
                ) from None


def _param_example(codec: Codec, name: str) -> str:
    enum_cls = codec.enum_param(name)
    if enum_cls is not None:
        names = " or ".join(member.name for member in enum_cls)
        return f"--param {name}=NAME ({names})"
    size = _engine_size(name)
    return f"--param {name}={'N' if size is None else size}"


def _engine_size(name: str) -> int | None:
    # The size the engine passes for a parse parameter, if it has one: RFC
    # 5246 §7.4.9, every TLS 1.2 suite's verify_data is 12 bytes.
    from tlsspec.runtime.suites import VERIFY_DATA_LENGTH

    return {"verify_data_length": VERIFY_DATA_LENGTH}.get(name)


def _report(error: DecodeError, err: SupportsWrite[str]) -> None:
    print(f"error: {error.path}: {error.reason}", file=err)
    print(f"  offset: {error.offset}", file=err)
    print(f"  alert: {error.alert}", file=err)


def _show(
    type_name: str,
    codec: Codec,
    data: bytes,
    params: dict[str, Any],
    out: SupportsWrite[str],
    err: SupportsWrite[str],
) -> int:
    trace: list[tuple[str, int]] = []
    try:
        value = codec.parse(data, _trace=trace, **params)
    except DecodeError as e:
        _report(e, err)
        return 1
    _Printer(trace, out).value(0, type_name, 0, value)
    return 0


def run(
    args: argparse.Namespace, out: SupportsWrite[str], err: SupportsWrite[str]
) -> int:
    """Run ``tlsspec parse`` on its parsed arguments.

    Args:
        args: The arguments of the parse command: ``type``, ``file``,
            ``hex``, ``param``, ``records`` and ``codecs``.
        out: Where the decoded tree is printed.
        err: Where decoding failures and usage errors are printed.

    Returns:
        The exit status: 0 when the input decodes, 1 when it does not, 2
        for a usage error.
    """
    if args.records:
        return _parse_records(args, out, err)
    if args.type is None:
        print("tlsspec: parse needs TYPE (or --records)", file=err)
        return 2
    if args.file is None:
        args.file = "-"
    try:
        params = _params(args.param)
        codec = _codec(args.type, args.codecs)
        _check_params(args.type, codec, params)
        _check_required_params(args.type, codec, params)
        data = _read_input(args)
    except (OSError, ValueError) as e:
        print(f"tlsspec: {e}", file=err)
        return 2
    return _show(args.type, codec, data, params, out, err)


def _parse_records(
    args: argparse.Namespace, out: SupportsWrite[str], err: SupportsWrite[str]
) -> int:
    # With --records the one positional is FILE, and argparse puts it in
    # TYPE: '-' is stdin, a name that is no file was meant as a TYPE, which
    # --records does not take.
    if args.type is None:
        args.file = "-"
    elif args.type != "-" and (not args.type or not Path(args.type).exists()):
        print(
            f"tlsspec: --records reads FILE (or stdin) and takes no TYPE; "
            f"{args.type!r} is no file",
            file=err,
        )
        return 2
    elif args.file is not None:
        print("tlsspec: --records takes one FILE (or '-' for stdin); got 2", file=err)
        return 2
    else:
        args.file = args.type
    try:
        params = _params(args.param)
        handshake = _records_codec("Handshake", args.codecs)
        alert = _records_codec("Alert", args.codecs)
        _check_params("Handshake", handshake, params)
        data = _read_input(args)
    except (OSError, ValueError) as e:
        print(f"tlsspec: {e}", file=err)
        return 2
    # As the engine does (runtime/connection.py): a Finished carries the
    # verify_data of every TLS 1.2 suite unless --param says otherwise.
    from tlsspec.runtime.suites import VERIFY_DATA_LENGTH

    params.setdefault("verify_data_length", VERIFY_DATA_LENGTH)
    return _show_records(data, handshake, alert, params, out, err)


def _records_codec(type_name: str, codecs: Path | None) -> Codec:
    # The record stream is decoded with two types of the codecs, which
    # the user did not name.
    codec = _find_codec(type_name, codecs)
    if codec is None:
        where = (
            "the generated modules have" if codecs is None else f"--codecs {codecs} has"
        )
        raise ValueError(
            f"--records needs the types Handshake and Alert, and {where} no {type_name}"
        )
    return codec


def _show_records(
    data: bytes,
    handshake: Codec,
    alert: Codec,
    params: dict[str, Any],
    out: SupportsWrite[str],
    err: SupportsWrite[str],
) -> int:
    # Prints each record, and each plaintext handshake message and alert;
    # stops at the first record the engine would answer with an alert.
    stream = _RecordStream(handshake, alert, params, out, err)
    pos = 0
    while pos < len(data):
        end = stream.show(data, pos)
        if end is None:
            return 1
        pos = end
    if len(stream.buffer):
        _report(
            DecodeError(
                f"the stream ends {byte_count(len(stream.buffer))} into a handshake "
                "message",
                path="Handshake",
                offset=len(data),
            ),
            err,
        )
        return 1
    return stream.status


class _RecordStream:
    # The engine's reader, the handshake bytes it buffers, and what is shown.
    def __init__(
        self,
        handshake: Codec,
        alert: Codec,
        params: dict[str, Any],
        out: SupportsWrite[str],
        err: SupportsWrite[str],
    ) -> None:
        from tlsspec.runtime.messages import HandshakeBuffer
        from tlsspec.runtime.recordlayer import RecordReader

        self.handshake = handshake
        self.alert = alert
        self.params = params
        self.out = out
        self.err = err
        # The engine's own reader checks every header, in the engine's
        # order, before the body is looked at (runtime/recordlayer.py).
        self.reader = RecordReader()
        self.buffer = HandshakeBuffer()
        self.encrypted = False
        self.status = 0
        self.count = 0

    def show(self, data: bytes, pos: int) -> int | None:
        # Where the next record starts, or None once a problem is reported.
        from tlsspec.generated.record import TLSPlaintext
        from tlsspec.runtime.messages import RECORD_HEADER_LENGTH

        header = data[pos : pos + RECORD_HEADER_LENGTH]
        problem = _header_problem(self.reader, header, pos)
        if problem is not None:
            _report(problem, self.err)
            return None
        try:
            record, end = TLSPlaintext.parse_prefix(data, pos)
        except DecodeError as e:
            # Only a record cut short fails here: type and version are
            # open enums, and the fragment is as long as the header says.
            after = f" ({byte_count(len(data) - pos)} after the last whole record)"
            cut = DecodeError(e.reason + after, path=e.path, offset=e.offset)
            _report(cut, self.err)
            return None
        content_type, fragment = record["type"], record["fragment"]
        name = getattr(content_type, "name", str(content_type))
        print(
            f"record {self.count} @{pos}: {name}, version "
            f"0x{record['version']:04x}, {byte_count(len(fragment))}",
            file=self.out,
        )
        self.count += 1
        if self.encrypted:
            print("  (encrypted)", file=self.out)
            return end
        problem = _plaintext_problem(
            name,
            content_type,
            fragment,
            pos + RECORD_HEADER_LENGTH,
            len(self.buffer),
        )
        if problem is not None:
            _report(problem, self.err)
            return None
        self._content(content_type, fragment)
        return end

    def _content(self, content_type: int, fragment: bytes) -> None:
        from tlsspec.generated.record import ContentType

        if content_type == ContentType.change_cipher_spec:
            # RFC 5246 §7.1: what follows is protected; the reader now
            # allows the longer TLSCiphertext (§6.2.3).
            self.encrypted = True
            self.reader.set_protection(_sealed_protection())
        elif content_type == ContentType.handshake:
            self._handshake(fragment)
        elif content_type == ContentType.alert:
            shown = _show("Alert", self.alert, fragment, {}, self.out, self.err)
            self.status |= shown

    def _handshake(self, fragment: bytes) -> None:
        from tlsspec.generated.handshake import HandshakeType
        from tlsspec.runtime.hello import TLS12

        params = self.params
        for message in self.buffer.feed(fragment):
            self.status |= _show(
                "Handshake", self.handshake, message, params, self.out, self.err
            )
            if message[0] == HandshakeType.server_hello:
                params.setdefault("key_exchange_algorithm", _key_exchange(message))
            if message[0] in (
                HandshakeType.client_hello,
                HandshakeType.server_hello,
            ):
                # The hellos settle the version: the client reads the
                # records after the ServerHello, the server those after
                # the ClientHello it answers, as {3, 3} only.
                self.reader.version = TLS12


def _header_problem(
    reader: RecordReader, header: bytes, offset: int
) -> DecodeError | None:
    # The engine's verdict on one record header starting at ``offset``; a
    # header cut short is left to the truncation report.
    from tlsspec.runtime.alerts import LocalProtocolError

    try:
        # The header alone: the reader checks it, then keeps it waiting
        # for a body that never comes, and forgets it here.
        for _ in reader.read(header):
            pass
    except LocalProtocolError as error:
        field = _HEADER_FIELD_AT.get(_alert_name(error.description), 0)
        return _engine_problem(error, offset + field)
    finally:
        reader.clear()
    return None


# RFC 5246 §6.2.1: the header is ContentType type, ProtocolVersion version
# (two uint8s), uint16 length.
_CONTENT_TYPE_SIZE = 1
_VERSION_SIZE = 2
# Where the header field that each of the reader's alerts is about starts.
_HEADER_FIELD_AT = {
    "unexpected_message": 0,
    "protocol_version": _CONTENT_TYPE_SIZE,
    "record_overflow": _CONTENT_TYPE_SIZE + _VERSION_SIZE,
}


def _sealed_protection() -> RecordProtection:
    # A stand-in for the read keys, which parse never has: the reader
    # applies the TLSCiphertext bounds, and a fragment stays unopened.
    from tlsspec.runtime.record import RecordProtection

    class Sealed(RecordProtection):
        __slots__ = ()

        def _seal(
            self, seq: int, content_type: int, plaintext: bytes | memoryview
        ) -> tuple[bytes, bytes]:
            raise AssertionError("parse never sends records")

        def _open(
            self, seq: int, content_type: int, fragment: bytes | memoryview
        ) -> bytes:
            return b""

    return Sealed()


def _engine_problem(error: LocalProtocolError, offset: int) -> DecodeError:
    # The engine's error as parse reports it: its message starts with the
    # field path, and it carries the alert the engine sends.
    path, _, reason = str(error).partition(": ")
    return DecodeError(
        reason, path=path, offset=offset, alert=_alert_name(error.description)
    )


def _alert_name(description: int) -> str:
    return getattr(description, "name", str(description))


def _plaintext_problem(
    name: str, content_type: int, fragment: bytes, offset: int, partial: int
) -> DecodeError | None:
    # The checks the engine makes on a plaintext record before it decodes
    # it (runtime/connection.py), with the same alerts; ``partial`` is how
    # many bytes of an unfinished handshake message are buffered.
    from tlsspec.generated.record import ContentType

    # RFC 5246 §6.2.1: "Implementations MUST NOT send zero-length fragments
    # of Handshake, Alert, or ChangeCipherSpec content types."
    never_empty = (
        ContentType.handshake,
        ContentType.alert,
        ContentType.change_cipher_spec,
    )
    if not fragment and content_type in never_empty:
        return DecodeError(
            f"empty {name} record; RFC 5246 §6.2.1 forbids zero-length "
            "fragments of this type",
            path="TLSPlaintext.fragment",
            offset=offset,
            alert="unexpected_message",
        )
    if content_type == ContentType.alert:
        return _alert_problem(fragment, offset)
    if content_type == ContentType.change_cipher_spec:
        return _change_cipher_spec_problem(fragment, offset, partial)
    return None


def _alert_problem(fragment: bytes, offset: int) -> DecodeError | None:
    # The engine's own checks: exactly one 2-byte alert per record
    # (unexpected_message), a level of warning or fatal (decode_error,
    # RFC 5246 §7.2); the level is the fragment's first byte.
    from tlsspec.runtime.alerts import (
        LocalProtocolError,
        classify_alert,
        decode_alert,
    )

    try:
        level, description = decode_alert(fragment)
        classify_alert(level, description)
    except LocalProtocolError as error:
        return _engine_problem(error, offset)
    return None


def _change_cipher_spec_problem(
    fragment: bytes, offset: int, partial: int
) -> DecodeError | None:
    # RFC 5246 §7.1: the message is the single byte 1; a wrong length is
    # malformed, a wrong value illegal.
    if len(fragment) != len(CHANGE_CIPHER_SPEC_BODY):
        return DecodeError(
            f"{_show_scalar(fragment)}, expected the single byte 01 (RFC 5246 §7.1)",
            path="ChangeCipherSpec",
            offset=offset,
        )
    if fragment != CHANGE_CIPHER_SPEC_BODY:
        return DecodeError(
            f"found {fragment.hex()}, expected 01 (RFC 5246 §7.1)",
            path="ChangeCipherSpec.type",
            offset=offset,
            alert="illegal_parameter",
        )
    # RFC 5246 §7.1: ChangeCipherSpec follows a whole handshake message; one
    # split around it would straddle two key epochs.
    if partial:
        return DecodeError(
            f"arrives after {byte_count(partial)} of an unfinished handshake message",
            path="ChangeCipherSpec",
            offset=offset,
            alert="unexpected_message",
        )
    return None


def _key_exchange(server_hello: bytes) -> str:
    from tlsspec.generated.handshake import Handshake
    from tlsspec.trace import key_exchange_of

    try:
        return key_exchange_of(Handshake.parse(server_hello)["body"]["cipher_suite"])
    except DecodeError:
        return "ec_diffie_hellman"
