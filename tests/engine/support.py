"""Shared pieces of the engine tests: clocks, randomness, pumps, builders.

Everything here drives real peers: our own client and server, or OpenSSL
through :class:`tests.support.openssl.MemoryBioEndpoint`.  Nothing mocks
the engine; hostile inputs are real records built with the codecs.
"""

from __future__ import annotations

import hashlib
import ssl
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from tests.support.openssl import MemoryBioEndpoint, TlsIdentity
from tlsspec.generated.extensions import ExtensionType, NamedGroup, SignatureScheme
from tlsspec.generated.handshake import Handshake, HandshakeType
from tlsspec.runtime import (
    ClientConfig,
    ClientConnection,
    ServerConfig,
    ServerConnection,
    Session,
)
from tlsspec.runtime.alerts import TLSError
from tlsspec.runtime.events import Event, HandshakeComplete
from tlsspec.runtime.suites import ALL_SUITES, Authentication, CipherSuite
from tlsspec.runtime.tickets import TicketKeyRing

SERVER_NAME: Final = "localhost"
MAX_ROUNDS: Final = 32

# RFC 5246 §6.2.1 content types.
CCS: Final = 20
ALERT: Final = 21
HANDSHAKE: Final = 22
APPLICATION_DATA: Final = 23

#: IANA suite name -> OpenSSL cipher string.
OPENSSL_NAMES: Final = {
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384": "ECDHE-RSA-AES256-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384": "ECDHE-ECDSA-AES256-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
}

#: OpenSSL's SSL_OP_NO_ENCRYPT_THEN_MAC (ssl.h: SSL_OP_BIT(19)).
OP_NO_ENCRYPT_THEN_MAC: Final = 0x80000


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingRandom:
    """Deterministic bytes: SHA-256 of a seed and a counter, concatenated."""

    def __init__(self, seed: bytes = b"tlsspec") -> None:
        self._seed = seed
        self._counter = 0

    def __call__(self, length: int) -> bytes:
        out = bytearray()
        while len(out) < length:
            block = self._seed + self._counter.to_bytes(8, "big")
            out += hashlib.sha256(block).digest()
            self._counter += 1
        return bytes(out[:length])


def clock_for(identity: TlsIdentity) -> FixedClock:
    """A clock set an hour into the identity's validity period."""
    start = identity.cert.not_valid_before_utc.timestamp()
    return FixedClock(start + 3600)


def suites_for(authentication: Authentication) -> list[CipherSuite]:
    """Every implemented suite using this certificate key type."""
    return [s for s in ALL_SUITES if s.authentication is authentication]


def identity_kind(identity: TlsIdentity) -> Authentication:
    """RSA or ECDSA, from the identity's key."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(identity.key, rsa.RSAPrivateKey):
        return Authentication.RSA
    return Authentication.ECDSA


@dataclass
class Pair:
    """Our client and our server, wired back to back in memory."""

    client: ClientConnection
    server: ServerConnection
    client_events: list[Event] = field(default_factory=list)
    server_events: list[Event] = field(default_factory=list)
    #: Bytes each side sent, in order.
    client_wire: list[bytes] = field(default_factory=list)
    server_wire: list[bytes] = field(default_factory=list)

    def pump(self, rounds: int = MAX_ROUNDS) -> None:
        """Move bytes both ways until neither side has anything to send."""
        for _ in range(rounds):
            moved = False
            data = self.client.data_to_send()
            if data:
                self.client_wire.append(data)
                self.server_events += self.server.receive_data(data)
                moved = True
            data = self.server.data_to_send()
            if data:
                self.server_wire.append(data)
                self.client_events += self.client.receive_data(data)
                moved = True
            if not moved:
                return
        raise AssertionError("pair did not settle")

    def handshake(self) -> None:
        """Start the client and run the handshake to completion."""
        self.client.start_handshake()
        self.pump()
        assert self.client.handshake_complete, self.client.state
        assert self.server.handshake_complete, self.server.state

    def complete(self, side: str) -> HandshakeComplete:
        """The HandshakeComplete event one side emitted."""
        events = self.client_events if side == "client" else self.server_events
        (event,) = [e for e in events if isinstance(e, HandshakeComplete)]
        return event


def make_pair(
    client_config: ClientConfig,
    server_config: ServerConfig,
    *,
    server_name: str | None = SERVER_NAME,
    session: Session | None = None,
) -> Pair:
    """A fresh client and server; the handshake is not started."""
    return Pair(
        ClientConnection(client_config, server_name=server_name, session=session),
        ServerConnection(server_config),
    )


def server_config(
    identity: TlsIdentity,
    *,
    ring: TicketKeyRing | None = None,
    clock: FixedClock | None = None,
    **kwargs: Any,
) -> ServerConfig:
    """A ServerConfig for ``identity`` with deterministic randomness."""
    return ServerConfig(
        [identity.cert],
        identity.key,
        ticket_keys=ring,
        clock=clock or clock_for(identity),
        random=kwargs.pop("random", CountingRandom(b"server")),
        **kwargs,
    )


def client_config(
    identity: TlsIdentity, *, clock: FixedClock | None = None, **kwargs: Any
) -> ClientConfig:
    """A ClientConfig trusting ``identity``'s CA, deterministic randomness."""
    return ClientConfig(
        trust_anchors=[identity.ca_cert],
        clock=clock or clock_for(identity),
        random=kwargs.pop("random", CountingRandom(b"client")),
        **kwargs,
    )


