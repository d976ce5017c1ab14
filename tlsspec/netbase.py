"""The pieces ``tlsspec serve`` and ``tlsspec connect`` share.

Options that name files are read here, each file with a size bound, and
turned into certificates and keys with errors that name the option; the
socket plumbing both commands use lives here too: the timeouts, bounded
writes, the close_notify on the way out, the key log and trace printing.
:mod:`tlsspec.net` is the public face of both commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tlsspec.runtime import ClientConnection, ServerConnection
from tlsspec.runtime.config import ConfigError
from tlsspec.runtime.files import (
    FileTooLargeError,
    NotARegularFileError,
    read_regular,
)
from tlsspec.runtime.keylog import KeyLogWriter
from tlsspec.runtime.session import MAX_SESSION_BYTES
from tlsspec.trace import WireTrace, render_json, render_ladder

if TYPE_CHECKING:
    from tlsspec.connect import ConnectOptions
    from tlsspec.serve import ServeOptions

# Both commands log as tlsspec.net, the name their lines have always
# carried: the command line prints it before each message.
logger = logging.getLogger("tlsspec.net")

READ_SIZE = 65536
IDLE_TIMEOUT = 30.0
CLOSE_TIMEOUT = 2.0
# Key logs and saved sessions hold secrets: owner only.
KEYLOG_ENV = "SSLKEYLOGFILE"

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
        async with asyncio.timeout(IDLE_TIMEOUT):
            await writer.drain()
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
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await writer.drain()


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
