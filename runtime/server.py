"""The TLS 1.2 server: RFC 5246 §7.3, ECDHE (RFC 8422), tickets (RFC 5077).

The server answers each ClientHello in one of two ways, and
:meth:`ServerConnection._on_client_hello` is where it decides::

    ClientHello                      _on_client_hello
      usable ticket?
        no: full handshake               yes: abbreviated handshake
          ServerHello, Certificate,        ServerHello (echoing the
          ServerKeyExchange,                 client's session ID),
          ServerHelloDone                  (NewSessionTicket), [CCS],
                                           Finished
    ClientKeyExchange                _on_client_key_exchange
    [CCS]                            (connection.py)          [CCS]
    Finished                         _on_finished             Finished
          (NewSessionTicket), [CCS],
          Finished

A ticket that does not open, has expired, or does not fit this ClientHello
is never an error: the server logs why at DEBUG and runs a full handshake
(RFC 5077 §3.2), issuing a fresh ticket when the client asked for one.

LIMITATION: the signature, the ECDHE and the record crypto run in OpenSSL
through ``cryptography``, but parsing, building, the state machine and the
key schedule's glue run in the interpreter: served to an OpenSSL client
(``benchmarks/handshake_bench.py``, one core, AES-128-GCM), a full handshake
takes about 1.3 to 1.75 times as long as OpenSSL serving it, and a resumed
one about 1.6 to 2 times; matters for a server that must accept many new
connections per core.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Final

from tlsspec.generated.alert import AlertDescription
from tlsspec.generated.extensions import (
    ECPointFormat,
    ExtensionType,
    NamedGroup,
    SignatureScheme,
)
from tlsspec.generated.handshake import (
    ECCurveType,
    Handshake,
    HandshakeType,
    ServerECDHParams,
)
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.config import ServerConfig
from tlsspec.runtime.connection import Connection, HandshakeContext
from tlsspec.runtime.events import HandshakeComplete
from tlsspec.runtime.hello import (
    DOWNGRADE_TLS12,
    TLS12,
    extension,
)
from tlsspec.runtime.keyexchange import (
    EphemeralKey,
    choose_signature_scheme,
    generate_ephemeral_key,
    sign,
)
from tlsspec.runtime.keyschedule import derive_master_secret
from tlsspec.runtime.offer import ClientOffer, read_client_hello
from tlsspec.runtime.prf import RANDOM_LENGTH
from tlsspec.runtime.state import Message, State
from tlsspec.runtime.suites import SUITES_BY_CODE, BulkCipher, CipherSuite
from tlsspec.runtime.tickets import SessionState, open_session, seal_session

__all__ = ["ServerConnection"]

_log = logging.getLogger(__name__)

_D: Final = AlertDescription
_E: Final = ExtensionType
_NULL_COMPRESSION: Final = 0
# RFC 8422 §5.1: without supported_groups the server may pick any curve;
# secp256r1 is the one every ECC client implements.
_GROUP_WITHOUT_EXTENSION: Final = NamedGroup.secp256r1
# The ServerHello extensions whose content never varies, built once; the
# codec only reads them.
# RFC 5746 §3.6: an empty renegotiation_info.
_EMPTY_RENEGOTIATION_INFO: Final = extension(
    _E.renegotiation_info, {"renegotiated_connection": b""}
)
_EXTENDED_MASTER_SECRET: Final = extension(_E.extended_master_secret, {})
_ENCRYPT_THEN_MAC: Final = extension(_E.encrypt_then_mac, {})
_EMPTY_SESSION_TICKET: Final = extension(_E.session_ticket, b"")
# RFC 8422 §5.2: the answer to the client's point formats.
_UNCOMPRESSED_POINTS: Final = extension(
    _E.ec_point_formats, {"ec_point_format_list": [ECPointFormat.uncompressed]}
)
# RFC 5246 §7.4.5: ServerHelloDone has an empty body, so the message is the
# same in every handshake; it is encoded once, here.
_SERVER_HELLO_DONE: Final = Handshake.build(
    {"msg_type": HandshakeType.server_hello_done, "body": {}}
)


def _protocol_name(protocol: bytes) -> str:
    # ALPN names are usually printable ASCII (h2, http/1.1); any other byte
    # is shown as \xNN so a log line stays one readable line.
    return "".join(
        chr(byte) if 0x20 < byte < 0x7F else f"\\x{byte:02x}" for byte in protocol
    )


@dataclass(slots=True, kw_only=True)
class _ServerHandshake(HandshakeContext):
    # What the server decides during one handshake.
    offer: ClientOffer | None = None
    issue_ticket: bool = False
    resumed_state: SessionState | None = None
    ephemeral: EphemeralKey | None = None


class ServerConnection(Connection):
    """A TLS 1.2 server connection.

    Args:
        config: The certificate, key, ticket keys and what to accept.

    Raises:
        TypeError: ``config`` is not a :class:`ServerConfig`.
    """

    _role: ClassVar = "server"
    _peer: ClassVar = "client"

    def __init__(self, config: ServerConfig) -> None:
        if not isinstance(config, ServerConfig):
            raise TypeError(
                f"config: expected a ServerConfig, got {type(config).__name__}"
            )
        super().__init__(
            State.EXPECT_CLIENT_HELLO,
            config.clock,
            config.random,
            config.keylog,
            config.limits,
        )
        self._config = config
        self._begin_handshake(_ServerHandshake())

    # ------------------------------------------------------------------
    # ClientHello: where the full and abbreviated handshakes part
    # ------------------------------------------------------------------

    def _on_client_hello(self, hello: Any, raw: bytes) -> State:
        if self._state is State.EXPECT_CLIENT_DATA:
            return self._refuse_renegotiation()
        handshake = self._server_handshake()
        offer = read_client_hello(hello)
        handshake.offer = offer
        handshake.client_random = offer.random
        handshake.server_name = offer.server_name
        handshake.alpn_protocol = self._choose_alpn(offer)

        resumable = self._open_ticket(offer)
        if resumable is not None:
            return self._abbreviated_handshake(handshake, offer, *resumable)
        return self._full_handshake(handshake, offer)

    def _full_handshake(self, handshake: _ServerHandshake, offer: ClientOffer) -> State:
        suite = self._choose_suite(offer)
        group = self._choose_group(offer)
        scheme = choose_signature_scheme(
            self._config.private_key,
            offer.signature_schemes,
            preference=self._config.signature_preference,
        )
        self._negotiate(handshake, suite, offer)
        handshake.extended_master_secret = offer.extended_master_secret
        handshake.issue_ticket = (
            self._config.ticket_keys is not None and offer.ticket is not None
        )

        # RFC 5246 §7.3, the server's first flight.  The session ID stays
        # empty: sessions live in tickets only (RFC 5077 §3.4).
        # LIMITATION: no session-ID cache (RFC 5246 §7.4.1.2); matters for
        # clients that resume by session ID alone; instead they get a full
        # handshake every time.
        # LIMITATION: one certificate chain per server; matters when SNI
        # should pick among several; instead the name is only reported.
        self._send_server_hello(handshake, session_id=b"")
        self._send_encoded(handshake, self._config.certificate_message)
        self._send_server_key_exchange(handshake, group, scheme)
        self._send_encoded(handshake, _SERVER_HELLO_DONE)
        return State.EXPECT_CLIENT_KEY_EXCHANGE

    def _abbreviated_handshake(
        self,
        handshake: _ServerHandshake,
        offer: ClientOffer,
        state: SessionState,
        renew: bool,
    ) -> State:
        self._negotiate(handshake, SUITES_BY_CODE[int(state.cipher_suite)], offer)
        handshake.extended_master_secret = state.extended_master_secret
        handshake.resumed = True
        handshake.resumed_state = state
        handshake.issue_ticket = renew
        _log.debug("server: resuming a session from its ticket (renew=%s)", renew)

        # RFC 5077 §3.1: ServerHello echoing the client's session ID
        # (§3.4), a fresh ticket if the old key sealed it, then the
        # server's ChangeCipherSpec and Finished come first.
        self._send_server_hello(handshake, session_id=offer.session_id)
        self._install_keys(state.master_secret)
        if renew:
            self._send_new_session_ticket(handshake)
        self._send_change_cipher_spec()
        self._send_finished()
        return State.EXPECT_RESUMED_CLIENT_CHANGE_CIPHER_SPEC

    def _negotiate(
        self, handshake: _ServerHandshake, suite: CipherSuite, offer: ClientOffer
    ) -> None:
        handshake.suite = suite
        # RFC 7366 §3: encrypt-then-MAC only for CBC suites.
        handshake.encrypt_then_mac = (
            offer.encrypt_then_mac and suite.bulk_cipher is BulkCipher.AES_CBC
        )
        handshake.server_random = self._server_random(offer)
        handshake.transcript.set_hash(suite.prf_hash)

    # ------------------------------------------------------------------
    # Choices
    # ------------------------------------------------------------------

    def _choose_suite(self, offer: ClientOffer) -> CipherSuite:
        # Our preference order, among what the client offered; the config
        # already holds only suites that fit the certificate key.
        offered = offer.cipher_suites
        assert self._config.cipher_suites is not None
        # RFC 8422 §5.1: an ECDSA certificate's curve must be one of the
        # client's supported_groups, else no suite of ours is usable.
        group = self._config.certificate_group
        if group is not None and offer.groups is not None and group not in offer.groups:
            raise LocalProtocolError(
                "ClientHello.extensions.supported_groups: lacks "
                f"{group.name}, the curve of our ECDSA certificate (RFC 8422 §5.1)",
                _D.handshake_failure,
            )
        for suite in self._config.cipher_suites:
            if suite.code in offered:
                return suite
        raise LocalProtocolError(
            "ClientHello.cipher_suites: no suite in common; expected one of "
            + ", ".join(s.name for s in self._config.cipher_suites),
            _D.handshake_failure,
        )

    def _choose_group(self, offer: ClientOffer) -> NamedGroup:
        if offer.groups is None:
            if _GROUP_WITHOUT_EXTENSION in self._config.groups:
                return _GROUP_WITHOUT_EXTENSION
        else:
            offered = set(offer.groups)
            for group in self._config.groups:
                if group in offered:
                    return group
        raise LocalProtocolError(
            "ClientHello.extensions.supported_groups: no group in common; "
            "expected one of " + ", ".join(g.name for g in self._config.groups),
            _D.handshake_failure,
        )

    def _choose_alpn(self, offer: ClientOffer) -> bytes | None:
        ours = self._config.alpn_protocols
        if not ours or offer.alpn_protocols is None:
            return None
        for protocol in ours:
            if protocol in offer.alpn_protocols:
                return protocol
        # RFC 7301 §3.2: the server "SHALL respond with a fatal
        # no_application_protocol alert".
        offered = ", ".join(_protocol_name(p) for p in offer.alpn_protocols)
        accepted = ", ".join(_protocol_name(p) for p in ours)
        raise LocalProtocolError(
            "ClientHello.extensions.application_layer_protocol_negotiation: "
            f"offers {offered or 'nothing'}, expected one of {accepted}",
            _D.no_application_protocol,
        )

    def _server_random(self, offer: ClientOffer) -> bytes:
        random = self._random(RANDOM_LENGTH)
        # RFC 8446 §4.1.3: a TLS 1.3 server negotiating TLS 1.2 ends its
        # random with DOWNGRD\x01.  We are a TLS 1.2 server, so by default
        # we do not: a TLS 1.3 client would take the sentinel for an
        # attack and abort.  The option is for deployments where this
        # engine answers the TLS 1.2 clients of a TLS 1.3 front end.
        if self._config.tls13_downgrade_sentinel and offer.offers_tls13:
            random = random[: -len(DOWNGRADE_TLS12)] + DOWNGRADE_TLS12
        return random

    # ------------------------------------------------------------------
    # Tickets
    # ------------------------------------------------------------------

    def _open_ticket(self, offer: ClientOffer) -> tuple[SessionState, bool] | None:
        ring = self._config.ticket_keys
        if ring is None or not offer.ticket:
            return None
        opened = open_session(ring, offer.ticket, now=self._clock())
        if opened is None:
            return None  # open_session logged why
        state, renew = opened
        reason = self._unresumable(state, offer)
        if reason is not None:
            _log.debug("server: ticket not resumed: %s; full handshake", reason)
            return None
        return state, renew

    def _unresumable(self, state: SessionState, offer: ClientOffer) -> str | None:
        suite = SUITES_BY_CODE.get(int(state.cipher_suite))
        assert self._config.cipher_suites is not None
        if int(state.version) != TLS12:
            return f"session version 0x{int(state.version):04X} is not TLS 1.2"
        if suite is None or suite not in self._config.cipher_suites:
            return "the session's cipher suite is no longer accepted"
        if suite.code not in offer.cipher_suites:
            return "the client no longer offers the session's cipher suite"
        # RFC 7627 §5.3: never resume across a change in extended master
        # secret use.
        # LIMITATION: a session without extended master secret is never
        # resumed; matters for clients without RFC 7627; instead they get
        # a full handshake (and a ticket) every time.
        if not (state.extended_master_secret and offer.extended_master_secret):
            return "extended master secret not used by both sessions (RFC 7627 §5.3)"
        # RFC 6066 §3: a session is resumed only for the same server name.
        if state.server_name != offer.server_name:
            return "the server name differs from the session's (RFC 6066 §3)"
        return None

    def _send_new_session_ticket(self, handshake: _ServerHandshake) -> None:
        assert handshake.suite is not None and handshake.schedule is not None
        ring = self._config.ticket_keys
        assert ring is not None
        now = int(self._clock())
        state = handshake.resumed_state
        if state is None:
            state = SessionState(
                version=TLS12,
                cipher_suite=handshake.suite.code,
                master_secret=handshake.schedule.master_secret,
                extended_master_secret=handshake.extended_master_secret,
                creation_time=now,
                lifetime=self._config.ticket_lifetime,
                server_name=handshake.server_name,
                alpn_protocol=handshake.alpn_protocol,
            )
        # A renewed ticket keeps the session's original expiry, so
        # renewing never extends a session's life.
        lifetime = max(0, state.creation_time + state.lifetime - now)
        try:
            ticket = seal_session(ring, state)
        except LookupError:
            # RFC 5077 §3.3: having announced a ticket, send an empty one.
            _log.debug("server: no ticket key to seal with; empty ticket")
            ticket, lifetime = b"", 0
        self._send_handshake(
            HandshakeType.new_session_ticket,
            {"ticket_lifetime_hint": lifetime, "ticket": ticket},
        )

    # ------------------------------------------------------------------
    # Full handshake, the server's messages
    # ------------------------------------------------------------------

    def _send_server_hello(
        self, handshake: _ServerHandshake, *, session_id: bytes
    ) -> None:
        offer = handshake.offer
        assert offer is not None and handshake.suite is not None
        self._send_handshake(
            HandshakeType.server_hello,
            {
                "server_version": TLS12,
                "random": handshake.server_random,
                "session_id": session_id,
                "cipher_suite": handshake.suite.code,
                "compression_method": _NULL_COMPRESSION,
                "extensions": self._server_extensions(handshake, offer),
            },
        )
        self._reader.version = TLS12

    def _server_extensions(
        self, handshake: _ServerHandshake, offer: ClientOffer
    ) -> list[Mapping[str, Any]]:
        # Each one answers something the ClientHello carried (RFC 5246
        # §7.4.1.4).  server_name is not acknowledged: the name does not
        # change which certificate we send.  heartbeat is never echoed.
        extensions = []
        if offer.secure_renegotiation:
            extensions.append(_EMPTY_RENEGOTIATION_INFO)
        if handshake.extended_master_secret:
            extensions.append(_EXTENDED_MASTER_SECRET)
        if handshake.encrypt_then_mac:
            extensions.append(_ENCRYPT_THEN_MAC)
        if handshake.issue_ticket:
            extensions.append(_EMPTY_SESSION_TICKET)
        if handshake.alpn_protocol is not None:
            extensions.append(
                extension(
                    _E.application_layer_protocol_negotiation,
                    {"protocol_name_list": [handshake.alpn_protocol]},
                )
            )
        if offer.point_formats is not None and not handshake.resumed:
            extensions.append(_UNCOMPRESSED_POINTS)
        return extensions

    def _send_server_key_exchange(
        self, handshake: _ServerHandshake, group: NamedGroup, scheme: SignatureScheme
    ) -> None:
        ephemeral = generate_ephemeral_key(group, self._random)
        handshake.ephemeral = ephemeral
        params = {
            "curve_params": {
                "curve_type": ECCurveType.named_curve,
                "namedcurve": group,
            },
            "public": {"point": ephemeral.public_bytes},
        }

        # RFC 8422 §5.4: sign both randoms and the parameters.
        signed = (
            handshake.client_random
            + handshake.server_random
            + ServerECDHParams.build(params)
        )
        signature = sign(self._config.private_key, scheme, signed)
        self._send_handshake(
            HandshakeType.server_key_exchange,
            {
                "params": params,
                "signed_params": {"algorithm": scheme, "signature": signature},
            },
        )

    def _send_encoded(self, handshake: _ServerHandshake, raw: bytes) -> None:
        # A message encoded ahead of time (see _SERVER_HELLO_DONE and
        # ServerConfig.certificate_message) goes out as _send_handshake's
        # would: hashed into the transcript, then queued.
        handshake.transcript.add(raw)
        self._writer.queue_handshake(raw)

    def _on_client_key_exchange(self, body: Any, raw: bytes) -> State:
        handshake = self._server_handshake()
        ephemeral = handshake.ephemeral
        assert ephemeral is not None and handshake.suite is not None

        # RFC 8422 §5.7, §5.10: the client's point gives the premaster
        # secret; our private key is not needed after this.
        premaster = ephemeral.exchange(body["exchange_keys"]["ecdh_Yc"]["point"])
        handshake.ephemeral = None
        master_secret = derive_master_secret(
            premaster,
            suite=handshake.suite,
            extended=handshake.extended_master_secret,
            transcript=handshake.transcript,
            client_random=handshake.client_random,
            server_random=handshake.server_random,
        )
        self._install_keys(master_secret)
        return State.EXPECT_CLIENT_CHANGE_CIPHER_SPEC

    # ------------------------------------------------------------------
    # Both flows: Finished
    # ------------------------------------------------------------------

    def _on_finished(self, body: Any, raw: bytes) -> State:
        handshake = self._server_handshake()
        self._verify_finished(body, raw)

        # RFC 5077 §3.1: the full handshake ends with the server's
        # (NewSessionTicket), ChangeCipherSpec and Finished.
        if not handshake.resumed:
            if handshake.issue_ticket:
                self._send_new_session_ticket(handshake)
            self._send_change_cipher_spec()
            self._send_finished()
        self._complete(handshake)
        return State.EXPECT_CLIENT_DATA

    def _complete(self, handshake: _ServerHandshake) -> None:
        assert handshake.suite is not None
        alpn = handshake.alpn_protocol
        self._events.append(
            HandshakeComplete(
                cipher_suite=handshake.suite,
                resumed=handshake.resumed,
                session=None,
                alpn_protocol=alpn.decode("utf-8", "surrogateescape") if alpn else None,
                server_name=handshake.server_name,
            )
        )
        _log.debug(
            "server: handshake complete, %s, resumed=%s",
            handshake.suite.name,
            handshake.resumed,
        )
        self._end_handshake()

    def _refuse_renegotiation(self) -> State:
        # RFC 5746 §4.4 / RFC 5246 §7.2.2: we never renegotiate; a warning
        # no_renegotiation lets the client decide whether to go on.
        _log.debug("server: refusing renegotiation (ClientHello)")
        self._send_warning(_D.no_renegotiation)
        return State.EXPECT_CLIENT_DATA

    def _server_handshake(self) -> _ServerHandshake:
        handshake = self._handshake
        assert isinstance(handshake, _ServerHandshake)
        return handshake

    _handlers: ClassVar = MappingProxyType(
        {
            Message.CLIENT_HELLO: _on_client_hello,
            Message.CLIENT_KEY_EXCHANGE: _on_client_key_exchange,
            Message.FINISHED: _on_finished,
        }
    )
