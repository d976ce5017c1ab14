"""Our client and server, moved one message at a time, and forged messages.

:class:`Stepper` wires a client and a server back to back, but instead of
delivering whole flights it cuts what each side sends into single
messages: each plaintext handshake message is re-framed as its own record
(RFC 5246 §6.2.1 allows that), protected records stay whole.  The test
then decides what to deliver, in which order, and what to inject.

:func:`forge` builds one message of any :class:`Message` kind with the
generated codecs, and seals it with the peer's keys at the sequence number
the victim expects when the victim already reads protected records, so
the state table, not the record MAC, is what an injection meets.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Final, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from tests.engine.support import client_hello
from tests.hostile.identity import fixed_ecdsa_identity
from tests.hostile.transcripts import Setup, Victim
from tlsspec.generated.extensions import ExtensionType, NamedGroup, SignatureScheme
from tlsspec.generated.handshake import Handshake, HandshakeType
from tlsspec.runtime import ClientConnection
from tlsspec.runtime.events import Event
from tlsspec.runtime.keyschedule import KeySchedule
from tlsspec.runtime.state import MESSAGE_OF_HANDSHAKE_TYPE, Message

Role = Literal["client", "server"]
ROLES: Final[tuple[Role, Role]] = ("client", "server")

# RFC 5246 §6.2.1 content types.
CCS: Final = 20
ALERT: Final = 21
HANDSHAKE: Final = 22
APPLICATION_DATA: Final = 23
_HEADER: Final = struct.Struct("!BHH")
_TLS12: Final = 0x0303
#: A handshake type the engine does not know (the table has no row for it).
UNKNOWN_TYPE: Final = 99


def _other(role: Role) -> Role:
    return "server" if role == "client" else "client"


@dataclass(frozen=True)
class Item:
    """One record on its way to a side.

    Attributes:
        kind: What the state table sees: a handshake message, a CCS or
            application data; None for an alert or an unknown type.
        record: The record as framed (and sealed) by its sender.
        seq: The sequence number it was sealed with, None if plaintext.
    """

    kind: Message | None
    record: bytes
    seq: int | None


@dataclass
class _Keys:
    # The keys a side installed, kept to forge records it will accept.
    schedule: KeySchedule | None = None
    encrypt_then_mac: bool = False


@dataclass
class Stepper:
    """A client and a server, and the items in flight to each."""

    setup: Setup
    sides: dict[Role, Victim] = field(default_factory=dict)
    inbox: dict[Role, list[Item]] = field(default_factory=dict)
    _keys: dict[Role, _Keys] = field(default_factory=dict)
    # The sequence number of each side's next sealed record; None until
    # it sends its ChangeCipherSpec.
    _write_seq: dict[Role, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for role in ROLES:
            self.sides[role] = self.setup.victim(role)
            self.inbox[role] = []
            self._keys[role] = _Keys()
            self._write_seq[role] = None
            self._watch_keys(role)
        self.collect()

    def _watch_keys(self, role: Role) -> None:
        side = self.sides[role]
        install = side._install_keys
        keys = self._keys[role]

        def capture(master_secret: bytes) -> None:
            install(master_secret)
            handshake = side._handshake
            assert handshake is not None
            keys.schedule = handshake.schedule
            keys.encrypt_then_mac = handshake.encrypt_then_mac

        side._install_keys = capture  # type: ignore[method-assign]

    def collect(self) -> None:
        """Move what each side wrote into the other's inbox, message by message."""
        for role in ROLES:
            data = self.sides[role].data_to_send()
            self.inbox[_other(role)] += self._items(role, data)

    def _items(self, sender: Role, data: bytes) -> list[Item]:
        items = []
        position = 0
        while position < len(data):
            content_type, _, length = _HEADER.unpack_from(data, position)
            end = position + _HEADER.size + length
            record = data[position:end]
            payload = record[_HEADER.size :]
            position = end
            seq = self._write_seq[sender]
            if seq is not None:
                self._write_seq[sender] = seq + 1
                items.append(Item(_sealed_kind(content_type), record, seq))
                continue
            if content_type == CCS:
                # Everything this side writes after its CCS is sealed.
                self._write_seq[sender] = 0
            if content_type == HANDSHAKE:
                items += [
                    Item(_kind(HANDSHAKE, message), frame(HANDSHAKE, message), None)
                    for message in _messages(payload)
                ]
            else:
                items.append(Item(_kind(content_type, payload), record, None))
        return items

    def deliver(self, role: Role, index: int = 0) -> list[Event]:
        """Hand ``role`` the item at ``index`` of its inbox, then collect.

        Raises:
            TLSError: Whatever ``receive_data`` raises.
        """
        item = self.inbox[role].pop(index)
        try:
            return self.sides[role].receive_data(item.record)
        finally:
            self.collect()

    def expected_seq(self, role: Role) -> int | None:
        """The sequence number ``role`` reads next; None before its peer's CCS."""
        protection = self.sides[role]._reader._protection
        return None if protection is None else protection.sequence_number

    def forge(self, role: Role, kind: Message | None) -> bytes:
        """A record carrying ``kind`` that ``role`` will open.

        ``None`` forges a handshake message of an unknown type.
        """
        content_type, payload = message_bytes(kind)
        seq = self.expected_seq(role)
        if seq is None:
            return frame(content_type, payload)
        keys = self._keys[role]
        assert keys.schedule is not None
        protections = keys.schedule.protections(
            encrypt_then_mac=keys.encrypt_then_mac, random=os.urandom
        )
        client = isinstance(self.sides[role], ClientConnection)
        sealer = protections.server if client else protections.client
        sealer._sequence_number = seq
        return frame(content_type, sealer.encrypt(content_type, payload))


