"""Reference codecs: the benchmark messages written twice, outside tlsspec.

tlsspec generates ``construct`` codecs from RFC struct text. To know how fast
and how correct those are, the same messages are written here by hand in the
two ways a Python programmer would otherwise choose:

``construct_<Name>``
    Plain ``construct`` 2.10, written the way a construct user would: a
    ``Struct`` per message, ``Prefixed`` vectors, and ``Check``/``Terminated``
    where construct can express an RFC bound or exact consumption.

``hand_parse_<Name>`` / ``hand_build_<Name>``
    Straight-line Python over ``struct``, ``int.from_bytes`` and slicing,
    enforcing every RFC rule: vector floors and ceilings, element-size
    multiples, exact consumption of every length-delimited region, no
    trailing bytes. This is the pure-Python speed ceiling. Bad bytes or
    out-of-range values raise :class:`ValueError` naming the field path.

Values are dicts (construct returns ``Container``) with exactly the RFC
field names. Enumerated fields are plain ints, ``opaque`` fields bytes,
vectors lists. An absent extensions block is ``None``; an empty one ``[]``.

Both Handshake codecs take ``length`` from the body when building; the
hand-written builder also rejects a ``length`` that disagrees with the body.
Bodies of message types not listed below are kept as raw bytes.
"""

# The public names mirror the RFC struct names (``construct_ClientHello``,
# ``hand_parse_ClientHello``) so benchmark tables line up with the spec.
# ruff: noqa: N802, N816

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from construct import (
    Bytes,
    Check,
    Construct,
    Container,
    FocusedSeq,
    GreedyBytes,
    GreedyRange,
    If,
    Int8ub,
    Int16ub,
    Int24ub,
    Int32ub,
    Peek,
    Prefixed,
    PrefixedArray,
    Struct,
    Switch,
    Terminated,
    this,
)

__all__ = [
    "CLIENT_HELLO",
    "FINISHED",
    "NEW_SESSION_TICKET",
    "SERVER_HELLO",
    "construct_Alert",
    "construct_ClientHello",
    "construct_Finished",
    "construct_Handshake",
    "construct_NewSessionTicket",
    "construct_ServerHello",
    "construct_ticket",
    "hand_build_Alert",
    "hand_build_ClientHello",
    "hand_build_Finished",
    "hand_build_Handshake",
    "hand_build_NewSessionTicket",
    "hand_build_ServerHello",
    "hand_build_ticket",
    "hand_parse_Alert",
    "hand_parse_ClientHello",
    "hand_parse_Finished",
    "hand_parse_Handshake",
    "hand_parse_NewSessionTicket",
    "hand_parse_ServerHello",
    "hand_parse_ticket",
]

Value = dict[str, Any]

# RFC 5246 §7.4: HandshakeType values handled by the Handshake wrapper.
CLIENT_HELLO = 1
SERVER_HELLO = 2
NEW_SESSION_TICKET = 4
FINISHED = 20

# Wire sizes (RFC 5246 §7.4.1.2, §7.4.9; RFC 5077 §4).
RANDOM_SIZE = 32
SESSION_ID_MAX = 32
VERIFY_DATA_SIZE = 12
KEY_NAME_SIZE = 16
IV_SIZE = 16
MAC_SIZE = 32
CIPHER_SUITE_SIZE = 2
# cipher_suites<2..2^16-2>, compression_methods<1..2^8-1>.
CIPHER_SUITES_MIN = 2
CIPHER_SUITES_MAX = 2**16 - 2
COMPRESSION_METHODS_MIN = 1
COMPRESSION_METHODS_MAX = 2**8 - 1
UINT16_MAX = 2**16 - 1
UINT24_MAX = 2**24 - 1


# ==========================================================================
# (a) plain construct
# ==========================================================================


def _whole(subcon: Construct) -> Construct:
    # Prefixed hands its subcon a bounded stream but does not check that the
    # subcon used all of it; GreedyRange stops quietly before a partial
    # element. Terminated turns leftover bytes into an error.
    return FocusedSeq("items", "items" / subcon, Terminated)


def _extensions_follow(this: Container) -> bool:
    # RFC 5246 §7.4.1.2: extensions are present iff bytes follow
    # compression_methods. Optional() would also work for parsing, but on
    # building it silently drops an extension list that fails to encode.
    if this._parsing:
        stream = this._io
        here = stream.tell()
        more = stream.read(1) != b""
        stream.seek(here)
        return more
    return this.extensions is not None


