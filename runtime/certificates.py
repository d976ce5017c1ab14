"""Checking the server's certificate chain and host name (RFC 5246 §7.4.2).

The client receives the server's chain leaf first, builds a path from it to
one of its trust anchors and checks the host name against the leaf's
subjectAltName.  Both are delegated to ``cryptography.x509.verification``
(the Web PKI profile of RFC 5280 with the CA/Browser Forum rules, name
matching per RFC 6125): this module only prepares its inputs and turns its
refusals into the alert RFC 5246 §7.2.2 names:

* a certificate that does not parse, or whose key, names or extensions
  do not decode when read: ``bad_certificate``;
* a certificate outside its validity period: ``certificate_expired``;
* no path to a trust anchor because no issuer is known: ``unknown_ca``;
* a leaf key that cannot sign for our suites: ``unsupported_certificate``;
* every other refusal, a name mismatch included: ``bad_certificate``.

``cryptography`` reports its refusals as text, so the expiry and issuer
cases are recognized by checking the certificates ourselves first, never by
reading the message.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import logging
import re
import ssl
import warnings
from collections.abc import Sequence
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification

from tlsspec.generated.alert import AlertDescription
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.keyexchange import PublicKey, authentication_of

__all__ = [
    "load_system_trust_anchors",
    "subject_for",
    "verify_server_chain",
]

_log = logging.getLogger(__name__)

_D: Final = AlertDescription
# The repr cryptography appends to a verification error.
_ENCOUNTERED: Final = re.compile(r" \(encountered processing <Certificate\(.*\)>\)$")
# One certificate of a PEM bundle (RFC 7468 §2), armour included.
_PEM_CERTIFICATE: Final = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----", re.DOTALL
)
# What cryptography raises for bytes that do not decode as a certificate,
# at load or when a field is first read: ValueError mostly, but a bad
# version, a repeated extension, an unknown name type or an unknown key
# algorithm each have their own class.
_UNDECODABLE: Final = (
    ValueError,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


def load_system_trust_anchors() -> tuple[x509.Certificate, ...]:
    """Read the CA bundle OpenSSL would use by default.

    LIMITATION: only the bundle file (``ssl.get_default_verify_paths()``)
    is read, not a hashed CA directory; matters on systems that ship only
    the directory; instead pass ``trust_anchors`` explicitly.

    Each certificate of the bundle is loaded on its own: one that does not
    parse is skipped with a DEBUG line rather than costing every other
    anchor, and cryptography's deprecation warnings about a legacy
    encoding (such as a negative serial number) are logged at DEBUG, not
    shown to every user of the system bundle.

    Returns:
        The certificates, or an empty tuple when no bundle is found, so
        verification then fails closed with ``unknown_ca``.
    """
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if not candidate:
            continue
        try:
            with open(candidate, "rb") as file:
                bundle = file.read()
        except OSError:
            _log.debug("cannot read CA bundle %s", candidate)
            continue
        anchors = _load_bundle(candidate, bundle)
        if anchors:
            return anchors
        _log.debug("no certificate in CA bundle %s", candidate)
    return ()


def _load_bundle(path: str, bundle: bytes) -> tuple[x509.Certificate, ...]:
    anchors = []
    for index, block in enumerate(_PEM_CERTIFICATE.findall(bundle)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CryptographyDeprecationWarning)
            try:
                anchors.append(x509.load_pem_x509_certificate(block))
            except ValueError as error:
                _log.debug(
                    "CA bundle %s: certificate %d skipped: %s", path, index, error
                )
        for warning in caught:
            _log.debug("CA bundle %s: certificate %d: %s", path, index, warning.message)
    return tuple(anchors)


@functools.lru_cache(maxsize=256)
def subject_for(server_name: str) -> verification.Subject:
    """The verification subject for a host name or IP literal.

    Args:
        server_name: ``example.com`` or ``127.0.0.1``.

    Returns:
        A DNSName or IPAddress subject.

    Raises:
        ValueError: ``server_name`` is neither a valid DNS name nor an IP.
    """
    try:
        return verification.IPAddress(ipaddress.ip_address(server_name))
    except ValueError:
        return verification.DNSName(server_name)


def _parse(der_chain: Sequence[bytes]) -> list[x509.Certificate]:
    try:
        return [x509.load_der_x509_certificate(der) for der in der_chain]
    except _UNDECODABLE:
        raise LocalProtocolError(
            "Certificate.certificate_list: an entry is not a DER certificate",
            _D.bad_certificate,
        ) from None


def _check_validity(chain: list[x509.Certificate], now: datetime.datetime) -> None:
    # RFC 5280 §4.1.2.5; RFC 5246 §7.2.2's certificate_expired.
    for position, certificate in enumerate(chain):
        if not (
            certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc
        ):
            raise LocalProtocolError(
                f"Certificate.certificate_list[{position}]: valid from "
                f"{certificate.not_valid_before_utc} to "
                f"{certificate.not_valid_after_utc}, expected to include {now}",
                _D.certificate_expired,
            )


def _issuer_known(
    chain: list[x509.Certificate], anchors: Sequence[x509.Certificate]
) -> bool:
    # Every certificate sent must have an issuer we hold, by name and by
    # signature (two CAs may share a name, never a key), other than
    # itself: a self-signed root the server sends is only trusted as an
    # anchor.
    return all(
        any(
            _issued_by(certificate, issuer)
            for issuer in (*chain, *anchors)
            if issuer is not certificate
        )
        for certificate in chain
    )


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_leaf_key(leaf: x509.Certificate) -> PublicKey:
    # cryptography decodes the key and the extensions only when they are
    # read, so a certificate that loaded can still fail here.
    try:
        return _leaf_key(leaf)
    except _UNDECODABLE as error:
        raise LocalProtocolError(
            f"Certificate.certificate_list[0]: key or extensions do not decode: "
            f"{error}",
            _D.bad_certificate,
        ) from None


def _leaf_key(leaf: x509.Certificate) -> PublicKey:
    key = leaf.public_key()
    if authentication_of(key) is None:  # type: ignore[arg-type]
        raise LocalProtocolError(
            f"Certificate.certificate_list[0]: a {type(key).__name__} key; "
            "expected RSA or ECDSA on P-256 or P-384",
            _D.unsupported_certificate,
        )
    # RFC 5280 §4.2.1.3: a keyUsage that leaves out digitalSignature
    # forbids the ServerKeyExchange signature ECDHE needs.
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.digital_signature:
        raise LocalProtocolError(
            "Certificate.certificate_list[0]: keyUsage lacks "
            "digitalSignature, which ECDHE key exchange needs",
            _D.unsupported_certificate,
        )
    return key  # type: ignore[return-value]


def _verifier(
    anchors: tuple[x509.Certificate, ...],
    when: datetime.datetime,
    server_name: str,
) -> verification.ServerVerifier:
    if not anchors:
        # cryptography refuses an empty store; nothing can verify anyway.
        raise LocalProtocolError(
            "Certificate.certificate_list: no trust anchors to verify against",
            _D.unknown_ca,
        )
    return (
        verification.PolicyBuilder()
        .store(_store(anchors))
        .time(when)
        .build_server_verifier(subject_for(server_name))
    )


@functools.lru_cache(maxsize=16)
def _store(anchors: tuple[x509.Certificate, ...]) -> verification.Store:
    # Configs are shared by many connections: build each store once.
    return verification.Store(list(anchors))


def _diagnose(
    chain: list[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    when: datetime.datetime,
    server_name: str,
    error: verification.VerificationError,
) -> LocalProtocolError:
    # Only on failure: find the alert that names the cause best.
    _check_validity(chain, when)
    if not _issuer_known(chain, anchors):
        return LocalProtocolError(
            "Certificate.certificate_list: issuer "
            f"{chain[-1].issuer.rfc4514_string()} is not among the trust "
            "anchors or the chain sent",
            _D.unknown_ca,
        )
    # cryptography ends its text with the certificate's repr; the subject
    # names it more readably.
    reason = _ENCOUNTERED.sub("", str(error))
    return LocalProtocolError(
        f"Certificate.certificate_list: does not verify for {server_name!r}: "
        f"{reason} (leaf {chain[0].subject.rfc4514_string() or 'without subject'})",
        _D.bad_certificate,
    )


def verify_server_chain(
    der_chain: Sequence[bytes],
    *,
    server_name: str | None,
    trust_anchors: Sequence[x509.Certificate],
    now: float,
    verify: bool = True,
) -> PublicKey:
    """Check the server's Certificate message and return the leaf's key.

    Args:
        der_chain: Certificate.certificate_list, leaf first.
        server_name: The host name or IP literal to match; required when
            ``verify`` is set.
        trust_anchors: The certificates trusted as roots.
        now: Seconds since the epoch, from the injected clock.
        verify: False skips path and name checks (an explicit choice in
            ClientConfig); the leaf must still parse and fit a suite.

    Returns:
        The leaf certificate's public key.

    Raises:
        LocalProtocolError: As the module docstring lists.
        ValueError: ``verify`` is set without a ``server_name``.
    """
    if not der_chain:
        raise LocalProtocolError(
            "Certificate.certificate_list: empty; expected the server's chain "
            "(RFC 5246 §7.4.2)",
            _D.bad_certificate,
        )
    chain = _parse(der_chain)
    key = _check_leaf_key(chain[0])
    if not verify:
        return key
    if server_name is None:
        raise ValueError("verifying a server chain needs a server_name")

    when = datetime.datetime.fromtimestamp(now, datetime.UTC)
    verifier = _verifier(tuple(trust_anchors), when, server_name)
    try:
        verifier.verify(chain[0], chain[1:])
    except verification.VerificationError as error:
        try:
            failure = _diagnose(chain, trust_anchors, when, server_name, error)
        except _UNDECODABLE:
            # A field the diagnosis reads does not decode.
            failure = LocalProtocolError(
                f"Certificate.certificate_list: does not verify: {error}",
                _D.bad_certificate,
            )
        raise failure from None
    return key
