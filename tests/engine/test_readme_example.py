"""The README's Runtime example runs as printed: full, then resumed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.openssl import make_ecdsa_identity

README = Path(__file__).resolve().parents[2] / "README.md"


def _runtime_block(language: str) -> str:
    text = README.read_text()
    section = text[text.index("## Runtime") :]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"README's Runtime section lost its {language} block"
    return match.group(1)


def _runtime_example() -> str:
    return _runtime_block("python")


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


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
def test_runtime_example_runs_on_the_pki_the_readme_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(
        ["sh", "-e", "-c", _runtime_block("sh")],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=60,
    )
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}

    exec(compile(_runtime_example(), str(README), "exec"), namespace)

    assert namespace["resumed"] == [True, True]
