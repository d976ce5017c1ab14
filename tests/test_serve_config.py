"""What `tlsspec serve` builds from its files, before any socket opens."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from tests.support.openssl import make_ecdsa_identity, make_rsa_identity
from tlsspec.net import OptionError, ServeOptions, server_config
from tlsspec.runtime.tickets import TicketKey, TicketKeyRing


def _options(tmp_path: Path, key_files: list[Path]) -> ServeOptions:
    identity = make_ecdsa_identity()
    cert = tmp_path / "cert.pem"
    key = tmp_path / "key.pem"
    cert.write_bytes(identity.cert_pem)
    key.write_bytes(identity.key_pem)
    return ServeOptions(cert=cert, key=key, ticket_keys=key_files)


def test_key_files_all_open_for_as_long_as_the_server_runs(tmp_path: Path) -> None:
    files = []
    for index, size in enumerate((48, 80)):
        path = tmp_path / f"ticket{index}.key"
        path.write_bytes(os.urandom(size))
        files.append(path)

    ring = server_config(_options(tmp_path, files)).ticket_keys

    assert ring is not None
    assert ring.current == TicketKey.from_nginx_file(files[0])
    assert ring.retire_after == math.inf
    # A ticket sealed by a server whose first key is the second file.
    other = TicketKeyRing([TicketKey.from_nginx_file(files[1])])
    unsealed = ring.unseal(other.seal(b"state"))
    assert unsealed is not None and unsealed.renew


def test_without_key_files_a_fresh_key_seals(tmp_path: Path) -> None:
    ring = server_config(_options(tmp_path, [])).ticket_keys

    assert ring is not None
    assert len(ring.keys) == 1


def test_an_rsa_key_under_2048_bits_is_an_option_error(tmp_path: Path) -> None:
    identity = make_rsa_identity(key_size=1024)
    cert = tmp_path / "cert.pem"
    key = tmp_path / "key.pem"
    cert.write_bytes(identity.cert_pem)
    key.write_bytes(identity.key_pem)

    with pytest.raises(OptionError) as small:
        server_config(ServeOptions(cert=cert, key=key))

    assert (
        str(small.value) == f"--key {key}: RSA key of 1024 bits; expected at least 2048"
    )
