"""A test identity that is the same bytes in every run.

The engine is deterministic once its clock and random source are fixed
(ECDSA signatures follow RFC 6979), so with a fixed key and certificate a
recorded transcript, and each mutation hypothesis draws from it, is the
same from one run to the next: a failure found by ``scripts/fuzz.py``
replays exactly.  P-256 keeps every handshake cheap.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.openssl import LOOPBACK, TlsIdentity

# Arbitrary fixed scalars: the keys are test fixtures, never secrets.
_CA_SCALAR: Final = int.from_bytes(b"tlsspec hostile ca key".ljust(32, b"."), "big")
_LEAF_SCALAR: Final = int.from_bytes(b"tlsspec hostile leaf".ljust(32, b"."), "big")
_NOT_BEFORE: Final = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
_NOT_AFTER: Final = datetime.datetime(2044, 1, 1, tzinfo=datetime.UTC)
SERVER_NAME: Final = "localhost"


def _usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not signs_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _subject(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@functools.cache
def fixed_ecdsa_identity() -> TlsIdentity:
    """A P-256 leaf for ``localhost`` and its CA, identical in every run."""
    ca_key = ec.derive_private_key(_CA_SCALAR, ec.SECP256R1())
    leaf_key = ec.derive_private_key(_LEAF_SCALAR, ec.SECP256R1())
    ca_name = _subject("tlsspec hostile CA")
    ca_id = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())

    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        .add_extension(_usage(signs_certificates=True), True)
        .add_extension(ca_id, False)
        .sign(ca_key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    names = [
        x509.DNSName(SERVER_NAME),
        x509.IPAddress(ipaddress.ip_address(LOOPBACK)),
    ]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_subject(SERVER_NAME))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(2)
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(_usage(signs_certificates=False), True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName(names), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_id),
            False,
        )
        .sign(ca_key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    pem = serialization.Encoding.PEM
    return TlsIdentity(
        ca_cert=ca_cert,
        cert=leaf,
        key=leaf_key,
        ca_pem=ca_cert.public_bytes(pem),
        cert_pem=leaf.public_bytes(pem),
        key_pem=leaf_key.private_bytes(
            pem,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
