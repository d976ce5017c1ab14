"""The README's Runtime example runs as printed: full, then resumed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.openssl import make_ecdsa_identity

README = Path(__file__).resolve().parents[2] / "README.md"


def _runtime_example() -> str:
    text = README.read_text()
    section = text[text.index("## Runtime") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "README's Runtime section lost its example"
    return match.group(1)


def test_runtime_example_completes_a_full_and_a_resumed_handshake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = make_ecdsa_identity()
    (tmp_path / "cert.pem").write_bytes(identity.cert_pem)
    (tmp_path / "key.pem").write_bytes(identity.key_pem)
    (tmp_path / "ca.pem").write_bytes(identity.ca_pem)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}

    exec(compile(_runtime_example(), str(README), "exec"), namespace)

    assert namespace["resumed"] == [True, True]
    client = namespace["client"]
    assert client.handshake_complete  # type: ignore[attr-defined]
