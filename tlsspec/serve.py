"""``tlsspec serve``: a TLS 1.2 server on a real socket.

Each connection gets its own :class:`~tlsspec.runtime.ServerConnection`,
which echoes what the client sends or, with ``--www``, answers one request
with a page describing the handshake, as ``openssl s_server -www`` does.
Every byte each side sends also goes through a
:class:`~tlsspec.trace.WireTrace`, so ``--trace`` draws the messages that
really crossed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tlsspec import netbase
from tlsspec.netbase import (
    MAX_PEM_FILE,
    READ_SIZE,
    OptionError,
    _drain,
    _host_port,
    _json_trace,
    _keylog,
    _load_certificates,
    _load_private_key,
    _option_error,
    _PeerStalledError,
    _print_trace,
    _reason,
    _send_close,
    logger,
)
from tlsspec.runtime import ServerConfig, ServerConnection
from tlsspec.runtime.alerts import TLSError
from tlsspec.runtime.config import ConfigError
from tlsspec.runtime.events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    HandshakeComplete,
)
from tlsspec.runtime.tickets import TicketKey, TicketKeyRing
from tlsspec.trace import CLIENT, SERVER, WireTrace

__all__ = ["ServeOptions", "serve", "server_config"]

HANDSHAKE_TIMEOUT = 30.0
MAX_CLIENTS = 512
LOOP_ERROR_INTERVAL = 5.0


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


def server_config(options: ServeOptions) -> ServerConfig:
    """Build the server's config from PEM files and nginx ticket keys.

    Raises:
        OptionError: ``--cert`` or ``--key`` cannot be read, is not a
            regular file, is larger than
            :data:`~tlsspec.netbase.MAX_PEM_FILE`, or does not hold what it
            should; the message names the option and the file.
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
                wait = netbase.IDLE_TIMEOUT
                if self.complete is None:
                    wait = min(wait, deadline - loop.time())
                try:
                    async with asyncio.timeout(max(wait, 0)):
                        data = await reader.read(READ_SIZE)
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


async def _listen(
    options: ServeOptions,
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> asyncio.Server:
    # Errors name the option or the address, not the socket call.
    try:
        return await asyncio.start_server(handle, options.host, options.port)
    except socket.gaierror as e:
        # The resolver's text ("Name or service not known") names nothing.
        raise OSError(f"--host {options.host}: cannot resolve: {e.strerror}") from None
    except OSError as e:
        where = _host_port(options.host, options.port)
        raise OSError(f"cannot listen on {where}: {_reason(e)}") from None


async def _run_until(
    server: asyncio.Server, stop: asyncio.Event, finished: asyncio.Event
) -> None:
    # Serves until a signal sets stop or --max-connections sets finished.
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
    server = await _listen(options, handle)
    port = server.sockets[0].getsockname()[1]
    print(
        f"tlsspec serve: listening on {_host_port(options.host, port)}",
        file=sys.stderr if _json_trace(options) else out,
        flush=True,
    )
    await _run_until(server, stop, finished)
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
