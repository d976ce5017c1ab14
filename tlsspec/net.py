"""``tlsspec serve`` and ``tlsspec connect``: the engine on real sockets.

The engine is sans-I/O; this module moves its bytes over asyncio streams.
Every byte each side sends also goes through a :class:`~tlsspec.trace.WireTrace`,
so ``--trace`` draws the messages that really crossed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import signal
import socket
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tlsspec.runtime import (
    ClientConfig,
    ClientConnection,
    ServerConfig,
    ServerConnection,
    Session,
)
from tlsspec.runtime.alerts import TLSError
from tlsspec.runtime.config import ConfigError
from tlsspec.runtime.events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    HandshakeComplete,
    NewSession,
)
from tlsspec.runtime.files import (
    FileTooLargeError,
    NotARegularFileError,
    read_regular,
)
from tlsspec.runtime.keylog import KeyLogWriter
from tlsspec.runtime.session import MAX_SESSION_BYTES
from tlsspec.runtime.tickets import TicketKey, TicketKeyRing
from tlsspec.trace import CLIENT, SERVER, WireTrace, render_json, render_ladder

__all__ = ["ConnectOptions", "OptionError", "ServeOptions", "connect", "serve"]

logger = logging.getLogger(__name__)

READ_SIZE = 65536
IDLE_TIMEOUT = 30.0
REPLY_TIMEOUT = 5.0
CLOSE_TIMEOUT = 2.0
KEYLOG_ENV = "SSLKEYLOGFILE"
HANDSHAKE_TIMEOUT = 30.0
MAX_CLIENTS = 512
# Key logs and saved sessions hold secrets: owner only.
LOOP_ERROR_INTERVAL = 5.0

# Input files are read whole, so each has a bound: a device or a huge file
# named by mistake is refused instead of filling memory.  A certificate
# chain or a key is a few KiB; the system CA bundle about 220 KiB.
MAX_PEM_FILE = 2**20
MAX_CA_FILE = 4 * 2**20
# The largest session --sess-out can have written.
MAX_SESSION_FILE = MAX_SESSION_BYTES

_PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
# PKCS #8 (plain or encrypted) or the traditional RSA and EC forms.
_PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----")


@dataclass
class ServeOptions:
    cert: Path
    key: Path
    host: str = "127.0.0.1"
    port: int = 4433
    ticket_keys: Sequence[Path] = ()
    ticket_lifetime: int = 7200
    alpn: Sequence[str] = ()
    www: bool = False
    trace: bool = False
    trace_format: str = "ladder"
    keylog: Path | None = None
    max_connections: int | None = None


@dataclass
class ConnectOptions:
    host: str
    port: int
    servername: str | None = None
    cafile: Path | None = None
    insecure: bool = False
    alpn: Sequence[str] = ()
    sess_in: Path | None = None
    sess_out: Path | None = None
    send: str | None = None
    trace: bool = False
    trace_format: str = "ladder"
    keylog: Path | None = None
    out: TextIO = field(default_factory=lambda: sys.stdout)


class OptionError(ValueError):
    """A command-line option's value, or the file it names, cannot be used.

    The message names the option, the path if there is one, and what was
    expected.
    """


def _read_option_file(path: Path, *, option: str, limit: int, expected: str) -> bytes:
    # At most `limit` bytes from a regular file; OptionError otherwise.
    where = f"{option} {path}"
    try:
        return read_regular(path, limit=limit)
    except NotARegularFileError:
        raise OptionError(f"{where}: not a regular file; expected {expected}") from None
    except FileTooLargeError:
        raise OptionError(
            f"{where}: larger than the {limit}-byte limit; expected {expected}"
        ) from None
    except OSError as e:
        raise OptionError(f"{where}: {e.strerror or e}") from None


def _load_certificates(
    path: Path, *, option: str, limit: int
) -> list[x509.Certificate]:
    data = _read_option_file(
        path, option=option, limit=limit, expected="PEM certificates"
    )
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as e:
        if _PEM_CERTIFICATE not in data:
            raise OptionError(
                f"{option} {path}: no PEM certificate found (expected "
                f"{_PEM_CERTIFICATE.decode()} blocks)"
            ) from None
        raise OptionError(
            f"{option} {path}: cannot load the certificates: {e}"
        ) from None


def _load_private_key(path: Path) -> PrivateKeyTypes:
    data = _read_option_file(
        path, option="--key", limit=MAX_PEM_FILE, expected="a PEM private key"
    )
    try:
        return load_pem_private_key(data, password=None)
    except TypeError:
        # cryptography's TypeError here means a password was needed.
        raise OptionError(
            f"--key {path}: the private key is encrypted (expected an "
            f"unencrypted PEM private key)"
        ) from None
    except (ValueError, UnsupportedAlgorithm) as e:
        if not _PEM_PRIVATE_KEY.search(data):
            raise OptionError(
                f"--key {path}: no PEM private key found (expected a "
                f"-----BEGIN PRIVATE KEY----- block, or its RSA or EC form)"
            ) from None
        raise OptionError(f"--key {path}: cannot load the private key: {e}") from None


def _reason(error: OSError) -> str:
    # The errno's own text: asyncio's and the socket layer's messages carry
    # Python tuples and reprs.  Resolver errors have codes of their own,
    # which os.strerror does not know; their text is already plain.
    if isinstance(error, socket.gaierror) or not error.errno:
        return error.strerror or str(error)
    return os.strerror(error.errno)


class _PeerStalledError(TimeoutError):
    """The peer took none of our bytes for IDLE_TIMEOUT seconds."""


async def _drain(writer: asyncio.StreamWriter) -> None:
    # A peer that stops reading would hold the connection open forever:
    # each wait for the socket to take our bytes is bounded by the idle
    # timeout.
    try:
        await asyncio.wait_for(writer.drain(), IDLE_TIMEOUT)
    except TimeoutError:
        raise _PeerStalledError(
            f"the peer read nothing for {IDLE_TIMEOUT:.0f} s"
        ) from None


async def _send_close(
    conn: ClientConnection | ServerConnection,
    writer: asyncio.StreamWriter,
    trace: WireTrace,
    side: str,
) -> None:
    # RFC 5246 §7.2.1: close_notify before closing the write side, a
    # timeout included; an unfinished handshake is cancelled first
    # (user_canceled, §7.2.2).  After a failure close() sends nothing.
    conn.close()
    out = conn.data_to_send()
    if out:
        trace.feed(side, out)
        writer.write(out)
        with contextlib.suppress(TimeoutError, OSError):
            await asyncio.wait_for(writer.drain(), CLOSE_TIMEOUT)


def _json_trace(options: ServeOptions | ConnectOptions) -> bool:
    # With JSON traces stdout carries JSON lines only; everything else the
    # command prints goes to stderr.
    return options.trace and options.trace_format == "json"


def _host_port(host: str, port: int) -> str:
    # RFC 3986 §3.2.2: an IPv6 literal goes in brackets before a port.
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _keylog(path: Path | None) -> KeyLogWriter | None:
    """The key log writer asked for, checked before any handshake.

    Raises:
        OSError: The key log file cannot be written or is not a regular
            file; the message names ``--keylog`` or the environment
            variable, and the path.
    """
    source = "--keylog"
    target: str | Path | None = path
    if not target:
        source, target = f"{KEYLOG_ENV}=", os.environ.get(KEYLOG_ENV)
    if not target:
        return None
    # The writer creates the file readable by its owner only.
    try:
        return KeyLogWriter(str(target))
    except OSError as e:
        space = "" if source.endswith("=") else " "
        raise OSError(f"{source}{space}{target}: {e.strerror or e}") from None


def _print_trace(
    trace: WireTrace, fmt: str, out: TextIO, peer: str | None = None
) -> None:
    # JSON lines stay pure JSON: the peer, if any, goes into each object.
    if fmt == "json":
        context = {"peer": peer} if peer is not None else None
        print(render_json(trace.entries, context=context), file=out)
    else:
        if peer is not None:
            print(f"-- {peer}", file=out)
        print(render_ladder(trace.entries), file=out)
    out.flush()


# -- server ----------------------------------------------------------------


def server_config(options: ServeOptions) -> ServerConfig:
    """Build the server's config from PEM files and nginx ticket keys.

    Raises:
        OptionError: ``--cert`` or ``--key`` cannot be read, is not a
            regular file, is larger than :data:`MAX_PEM_FILE`, or does not
            hold what it should; the message names the option and the file.
        ValueError: A ticket key file is unusable, or the key does not fit
            the certificate.
        OSError: A ticket key file or the key log cannot be opened.
    """
    chain = _load_certificates(options.cert, option="--cert", limit=MAX_PEM_FILE)
    key = _load_private_key(options.key)
    if options.ticket_keys:
        # The first key file seals; all of them open until the server
        # stops, as nginx keeps its key files until it reloads.
        ring = TicketKeyRing(
            _load_ticket_keys(options.ticket_keys), retire_after=math.inf
        )
    else:
        ring = TicketKeyRing.generate()
    keylog = _keylog(options.keylog)
    try:
        return ServerConfig(
            chain,
            key,  # type: ignore[arg-type]
            ticket_keys=ring,
            ticket_lifetime=options.ticket_lifetime,
            alpn_protocols=tuple(options.alpn),
            keylog=keylog,
        )
    except ConfigError as e:
        files = {"certificate_chain": options.cert, "private_key": options.key}
        raise _option_error(e, files) from None


# The config fields the command line fills, in the order errors name them.
_OPTION_OF_FIELD = {
    "certificate_chain": "--cert",
    "private_key": "--key",
    "ticket_lifetime": "--ticket-lifetime",
    "alpn_protocols": "--alpn",
}


def _option_error(error: ConfigError, files: dict[str, Path]) -> ValueError:
    # The config names its fields; the user knows the options, and the
    # files, the values came from.
    named = [
        f"{option} {files[field]}" if field in files else option
        for field, option in _OPTION_OF_FIELD.items()
        if field in error.fields
    ]
    if not named:
        return error
    return OptionError(f"{' with '.join(named)}: {error.reason}")


def _load_ticket_keys(paths: Sequence[Path]) -> list[TicketKey]:
    # The loader's messages start with the path; a missing file's OSError
    # names nothing, so both are put under the option here.  Two files
    # holding one key name would make the ring refuse without naming them.
    keys: list[TicketKey] = []
    first_with_name: dict[bytes, Path] = {}
    for path in paths:
        try:
            key = TicketKey.from_nginx_file(path)
        except OSError as e:
            raise OptionError(f"--ticket-key {path}: {e.strerror or e}") from None
        except ValueError as e:
            raise OptionError(f"--ticket-key {e}") from None
        if key.name in first_with_name:
            raise OptionError(
                f"--ticket-key {path}: holds the same key name as "
                f"{first_with_name[key.name]} ({key.name.hex()})"
            )
        first_with_name[key.name] = path
        keys.append(key)
    return keys


def _www_body(complete: HandshakeComplete) -> bytes:
    lines = [
        "tlsspec serve",
        "Protocol  : TLSv1.2",
        f"Cipher    : {complete.cipher_suite.name}",
        f"Resumed   : {'yes' if complete.resumed else 'no'}",
        f"SNI       : {complete.server_name or '-'}",
        f"ALPN      : {complete.alpn_protocol or '-'}",
    ]
    return ("\n".join(lines) + "\n").encode()


def _www_response(complete: HandshakeComplete) -> bytes:
    body = _www_body(complete)
    head = (
        "HTTP/1.0 200 OK\r\n"
        "Content-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class _ServerSession:
    def __init__(self, config: ServerConfig, options: ServeOptions, peer: str) -> None:
        self.conn = ServerConnection(config)
        self.options = options
        self.peer = peer
        self.trace = WireTrace()
        self.complete: HandshakeComplete | None = None
        self.done = False
        self.traced = False
        self.warnings = 0

    async def run(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HANDSHAKE_TIMEOUT
        try:
            while not self.done:
                # A handshake must finish in time, however slowly bytes come.
                wait = IDLE_TIMEOUT
                if self.complete is None:
                    wait = min(wait, deadline - loop.time())
                try:
                    data = await asyncio.wait_for(reader.read(READ_SIZE), max(wait, 0))
                except TimeoutError:
                    stage = "handshake" if self.complete is None else "connection"
                    logger.warning("%s: %s timed out, closing", self.peer, stage)
                    await _send_close(self.conn, writer, self.trace, SERVER)
                    return
                if not await self.receive(data, writer):
                    return
        except _PeerStalledError as e:
            # Its buffers are full: nothing more can reach it, not even
            # an alert.
            logger.warning("%s: %s, closing", self.peer, e)
            writer.transport.abort()
        except (ConnectionError, OSError) as e:
            logger.warning("%s: connection lost: %s", self.peer, e.strerror or e)
        finally:
            if self.options.trace and not self.traced and self.trace.entries:
                self.print_trace()
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()

    async def receive(self, data: bytes, writer: asyncio.StreamWriter) -> bool:
        """Feed bytes to the engine and answer; False once the connection ends."""
        self.trace.feed(CLIENT, data)
        try:
            events = self.conn.receive_data(data)
        except TLSError as e:
            await self.flush(writer)
            logger.warning(
                "%s: failed: %s (alert sent: %s)",
                self.peer,
                e,
                getattr(e.description, "name", e.description),
            )
            return False
        # RFC 5246 §7.2.1: after the peer's close_notify, pending writes are
        # discarded; nothing is echoed past it.
        closing = any(isinstance(e, ConnectionClosed) for e in events)
        for event in events:
            if closing and isinstance(event, ApplicationData):
                continue
            self.handle(event)
        await self.flush(writer)
        if not data and self.complete is None:
            logger.warning("%s: closed during the handshake", self.peer)
        return bool(data)

    def handle(self, event: object) -> None:
        if isinstance(event, HandshakeComplete):
            self.complete = event
            logger.info(
                "%s: handshake complete: %s, resumed=%s",
                self.peer,
                event.cipher_suite.name,
                event.resumed,
            )
        elif isinstance(event, ApplicationData):
            if self.options.www and self.complete is not None:
                # Answer at once, even a partial request, as s_server -www.
                self.conn.send_application_data(_www_response(self.complete))
                self.conn.close()
                self.done = True
            else:
                self.conn.send_application_data(event.data)
        elif isinstance(event, AlertReceived):
            # One line per connection, however many warnings the peer sends.
            self.warnings += 1
            if self.warnings == 1:
                logger.warning(
                    "%s: alert received: %s %s",
                    self.peer,
                    getattr(event.level, "name", event.level),
                    getattr(event.description, "name", event.description),
                )
        elif isinstance(event, ConnectionClosed):
            with contextlib.suppress(TLSError):
                self.conn.close()
            self.done = True

    async def flush(self, writer: asyncio.StreamWriter) -> None:
        out = self.conn.data_to_send()
        if out:
            self.trace.feed(SERVER, out)
            writer.write(out)
            await _drain(writer)
        if self.options.trace and self.complete is not None and not self.traced:
            self.print_trace()

    def print_trace(self) -> None:
        self.traced = True
        _print_trace(self.trace, self.options.trace_format, sys.stdout, self.peer)


def _quiet_exception_handler() -> Callable[
    [asyncio.AbstractEventLoop, dict[str, Any]], None
]:
    # Errors outside a connection (accept failing for want of file
    # descriptors, say) get one line every few seconds, not a traceback each.
    last = -LOOP_ERROR_INTERVAL

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        nonlocal last
        now = loop.time()
        if now - last >= LOOP_ERROR_INTERVAL:
            last = now
            error = context.get("exception")
            logger.warning("server: %s", error or context.get("message"))

    return handler


async def _serve(options: ServeOptions, config: ServerConfig, out: TextIO) -> int:
    served = 0
    active = 0
    finished = asyncio.Event()
    stop = asyncio.Event()

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal served, active
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if peername else "peer"
        if active >= MAX_CLIENTS:
            logger.warning("%s: refused, %d connections open", peer, active)
            writer.close()
            return
        active += 1
        try:
            await _ServerSession(config, options, peer).run(reader, writer)
        except asyncio.CancelledError:
            return
        except Exception as e:  # one connection never takes the server down
            logger.warning("%s: connection failed: %r", peer, e)
        finally:
            active -= 1
        served += 1
        if options.max_connections is not None and served >= options.max_connections:
            finished.set()

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_quiet_exception_handler())
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        server = await asyncio.start_server(handle, options.host, options.port)
    except socket.gaierror as e:
        # The resolver's text ("Name or service not known") names nothing.
        raise OSError(f"--host {options.host}: cannot resolve: {e.strerror}") from None
    except OSError as e:
        where = _host_port(options.host, options.port)
        raise OSError(f"cannot listen on {where}: {_reason(e)}") from None
    port = server.sockets[0].getsockname()[1]
    print(
        f"tlsspec serve: listening on {_host_port(options.host, port)}",
        file=sys.stderr if _json_trace(options) else out,
        flush=True,
    )
    async with server:
        waiters = [
            asyncio.create_task(stop.wait()),
            asyncio.create_task(finished.wait()),
        ]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in waiters:
            task.cancel()
        # Connections still open end with the server, quietly.
        server.close()
        current = asyncio.current_task()
        for task in asyncio.all_tasks():
            if task is not current:
                task.cancel()
    print(
        "tlsspec serve: stopped",
        file=sys.stderr if _json_trace(options) else out,
        flush=True,
    )
    return 0


def serve(options: ServeOptions, out: TextIO = sys.stdout) -> int:
    """Run a TLS 1.2 server until Ctrl-C or SIGTERM.

    Returns:
        The exit status: 0 after a clean stop, 2 for unusable options.
    """
    try:
        config = server_config(options)
    except (OSError, ValueError, TypeError) as e:
        print(f"tlsspec serve: {e}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(options, config, out))
    except KeyboardInterrupt:
        return 0
    except OSError as e:
        print(f"tlsspec serve: {e}", file=sys.stderr)
        return 2


# -- client ----------------------------------------------------------------


def client_config(options: ConnectOptions) -> ClientConfig:
    """Build the client's config.

    A key log that cannot be written is reported and left out: a stale
    ``SSLKEYLOGFILE`` must not stop TLS from working.

    Raises:
        OptionError: ``--cafile`` cannot be read, is not a regular file,
            is larger than :data:`MAX_CA_FILE`, or holds no certificate.
    """
    anchors = None
    if options.cafile is not None:
        anchors = _load_certificates(
            options.cafile, option="--cafile", limit=MAX_CA_FILE
        )
    try:
        keylog = _keylog(options.keylog)
    except OSError as e:
        print(f"tlsspec connect: no key log: {e}", file=sys.stderr)
        keylog = None
    try:
        return ClientConfig(
            trust_anchors=anchors,
            verify=not options.insecure,
            alpn_protocols=tuple(options.alpn),
            keylog=keylog,
        )
    except ConfigError as e:
        raise _option_error(e, {}) from None


class ConnectError(Exception):
    """The connection failed after it was set up; the message says how."""


@dataclass
class _ClientState:
    complete: HandshakeComplete | None = None
    session: Session | None = None
    reply: bytearray = field(default_factory=bytearray)
    closed: bool = False
    #: The transport ended without close_notify or a fatal alert.
    truncated: bool = False
    fatal: AlertReceived | None = None
    #: Why the command fails although the handshake completed.
    problem: str | None = None


async def _pump(
    conn: ClientConnection,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    trace: WireTrace,
    state: _ClientState,
    until: Any,
    timeout: float,
) -> None:
    async def flush() -> None:
        out = conn.data_to_send()
        if out:
            trace.feed(CLIENT, out)
            writer.write(out)
            await _drain(writer)

    await flush()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not until() and not state.closed:
        left = deadline - loop.time()
        if left <= 0:
            raise TimeoutError(f"no answer within {timeout:.0f} s")
        try:
            data = await asyncio.wait_for(reader.read(READ_SIZE), left)
        except TimeoutError:
            raise TimeoutError(f"no answer within {timeout:.0f} s") from None
        trace.feed(SERVER, data)
        try:
            events = conn.receive_data(data)
        except TLSError:
            # The fatal alert the engine queued goes out before we stop
            # (RFC 5246 §7.2.2).
            with contextlib.suppress(OSError, TimeoutError):
                await flush()
            raise
        for event in events:
            _client_event(event, state)
        await flush()
        if not data:
            state.closed = True


def _client_event(event: object, state: _ClientState) -> None:
    if isinstance(event, HandshakeComplete):
        state.complete = event
        state.session = event.session or state.session
    elif isinstance(event, NewSession):
        state.session = event.session
    elif isinstance(event, ApplicationData):
        state.reply += event.data
    elif isinstance(event, AlertReceived):
        if getattr(event.level, "name", "") == "fatal":
            state.fatal = event
        else:
            logger.warning(
                "alert received: warning %s",
                getattr(event.description, "name", event.description),
            )
    elif isinstance(event, ConnectionClosed):
        state.closed = True
        state.truncated = not event.clean and state.fatal is None


def _alert_name(alert: AlertReceived) -> str:
    return str(getattr(alert.description, "name", alert.description))


def _subject(trace: WireTrace) -> str:
    for entry in trace.entries:
        if entry.name == "Certificate" and "leaf" in entry.summary:
            return str(entry.summary["leaf"])
    return "-"


def _ticket_lifetime(trace: WireTrace) -> str:
    for entry in trace.entries:
        if entry.name == "NewSessionTicket":
            return f"{entry.summary.get('lifetime_hint')} s"
    return "-"


def _print_summary(complete: HandshakeComplete, trace: WireTrace, out: TextIO) -> None:
    print("Protocol  : TLSv1.2", file=out)
    print(f"Cipher    : {complete.cipher_suite.name}", file=out)
    print(f"Resumed   : {'yes' if complete.resumed else 'no'}", file=out)
    print(f"Subject   : {_subject(trace)}", file=out)
    print(f"ALPN      : {complete.alpn_protocol or '-'}", file=out)
    print(f"Ticket    : {_ticket_lifetime(trace)}", file=out)


def _load_session(path: Path) -> Session:
    data = _read_option_file(
        path,
        option="--sess-in",
        limit=MAX_SESSION_FILE,
        expected="a session saved by --sess-out",
    )
    try:
        return Session.from_bytes(data)
    except ValueError as e:
        raise OptionError(
            f"--sess-in {path}: not a session saved by --sess-out: {e}"
        ) from None


async def _connect(options: ConnectOptions) -> int:
    config = client_config(options)
    # The host is the name to verify; an IP literal is checked against the
    # certificate's IP addresses and never sent as SNI (RFC 6066 §3).
    server_name = options.servername or options.host
    session = None
    if options.sess_in is not None:
        session = _load_session(options.sess_in)
    if options.sess_out is not None:
        # A path that cannot take the session fails before connecting; the
        # file itself is written only once there is a session to put in it.
        _check_sess_out(options.sess_out)
    return await _converse(options, config, server_name, session)


def _check_sess_out(path: Path) -> None:
    where = f"--sess-out {path}"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        parent = path.resolve().parent
        if not parent.is_dir():
            raise OptionError(f"{where}: no directory {parent}") from None
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OptionError(f"{where}: cannot create files in {parent}") from None
        return
    except OSError as e:
        raise OptionError(f"{where}: {e.strerror or e}") from None
    if not stat.S_ISREG(mode):
        raise OptionError(
            f"{where}: not a regular file; expected a file to save the session in"
        )
    if not os.access(path, os.W_OK):
        raise OptionError(f"{where}: not writable")


def _save_session(path: Path, data: bytes) -> None:
    # Written to a private temporary file beside the target, then renamed
    # over it: the file is owner-only even when it existed before, and a
    # reader never sees half a session.
    target = path.resolve()
    temporary = None
    try:
        fd, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except OSError as e:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise OptionError(
            f"--sess-out {path}: cannot save the session: {e.strerror or e}"
        ) from None


async def _handshake_and_talk(
    conn: ClientConnection,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    trace: WireTrace,
    state: _ClientState,
    options: ConnectOptions,
) -> None:
    conn.start_handshake()
    await _pump(
        conn, reader, writer, trace, state, lambda: state.complete, IDLE_TIMEOUT
    )
    if state.complete is None:
        if state.fatal is not None:
            raise ConnectError(
                f"handshake failed: the server sent {_alert_name(state.fatal)}"
            )
        raise ConnectError("the server closed the connection during the handshake")
    report = sys.stderr if _json_trace(options) else options.out
    _print_summary(state.complete, trace, report)
    if options.send is not None:
        if state.closed:
            state.problem = "the server closed the connection before TEXT was sent"
        else:
            conn.send_application_data(options.send.encode())
            with contextlib.suppress(TimeoutError):
                await _pump(
                    conn,
                    reader,
                    writer,
                    trace,
                    state,
                    lambda: state.reply,
                    REPLY_TIMEOUT,
                )
            print(
                f"Reply     : {bytes(state.reply).decode('utf-8', 'replace')}",
                file=report,
            )
            if state.truncated:
                # RFC 5246 §7.2.1: without close_notify the reply may have
                # been cut off by anyone on the path.
                state.problem = (
                    "the server closed the connection without close_notify: "
                    "the reply may be truncated"
                )
    if not state.closed:
        conn.close()
        with contextlib.suppress(TimeoutError, TLSError, OSError):
            await _pump(
                conn, reader, writer, trace, state, lambda: False, CLOSE_TIMEOUT
            )


async def _converse(
    options: ConnectOptions,
    config: ClientConfig,
    server_name: str,
    session: Session | None,
) -> int:
    # Connect, handshake, send the line and close, printing as we go.
    out = options.out
    conn = ClientConnection(config, server_name=server_name, session=session)
    trace = WireTrace()
    state = _ClientState()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(options.host, options.port), IDLE_TIMEOUT
        )
    except TimeoutError:
        raise ConnectError(f"no connection within {IDLE_TIMEOUT:.0f} s") from None
    except OSError as e:
        where = _host_port(options.host, options.port)
        raise ConnectError(f"cannot connect to {where}: {_reason(e)}") from e
    try:
        try:
            await _handshake_and_talk(conn, reader, writer, trace, state, options)
        except TimeoutError as e:
            if not isinstance(e, _PeerStalledError):
                await _send_close(conn, writer, trace, CLIENT)
            raise
        if options.sess_out is not None:
            if state.session is None:
                print("tlsspec connect: the server issued no ticket", file=sys.stderr)
            else:
                _save_session(options.sess_out, state.session.to_bytes())
        if state.fatal is not None:
            raise ConnectError(f"the server sent {_alert_name(state.fatal)}")
        if state.problem is not None:
            raise ConnectError(state.problem)
        return 0
    finally:
        if options.trace and trace.entries:
            if not _json_trace(options):
                print(file=out)
            _print_trace(trace, options.trace_format, out)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def connect(options: ConnectOptions) -> int:
    """Handshake with a server, print a summary, optionally send a line.

    Returns:
        The exit status: 0 on success, 1 when the connection or handshake
        fails, 2 for unusable options.
    """
    try:
        return asyncio.run(_connect(options))
    except KeyboardInterrupt:
        print("tlsspec connect: interrupted", file=sys.stderr)
        return 130
    except TLSError as e:
        alert = getattr(e.description, "name", e.description)
        print(
            f"tlsspec connect: handshake failed: {e} (alert sent: {alert})",
            file=sys.stderr,
        )
        return 1
    except ConnectionError as e:
        print(f"tlsspec connect: connection lost: {_reason(e)}", file=sys.stderr)
        return 1
    except (ConnectError, TimeoutError) as e:
        print(f"tlsspec connect: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"tlsspec connect: {e}", file=sys.stderr)
        return 2