# struct {
#     AlertLevel level;
#     AlertDescription description;
# } Alert;
construct_Alert = Struct(
    "level" / Int8ub,
    "description" / Int8ub,
    Terminated,
)

# struct {
#     opaque verify_data[verify_data_length];
# } Finished;
construct_Finished = Struct(
    "verify_data" / Bytes(VERIFY_DATA_SIZE),
    Terminated,
)

# struct {
#     uint32 ticket_lifetime_hint;
#     opaque ticket<0..2^16-1>;
# } NewSessionTicket;
construct_NewSessionTicket = Struct(
    "ticket_lifetime_hint" / Int32ub,
    "ticket" / Prefixed(Int16ub, GreedyBytes),
    Terminated,
)

# struct {
#     opaque key_name[16];
#     opaque iv[16];
#     opaque encrypted_state<0..2^16-1>;
#     opaque mac[32];
# } ticket;
construct_ticket = Struct(
    "key_name" / Bytes(KEY_NAME_SIZE),
    "iv" / Bytes(IV_SIZE),
    "encrypted_state" / Prefixed(Int16ub, GreedyBytes),
    "mac" / Bytes(MAC_SIZE),
    Terminated,
)

# struct {
#     ExtensionType extension_type;
#     opaque extension_data<0..2^16-1>;
# } Extension;
_construct_Extension = Struct(
    "extension_type" / Int16ub,
    "extension_data" / Prefixed(Int16ub, GreedyBytes),
)
# Extension extensions<0..2^16-1>;
_construct_Extensions = Prefixed(Int16ub, _whole(GreedyRange(_construct_Extension)))

# struct {
#     ProtocolVersion client_version;
#     Random random;
#     SessionID session_id;
#     CipherSuite cipher_suites<2..2^16-2>;
#     CompressionMethod compression_methods<1..2^8-1>;
#     select (extensions_present) {
#         case false: struct {};
#         case true: Extension extensions<0..2^16-1>;
#     };
# } ClientHello;
construct_ClientHello = Struct(
    "client_version" / Int16ub,
    "random" / Bytes(RANDOM_SIZE),
    "session_id" / Prefixed(Int8ub, GreedyBytes),
    Check(lambda this: len(this.session_id) <= SESSION_ID_MAX),
    "cipher_suites" / Prefixed(Int16ub, _whole(GreedyRange(Int16ub))),
    Check(
        lambda this: (
            CIPHER_SUITES_MIN
            <= len(this.cipher_suites) * CIPHER_SUITE_SIZE
            <= CIPHER_SUITES_MAX
        )
    ),
    "compression_methods" / PrefixedArray(Int8ub, Int8ub),
    Check(lambda this: len(this.compression_methods) >= COMPRESSION_METHODS_MIN),
    "extensions" / If(_extensions_follow, _construct_Extensions),
    Terminated,
)

# struct {
#     ProtocolVersion server_version;
#     Random random;
#     SessionID session_id;
#     CipherSuite cipher_suite;
#     CompressionMethod compression_method;
#     select (extensions_present) {
#         case false: struct {};
#         case true: Extension extensions<0..2^16-1>;
#     };
# } ServerHello;
construct_ServerHello = Struct(
    "server_version" / Int16ub,
    "random" / Bytes(RANDOM_SIZE),
    "session_id" / Prefixed(Int8ub, GreedyBytes),
    Check(lambda this: len(this.session_id) <= SESSION_ID_MAX),
    "cipher_suite" / Int16ub,
    "compression_method" / Int8ub,
    "extensions" / If(_extensions_follow, _construct_Extensions),
    Terminated,
)

# struct {
#     HandshakeType msg_type;
#     uint24 length;
#     select (HandshakeType) { ... } body;
# } Handshake;
#
# ``length`` is read with Peek so it shows up in parsed values, while
# Prefixed frames the body and writes the real length when building.
construct_Handshake = Struct(
    "msg_type" / Int8ub,
    "length" / Peek(Int24ub),
    "body"
    / Prefixed(
        Int24ub,
        Switch(
            this.msg_type,
            {
                CLIENT_HELLO: construct_ClientHello,
                SERVER_HELLO: construct_ServerHello,
                NEW_SESSION_TICKET: construct_NewSessionTicket,
                FINISHED: construct_Finished,
            },
            default=GreedyBytes,
        ),
    ),
    Terminated,
)


