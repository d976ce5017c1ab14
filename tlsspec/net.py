"""``tlsspec serve`` and ``tlsspec connect``: the engine on real sockets.

The engine is sans-I/O; this module moves its bytes over asyncio streams.
Every byte each side sends also goes through a :class:`~tlsspec.trace.WireTrace`,
so ``--trace`` draws the messages that really crossed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tlsspec.runtime import (
    ClientConfig,
    ClientConnection,
    ServerConfig,
    ServerConnection,
    Session,
)
from tlsspec.runtime.alerts import TLSError
from tlsspec.runtime.events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    HandshakeComplete,
    NewSession,
)
from tlsspec.runtime.keylog import KeyLogWriter
from tlsspec.runtime.tickets import TicketKey, TicketKeyRing
from tlsspec.trace import CLIENT, SERVER, WireTrace, render_json, render_ladder

__all__ = ["ConnectOptions", "ServeOptions", "connect", "serve"]

logger = logging.getLogger(__name__)

READ_SIZE = 65536
IDLE_TIMEOUT = 30.0
REPLY_TIMEOUT = 5.0
CLOSE_TIMEOUT = 2.0
KEYLOG_ENV = "SSLKEYLOGFILE"


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


def _keylog(path: Path | None) -> KeyLogWriter | None:
    target = path or os.environ.get(KEYLOG_ENV)
    return KeyLogWriter(str(target)) if target else None


def _print_trace(trace: WireTrace, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        print(render_json(trace.entries), file=out)
    else:
        print(render_ladder(trace.entries), file=out)
    out.flush()


# -- server ----------------------------------------------------------------


def server_config(options: ServeOptions) -> ServerConfig:
    """Build the server's config from PEM files and nginx ticket keys.

    Raises:
        ValueError: A file does not hold what it should.
        OSError: A file cannot be read.
    """
    chain = x509.load_pem_x509_certificates(options.cert.read_bytes())
    key = load_pem_private_key(options.key.read_bytes(), password=None)
    if options.ticket_keys:
        # The first key file seals; all of them open (as nginx does).
        ring = TicketKeyRing(
            [TicketKey.from_nginx_file(p) for p in options.ticket_keys]
        )
    else:
        ring = TicketKeyRing.generate()
    return ServerConfig(
        chain,
        key,  # type: ignore[arg-type]
        ticket_keys=ring,
        ticket_lifetime=options.ticket_lifetime,
        alpn_protocols=tuple(options.alpn),
        keylog=_keylog(options.keylog),
    )


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

    async def run(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while not self.done:
                try:
                    data = await asyncio.wait_for(reader.read(READ_SIZE), IDLE_TIMEOUT)
                except TimeoutError:
                    logger.warning(
                        "%s: idle for %.0f s, closing", self.peer, IDLE_TIMEOUT
                    )
                    return
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
                    return
                # RFC 5246 §7.2.1: after the peer's close_notify, pending
                # writes are discarded; nothing is echoed past it.
                closing = any(isinstance(e, ConnectionClosed) for e in events)
                for event in events:
                    if closing and isinstance(event, ApplicationData):
                        continue
                    self.handle(event)
                await self.flush(writer)
                if not data:
                    return
        finally:
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()

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
            with contextlib.suppress(OSError):
                await writer.drain()
        if (
            self.options.trace
            and self.complete is not None
            and not getattr(self, "_traced", False)
        ):
            self._traced = True
            _print_trace(self.trace, self.options.trace_format, sys.stdout)


async def _serve(options: ServeOptions, config: ServerConfig, out: TextIO) -> int:
    served = 0
    finished = asyncio.Event()
    stop = asyncio.Event()

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal served
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if peername else "peer"
        try:
            await _ServerSession(config, options, peer).run(reader, writer)
        except Exception:  # one connection never takes the server down
            logger.exception("%s: connection failed", peer)
        served += 1
        if options.max_connections is not None and served >= options.max_connections:
            finished.set()

    server = await asyncio.start_server(handle, options.host, options.port)
    port = server.sockets[0].getsockname()[1]
    print(f"tlsspec serve: listening on {options.host}:{port}", file=out, flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with server:
        waiters = [
            asyncio.create_task(stop.wait()),
            asyncio.create_task(finished.wait()),
        ]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in waiters:
            task.cancel()
    print("tlsspec serve: stopped", file=out, flush=True)
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

    Raises:
        ValueError: The CA file holds no certificate.
        OSError: A file cannot be read.
    """
    anchors = None
    if options.cafile is not None:
        anchors = x509.load_pem_x509_certificates(options.cafile.read_bytes())
    return ClientConfig(
        trust_anchors=anchors,
        verify=not options.insecure,
        alpn_protocols=tuple(options.alpn),
        keylog=_keylog(options.keylog),
    )


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass
class _ClientState:
    complete: HandshakeComplete | None = None
    session: Session | None = None
    reply: bytearray = field(default_factory=bytearray)
    closed: bool = False


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
            await writer.drain()

    await flush()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not until() and not state.closed:
        left = deadline - loop.time()
        if left <= 0:
            raise TimeoutError
        data = await asyncio.wait_for(reader.read(READ_SIZE), left)
        trace.feed(SERVER, data)
        for event in conn.receive_data(data):
            if isinstance(event, HandshakeComplete):
                state.complete = event
                state.session = event.session or state.session
            elif isinstance(event, NewSession):
                state.session = event.session
            elif isinstance(event, ApplicationData):
                state.reply += event.data
            elif isinstance(event, AlertReceived):
                logger.warning(
                    "alert received: %s %s",
                    getattr(event.level, "name", event.level),
                    getattr(event.description, "name", event.description),
                )
            elif isinstance(event, ConnectionClosed):
                state.closed = True
        await flush()
        if not data:
            state.closed = True


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


