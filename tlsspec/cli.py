"""The ``tlsspec`` command line.

Here are the parser of every command, ``generate``, and the checks that
``serve`` and ``connect`` make on their arguments; :mod:`tlsspec.parsecmd`
runs ``parse``, and :mod:`tlsspec.net` the network commands.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

if TYPE_CHECKING:
    # The object add_subparsers returns, which makes each command's parser.
    _Commands = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["main"]

DEFAULT_SPECS = Path("specs")
MAX_PORT = 65535
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
DEFAULT_OUT = Path("generated")


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
    commands = {
        "generate": _generate_parser(sub),
        "parse": _parse_parser(sub),
        "serve": _serve_parser(sub),
        "connect": _connect_parser(sub),
    }
    return parser, commands


def _generate_parser(sub: _Commands) -> argparse.ArgumentParser:
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
    return gen


def _parse_parser(sub: _Commands) -> argparse.ArgumentParser:
    parse = sub.add_parser(
        "parse",
        help="decode bytes as a spec type and print the tree",
        description=PARSE_DESCRIPTION,
    )
    _parse_arguments(parse)
    return parse


def _serve_parser(sub: _Commands) -> argparse.ArgumentParser:
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
    _ticket_options(srv)
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
    return srv


def _ticket_options(srv: argparse.ArgumentParser) -> None:
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


def _connect_parser(sub: _Commands) -> argparse.ArgumentParser:
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
    return con


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
        # None, not '-': with --records a FILE after FILE is a mistake,
        # though it is '-'.
        default=None,
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
    from tlsspec.codegen.diagnostics import SpecErrors
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
    # write_output lists stale generated modules it deleted with those it
    # wrote; a deleted one is no spec's module.
    removed = sum(path.name not in sources for path in changed)
    summary = f"{args.out}: {len(sources)} modules, {len(changed) - removed} written"
    if removed:
        summary += f", {removed} removed"
    print(summary, file=out)
    return 0


# -- serve and connect -----------------------------------------------------


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
    import logging

    _quiet_deprecations()
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
        return _serve(args, trace=trace, trace_format=trace_format)
    return _connect(args, trace=trace, trace_format=trace_format)


def _quiet_deprecations() -> None:
    # Old certificates in the system store (negative serials) are not ours
    # to warn about.
    import warnings

    from cryptography.utils import CryptographyDeprecationWarning

    warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning)


def _serve(args: argparse.Namespace, *, trace: bool, trace_format: str) -> int:
    from tlsspec import net

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


def _connect(args: argparse.Namespace, *, trace: bool, trace_format: str) -> int:
    from tlsspec import net

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
    writes are dropped and :attr:`lost` is set. Any other write error (a
    full disk, ``> /dev/full``) is handled alike, and kept in :attr:`error`
    to be reported.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lost = False
        self.error: OSError | None = None

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                self.stream.write(text)
            except OSError as e:
                self._lose(e)
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self.stream.flush()
            except OSError as e:
                self._lose(e)

    def _lose(self, error: OSError) -> None:
        # A reader that left is nothing to report: the pipe's owner knows.
        self.lost = True
        if not isinstance(error, BrokenPipeError):
            self.error = error

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
    on EPIPE), without a traceback; a write error other than a closed pipe
    (a full disk) is named in one line on stderr. Ctrl-C exits 130 with one
    line, "interrupted", on stderr.

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
    except (KeyboardInterrupt, Exception) as e:
        # Ctrl-C at any point, modules still loading included: the shell's
        # status for SIGINT (128 + 2), and one line instead of a traceback.
        if not _interrupted(e):
            raise
        print(f"{_program(argv)}: interrupted", file=err)
        status = 130
    # Both streams are finished, whatever the first says.
    lost = [out.finish(), err.finish()]
    if out.error is not None:
        reason = out.error.strerror or out.error
        print(f"{_program(argv)}: cannot write output: {reason}", file=err)
        err.finish()
    return 1 if status == 0 and any(lost) else status


def _program(argv: list[str]) -> str:
    # How messages start: serve and connect name themselves.
    if argv and argv[0] in ("serve", "connect"):
        return f"tlsspec {argv[0]}"
    return "tlsspec"


def _interrupted(error: BaseException) -> bool:
    # Ctrl-C, or an error it caused: clean-up that Ctrl-C cut short can
    # fail in turn (argparse's parse_intermixed_args, Python 3.11).
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__context__
    return False


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
    # Loaded here, not at the top: the console script imports this module
    # before main() can catch a Ctrl-C (see main).
    from tlsspec import parsecmd

    return parsecmd.run(args, out, err)


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