# ==========================================================================
# (b) hand-written parse and build
# ==========================================================================

_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_U16_U16 = struct.Struct("!HH")


def _truncated(path: str, needed: int, left: int) -> ValueError:
    return ValueError(f"{path}: truncated, needs {needed} bytes, {left} left")


def _expect_end(path: str, position: int, end: int) -> None:
    if position != end:
        raise ValueError(f"{path}: {end - position} trailing bytes")


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    return data if type(data) is bytes else bytes(data)


def _read_fixed(
    data: bytes, position: int, end: int, size: int, path: str
) -> tuple[bytes, int]:
    stop = position + size
    if stop > end:
        raise _truncated(path, size, end - position)
    return data[position:stop], stop


def _read_vector(
    data: bytes,
    position: int,
    end: int,
    *,
    prefix: int,
    floor: int,
    ceiling: int,
    path: str,
) -> tuple[int, int]:
    # Returns (start, stop) of the vector body after checking the length
    # prefix against the RFC bounds and the space that remains.
    if end - position < prefix:
        raise _truncated(path, prefix, end - position)
    if prefix == 1:
        length = data[position]
    else:
        length = int.from_bytes(data[position : position + prefix], "big")
    if not floor <= length <= ceiling:
        raise ValueError(f"{path}: length {length} outside <{floor}..{ceiling}>")
    start = position + prefix
    stop = start + length
    if stop > end:
        raise _truncated(path, length, end - start)
    return start, stop


def _parse_extensions(
    data: bytes, position: int, end: int, path: str
) -> list[Value] | None:
    # RFC 5246 §7.4.1.2: no bytes after the fixed fields means no
    # extensions; otherwise the block must fill the rest exactly.
    if position == end:
        return None
    start, stop = _read_vector(
        data, position, end, prefix=2, floor=0, ceiling=UINT16_MAX, path=path
    )
    _expect_end(path, stop, end)
    extensions: list[Value] = []
    position = start
    while position < stop:
        if stop - position < 4:
            raise _truncated(f"{path}[{len(extensions)}]", 4, stop - position)
        extension_type, length = _U16_U16.unpack_from(data, position)
        position += 4
        body_end = position + length
        if body_end > stop:
            raise _truncated(
                f"{path}[{len(extensions)}].extension_data",
                length,
                stop - position,
            )
        extensions.append(
            {
                "extension_type": extension_type,
                "extension_data": data[position:body_end],
            }
        )
        position = body_end
    return extensions


def _parse_alert(data: bytes, position: int, end: int) -> Value:
    if end - position < 2:
        raise _truncated("Alert", 2, end - position)
    _expect_end("Alert", position + 2, end)
    return {"level": data[position], "description": data[position + 1]}


def _parse_finished(data: bytes, position: int, end: int) -> Value:
    verify_data, position = _read_fixed(
        data, position, end, VERIFY_DATA_SIZE, "Finished.verify_data"
    )
    _expect_end("Finished", position, end)
    return {"verify_data": verify_data}


def _parse_new_session_ticket(data: bytes, position: int, end: int) -> Value:
    if end - position < 4:
        raise _truncated("NewSessionTicket.ticket_lifetime_hint", 4, end - position)
    (hint,) = _U32.unpack_from(data, position)
    start, stop = _read_vector(
        data,
        position + 4,
        end,
        prefix=2,
        floor=0,
        ceiling=UINT16_MAX,
        path="NewSessionTicket.ticket",
    )
    _expect_end("NewSessionTicket", stop, end)
    return {"ticket_lifetime_hint": hint, "ticket": data[start:stop]}


def _parse_ticket(data: bytes, position: int, end: int) -> Value:
    key_name, position = _read_fixed(
        data, position, end, KEY_NAME_SIZE, "ticket.key_name"
    )
    iv, position = _read_fixed(data, position, end, IV_SIZE, "ticket.iv")
    start, stop = _read_vector(
        data,
        position,
        end,
        prefix=2,
        floor=0,
        ceiling=UINT16_MAX,
        path="ticket.encrypted_state",
    )
    mac, position = _read_fixed(data, stop, end, MAC_SIZE, "ticket.mac")
    _expect_end("ticket", position, end)
    return {
        "key_name": key_name,
        "iv": iv,
        "encrypted_state": data[start:stop],
        "mac": mac,
    }