async def _connect(options: ConnectOptions) -> int:
    out = options.out
    config = client_config(options)
    server_name = options.servername
    if server_name is None and not _is_ip(options.host):
        server_name = options.host
    session = None
    if options.sess_in is not None:
        session = Session.from_bytes(options.sess_in.read_bytes())
    conn = ClientConnection(config, server_name=server_name, session=session)
    trace = WireTrace()
    state = _ClientState()
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(options.host, options.port), IDLE_TIMEOUT
    )
    try:
        conn.start_handshake()
        await _pump(
            conn, reader, writer, trace, state, lambda: state.complete, IDLE_TIMEOUT
        )
        if state.complete is None:
            print(
                "tlsspec connect: connection closed during the handshake",
                file=sys.stderr,
            )
            return 1
        complete = state.complete
        print("Protocol  : TLSv1.2", file=out)
        print(f"Cipher    : {complete.cipher_suite.name}", file=out)
        print(f"Resumed   : {'yes' if complete.resumed else 'no'}", file=out)
        print(f"Subject   : {_subject(trace)}", file=out)
        print(f"ALPN      : {complete.alpn_protocol or '-'}", file=out)
        print(f"Ticket    : {_ticket_lifetime(trace)}", file=out)
        if options.send is not None:
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
                f"Reply     : {bytes(state.reply).decode('utf-8', 'replace')}", file=out
            )
        if not state.closed:
            conn.close()
            with contextlib.suppress(TimeoutError, TLSError, OSError):
                await _pump(
                    conn, reader, writer, trace, state, lambda: False, CLOSE_TIMEOUT
                )
        if options.sess_out is not None:
            if state.session is None:
                print("tlsspec connect: the server issued no ticket", file=sys.stderr)
            else:
                options.sess_out.write_bytes(state.session.to_bytes())
        if options.trace:
            print(file=out)
            _print_trace(trace, options.trace_format, out)
        return 0
    finally:
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
    except TLSError as e:
        print(f"tlsspec connect: handshake failed: {e}", file=sys.stderr)
        return 1
    except (TimeoutError, ConnectionError) as e:
        print(f"tlsspec connect: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"tlsspec connect: {e}", file=sys.stderr)
        return 2