# ----------------------------------------------------------------------
# Raw records and messages
# ----------------------------------------------------------------------


def record(content_type: int, fragment: bytes, version: int = 0x0303) -> bytes:
    """One plaintext record."""
    return struct.pack("!BHH", content_type, version, len(fragment)) + fragment


def split_records(data: bytes) -> list[tuple[int, bytes]]:
    """Cut a byte stream into (content_type, fragment)."""
    out = []
    while data:
        content_type, _, length = struct.unpack_from("!BHH", data)
        out.append((content_type, data[5 : 5 + length]))
        data = data[5 + length :]
    return out


def extension(kind: ExtensionType | int, data: object) -> dict[str, Any]:
    """An Extension value for the codec."""
    return {"extension_type": kind, "extension_data": data}


def default_client_extensions() -> list[dict[str, Any]]:
    """What a plain TLS 1.2 ECDHE ClientHello carries."""
    return [
        extension(
            ExtensionType.supported_groups,
            {"named_group_list": [NamedGroup.x25519, NamedGroup.secp256r1]},
        ),
        extension(ExtensionType.ec_point_formats, {"ec_point_format_list": [0]}),
        extension(
            ExtensionType.signature_algorithms,
            {
                "supported_signature_algorithms": [
                    SignatureScheme.rsa_pss_rsae_sha256,
                    SignatureScheme.ecdsa_secp256r1_sha256,
                ]
            },
        ),
        extension(ExtensionType.extended_master_secret, {}),
    ]


def client_hello(
    *,
    version: int = 0x0303,
    suites: Sequence[int] = (0xC02F, 0xC02B),
    compression: Sequence[int] = (0,),
    extensions: list[dict[str, Any]] | None = None,
    session_id: bytes = b"",
) -> bytes:
    """A whole ClientHello handshake message built with the codec."""
    return Handshake.build(
        {
            "msg_type": HandshakeType.client_hello,
            "body": {
                "client_version": version,
                "random": bytes(range(32)),
                "session_id": session_id,
                "cipher_suites": list(suites),
                "compression_methods": list(compression),
                "extensions": (
                    default_client_extensions() if extensions is None else extensions
                ),
            },
        }
    )


def alert_of(error: TLSError) -> str:
    """The alert description's name."""
    description = error.description
    return getattr(description, "name", str(description))


# ----------------------------------------------------------------------
# OpenSSL in memory
# ----------------------------------------------------------------------


def pump_openssl(
    ours: ClientConnection | ServerConnection,
    theirs: MemoryBioEndpoint,
    *,
    rounds: int = MAX_ROUNDS,
) -> list[Event]:
    """Drive our endpoint and an OpenSSL one until both go quiet.

    Returns:
        Our events.
    """
    events: list[Event] = []
    for _ in range(rounds):
        if not theirs.handshake_complete:
            try:
                theirs.step_handshake()
            except ssl.SSLError:
                data = theirs.take()
                if data:
                    events += ours.receive_data(data)
                raise
        data = theirs.take()
        if data:
            events += ours.receive_data(data)
        outgoing = ours.data_to_send()
        if outgoing:
            theirs.feed(outgoing)
        if not data and not outgoing and theirs.handshake_complete:
            return events
    raise AssertionError("OpenSSL pair did not settle")