def _parse_hello_start(
    data: bytes, position: int, end: int, name: str
) -> tuple[int, bytes, bytes, int]:
    # version, random and session_id open both hellos identically.
    if end - position < 2 + RANDOM_SIZE:
        raise _truncated(name, 2 + RANDOM_SIZE, end - position)
    (version,) = _U16.unpack_from(data, position)
    position += 2
    random = data[position : position + RANDOM_SIZE]
    start, stop = _read_vector(
        data,
        position + RANDOM_SIZE,
        end,
        prefix=1,
        floor=0,
        ceiling=SESSION_ID_MAX,
        path=f"{name}.session_id",
    )
    return version, random, data[start:stop], stop


def _parse_client_hello(data: bytes, position: int, end: int) -> Value:
    version, random, session_id, position = _parse_hello_start(
        data, position, end, "ClientHello"
    )

    start, stop = _read_vector(
        data,
        position,
        end,
        prefix=2,
        floor=CIPHER_SUITES_MIN,
        ceiling=CIPHER_SUITES_MAX,
        path="ClientHello.cipher_suites",
    )
    count, odd = divmod(stop - start, CIPHER_SUITE_SIZE)
    if odd:
        raise ValueError(
            f"ClientHello.cipher_suites: length {stop - start} is not a "
            f"multiple of {CIPHER_SUITE_SIZE}"
        )
    cipher_suites = list(struct.unpack_from(f"!{count}H", data, start))

    start, position = _read_vector(
        data,
        stop,
        end,
        prefix=1,
        floor=COMPRESSION_METHODS_MIN,
        ceiling=COMPRESSION_METHODS_MAX,
        path="ClientHello.compression_methods",
    )
    compression_methods = list(data[start:position])

    extensions = _parse_extensions(data, position, end, "ClientHello.extensions")
    return {
        "client_version": version,
        "random": random,
        "session_id": session_id,
        "cipher_suites": cipher_suites,
        "compression_methods": compression_methods,
        "extensions": extensions,
    }


def _parse_server_hello(data: bytes, position: int, end: int) -> Value:
    version, random, session_id, position = _parse_hello_start(
        data, position, end, "ServerHello"
    )

    if end - position < 3:
        raise _truncated("ServerHello.cipher_suite", 3, end - position)
    (cipher_suite,) = _U16.unpack_from(data, position)
    compression_method = data[position + 2]

    extensions = _parse_extensions(data, position + 3, end, "ServerHello.extensions")
    return {
        "server_version": version,
        "random": random,
        "session_id": session_id,
        "cipher_suite": cipher_suite,
        "compression_method": compression_method,
        "extensions": extensions,
    }


_BODY_PARSERS: dict[int, Callable[[bytes, int, int], Value]] = {
    CLIENT_HELLO: _parse_client_hello,
    SERVER_HELLO: _parse_server_hello,
    NEW_SESSION_TICKET: _parse_new_session_ticket,
    FINISHED: _parse_finished,
}


def _parse_handshake(data: bytes, position: int, end: int) -> Value:
    if end - position < 4:
        raise _truncated("Handshake", 4, end - position)
    (header,) = _U32.unpack_from(data, position)
    msg_type, length = header >> 24, header & UINT24_MAX
    start = position + 4
    stop = start + length
    if stop > end:
        raise _truncated("Handshake.body", length, end - start)
    _expect_end("Handshake", stop, end)

    parse_body = _BODY_PARSERS.get(msg_type)
    body = data[start:stop] if parse_body is None else parse_body(data, start, stop)
    return {"msg_type": msg_type, "length": length, "body": body}


def hand_parse_Alert(data: bytes | bytearray | memoryview) -> Value:
    """Parse exactly one Alert (RFC 5246 §7.2) from ``data``.

    Raises:
        ValueError: ``data`` is short, breaks an RFC bound, or has bytes
            left over.
    """
    data = _as_bytes(data)
    return _parse_alert(data, 0, len(data))


def hand_parse_Finished(data: bytes | bytearray | memoryview) -> Value:
    """Parse exactly one Finished body (RFC 5246 §7.4.9) from ``data``.

    Raises:
        ValueError: ``data`` is short, breaks an RFC bound, or has bytes
            left over.
    """
    data = _as_bytes(data)
    return _parse_finished(data, 0, len(data))


def hand_parse_NewSessionTicket(data: bytes | bytearray | memoryview) -> Value:
    """Parse exactly one NewSessionTicket body (RFC 5077 §3.3) from ``data``.

    Raises:
        ValueError: ``data`` is short, breaks an RFC bound, or has bytes
            left over.
    """
    data = _as_bytes(data)
    return _parse_new_session_ticket(data, 0, len(data))


