"""The ``tlsspec`` command line."""

from __future__ import annotations

import argparse
import contextlib
import enum
import importlib
import importlib.util
import logging
import os
import pkgutil
import re
import string
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO, cast

from tlsspec.codec import Codec
from tlsspec.codegen.diagnostics import SpecErrors
from tlsspec.errors import DecodeError

if TYPE_CHECKING:
    from tlsspec.runtime.alerts import LocalProtocolError
    from tlsspec.runtime.record import RecordProtection
    from tlsspec.runtime.recordlayer import RecordReader

__all__ = ["main"]

DEFAULT_SPECS = Path("specs")
MAX_PORT = 65535
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
DEFAULT_OUT = Path("generated")
BYTES_SHOWN = 48
# parse reads its whole input before decoding; a bound keeps /dev/zero or an
# endless pipe from taking the machine's memory.  Far above any handshake
# message (2^24 bytes at most) or a capture's record stream.
MAX_PARSE_INPUT = 64 * 1024 * 1024
# RFC 5246 §7.1: the whole ChangeCipherSpec message.
CHANGE_CIPHER_SPEC_BODY = b"\x01"


def _nonempty(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return text


def _path(text: str) -> Path:
    # Path("") is ".", the current folder: an empty argument would be
    # reported, or worse used, as a folder the user never named.
    return Path(_nonempty(text))


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and the parser of each command by name."""
    parser = argparse.ArgumentParser(
        prog="tlsspec",
        description="Compile TLS presentation-language specs (RFC 5246 §4) "
        "into construct codecs, decode TLS bytes with them, and run TLS 1.2 "
        "handshakes on the engine built on them.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser(
        "generate",
        help="compile SPEC_DIR/*.tls into one Python module per spec file",
        description=GENERATE_DESCRIPTION,
    )
    gen.add_argument(
        "spec_dir",
        nargs="?",
        type=_path,
        default=DEFAULT_SPECS,
        metavar="SPEC_DIR",
        help="folder of *.tls files (default: specs/)",
    )
    gen.add_argument(
        "-o",
        "--out",
        type=_path,
        default=DEFAULT_OUT,
        metavar="OUT_DIR",
        help="output package folder (default: generated/)",
    )
    gen.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming each stale, missing or extra module",
    )

    parse = sub.add_parser(
        "parse",
        help="decode bytes as a spec type and print the tree",
        description=PARSE_DESCRIPTION,
    )
    _parse_arguments(parse)

    srv = sub.add_parser(
        "serve",
        help="run a TLS 1.2 server on the engine",
        description="A TLS 1.2 server on the tlsspec engine. Echoes "
        "application data, or with --www answers each request with an "
        "HTTP/1.0 page describing the connection. Ctrl-C stops it.",
    )
    srv.add_argument(
        "--cert",
        type=_path,
        required=True,
        metavar="PEM",
        help="certificate chain, leaf first",
    )
    srv.add_argument(
        "--key",
        type=_path,
        required=True,
        metavar="PEM",
        help="private key (RSA or ECDSA), unencrypted PEM",
    )
    srv.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    srv.add_argument(
        "--port", type=int, default=4433, help="port (default 4433; 0 picks one)"
    )
    srv.add_argument(
        "--ticket-key",
        type=_path,
        action="append",
        default=[],
        metavar="FILE",
        help="nginx-style ticket key file (48 or 80 bytes); the first "
        "seals, all open; repeatable (default: a key generated at start)",
    )
    srv.add_argument(
        "--ticket-lifetime",
        type=int,
        default=7200,
        metavar="S",
        help="ticket lifetime in seconds (default 7200)",
    )
    srv.add_argument(
        "--alpn",
        action="append",
        default=[],
        metavar="P",
        help="ALPN protocol to accept, in preference order; repeatable",
    )
    srv.add_argument(
        "--www",
        action="store_true",
        help="answer requests with an HTTP/1.0 page describing the connection",
    )
    srv.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help="stop after serving N connections",
    )
    _common_options(srv)

    con = sub.add_parser(
        "connect",
        help="handshake with a TLS 1.2 server and print a summary",
        description="Connect to HOST:PORT, handshake, print the protocol "
        "version, the cipher suite, whether the session was resumed, the "
        "certificate subject, the ALPN protocol the server chose and the "
        "ticket lifetime; optionally send TEXT and print the reply; close "
        "with close_notify.",
    )
    con.add_argument(
        "address", metavar="HOST:PORT", help="e.g. localhost:4433 or [::1]:4433"
    )
    con.add_argument(
        "--servername",
        metavar="NAME",
        help="SNI name and name to verify (default: HOST unless it is an IP)",
    )
    trust = con.add_mutually_exclusive_group()
    trust.add_argument("--cafile", type=_path, metavar="PEM", help="trust anchors")
    trust.add_argument(
        "--insecure", action="store_true", help="do not verify the server's certificate"
    )
    con.add_argument(
        "--alpn",
        action="append",
        default=[],
        metavar="P",
        help="ALPN protocol to offer; repeatable",
    )
    con.add_argument(
        "--sess-out",
        type=_path,
        metavar="FILE",
        help="save the session for a later --sess-in",
    )
    con.add_argument(
        "--sess-in", type=_path, metavar="FILE", help="resume the session saved in FILE"
    )
    con.add_argument(
        "--send", metavar="TEXT", help="send TEXT after the handshake, print the reply"
    )
    _common_options(con)
    return parser, {"generate": gen, "parse": parse, "serve": srv, "connect": con}


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trace",
        action="store_true",
        help="print the handshake as a ladder diagram (RFC 5077 style)",
    )
    parser.add_argument(
        "--trace-format",
        choices=("ladder", "json"),
        help="ladder (default) or json: JSON lines alone on stdout, the summary "
        "on stderr; implies --trace",
    )
    parser.add_argument(
        "--keylog",
        type=_path,
        metavar="FILE",
        help="append NSS key log lines (SSLKEYLOGFILE is honoured too)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log decisions at DEBUG (never key material)",
    )


GENERATE_DESCRIPTION = (
    "Compile every *.tls file of SPEC_DIR together and write one module per "
    "spec file, plus __init__.py, into OUT_DIR. Exit status: 0 on success; 1 "
    "when a spec has errors (file:line:col diagnostics on stderr) or, with "
    "--check, when OUT_DIR is out of date; 2 when SPEC_DIR is missing or "
    "holds no *.tls file, when OUT_DIR is not a folder or cannot be written, "
    "and for a usage error."
)

PARSE_DESCRIPTION = (
    "Decode FILE (or stdin) as TYPE, looked up across the generated modules, "
    "or with --records as a stream of TLS records, and print field names, "
    "values, enum names and offsets. On bad input print the field path, "
    "offset and TLS alert, and exit 1; exit 2 for a usage error."
)


def _parse_arguments(parse: argparse.ArgumentParser) -> None:
    parse.add_argument(
        "type",
        nargs="?",
        metavar="TYPE",
        help="spec type name, e.g. Handshake (omitted with --records)",
    )
    parse.add_argument(
        "file",
        nargs="?",
        default="-",
        type=_nonempty,
        metavar="FILE",
        help="input file, '-' for stdin (default)",
    )
    parse.add_argument(
        "--hex", action="store_true", help="the input is hex text (blanks ignored)"
    )
    parse.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="parse parameter, e.g. verify_data_length=12 or "
        "key_exchange_algorithm=ec_diffie_hellman (repeatable)",
    )
    parse.add_argument(
        "--records",
        action="store_true",
        help="the input is a stream of TLS records: print every record and "
        "every plaintext handshake message in it",
    )
    parse.add_argument(
        "--codecs",
        metavar="PACKAGE_DIR",
        type=_path,
        help="a folder made by 'tlsspec generate' (default: tlsspec.generated)",
    )


# -- generate --------------------------------------------------------------


def _generate(args: argparse.Namespace, out: _Output, err: _Output) -> int:
    from tlsspec.codegen.generate import check_output, compile_specs, write_output

    try:
        sources = compile_specs(args.spec_dir)
    except FileNotFoundError as e:
        print(f"tlsspec: {e}", file=err)
        return 2
    except SpecErrors as e:
        print(e.render(), file=err)
        count = len(e.errors)
        print(f"tlsspec: {count} error{'s' if count > 1 else ''}", file=err)
        return 1
    if args.out.exists() and not args.out.is_dir():
        print(f"tlsspec: -o {args.out}: not a folder", file=err)
        return 2
    if args.check:
        result = check_output(args.out, sources)
        for name in result.stale:
            print(f"stale: {args.out / name}", file=err)
        for name in result.missing:
            print(f"missing: {args.out / name}", file=err)
        for name in result.extra:
            print(f"extra: {args.out / name} (no spec file makes it)", file=err)
        if not result.ok:
            print(
                f"tlsspec: {args.out} is out of date; run 'tlsspec generate "
                f"{args.spec_dir} -o {args.out}'",
                file=err,
            )
            return 1
        print(f"{args.out}: up to date ({len(sources)} modules)", file=out)
        return 0
    try:
        changed = write_output(args.out, sources)
    except OSError as e:
        print(f"tlsspec: cannot write {args.out}: {e.strerror or e}", file=err)
        return 2
    print(f"{args.out}: {len(sources)} modules, {len(changed)} written", file=out)
    return 0


# -- parse -----------------------------------------------------------------


_USER_PACKAGE = "_tlsspec_user_codecs"


def _codec_modules(codecs: Path | None) -> list[ModuleType]:
    """The modules of the generated package (raises ValueError if unusable)."""
    if codecs is None:
        package = importlib.import_module("tlsspec.generated")
    else:
        # Load the folder under a private name, so a folder called `enum` or
        # `codecs` does not pick up the standard library's module.
        init = codecs / "__init__.py"
        if not init.is_file():
            raise ValueError(f"{codecs} is not a folder made by 'tlsspec generate'")
        package = sys.modules.get(_USER_PACKAGE)  # type: ignore[assignment]
        if package is None:
            spec = importlib.util.spec_from_file_location(
                _USER_PACKAGE, init, submodule_search_locations=[str(codecs)]
            )
            assert spec is not None and spec.loader is not None
            package = importlib.util.module_from_spec(spec)
            sys.modules[_USER_PACKAGE] = package
            spec.loader.exec_module(package)
    modules = []
    for info in pkgutil.iter_modules(package.__path__):
        modules.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    return modules


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
        return f"{shown}{more} ({len(value)} bytes)"
    if value is None:
        return "absent"
    return repr(value)


class _Printer:
    def __init__(self, trace: list[tuple[str, int]], out: _Output) -> None:
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
    try:
        codec = _find_codec(type_name, codecs)
    except (ImportError, ValueError, SyntaxError) as e:
        raise ValueError(f"cannot load the codecs: {e}") from None
    if codec is None:
        raise ValueError(
            f"no type {type_name!r} in the generated modules "
            "(enums are decoded as fields of the types that use them)"
        )
    return codec


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


def _report(error: DecodeError, err: _Output) -> None:
    print(f"error: {error.path}: {error.reason}", file=err)
    print(f"  offset: {error.offset}", file=err)
    print(f"  alert: {error.alert}", file=err)


def _show(
    type_name: str,
    codec: Codec,
    data: bytes,
    params: dict[str, Any],
    out: _Output,
    err: _Output,
) -> int:
    trace: list[tuple[str, int]] = []
    try:
        value = codec.parse(data, _trace=trace, **params)
    except DecodeError as e:
        _report(e, err)
        return 1
    _Printer(trace, out).value(0, type_name, 0, value)
    return 0


def _parse(args: argparse.Namespace, out: _Output, err: _Output) -> int:
    if args.records:
        return _parse_records(args, out, err)
    if args.type is None:
        print("tlsspec: parse needs TYPE (or --records)", file=err)
        return 2
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


def _parse_records(args: argparse.Namespace, out: _Output, err: _Output) -> int:
    if args.type is not None:
        # With --records the one positional is FILE, and argparse puts it
        # in TYPE: '-' is stdin, a name that is no file was meant as a
        # TYPE, which --records does not take.
        if args.file != "-":
            print("tlsspec: --records takes FILE only, not TYPE", file=err)
            return 2
        if args.type != "-" and (not args.type or not Path(args.type).exists()):
            print(
                f"tlsspec: --records reads FILE (or stdin) and takes no TYPE; "
                f"{args.type!r} is no file",
                file=err,
            )
            return 2
        args.file = args.type
    try:
        params = _params(args.param)
        handshake = _codec("Handshake", args.codecs)
        alert = _codec("Alert", args.codecs)
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


def _show_records(
    data: bytes,
    handshake: Codec,
    alert: Codec,
    params: dict[str, Any],
    out: _Output,
    err: _Output,
) -> int:
    # Prints each record, and each plaintext handshake message and alert;
    # stops at the first record the engine would answer with an alert.
    from tlsspec.generated.handshake import HandshakeType
    from tlsspec.generated.record import ContentType, TLSPlaintext
    from tlsspec.runtime.hello import TLS12
    from tlsspec.runtime.messages import RECORD_HEADER_LENGTH, HandshakeBuffer
    from tlsspec.runtime.recordlayer import RecordReader

    # The engine's own reader checks every header, in the engine's order,
    # before the body is looked at (runtime/recordlayer.py).
    reader = RecordReader()
    buffer = HandshakeBuffer()
    encrypted = False
    status = 0
    pos = 0
    n = 0
    while pos < len(data):
        problem = _header_problem(reader, data[pos : pos + RECORD_HEADER_LENGTH], pos)
        if problem is not None:
            _report(problem, err)
            return 1
        try:
            record, end = TLSPlaintext.parse_prefix(data, pos)
        except DecodeError as e:
            # Only a record cut short fails here: type and version are
            # open enums, and the fragment is as long as the header says.
            after = f" ({_bytes(len(data) - pos)} after the last whole record)"
            _report(DecodeError(e.reason + after, path=e.path, offset=e.offset), err)
            return 1
        content_type, fragment = record["type"], record["fragment"]
        name = getattr(content_type, "name", str(content_type))
        print(
            f"record {n} @{pos}: {name}, version 0x{record['version']:04x}, "
            f"{len(fragment)} bytes",
            file=out,
        )
        n += 1
        fragment_offset = pos + RECORD_HEADER_LENGTH
        pos = end
        if encrypted:
            print("  (encrypted)", file=out)
            continue
        problem = _plaintext_problem(
            name, content_type, fragment, fragment_offset, len(buffer)
        )
        if problem is not None:
            _report(problem, err)
            return 1
        if content_type == ContentType.change_cipher_spec:
            # RFC 5246 §7.1: what follows is protected; the reader now
            # allows the longer TLSCiphertext (§6.2.3).
            encrypted = True
            reader.set_protection(_sealed_protection())
        elif content_type == ContentType.handshake:
            for message in buffer.feed(fragment):
                status |= _show("Handshake", handshake, message, params, out, err)
                if message[0] == HandshakeType.server_hello:
                    params.setdefault("key_exchange_algorithm", _key_exchange(message))
                if message[0] in (
                    HandshakeType.client_hello,
                    HandshakeType.server_hello,
                ):
                    # The hellos settle the version: the client reads the
                    # records after the ServerHello, the server those after
                    # the ClientHello it answers, as {3, 3} only.
                    reader.version = TLS12
        elif content_type == ContentType.alert:
            status |= _show("Alert", alert, fragment, {}, out, err)
    if len(buffer):
        _report(
            DecodeError(
                f"the stream ends {_bytes(len(buffer))} into a handshake message",
                path="Handshake",
                offset=len(data),
            ),
            err,
        )
        return 1
    return status


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
            raise NotImplementedError("parse never sends records")

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
    from tlsspec.runtime.alerts import (
        LocalProtocolError,
        classify_alert,
        decode_alert,
    )

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
        # The engine's own checks: exactly one 2-byte alert per record
        # (unexpected_message), a level of warning or fatal (decode_error,
        # RFC 5246 §7.2); the level is the fragment's first byte.
        try:
            level, description = decode_alert(fragment)
            classify_alert(level, description)
        except LocalProtocolError as error:
            return _engine_problem(error, offset)
        return None
    if content_type != ContentType.change_cipher_spec:
        return None
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
            f"arrives after {_bytes(partial)} of an unfinished handshake message",
            path="ChangeCipherSpec",
            offset=offset,
            alert="unexpected_message",
        )
    return None


def _bytes(count: int) -> str:
    return f"{count} byte" if count == 1 else f"{count} bytes"


def _key_exchange(server_hello: bytes) -> str:
    from tlsspec.generated.handshake import Handshake
    from tlsspec.trace import key_exchange_of

    try:
        return key_exchange_of(Handshake.parse(server_hello)["body"]["cipher_suite"])
    except DecodeError:
        return "ec_diffie_hellman"


def _valid_server_name(name: str) -> bool:
    """A DNS host name (RFC 6066 §3 HostName) or an IP literal."""
    import ipaddress

    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return True
    labels = name.rstrip(".").split(".")
    return 0 < len(name) <= 253 and all(_HOST_LABEL.fullmatch(x) for x in labels)


def _port(text: str, *, allow_zero: bool) -> int | None:
    # ASCII digits only: str.isdigit() also takes '²' and other scripts'.
    if not (text.isascii() and text.isdigit()):
        return None
    port = int(text)
    low = 0 if allow_zero else 1
    return port if low <= port <= MAX_PORT else None


def _split_address(address: str) -> tuple[str, int] | None:
    # HOST:PORT, an IPv6 address in brackets (RFC 3986 §3.2.2); None when
    # the form is wrong or the port is not 1..65535.
    host, _, port_text = address.rpartition(":")
    port = _port(port_text, allow_zero=False)
    if not host or port is None:
        return None
    if host[0] == "[" and host[-1] == "]" and ":" in host:
        return host[1:-1], port
    if "[" in host or "]" in host or ":" in host:
        return None
    return host, port


def _network(args: argparse.Namespace) -> int:
    import warnings

    from cryptography.utils import CryptographyDeprecationWarning

    from tlsspec import net

    # Old certificates in the system store (negative serials) are not ours
    # to warn about.
    warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning)

    logging.basicConfig(
        level=logging.WARNING, format="%(name)s: %(message)s", stream=sys.stderr
    )
    if args.verbose:
        # tlsspec's own decisions only, not asyncio's.
        logging.getLogger("tlsspec").setLevel(logging.DEBUG)
    # Asking for a trace format is asking for the trace.
    trace = args.trace or args.trace_format is not None
    trace_format = args.trace_format or "ladder"
    if args.command == "serve":
        if not args.host:
            print(
                "tlsspec serve: --host is empty; give an address, e.g. 127.0.0.1 "
                "(0.0.0.0 for every IPv4 interface)",
                file=sys.stderr,
            )
            return 2
        if _port(str(args.port), allow_zero=True) is None:
            print(f"tlsspec serve: port {args.port} is not 0..65535", file=sys.stderr)
            return 2
        if args.max_connections is not None and args.max_connections < 1:
            print("tlsspec serve: --max-connections must be 1 or more", file=sys.stderr)
            return 2
        return net.serve(
            net.ServeOptions(
                cert=args.cert,
                key=args.key,
                host=args.host,
                port=args.port,
                ticket_keys=args.ticket_key,
                ticket_lifetime=args.ticket_lifetime,
                alpn=args.alpn,
                www=args.www,
                trace=trace,
                trace_format=trace_format,
                keylog=args.keylog,
                max_connections=args.max_connections,
            )
        )
    split = _split_address(args.address)
    if split is None:
        print(
            f"tlsspec connect: expected HOST:PORT with a port 1..65535 "
            f"([ADDRESS]:PORT for IPv6), got {args.address!r}",
            file=sys.stderr,
        )
        return 2
    host, port = split
    name = args.servername if args.servername is not None else host
    if not _valid_server_name(name):
        print(f"tlsspec connect: {name!r} is not a host name", file=sys.stderr)
        return 2
    if args.send == "":
        print("tlsspec connect: --send TEXT is empty", file=sys.stderr)
        return 2
    return net.connect(
        net.ConnectOptions(
            host=host,
            port=port,
            servername=args.servername,
            cafile=args.cafile,
            insecure=args.insecure,
            alpn=args.alpn,
            sess_in=args.sess_in,
            sess_out=args.sess_out,
            send=args.send,
            trace=trace,
            trace_format=trace_format,
            keylog=args.keylog,
        )
    )


class _Output:
    """stdout or stderr, whose reader may go away.

    When the reader of a pipe exits (``tlsspec parse ... | head``), writing
    raises BrokenPipeError. The command still runs to its end, so that its
    exit status is its own and not a matter of when the reader left; later
    writes are dropped and :attr:`lost` is set.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lost = False

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self.lost = True
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.lost = True

    def finish(self) -> bool:
        """Flush, and say whether output was lost.

        Output that Python still holds for a lost stream would fail again
        at interpreter exit ("Exception ignored ..." and exit status 120):
        as the ``signal`` module's note on SIGPIPE advises, the stream's
        file descriptor is pointed at os.devnull instead.
        """
        self.flush()
        if self.lost:
            # A stream without a descriptor (a test's capture) has nothing
            # to redirect.
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.stream.fileno())
                os.close(devnull)
        return self.lost


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    A command that fails keeps its exit status even when stdout or stderr
    is a pipe whose reader has gone away. A command that succeeds, but
    could not write all its output there, exits 1 (as Python itself does
    on EPIPE), without a traceback.

    Args:
        argv: Arguments without the program name (default: ``sys.argv``).

    Returns:
        The exit status.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    out, err = _Output(sys.stdout), _Output(sys.stderr)
    try:
        status = _run(argv, out, err)
    except BrokenPipeError:
        # serve and connect write to sys.stdout and sys.stderr themselves:
        # their output is incomplete, so the command cannot have succeeded.
        status = 1
    # Both streams are finished, whatever the first says.
    lost = [out.finish(), err.finish()]
    return 1 if status == 0 and any(lost) else status


