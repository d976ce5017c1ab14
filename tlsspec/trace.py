"""Handshake traces: the messages that crossed the wire, drawn as RFCs do.

A :class:`WireTrace` is fed the bytes each side sent, in the order they were
sent, and decodes them with the generated codecs: plaintext handshake
messages in full, ChangeCipherSpec, alerts, and, once a side has switched to
its new keys, its first encrypted handshake message (RFC 5246 §7.4.9: the
Finished). :func:`render_ladder` draws the flow in the style of RFC 5077
§3.1 and §3.2, client on the left, server on the right;
:func:`render_json` gives one JSON object per message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tlsspec.errors import DecodeError
from tlsspec.generated.alert import Alert, AlertDescription, AlertLevel
from tlsspec.generated.extensions import ExtensionType
from tlsspec.generated.handshake import CipherSuite, Handshake, HandshakeType
from tlsspec.generated.record import ContentType
from tlsspec.runtime.messages import HandshakeBuffer, split_records

__all__ = [
    "CLIENT",
    "SERVER",
    "TraceEntry",
    "WireTrace",
    "key_exchange_of",
    "render_json",
    "render_ladder",
]

CLIENT = "client"
SERVER = "server"
LADDER_WIDTH = 64
ARROW = "-------->"
BACK_ARROW = "<--------"

_NAMES = {
    HandshakeType.hello_request: "HelloRequest",
    HandshakeType.client_hello: "ClientHello",
    HandshakeType.server_hello: "ServerHello",
    HandshakeType.new_session_ticket: "NewSessionTicket",
    HandshakeType.certificate: "Certificate",
    HandshakeType.server_key_exchange: "ServerKeyExchange",
    HandshakeType.certificate_request: "CertificateRequest",
    HandshakeType.server_hello_done: "ServerHelloDone",
    HandshakeType.certificate_verify: "CertificateVerify",
    HandshakeType.client_key_exchange: "ClientKeyExchange",
    HandshakeType.finished: "Finished",
    HandshakeType.certificate_status: "CertificateStatus",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceEntry:
    """One message as it crossed the wire."""

    sender: str
    name: str
    summary: dict[str, Any] = field(default_factory=dict)
    bracketed: bool = False

    def label(self) -> str:
        return f"[{self.name}]" if self.bracketed else self.name


@dataclass
class _Side:
    buffer: bytes = b""
    handshake: HandshakeBuffer = field(default_factory=HandshakeBuffer)
    encrypted: bool = False
    sent_finished: bool = False


class WireTrace:
    """Decodes both directions of one connection into trace entries.

    Args:
        key_exchange_algorithm: The parse parameter for ServerKeyExchange and
            ClientKeyExchange; found from the ServerHello's suite when None.
    """

    def __init__(self, *, key_exchange_algorithm: str | None = None) -> None:
        self.entries: list[TraceEntry] = []
        self._sides = {CLIENT: _Side(), SERVER: _Side()}
        self._kx = key_exchange_algorithm

    def feed(self, sender: str, data: bytes) -> None:
        """Add bytes ``sender`` (``"client"`` or ``"server"``) sent."""
        side = self._sides[sender]
        records, side.buffer = split_records(side.buffer + data)
        for record in records:
            self._record(sender, side, record.content_type, record.fragment)

    def _record(self, sender: str, side: _Side, ctype: int, fragment: bytes) -> None:
        if ctype == ContentType.change_cipher_spec:
            side.encrypted = True
            self._add(sender, "ChangeCipherSpec", {}, bracketed=True)
        elif ctype == ContentType.alert:
            self._alert(sender, side, fragment)
        elif ctype == ContentType.handshake and side.encrypted:
            if not side.sent_finished:
                side.sent_finished = True
                self._add(sender, "Finished", {"encrypted": len(fragment)})
        elif ctype == ContentType.handshake:
            try:
                messages = list(side.handshake.feed(fragment))
            except DecodeError as e:
                self._add(sender, "malformed", {"error": str(e)})
                return
            for message in messages:
                self._message(sender, message)

    def _alert(self, sender: str, side: _Side, fragment: bytes) -> None:
        if side.encrypted:
            self._add(sender, "Alert", {"encrypted": len(fragment)})
            return
        try:
            alert = Alert.parse(fragment)
        except DecodeError as e:
            self._add(sender, "Alert", {"error": str(e)})
            return
        self._add(
            sender,
            "Alert",
            {
                "level": _enum_name(alert["level"], AlertLevel),
                "description": _enum_name(alert["description"], AlertDescription),
            },
        )

    def _message(self, sender: str, message: bytes) -> None:
        params: dict[str, Any] = {"verify_data_length": 12}
        if self._kx is not None:
            params["key_exchange_algorithm"] = self._kx
        try:
            value = Handshake.parse(message, **params)
        except DecodeError as e:
            name = _NAMES.get(message[0], f"handshake({message[0]})")  # type: ignore[call-overload]
            self._add(sender, name, {"error": f"{e.path}: {e.reason}"})
            return
        msg_type = value["msg_type"]
        name = _NAMES.get(msg_type, f"handshake({int(msg_type)})")
        body = value["body"]
        if msg_type == HandshakeType.server_hello:
            self._kx = key_exchange_of(body["cipher_suite"])
        self._add(sender, name, _summary(msg_type, body, len(message)))

    def _add(
        self,
        sender: str,
        name: str,
        summary: dict[str, Any],
        *,
        bracketed: bool = False,
    ) -> None:
        self.entries.append(
            TraceEntry(sender=sender, name=name, summary=summary, bracketed=bracketed)
        )


def key_exchange_of(suite: int) -> str:
    """The ``key_exchange_algorithm`` parse parameter a suite implies.

    RFC 5246 §7.4.3: the negotiated suite fixes the key exchange; the specs
    know static RSA (``TLS_RSA_*``) and ECDHE.
    """
    rsa = _enum_name(suite, CipherSuite).startswith("TLS_RSA_")
    return "rsa" if rsa else "ec_diffie_hellman"


def _enum_name(value: Any, enum_cls: type) -> str:
    try:
        return str(enum_cls(int(value)).name)
    except ValueError:
        return str(int(value))


def _extensions(body: dict[str, Any]) -> dict[int, Any]:
    return {
        int(e["extension_type"]): e["extension_data"]
        for e in body.get("extensions") or []
    }


def _summary(msg_type: int, body: Any, size: int) -> dict[str, Any]:
    out: dict[str, Any] = {"bytes": size}
    if msg_type in (HandshakeType.client_hello, HandshakeType.server_hello):
        exts = _extensions(body)
        if msg_type == HandshakeType.client_hello:
            out["suites"] = len(body["cipher_suites"])
        else:
            out["suite"] = _enum_name(body["cipher_suite"], CipherSuite)
        out["session_id"] = body["session_id"].hex() or "empty"
        sni = exts.get(ExtensionType.server_name)
        if isinstance(sni, dict) and sni.get("server_name_list"):
            out["sni"] = sni["server_name_list"][0]["name"].decode("ascii", "replace")
        alpn = exts.get(ExtensionType.application_layer_protocol_negotiation)
        if alpn:
            out["alpn"] = [
                p.decode("ascii", "replace") for p in alpn["protocol_name_list"]
            ]
        if ExtensionType.session_ticket in exts:
            out["ticket"] = len(exts[ExtensionType.session_ticket])
        out["ems"] = ExtensionType.extended_master_secret in exts
    elif msg_type == HandshakeType.certificate:
        chain = body["certificate_list"]
        out["certificates"] = len(chain)
        if chain:
            out["leaf"] = _subject(chain[0])
    elif msg_type == HandshakeType.server_key_exchange:
        params = body.get("params")
        if params:
            curve = params["curve_params"].get("namedcurve")
            out["group"] = getattr(curve, "name", curve)
            out["signature"] = getattr(body["signed_params"]["algorithm"], "name", None)
    elif msg_type == HandshakeType.new_session_ticket:
        out["lifetime_hint"] = body["ticket_lifetime_hint"]
        out["ticket"] = len(body["ticket"])
    return out


def _subject(der: bytes) -> str:
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except ValueError:
        return "undecodable certificate"


def _summary_text(entry: TraceEntry) -> str:
    parts = [f"{k}={v}" for k, v in entry.summary.items()]
    return ", ".join(parts)


def render_ladder(entries: Iterable[TraceEntry], *, details: bool = True) -> str:
    """Draw the message flow like RFC 5077 §3.1.

    Consecutive messages of one side form a flight; the arrow sits on the
    flight's last message.

    Args:
        entries: Messages in the order they crossed.
        details: Append one line of key fields per message.
    """
    entries = list(entries)
    lines = [f"{'Client':<{LADDER_WIDTH - 6}}Server", ""]
    for i, entry in enumerate(entries):
        last = i + 1 == len(entries) or entries[i + 1].sender != entry.sender
        label = entry.label()
        if entry.sender == CLIENT:
            arrow = ARROW if last else ""
            line = f"{label:<29}{arrow}"
        else:
            arrow = BACK_ARROW if last else ""
            line = f"{'':<29}{arrow}{label:>{LADDER_WIDTH - 29 - len(arrow)}}"
        lines.append(line.rstrip())
    if details:
        lines += ["", "Messages:"]
        for n, entry in enumerate(entries, 1):
            who = "C->S" if entry.sender == CLIENT else "S->C"
            lines.append(
                f"{n:>3}. {who} {entry.label()}: {_summary_text(entry)}".rstrip(": ")
            )
    return "\n".join(lines)


def render_json(
    entries: Iterable[TraceEntry], *, context: Mapping[str, str] | None = None
) -> str:
    """One JSON object per message: sender, name, key fields.

    Args:
        entries: The messages, in the order they crossed.
        context: Fields repeated in every object, such as the peer's
            address when one output carries several connections.

    Returns:
        JSON lines, one per message.
    """
    shared = dict(context or {})
    return "\n".join(
        json.dumps(
            {**shared, "sender": e.sender, "message": e.name, **e.summary},
            sort_keys=True,
            default=str,
        )
        for e in entries
    )