def hand_parse_ticket(data: bytes | bytearray | memoryview) -> Value:
    """Parse exactly one RFC 5077 §4 ticket from ``data``.

    Raises:
        ValueError: ``data`` is short, breaks an RFC bound, or has bytes
            left over.
    """
    data = _as_bytes(data)
    return _parse_ticket(data, 0, len(data))


def hand_parse_ClientHello(data: bytes | bytearray | memoryview) -> Value:
    """Parse exactly one ClientHello body (RFC 5246 §7.4.1.2) from ``data``.

    Raises:
        ValueError: ``data`` is short, breaks an RFC bound, or has bytes
            left over.
    """
    data = _as_bytes(data)
    return _parse_client_hello(data, 0, len(data))


def hand_parse_ServerHello(data: bytes | bytearray | memoryview) -> Value:
    """Parse exactly one ServerHello body (RFC 5246 §7.4.1.3) from ``data``.

    Raises:
        ValueError: ``data`` is short, breaks an RFC bound, or has bytes
            left over.
    """
    data = _as_bytes(data)
    return _parse_server_hello(data, 0, len(data))


def hand_parse_Handshake(data: bytes | bytearray | memoryview) -> Value:
    """Parse exactly one Handshake message, header included, from ``data``.

    Raises:
        ValueError: ``data`` is short, breaks an RFC bound, or has bytes
            left over.
    """
    data = _as_bytes(data)
    return _parse_handshake(data, 0, len(data))


# -- building ---------------------------------------------------------------


def _uint(value: int, size: int, path: str) -> bytes:
    try:
        return value.to_bytes(size, "big")
    except OverflowError:
        raise ValueError(f"{path}: {value} does not fit in uint{size * 8}") from None


def _fixed(value: bytes, size: int, path: str) -> bytes:
    if len(value) != size:
        raise ValueError(f"{path}: length {len(value)}, expected exactly {size}")
    return value


def _vector(body: bytes, prefix: int, floor: int, ceiling: int, path: str) -> bytes:
    length = len(body)
    if not floor <= length <= ceiling:
        raise ValueError(f"{path}: length {length} outside <{floor}..{ceiling}>")
    return length.to_bytes(prefix, "big") + body


def _uint_list(items: Sequence[int], code: str, path: str) -> bytes:
    # One struct call packs the whole list; struct.error means an item
    # does not fit the element type.
    try:
        return struct.pack(f"!{len(items)}{code}", *items)
    except struct.error as exc:
        raise ValueError(f"{path}: {exc}") from None


def _build_extensions(
    extensions: Sequence[Mapping[str, Any]] | None, name: str
) -> bytes:
    # None omits the block (RFC 5246 §7.4.1.2); [] writes an empty one.
    if extensions is None:
        return b""
    parts = []
    for index, extension in enumerate(extensions):
        path = f"{name}.extensions[{index}]"
        parts.append(_uint(extension["extension_type"], 2, f"{path}.extension_type"))
        parts.append(
            _vector(
                extension["extension_data"],
                2,
                0,
                UINT16_MAX,
                f"{path}.extension_data",
            )
        )
    return _vector(b"".join(parts), 2, 0, UINT16_MAX, f"{name}.extensions")


def _build_hello_start(value: Mapping[str, Any], name: str, version: str) -> bytes:
    # version, random and session_id open both hellos identically.
    return b"".join(
        (
            _uint(value[version], 2, f"{name}.{version}"),
            _fixed(value["random"], RANDOM_SIZE, f"{name}.random"),
            _vector(value["session_id"], 1, 0, SESSION_ID_MAX, f"{name}.session_id"),
        )
    )


def hand_build_Alert(value: Mapping[str, Any]) -> bytes:
    """Encode an Alert (RFC 5246 §7.2).

    Raises:
        ValueError: ``level`` or ``description`` is not a uint8.
    """
    return _uint(value["level"], 1, "Alert.level") + _uint(
        value["description"], 1, "Alert.description"
    )


def hand_build_Finished(value: Mapping[str, Any]) -> bytes:
    """Encode a Finished body (RFC 5246 §7.4.9).

    Raises:
        ValueError: ``verify_data`` is not exactly 12 bytes.
    """
    return _fixed(value["verify_data"], VERIFY_DATA_SIZE, "Finished.verify_data")