def _run(argv: list[str], out: _Output, err: _Output) -> int:
    # argparse prints usage and help to sys.stdout and sys.stderr itself;
    # through `out` and `err` a closed pipe is noticed there too.
    try:
        with (
            contextlib.redirect_stdout(cast(TextIO, out)),
            contextlib.redirect_stderr(cast(TextIO, err)),
        ):
            args = _arguments(argv)
    except SystemExit as e:
        # argparse printed the usage or the help and exits: 2 or 0.
        return e.code if isinstance(e.code, int) else 2
    if args.command == "generate":
        return _generate(args, out, err)
    if args.command in ("serve", "connect"):
        return _network(args)
    return _parse(args, out, err)


def _arguments(argv: list[str]) -> argparse.Namespace:
    if argv and argv[0] == "parse" and not {"-h", "--help"} & set(argv):
        # Options may come after FILE: `tlsspec parse TYPE FILE --hex`.
        parse = argparse.ArgumentParser(
            prog="tlsspec parse", description=PARSE_DESCRIPTION
        )
        _parse_arguments(parse)
        args = parse.parse_intermixed_args(argv[1:])
        args.command = "parse"
        return args
    parser, commands = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # argparse leaves a command's unknown arguments to the top-level
        # parser, whose usage line shows none of that command's options.
        commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    return args