def frame(content_type: int, payload: bytes) -> bytes:
    """One record with a TLS 1.2 header."""
    return _HEADER.pack(content_type, _TLS12, len(payload)) + payload


def _messages(payload: bytes) -> list[bytes]:
    out = []
    position = 0
    while position < len(payload):
        length = int.from_bytes(payload[position + 1 : position + 4], "big")
        end = position + 4 + length
        out.append(payload[position:end])
        position = end
    return out


def _kind(content_type: int, payload: bytes) -> Message | None:
    if content_type == CCS:
        return Message.CHANGE_CIPHER_SPEC
    if content_type == APPLICATION_DATA:
        return Message.APPLICATION_DATA
    if content_type == HANDSHAKE:
        return MESSAGE_OF_HANDSHAKE_TYPE.get(payload[0])
    return None


def _sealed_kind(content_type: int) -> Message | None:
    # The only protected handshake message our engine sends is Finished.
    if content_type == HANDSHAKE:
        return Message.FINISHED
    return _kind(content_type, b"")


# ----------------------------------------------------------------------
# Messages built with the generated codecs
# ----------------------------------------------------------------------

_KEY_EXCHANGE: Final = {"key_exchange_algorithm": "ec_diffie_hellman"}
_POINT: Final = (
    x25519.X25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    .public_key()
    .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
)


def _handshake(msg_type: HandshakeType, body: object, **params: object) -> bytes:
    return Handshake.build({"msg_type": msg_type, "body": body}, **params)


def _client_messages() -> dict[Message, bytes]:
    return {
        Message.CLIENT_HELLO: client_hello(),
        Message.CLIENT_KEY_EXCHANGE: _handshake(
            HandshakeType.client_key_exchange,
            {"exchange_keys": {"ecdh_Yc": {"point": _POINT}}},
            **_KEY_EXCHANGE,
        ),
        Message.FINISHED: _handshake(
            HandshakeType.finished, {"verify_data": bytes(12)}, verify_data_length=12
        ),
    }


def _server_key_exchange() -> bytes:
    return _handshake(
        HandshakeType.server_key_exchange,
        {
            "params": {
                "curve_params": {
                    "curve_type": "named_curve",
                    "namedcurve": NamedGroup.x25519,
                },
                "public": {"point": _POINT},
            },
            "signed_params": {
                "algorithm": SignatureScheme.ecdsa_secp256r1_sha256,
                "signature": bytes(70),
            },
        },
        **_KEY_EXCHANGE,
    )


def _server_messages() -> dict[Message, bytes]:
    leaf = fixed_ecdsa_identity().cert.public_bytes(serialization.Encoding.DER)
    renegotiation_info = {
        "extension_type": ExtensionType.renegotiation_info,
        "extension_data": {"renegotiated_connection": b""},
    }
    return {
        Message.HELLO_REQUEST: _handshake(HandshakeType.hello_request, {}),
        Message.SERVER_HELLO: _handshake(
            HandshakeType.server_hello,
            {
                "server_version": _TLS12,
                "random": bytes(32),
                "session_id": b"",
                "cipher_suite": 0xC02B,
                "compression_method": 0,
                "extensions": [renegotiation_info],
            },
        ),
        Message.NEW_SESSION_TICKET: _handshake(
            HandshakeType.new_session_ticket,
            {"ticket_lifetime_hint": 60, "ticket": bytes(48)},
        ),
        Message.CERTIFICATE: _handshake(
            HandshakeType.certificate, {"certificate_list": [leaf]}
        ),
        Message.SERVER_KEY_EXCHANGE: _server_key_exchange(),
        Message.CERTIFICATE_REQUEST: _handshake(
            HandshakeType.certificate_request,
            {
                "certificate_types": ["ecdsa_sign"],
                "supported_signature_algorithms": [
                    SignatureScheme.ecdsa_secp256r1_sha256
                ],
                "certificate_authorities": [],
            },
        ),
        Message.SERVER_HELLO_DONE: _handshake(HandshakeType.server_hello_done, {}),
    }


_BODIES: Final = {**_client_messages(), **_server_messages()}
#: Every kind :func:`message_bytes` builds; None is an unknown handshake type.
KINDS: Final[tuple[Message | None, ...]] = (*Message, None)


def message_bytes(kind: Message | None) -> tuple[int, bytes]:
    """``(content type, payload)`` of a plausible message of ``kind``."""
    if kind is Message.CHANGE_CIPHER_SPEC:
        return CCS, b"\x01"
    if kind is Message.APPLICATION_DATA:
        return APPLICATION_DATA, b"forged"
    if kind is None:
        return HANDSHAKE, bytes([UNKNOWN_TYPE, 0, 0, 0])
    return HANDSHAKE, _BODIES[kind]
