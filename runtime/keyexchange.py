"""Ephemeral ECDH and the signatures that authenticate it (RFC 8422).

Every suite of this engine is ECDHE (see :mod:`tlsspec.runtime.suites`):
the server picks a group, sends a fresh public point in ServerKeyExchange
and signs it, together with both hello randoms, with its certificate key
(RFC 8422 §5.4); the client answers with its own point in
ClientKeyExchange (§5.7), and both sides compute the premaster secret (the
x-coordinate for the NIST curves, §5.10; the X25519 output, §5.11).

Groups: x25519, secp256r1 and secp384r1, points uncompressed only (RFC 8422
§5.1.2 deprecates the compressed formats).  Private keys are drawn from the
injected random source, so a test that fixes the randomness fixes the key
exchange too.

Signature schemes are the TLS 1.3 code points (RFC 8446 §4.2.3), which
TLS 1.2 reads as its SignatureAndHashAlgorithm pairs: RSASSA-PSS with
SHA-256/384/512 (rsae: an ordinary RSA key), RSASSA-PKCS1-v1_5 with the
same hashes, and ECDSA with SHA-256 or SHA-384.  In TLS 1.2 an ECDSA scheme
names only the hash, not the curve.  SHA-1 signatures are refused in every
form (RFC 9155 deprecates them for TLS 1.2).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tlsspec.generated.alert import AlertDescription
from tlsspec.generated.extensions import NamedGroup, SignatureScheme
from tlsspec.runtime.alerts import LocalProtocolError
from tlsspec.runtime.suites import Authentication

__all__ = [
    "DEFAULT_GROUPS",
    "DEFAULT_SIGNATURE_SCHEMES",
    "UNCOMPRESSED_POINT",
    "EphemeralKey",
    "PrivateKey",
    "PublicKey",
    "authentication_of",
    "certificate_group",
    "choose_signature_scheme",
    "generate_ephemeral_key",
    "sign",
    "signature_preference",
    "verify_signature",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

# RFC 8422 §5.4 / X9.62: an uncompressed point starts with 0x04.
UNCOMPRESSED_POINT: Final = 0x04
# RFC 7748 §5: X25519 keys and outputs are 32 bytes.
_X25519_LENGTH: Final = 32
# Extra random bytes drawn for a NIST scalar, so reducing modulo the group
# order leaves a bias below 2^-64.
_SCALAR_SLACK: Final = 8


@dataclass(frozen=True, slots=True)
class _Curve:
    # A NIST curve: its cryptography class, field size and group order.
    curve: type[ec.EllipticCurve]
    field_bytes: int
    order: int


_NIST: Final = MappingProxyType(
    {
        NamedGroup.secp256r1: _Curve(
            ec.SECP256R1,
            32,
            0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        ),
        NamedGroup.secp384r1: _Curve(
            ec.SECP384R1,
            48,
            int(
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
                "C7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
                16,
            ),
        ),
    }
)

#: Groups offered (client) and accepted (server), most preferred first.
DEFAULT_GROUPS: Final[tuple[NamedGroup, ...]] = (
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
)


class _Padding(enum.Enum):
    PSS = "pss"
    PKCS1 = "pkcs1"
    ECDSA = "ecdsa"


@dataclass(frozen=True, slots=True)
class _Scheme:
    authentication: Authentication
    padding: _Padding
    hash: type[hashes.HashAlgorithm]


_S = SignatureScheme
_SCHEMES: Final = MappingProxyType(
    {
        _S.ecdsa_secp256r1_sha256: _Scheme(
            Authentication.ECDSA, _Padding.ECDSA, hashes.SHA256
        ),
        _S.ecdsa_secp384r1_sha384: _Scheme(
            Authentication.ECDSA, _Padding.ECDSA, hashes.SHA384
        ),
        _S.rsa_pss_rsae_sha256: _Scheme(
            Authentication.RSA, _Padding.PSS, hashes.SHA256
        ),
        _S.rsa_pss_rsae_sha384: _Scheme(
            Authentication.RSA, _Padding.PSS, hashes.SHA384
        ),
        _S.rsa_pss_rsae_sha512: _Scheme(
            Authentication.RSA, _Padding.PSS, hashes.SHA512
        ),
        _S.rsa_pkcs1_sha256: _Scheme(Authentication.RSA, _Padding.PKCS1, hashes.SHA256),
        _S.rsa_pkcs1_sha384: _Scheme(Authentication.RSA, _Padding.PKCS1, hashes.SHA384),
        _S.rsa_pkcs1_sha512: _Scheme(Authentication.RSA, _Padding.PKCS1, hashes.SHA512),
    }
)

#: Schemes offered in signature_algorithms, most preferred first.  PSS
#: comes before PKCS #1 v1.5 for RSA keys, as RFC 8446 §4.2.3 recommends.
DEFAULT_SIGNATURE_SCHEMES: Final[tuple[SignatureScheme, ...]] = tuple(_SCHEMES)


def authentication_of(key: PrivateKey | PublicKey) -> Authentication | None:
    """Say which suites a certificate key can serve.

    Args:
        key: A private or public key.

    Returns:
        RSA or ECDSA (NIST P-256 or P-384 only), or None for anything else.
    """
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return Authentication.RSA
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1):
            return Authentication.ECDSA
    return None


def certificate_group(key: PrivateKey | PublicKey) -> NamedGroup | None:
    """The named group of an ECDSA certificate key; None for RSA.

    RFC 8422 §5.1 makes the client's supported_groups bind the curve of the
    server's ECDSA certificate as well as the ECDHE group.
    """
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        for group, curve in _NIST.items():
            if isinstance(key.curve, curve.curve):
                return group
    return None


class EphemeralKey:
    """One side's ECDHE key pair for one handshake.

    Args:
        group: The named group.
        random: Source of the private key's bytes.

    Raises:
        ValueError: ``group`` is not implemented.
    """

    __slots__ = ("_curve", "_private", "group", "public_bytes")

    def __init__(self, group: NamedGroup, random: Callable[[int], bytes]) -> None:
        self.group = group
        if group == NamedGroup.x25519:
            self._curve = None
            private = x25519.X25519PrivateKey.from_private_bytes(random(_X25519_LENGTH))
            self._private: x25519.X25519PrivateKey | ec.EllipticCurvePrivateKey
            self._private = private
            self.public_bytes = private.public_key().public_bytes_raw()
            return
        curve = _NIST.get(group)
        if curve is None:
            raise ValueError(f"group {group!r} is not implemented")
        self._curve = curve
        # A scalar in [1, order - 1] from the injected random source.
        wide = int.from_bytes(random(curve.field_bytes + _SCALAR_SLACK), "big")
        scalar = wide % (curve.order - 1) + 1
        nist = ec.derive_private_key(scalar, curve.curve())
        self._private = nist
        self.public_bytes = nist.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )

    def exchange(self, peer_point: bytes) -> bytes:
        """Compute the premaster secret with the peer's public point.

        Args:
            peer_point: ECPoint.point from the peer's key exchange message.

        Returns:
            The premaster secret (RFC 8422 §5.10, §5.11).

        Raises:
            LocalProtocolError: illegal_parameter for a point of the wrong
                length or format, off the curve, or of small order (the
                all-zero X25519 output RFC 8422 §5.11 says to abort on).
        """
        try:
            if self._curve is None:
                peer = _x25519_point(peer_point)
                assert isinstance(self._private, x25519.X25519PrivateKey)
                # RFC 8422 §5.11: cryptography refuses the all-zero output
                # with ValueError, which lands below.
                return self._private.exchange(peer)
            nist_peer = _nist_point(self._curve, peer_point)
            assert isinstance(self._private, ec.EllipticCurvePrivateKey)
            return self._private.exchange(ec.ECDH(), nist_peer)
        except ValueError:
            raise LocalProtocolError(
                f"ECPoint.point: {len(peer_point)} bytes are not a valid "
                f"{NamedGroup(self.group).name} public key; expected an "
                "uncompressed point on the curve",
                AlertDescription.illegal_parameter,
            ) from None


def _x25519_point(point: bytes) -> x25519.X25519PublicKey:
    if len(point) != _X25519_LENGTH:
        raise ValueError("wrong X25519 length")
    return x25519.X25519PublicKey.from_public_bytes(point)


def _nist_point(curve: _Curve, point: bytes) -> ec.EllipticCurvePublicKey:
    # RFC 8422 §5.1.2: only the uncompressed format is negotiated.
    if len(point) != 1 + 2 * curve.field_bytes or point[0] != UNCOMPRESSED_POINT:
        raise ValueError("not an uncompressed point")
    return ec.EllipticCurvePublicKey.from_encoded_point(curve.curve(), point)


def generate_ephemeral_key(
    group: NamedGroup, random: Callable[[int], bytes]
) -> EphemeralKey:
    """Make a fresh key pair in ``group`` from ``random``.

    Args:
        group: x25519, secp256r1 or secp384r1.
        random: Source of the private key's bytes.

    Returns:
        The key pair.

    Raises:
        ValueError: ``group`` is not implemented.
    """
    return EphemeralKey(group, random)


def signature_preference(key: PrivateKey) -> tuple[SignatureScheme, ...]:
    """The schemes ``key`` can sign with, most preferred first.

    Our order is :data:`DEFAULT_SIGNATURE_SCHEMES`, except that for a P-384
    ECDSA key the scheme whose hash matches its curve comes first.

    Args:
        key: A certificate's private key.

    Returns:
        The schemes; empty for a key no suite can use.
    """
    authentication = authentication_of(key)
    preference = [
        scheme
        for scheme in DEFAULT_SIGNATURE_SCHEMES
        if _SCHEMES[scheme].authentication is authentication
    ]
    if certificate_group(key) == NamedGroup.secp384r1:
        preference.reverse()
    return tuple(preference)


def choose_signature_scheme(
    key: PrivateKey,
    offered: Iterable[SignatureScheme | int] | None,
    *,
    preference: tuple[SignatureScheme, ...] | None = None,
) -> SignatureScheme:
    """Pick the scheme a server signs ServerKeyExchange with.

    Our preference decides among the schemes the client offered that fit
    the key; for an ECDSA key the scheme whose hash matches its curve comes
    first.

    Args:
        key: The certificate's private key.
        offered: ClientHello's signature_algorithms, or None when absent.
        preference: ``signature_preference(key)``, when the caller keeps it
            (a server config works it out once).

    Returns:
        The scheme.

    Raises:
        LocalProtocolError: handshake_failure when nothing fits.  A client
            that sends no signature_algorithms implies SHA-1 (RFC 5246
            §7.4.1.4.1), which we refuse.
    """
    if offered is None:
        raise LocalProtocolError(
            "ClientHello.extensions: no signature_algorithms, which means "
            "SHA-1 only (RFC 5246 §7.4.1.4.1); expected a SHA-2 scheme",
            AlertDescription.handshake_failure,
        )
    if preference is None:
        preference = signature_preference(key)
    offered_set = set(offered)
    for scheme in preference:
        if scheme in offered_set:
            return scheme
    authentication = authentication_of(key)
    kind = authentication.name if authentication else "unknown"
    raise LocalProtocolError(
        "ClientHello.extensions.signature_algorithms: no scheme usable with "
        f"the {kind} certificate key; expected one of "
        f"{', '.join(s.name for s in preference)}",
        AlertDescription.handshake_failure,
    )


def _pss(hash_algorithm: hashes.HashAlgorithm) -> padding.PSS:
    # RFC 8446 §4.2.3: the salt is as long as the digest, MGF1 uses the
    # same hash.
    return padding.PSS(
        mgf=padding.MGF1(hash_algorithm), salt_length=hash_algorithm.digest_size
    )


def _signature_algorithm(
    spec: _Scheme,
) -> tuple[hashes.HashAlgorithm, ec.ECDSA | padding.AsymmetricPadding]:
    # What sign() hands the key: the hash, and the ECDSA algorithm
    # (deterministic per RFC 6979, see sign()) or the RSA padding.
    algorithm = spec.hash()
    if spec.padding is _Padding.ECDSA:
        return algorithm, ec.ECDSA(algorithm, deterministic_signing=True)
    if spec.padding is _Padding.PSS:
        return algorithm, _pss(algorithm)
    return algorithm, padding.PKCS1v15()


# The objects sign() passes to the key, built once per scheme: they hold no
# state between signatures, and building an ECDSA one costs about 2 µs.
_SIGNING: Final = MappingProxyType(
    {scheme: _signature_algorithm(spec) for scheme, spec in _SCHEMES.items()}
)


def sign(key: PrivateKey, scheme: SignatureScheme, data: bytes) -> bytes:
    """Sign ``data`` with ``scheme``.

    ECDSA signatures are deterministic (RFC 6979), so they do not depend on
    a random source the tests cannot fix.

    LIMITATION: RSA-PSS salts come from OpenSSL's random generator, not the
    injected one; matters for tests that compare transcripts byte for byte
    across runs; instead those tests use ECDSA or RSASSA-PKCS1-v1_5 identities.

    Args:
        key: The private key; its type must fit ``scheme``.
        scheme: A scheme of :data:`DEFAULT_SIGNATURE_SCHEMES`.
        data: What to sign.

    Returns:
        The signature.

    Raises:
        ValueError: ``scheme`` is not implemented or does not fit the key.
    """
    spec = _SCHEMES.get(scheme)
    authentication = authentication_of(key)
    if spec is None or authentication is not spec.authentication:
        raise ValueError(f"signature scheme {scheme!r} does not fit this key")
    algorithm, how = _SIGNING[scheme]
    # authentication_of() has told the key types apart.
    if authentication is Authentication.ECDSA:
        ecdsa_key = cast(ec.EllipticCurvePrivateKey, key)
        return ecdsa_key.sign(data, cast(ec.ECDSA, how))
    key = cast(rsa.RSAPrivateKey, key)
    return key.sign(data, cast(padding.AsymmetricPadding, how), algorithm)


def verify_signature(
    key: PublicKey,
    scheme: SignatureScheme | int,
    signature: bytes,
    data: bytes,
    *,
    offered: Iterable[SignatureScheme],
) -> None:
    """Check the server's signature over its ECDH parameters.

    Args:
        key: The certificate's public key.
        scheme: DigitallySigned.algorithm as received.
        signature: DigitallySigned.signature.
        data: The signed bytes (RFC 8422 §5.4: both randoms and the
            ServerECDHParams).
        offered: The schemes our ClientHello offered.

    Raises:
        LocalProtocolError: illegal_parameter when the scheme was not
            offered or does not fit the key (RFC 5246 §7.4.3: it "MUST" be
            one the client listed); decrypt_error when the signature does
            not verify (RFC 5246 §7.2.2).
    """
    spec = _SCHEMES.get(scheme)  # type: ignore[call-overload]
    if spec is None or scheme not in set(offered):
        raise LocalProtocolError(
            f"ServerKeyExchange.signed_params.algorithm: {_scheme_name(scheme)} "
            "was not offered; expected one of our signature_algorithms",
            AlertDescription.illegal_parameter,
        )
    if authentication_of(key) is not spec.authentication:
        raise LocalProtocolError(
            f"ServerKeyExchange.signed_params.algorithm: {_scheme_name(scheme)} "
            "does not fit the certificate's key type",
            AlertDescription.illegal_parameter,
        )
    algorithm = spec.hash()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif spec.padding is _Padding.PSS:
            key.verify(signature, data, _pss(algorithm), algorithm)
        else:
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        raise LocalProtocolError(
            "ServerKeyExchange.signed_params.signature: does not verify with "
            f"the certificate's key under {_scheme_name(scheme)}",
            AlertDescription.decrypt_error,
        ) from None


def _scheme_name(scheme: SignatureScheme | int) -> str:
    try:
        return SignatureScheme(scheme).name
    except ValueError:
        return f"0x{int(scheme):04X}"
