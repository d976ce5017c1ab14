"""The TLS 1.2 client: RFC 5246 §7.3, ECDHE (RFC 8422), tickets (RFC 5077).

The client speaks first and then reacts to the server, one handler per
message.  Read top to bottom, the handlers follow the two flows of RFC 5246
§7.3; :meth:`ClientConnection._on_server_hello` is where they part::

    ClientHello                  start_handshake
                   ServerHello   _on_server_hello
      full handshake                          abbreviated (ticket accepted)
                   Certificate   _on_certificate
             ServerKeyExchange   _on_server_key_exchange
          (CertificateRequest)   _on_certificate_request
               ServerHelloDone   _on_server_hello_done
    ClientKeyExchange, [CCS], Finished
            (NewSessionTicket)   _on_new_session_ticket  (NewSessionTicket)
                         [CCS]   (connection.py)         [CCS]
                      Finished   _on_finished            Finished
                                                         [CCS], Finished

The client offers a ticket by sending it with a fresh random session ID;
the server signals that it accepted the ticket by echoing that ID (RFC 5077
§3.4).  A new ticket is only handed to the caller, as
:class:`~tlsspec.runtime.events.NewSession`, once the server's Finished has
verified.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Final

from cryptography.hazmat.primitives.constant_time import bytes_eq

from tlsspec.generated.alert import AlertDescription
from tlsspec.generated.extensions import (
    ECPointFormat,
    Extension,
    ExtensionType,
    NamedGroup,
)
from tlsspec.generated.handshake import HandshakeType
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.certificates import subject_for, verify_server_chain
from tlsspec.runtime.config import ClientConfig
from tlsspec.runtime.connection import Connection, HandshakeContext
from tlsspec.runtime.events import HandshakeComplete, NewSession
from tlsspec.runtime.hello import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    EMPTY_RENEGOTIATION_INFO_SCSV,
    TLS12,
    extension,
    extensions_by_type,
    is_ip_literal,
)
from tlsspec.runtime.keyexchange import (
    DEFAULT_SIGNATURE_SCHEMES,
    PublicKey,
    authentication_of,
    certificate_group,
    generate_ephemeral_key,
    verify_signature,
)
from tlsspec.runtime.keyschedule import derive_master_secret
from tlsspec.runtime.prf import RANDOM_LENGTH
from tlsspec.runtime.session import Session
from tlsspec.runtime.state import Message, State
from tlsspec.runtime.suites import SUITES_BY_CODE, BulkCipher, CipherSuite

__all__ = ["ClientConnection"]

_log = logging.getLogger(__name__)

_D: Final = AlertDescription
_E: Final = ExtensionType
# RFC 5246 §7.4.1.2: SessionID<0..32>; RFC 5077 §3.4 lets the client pick
# one to send with its ticket.
_SESSION_ID_LENGTH: Final = 32
# RFC 8422 §5.4: curve_type(1) + NamedGroup(2) + point length(1).
_ECDH_PARAMS_HEADER: Final = 4
_HANDSHAKE_HEADER: Final = 4
_NULL_COMPRESSION: Final = 0
_MAX_HOST_NAME: Final = 253
_HOST_LABEL: Final = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# What a ClientHello's extensions may hold in all (extensions<0..2^16-1>).
_MAX_EXTENSIONS_LENGTH: Final = 0xFFFF
# More than the ClientHello's extensions other than ALPN and SNI can take:
# groups, point formats, signature schemes, EtM, EMS, the ticket's header.
_FIXED_EXTENSIONS_BOUND: Final = 1024


@dataclass(slots=True, kw_only=True)
class _ClientHandshake(HandshakeContext):
    # What the client learns during one handshake.
    session_id: bytes = b""
    offered: Session | None = None
    sent_extensions: frozenset[int] = frozenset()
    ticket_expected: bool = False
    server_key: PublicKey | None = None
    group: NamedGroup | None = None
    server_point: bytes = b""
    certificate_requested: bool = False
    new_ticket: bytes = b""
    new_ticket_lifetime: int = 0


def _check_server_name(name: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"server_name: expected a str, got {type(name).__name__}")
    if is_ip_literal(name):
        return
    # RFC 6066 §3: HostName is ASCII, "without a trailing dot"; an IDN goes
    # in its A-label form.  RFC 1123 §2.1: labels of letters, digits and
    # hyphens, 1 to 63 characters, no hyphen at either end; 253 in all.
    if len(name) > _MAX_HOST_NAME or not all(
        _HOST_LABEL.fullmatch(label) for label in name.split(".")
    ):
        raise ValueError(
            f"server_name: {name!r}; expected an ASCII host name without a "
            "trailing dot (an internationalized name as its xn-- A-label)"
        )
    subject_for(name)  # raises ValueError for a name no certificate can match


class ClientConnection(Connection):
    """A TLS 1.2 client connection.

    Args:
        config: What to offer and how to verify the server.
        server_name: The host name (or IP literal) to connect to: sent as
            SNI unless it is an IP literal (RFC 6066 §3), and matched
            against the certificate.  Required when ``config.verify``.
        session: A session from an earlier connection to resume; ignored
            (with a DEBUG log line) when expired, issued for another
            server name, or of a suite no longer offered.

    Raises:
        ValueError: ``server_name`` is missing while verifying, or is not a
            valid host name or IP literal.
        TypeError: ``config`` is not a :class:`ClientConfig`, or
            ``session`` not a :class:`Session`.
    """

    _role: ClassVar = "client"
    _peer: ClassVar = "server"

    def __init__(
        self,
        config: ClientConfig,
        *,
        server_name: str | None = None,
        session: Session | None = None,
    ) -> None:
        if not isinstance(config, ClientConfig):
            raise TypeError(
                f"config: expected a ClientConfig, got {type(config).__name__}"
            )
        if session is not None and not isinstance(session, Session):
            raise TypeError(
                f"session: expected a Session or None, got {type(session).__name__}"
            )
        if server_name is not None:
            _check_server_name(server_name)
        elif config.verify:
            raise ValueError(
                "server_name: required when the config verifies certificates"
            )
        super().__init__(
            State.EXPECT_START,
            config.clock,
            config.random,
            config.keylog,
            config.limits,
        )
        self._config = config
        self._server_name = server_name
        self._offer = self._resumable(session)
        self._session: Session | None = None

    @property
    def session(self) -> Session | None:
        """The session to resume with next time, once the handshake is done.

        The fresh ticket's session, else the one resumed, else None.  None
        again after a fatal alert either way: RFC 5246 §7.2.2 invalidates
        the session, so a caller should also discard the one it passed in.
        """
        return self._session

    def _resumable(self, session: Session | None) -> Session | None:
        if session is None:
            return None
        reason = None
        if session.server_name != self._server_name:
            reason = "it was issued for another server name (RFC 6066 §3)"
        elif self._config.verify and not bytes_eq(
            session.trust_digest, self._config.trust_digest
        ):
            # A resumed handshake sends no certificate: the session must
            # carry a verification at least as strict as this config's.
            reason = (
                "its server certificate was not verified against these trust anchors"
            )
        elif session.expired(self._clock()):
            reason = "its lifetime has passed"
        elif session.cipher_suite not in (self._config.cipher_suites or ()):
            reason = "its cipher suite is no longer offered"
        elif not session.extended_master_secret:
            # RFC 7627 §5.4: resuming a session without the extended
            # master secret leaves it open to the triple handshake attack.
            reason = "it has no extended master secret (RFC 7627 §5.4)"
        elif not self._ticket_fits(session.ticket):
            # A ticket may be up to 2^16-1 bytes (RFC 5077 §3.3), but the
            # ClientHello's extensions together may not pass that either.
            reason = (
                f"its {len(session.ticket)}-byte ticket does not fit in a "
                "ClientHello's extensions"
            )
        if reason is not None:
            _log.debug("client: not offering the session: %s", reason)
            return None
        return session

    def _ticket_fits(self, ticket: bytes) -> bool:
        # Encoding the other extensions costs more than a resumed
        # handshake's codec work elsewhere, so it is done only for a ticket
        # near the limit: every extension but ALPN and SNI takes well under
        # _FIXED_EXTENSIONS_BOUND bytes.
        alpn = sum(len(protocol) + 1 for protocol in self._config.alpn_protocols)
        name = len(self._server_name or "")
        if (
            len(ticket) + alpn + name + _FIXED_EXTENSIONS_BOUND
            <= _MAX_EXTENSIONS_LENGTH
        ):
            return True
        return len(ticket) <= self._ticket_room()

    def _ticket_room(self) -> int:
        # The largest ticket the ClientHello's extensions still hold.
        used = sum(
            len(Extension.build(item, msg_type=HandshakeType.client_hello))
            for item in self._hello_extensions(b"")
        )
        return _MAX_EXTENSIONS_LENGTH - used

    # ------------------------------------------------------------------
    # ClientHello
    # ------------------------------------------------------------------

    def start_handshake(self) -> None:
        """Send the ClientHello (RFC 5246 §7.4.1.2).

        Raises:
            TLSError: The connection failed already (sticky).
            RuntimeError: The handshake was already started,
                :meth:`close` was called, or the peer closed the
                connection (EOF) first.
        """
        if self._failure is not None:
            raise self._failure
        if self._close_sent:
            raise RuntimeError("start_handshake: the connection was closed")
        if self.state is State.CLOSED:
            raise RuntimeError("start_handshake: the peer closed the connection")
        if self.state is not State.EXPECT_START:
            raise RuntimeError("start_handshake: the handshake was already started")
        handshake = _ClientHandshake(
            client_random=self._random(RANDOM_LENGTH),
            offered=self._offer,
            server_name=self._server_name,
        )
        if handshake.offered is not None:
            handshake.session_id = self._random(_SESSION_ID_LENGTH)
        self._begin_handshake(handshake)
        self._send_client_hello(handshake)
        self._state = State.EXPECT_SERVER_HELLO
        self._writer.flush()

    def _send_client_hello(self, handshake: _ClientHandshake) -> None:
        config = self._config
        suites = config.cipher_suites
        assert suites is not None
        # RFC 5746 §3.4: signal secure renegotiation with the SCSV.
        codes = [suite.code for suite in suites] + [EMPTY_RENEGOTIATION_INFO_SCSV]
        ticket = handshake.offered.ticket if handshake.offered else b""
        extensions = self._hello_extensions(ticket)
        handshake.sent_extensions = frozenset(
            int(item["extension_type"]) for item in extensions
        )
        self._send_handshake(
            HandshakeType.client_hello,
            {
                "client_version": TLS12,
                "random": handshake.client_random,
                "session_id": handshake.session_id,
                "cipher_suites": codes,
                "compression_methods": [_NULL_COMPRESSION],
                "extensions": extensions,
            },
        )

    def _hello_extensions(self, ticket: bytes) -> list[dict[str, Any]]:
        config = self._config
        extensions = []
        name = self._server_name
        # RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted".
        if name is not None and not is_ip_literal(name):
            entry = {"name_type": "host_name", "name": name.encode("ascii")}
            extensions.append(extension(_E.server_name, {"server_name_list": [entry]}))
        extensions += [
            extension(_E.supported_groups, {"named_group_list": list(config.groups)}),
            extension(
                _E.ec_point_formats,
                {"ec_point_format_list": [ECPointFormat.uncompressed]},
            ),
            extension(
                _E.signature_algorithms,
                {"supported_signature_algorithms": list(DEFAULT_SIGNATURE_SCHEMES)},
            ),
        ]
        if config.alpn_protocols:
            extensions.append(
                extension(
                    _E.application_layer_protocol_negotiation,
                    {"protocol_name_list": list(config.alpn_protocols)},
                )
            )
        # RFC 7366 §2: only meaningful when a CBC suite is on offer.
        assert config.cipher_suites is not None
        if any(s.bulk_cipher is BulkCipher.AES_CBC for s in config.cipher_suites):
            extensions.append(extension(_E.encrypt_then_mac, {}))
        # RFC 7627 §5.1: always offered.
        extensions.append(extension(_E.extended_master_secret, {}))
        # RFC 5077 §3.2: the ticket to resume, or empty to ask for one.
        extensions.append(extension(_E.session_ticket, ticket))
        return extensions

    # ------------------------------------------------------------------
    # ServerHello: where the full and abbreviated handshakes part
    # ------------------------------------------------------------------

    def _on_server_hello(self, hello: Any, raw: bytes) -> State:
        handshake = self._client_handshake()
        _check_server_version(hello)
        suite = self._negotiated_suite(hello)
        extensions = extensions_by_type(hello["extensions"], where="ServerHello")
        self._read_server_extensions(handshake, extensions, suite)
        handshake.server_random = hello["random"]
        handshake.suite = suite
        handshake.transcript.set_hash(suite.prf_hash)
        self._reader.version = TLS12

        # RFC 5077 §3.4: the echo of our session ID means the ticket was
        # accepted.
        if handshake.session_id and hello["session_id"] == handshake.session_id:
            assert handshake.offered is not None
            return self._resume(handshake, handshake.offered)
        if handshake.offered is not None:
            _log.debug("client: server declined the ticket; full handshake")
        return State.EXPECT_SERVER_CERTIFICATE

    def _negotiated_suite(self, hello: Any) -> CipherSuite:
        suite = SUITES_BY_CODE.get(int(hello["cipher_suite"]))
        assert self._config.cipher_suites is not None
        if suite is None or suite not in self._config.cipher_suites:
            raise LocalProtocolError(
                f"ServerHello.cipher_suite: 0x{int(hello['cipher_suite']):04X} "
                "was not offered (RFC 5246 §7.4.1.3)",
                _D.illegal_parameter,
            )
        if hello["compression_method"] != _NULL_COMPRESSION:
            raise LocalProtocolError(
                f"ServerHello.compression_method: {hello['compression_method']}, "
                "expected null, the only one offered",
                _D.illegal_parameter,
            )
        return suite

    def _read_server_extensions(
        self,
        handshake: _ClientHandshake,
        extensions: dict[int, Any],
        suite: CipherSuite,
    ) -> None:
        # RFC 5246 §7.4.1.4: only what we asked for may come back; RFC 5746
        # §3.4 counts the SCSV as asking for renegotiation_info.
        allowed = handshake.sent_extensions | {_E.renegotiation_info}
        for kind in extensions:
            if kind not in allowed:
                raise LocalProtocolError(
                    f"ServerHello.extensions: type {kind} was not offered",
                    _D.unsupported_extension,
                )
        if _E.signature_algorithms in extensions:
            # RFC 5246 §7.4.1.4.1: "Servers MUST NOT send this extension";
            # RFC 8446 §4.2 names the alert for an extension in the wrong
            # message.
            raise LocalProtocolError(
                "ServerHello.extensions: signature_algorithms is sent by "
                "clients only (RFC 5246 §7.4.1.4.1)",
                _D.illegal_parameter,
            )
        _check_renegotiation_info(extensions.get(_E.renegotiation_info))
        if (
            _E.encrypt_then_mac in extensions
            and suite.bulk_cipher is not BulkCipher.AES_CBC
        ):
            # RFC 7366 §3: never with an AEAD suite.
            raise LocalProtocolError(
                f"ServerHello.extensions.encrypt_then_mac: sent with {suite.name}, "
                "expected only with a CBC suite (RFC 7366 §3)",
                _D.illegal_parameter,
            )
        if extensions.get(_E.session_ticket, b""):
            raise LocalProtocolError(
                "ServerHello.extensions.session_ticket: not empty (RFC 5077 §3.2)",
                _D.decode_error,
            )
        formats = extensions.get(_E.ec_point_formats)
        if formats is not None and (
            ECPointFormat.uncompressed not in formats["ec_point_format_list"]
        ):
            raise LocalProtocolError(
                "ServerHello.extensions.ec_point_formats: uncompressed missing "
                "(RFC 8422 §5.2)",
                _D.illegal_parameter,
            )
        handshake.alpn_protocol = self._read_alpn(extensions)
        handshake.extended_master_secret = _E.extended_master_secret in extensions
        handshake.encrypt_then_mac = _E.encrypt_then_mac in extensions
        handshake.ticket_expected = _E.session_ticket in extensions

    def _read_alpn(self, extensions: dict[int, Any]) -> bytes | None:
        alpn = extensions.get(_E.application_layer_protocol_negotiation)
        if alpn is None:
            return None
        names = alpn["protocol_name_list"]
        # RFC 7301 §3.1: "exactly one" name, and one the client offered.
        if len(names) != 1 or names[0] not in self._config.alpn_protocols:
            raise LocalProtocolError(
                "ServerHello.extensions.application_layer_protocol_negotiation: "
                f"{[bytes(n) for n in names]!r}, expected one offered protocol",
                _D.illegal_parameter,
            )
        return bytes(names[0])

    def _resume(self, handshake: _ClientHandshake, session: Session) -> State:
        # RFC 5246 §7.4.1.3: a resumed session keeps its cipher suite.
        suite = handshake.suite
        if suite is not session.cipher_suite:
            raise LocalProtocolError(
                f"ServerHello.cipher_suite: {suite.name if suite else None} on "
                f"resumption, expected the session's {session.cipher_suite.name}",
                _D.illegal_parameter,
            )
        # RFC 7627 §5.3: the client MUST abort when the extension's use
        # differs from the original session's.
        if handshake.extended_master_secret != session.extended_master_secret:
            raise LocalProtocolError(
                "ServerHello.extensions.extended_master_secret: "
                f"{'present' if handshake.extended_master_secret else 'absent'} "
                "on resumption, unlike in the original session (RFC 7627 §5.3)",
                _D.handshake_failure,
            )
        handshake.resumed = True
        self._install_keys(session.master_secret)
        if handshake.ticket_expected:
            return State.EXPECT_RESUMED_NEW_SESSION_TICKET
        return State.EXPECT_RESUMED_SERVER_CHANGE_CIPHER_SPEC

    # ------------------------------------------------------------------
    # Full handshake: the server's first flight
    # ------------------------------------------------------------------

    def _on_certificate(self, body: Any, raw: bytes) -> State:
        handshake = self._client_handshake()
        assert handshake.suite is not None and self._config.trust_anchors is not None
        key = verify_server_chain(
            body["certificate_list"],
            server_name=self._server_name,
            trust_anchors=self._config.trust_anchors,
            now=self._clock(),
            verify=self._config.verify,
        )
        # RFC 8422 §5.3: the certificate key must fit the suite's signature.
        if authentication_of(key) is not handshake.suite.authentication:
            raise LocalProtocolError(
                "Certificate.certificate_list[0]: key does not fit "
                f"{handshake.suite.name}",
                _D.unsupported_certificate,
            )
        # RFC 8422 §5.3: an ECDSA key "MUST use a curve ... supported by
        # the client".
        group = certificate_group(key)
        if group is not None and group not in self._config.groups:
            raise LocalProtocolError(
                f"Certificate.certificate_list[0]: ECDSA key on {group.name}, "
                "which we did not offer in supported_groups",
                _D.unsupported_certificate,
            )
        handshake.server_key = key
        return State.EXPECT_SERVER_KEY_EXCHANGE

    def _on_server_key_exchange(self, body: Any, raw: bytes) -> State:
        handshake = self._client_handshake()
        params = body["params"]
        group = params["curve_params"]["namedcurve"]
        # RFC 8422 §5.4: the server must pick a group the client offered.
        if group not in self._config.groups:
            raise LocalProtocolError(
                f"ServerKeyExchange.params.curve_params.namedcurve: {group!r} "
                "was not offered",
                _D.illegal_parameter,
            )
        point = params["public"]["point"]

        # RFC 8422 §5.4: the signature covers both randoms and the
        # ServerECDHParams exactly as sent, which open the message body.
        start = _HANDSHAKE_HEADER
        params_bytes = raw[start : start + _ECDH_PARAMS_HEADER + len(point)]
        signed = body["signed_params"]
        assert handshake.server_key is not None
        verify_signature(
            handshake.server_key,
            signed["algorithm"],
            signed["signature"],
            handshake.client_random + handshake.server_random + params_bytes,
            offered=DEFAULT_SIGNATURE_SCHEMES,
        )
        handshake.group = NamedGroup(group)
        handshake.server_point = point
        return State.EXPECT_SERVER_HELLO_DONE

    def _on_certificate_request(self, body: Any, raw: bytes) -> State:
        # LIMITATION: no client certificates; matters for servers that
        # require client authentication; instead we send an empty
        # Certificate (RFC 5246 §7.4.6) and the server decides.
        self._client_handshake().certificate_requested = True
        return State.EXPECT_SERVER_HELLO_DONE_AFTER_REQUEST

    def _on_server_hello_done(self, body: Any, raw: bytes) -> State:
        handshake = self._client_handshake()
        assert handshake.group is not None and handshake.suite is not None

        # RFC 5246 §7.4.6: an empty Certificate answers a request.
        if handshake.certificate_requested:
            self._send_handshake(HandshakeType.certificate, {"certificate_list": []})

        # RFC 8422 §5.7 and §5.10: our point, and the premaster secret.
        ephemeral = generate_ephemeral_key(handshake.group, self._random)
        premaster = ephemeral.exchange(handshake.server_point)
        self._send_handshake(
            HandshakeType.client_key_exchange,
            {"exchange_keys": {"ecdh_Yc": {"point": ephemeral.public_bytes}}},
        )
        master_secret = derive_master_secret(
            premaster,
            suite=handshake.suite,
            extended=handshake.extended_master_secret,
            transcript=handshake.transcript,
            client_random=handshake.client_random,
            server_random=handshake.server_random,
        )
        self._install_keys(master_secret)

        self._send_change_cipher_spec()
        self._send_finished()
        if handshake.ticket_expected:
            return State.EXPECT_NEW_SESSION_TICKET
        return State.EXPECT_SERVER_CHANGE_CIPHER_SPEC

    # ------------------------------------------------------------------
    # Both flows: ticket, Finished
    # ------------------------------------------------------------------

    def _on_new_session_ticket(self, body: Any, raw: bytes) -> State:
        handshake = self._client_handshake()
        # RFC 5077 §3.3: an empty ticket means "no ticket after all"; keep
        # it until the server's Finished proves the handshake genuine.
        handshake.new_ticket = bytes(body["ticket"])
        handshake.new_ticket_lifetime = body["ticket_lifetime_hint"]
        if handshake.resumed:
            return State.EXPECT_RESUMED_SERVER_CHANGE_CIPHER_SPEC
        return State.EXPECT_SERVER_CHANGE_CIPHER_SPEC

    def _on_finished(self, body: Any, raw: bytes) -> State:
        handshake = self._client_handshake()
        self._verify_finished(body, raw)

        # RFC 5246 §7.3: in the abbreviated handshake the client's
        # ChangeCipherSpec and Finished come last.
        if handshake.resumed:
            self._send_change_cipher_spec()
            self._send_finished()
        self._complete(handshake)
        return State.EXPECT_SERVER_DATA

    def _complete(self, handshake: _ClientHandshake) -> None:
        assert handshake.suite is not None and handshake.schedule is not None
        session = handshake.offered if handshake.resumed else None
        if handshake.new_ticket:
            # A renewed ticket keeps the verification of the session it
            # resumes: nothing was verified again.
            trust = session.trust_digest if session else self._config.trust_digest
            session = Session(
                ticket=handshake.new_ticket,
                master_secret=handshake.schedule.master_secret,
                cipher_suite=handshake.suite,
                extended_master_secret=handshake.extended_master_secret,
                lifetime=handshake.new_ticket_lifetime,
                received_at=int(self._clock()),
                server_name=self._server_name,
                alpn_protocol=_alpn_text(handshake.alpn_protocol),
                trust_digest=trust,
            )
            self._events.append(NewSession(session=session))
        self._session = session
        self._events.append(
            HandshakeComplete(
                cipher_suite=handshake.suite,
                resumed=handshake.resumed,
                session=session,
                alpn_protocol=_alpn_text(handshake.alpn_protocol),
                server_name=self._server_name,
            )
        )
        _log.debug(
            "client: handshake complete, %s, resumed=%s",
            handshake.suite.name,
            handshake.resumed,
        )
        self._end_handshake()

    def _on_hello_request(self, body: Any, raw: bytes) -> State:
        # RFC 5246 §7.4.1.1: ignored while negotiating.  Once connected we
        # do not renegotiate, and say so with a warning (RFC 5746 §4.2).
        # Either way it counts towards Limits.max_warning_alerts.
        if self._state is State.EXPECT_SERVER_DATA:
            _log.debug("client: refusing renegotiation (HelloRequest)")
            self._send_warning(_D.no_renegotiation)
        else:
            self._ignore_hello_request()
        return self._state

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _client_handshake(self) -> _ClientHandshake:
        handshake = self._handshake
        assert isinstance(handshake, _ClientHandshake)
        return handshake

    def _forget_session(self) -> None:
        # RFC 5246 §7.2.2: a fatal alert invalidates the session.
        self._session = None
        self._offer = None

    _handlers: ClassVar = MappingProxyType(
        {
            Message.SERVER_HELLO: _on_server_hello,
            Message.CERTIFICATE: _on_certificate,
            Message.SERVER_KEY_EXCHANGE: _on_server_key_exchange,
            Message.CERTIFICATE_REQUEST: _on_certificate_request,
            Message.SERVER_HELLO_DONE: _on_server_hello_done,
            Message.NEW_SESSION_TICKET: _on_new_session_ticket,
            Message.FINISHED: _on_finished,
            Message.HELLO_REQUEST: _on_hello_request,
        }
    )


def _check_renegotiation_info(info: Any) -> None:
    if info is None:
        # RFC 5746 §4.1: a server without secure renegotiation may be
        # splicing our handshake onto an attacker's connection; a client
        # that wants protection "MUST terminate the connection".
        raise LocalProtocolError(
            "ServerHello.extensions: no renegotiation_info; the server "
            "does not support RFC 5746 secure renegotiation",
            _D.handshake_failure,
        )
    if info["renegotiated_connection"]:
        # RFC 5746 §3.4: must be empty on an initial handshake.
        raise LocalProtocolError(
            "ServerHello.extensions.renegotiation_info: not empty on an "
            "initial handshake (RFC 5746 §3.4)",
            _D.handshake_failure,
        )


def _check_server_version(hello: Any) -> None:
    version = int(hello["server_version"])
    if version != TLS12:
        raise LocalProtocolError(
            f"ServerHello.server_version: 0x{version:04X}, expected 0x0303 "
            "(TLS 1.2, the only version offered)",
            _D.protocol_version,
        )
    # RFC 8446 §4.1.3: a TLS 1.3 server marks a downgrade in the last 8
    # bytes of its random.  DOWNGRD\x01 is what any TLS 1.3 server sends
    # when it negotiates TLS 1.2, which we asked for, so it is only noted.
    # DOWNGRD\x00 claims TLS 1.1 or below in a TLS 1.2 ServerHello: a
    # tampered hello.
    tail = bytes(hello["random"][-len(DOWNGRADE_TLS11) :])
    if tail == DOWNGRADE_TLS11:
        raise LocalProtocolError(
            "ServerHello.random: ends in the TLS 1.1 downgrade sentinel in a "
            "TLS 1.2 ServerHello (RFC 8446 §4.1.3)",
            _D.illegal_parameter,
        )
    if tail == DOWNGRADE_TLS12:
        _log.debug("client: server supports TLS 1.3 (downgrade sentinel)")


def _alpn_text(protocol: bytes | None) -> str | None:
    if protocol is None:
        return None
    return protocol.decode("utf-8", "surrogateescape")