def hand_build_NewSessionTicket(value: Mapping[str, Any]) -> bytes:
    """Encode a NewSessionTicket body (RFC 5077 §3.3).

    Raises:
        ValueError: ``ticket_lifetime_hint`` is not a uint32 or ``ticket``
            is longer than 2^16-1 bytes.
    """
    hint = _uint(
        value["ticket_lifetime_hint"], 4, "NewSessionTicket.ticket_lifetime_hint"
    )
    ticket = _vector(value["ticket"], 2, 0, UINT16_MAX, "NewSessionTicket.ticket")
    return hint + ticket


def hand_build_ticket(value: Mapping[str, Any]) -> bytes:
    """Encode a ticket in the RFC 5077 §4 layout.

    Raises:
        ValueError: A fixed-size field has the wrong size or
            ``encrypted_state`` is longer than 2^16-1 bytes.
    """
    return b"".join(
        (
            _fixed(value["key_name"], KEY_NAME_SIZE, "ticket.key_name"),
            _fixed(value["iv"], IV_SIZE, "ticket.iv"),
            _vector(
                value["encrypted_state"],
                2,
                0,
                UINT16_MAX,
                "ticket.encrypted_state",
            ),
            _fixed(value["mac"], MAC_SIZE, "ticket.mac"),
        )
    )


def hand_build_ClientHello(value: Mapping[str, Any]) -> bytes:
    """Encode a ClientHello body (RFC 5246 §7.4.1.2).

    ``extensions=None`` omits the extensions block entirely.

    Raises:
        ValueError: An integer does not fit its type, a fixed-size field has
            the wrong size, or a vector breaks its bounds.
    """
    suites = _uint_list(value["cipher_suites"], "H", "ClientHello.cipher_suites")
    methods = _uint_list(
        value["compression_methods"], "B", "ClientHello.compression_methods"
    )
    return b"".join(
        (
            _build_hello_start(value, "ClientHello", "client_version"),
            _vector(
                suites,
                2,
                CIPHER_SUITES_MIN,
                CIPHER_SUITES_MAX,
                "ClientHello.cipher_suites",
            ),
            _vector(
                methods,
                1,
                COMPRESSION_METHODS_MIN,
                COMPRESSION_METHODS_MAX,
                "ClientHello.compression_methods",
            ),
            _build_extensions(value["extensions"], "ClientHello"),
        )
    )


def hand_build_ServerHello(value: Mapping[str, Any]) -> bytes:
    """Encode a ServerHello body (RFC 5246 §7.4.1.3).

    ``extensions=None`` omits the extensions block entirely.

    Raises:
        ValueError: An integer does not fit its type, a fixed-size field has
            the wrong size, or a vector breaks its bounds.
    """
    return b"".join(
        (
            _build_hello_start(value, "ServerHello", "server_version"),
            _uint(value["cipher_suite"], 2, "ServerHello.cipher_suite"),
            _uint(value["compression_method"], 1, "ServerHello.compression_method"),
            _build_extensions(value["extensions"], "ServerHello"),
        )
    )


_BODY_BUILDERS: dict[int, Callable[[Mapping[str, Any]], bytes]] = {
    CLIENT_HELLO: hand_build_ClientHello,
    SERVER_HELLO: hand_build_ServerHello,
    NEW_SESSION_TICKET: hand_build_NewSessionTicket,
    FINISHED: hand_build_Finished,
}


def hand_build_Handshake(value: Mapping[str, Any]) -> bytes:
    """Encode a Handshake message with its 4-byte header (RFC 5246 §7.4).

    ``length`` is computed from the encoded body; a ``length`` present in
    ``value`` (parsed values carry one) must agree with it. Bodies of
    message types without a builder here are written as given bytes.

    Raises:
        ValueError: The body fails to encode or is longer than 2^24-1
            bytes, ``msg_type`` is not a uint8, or ``length`` disagrees.
    """
    msg_type = value["msg_type"]
    build_body = _BODY_BUILDERS.get(msg_type)
    body = value["body"] if build_body is None else build_body(value["body"])
    stated = value.get("length")
    if stated is not None and stated != len(body):
        raise ValueError(f"Handshake.length: {stated} given, body is {len(body)}")
    header = _uint(msg_type, 1, "Handshake.msg_type") + _uint(
        len(body), 3, "Handshake.length"
    )
    return header + body
