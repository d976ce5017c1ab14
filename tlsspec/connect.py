"""``tlsspec connect``: a TLS 1.2 client on a real socket.

One connection: handshake, print a summary, optionally send a line and
print the reply, then close with close_notify.  ``--sess-in`` and
``--sess-out`` carry a session between runs.  Every byte each side sends
also goes through a :class:`~tlsspec.trace.WireTrace`, so ``--trace`` draws
the messages that really crossed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tlsspec import netbase
from tlsspec.netbase import (
    CLOSE_TIMEOUT,
    MAX_CA_FILE,
    MAX_SESSION_FILE,
    READ_SIZE,
    OptionError,
    _drain,
    _host_port,
    _json_trace,
    _keylog,
    _load_certificates,
    _option_error,
    _PeerStalledError,
    _print_trace,
    _read_option_file,
    _reason,
    _send_close,
    logger,
)
from tlsspec.runtime import ClientConfig, ClientConnection, Session
from tlsspec.runtime.alerts import TLSError
from tlsspec.runtime.config import ConfigError
from tlsspec.runtime.events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    HandshakeComplete,
    NewSession,
)
from tlsspec.trace import CLIENT, SERVER, WireTrace

__all__ = ["ConnectError", "ConnectOptions", "client_config", "connect"]

REPLY_TIMEOUT = 5.0


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


def client_config(options: ConnectOptions) -> ClientConfig:
    """Build the client's config.

    A key log that cannot be written is reported and left out: a stale
    ``SSLKEYLOGFILE`` must not stop TLS from working.

    Raises:
        OptionError: ``--cafile`` cannot be read, is not a regular file,
            is larger than :data:`~tlsspec.netbase.MAX_CA_FILE`, or holds
            no certificate.
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
            async with asyncio.timeout(left):
                data = await reader.read(READ_SIZE)
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
        conn, reader, writer, trace, state, lambda: state.complete, netbase.IDLE_TIMEOUT
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
        # asyncio.timeout, unlike wait_for on Python 3.11, never swallows a
        # cancellation (Ctrl-C) that lands as the connection completes.
        async with asyncio.timeout(netbase.IDLE_TIMEOUT):
            reader, writer = await asyncio.open_connection(options.host, options.port)
    except TimeoutError:
        limit = netbase.IDLE_TIMEOUT
        raise ConnectError(f"no connection within {limit:.0f} s") from None
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
