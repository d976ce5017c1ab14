"""The README's "Adding a new extension" and "Adding a new message"
walkthroughs work as written.

Both run the real command line on a temporary copy of ``specs/`` plus the
spec block printed in the README (read from README.md, so the test follows
the text a reader copies), import the fresh output under a package name of
its own, and decode bytes with it. The installed ``tlsspec.generated`` is
never touched, and is checked to be unaffected.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from construct import Container

from tests.messages.flight import SNI, OpenSSLFlight
from tlsspec import DecodeError
from tlsspec.generated import extensions as installed_extensions
from tlsspec.generated import handshake as installed_handshake

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
CLI_TIMEOUT = 60

TOKEN_TYPE = 0xFF42
# extension_type ff42, extension_data length 0004, token<1..2^8-1> "abc".
TOKEN_EXTENSION = bytes.fromhex("ff42 0004 03 616263")
# The same extension with an empty token, below the vector's floor of 1.
EMPTY_TOKEN_EXTENSION = bytes.fromhex("ff42 0001 00")


def readme_block(heading: str, language: str) -> str:
    """The first fenced ``language`` block under README's ``## heading``."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, f"no ```{language} block under '## {heading}'"
    return blocks[0]


def tlsspec_command(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tlsspec", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


def append_extension(client_hello: bytes, extension: bytes) -> bytes:
    """Append one extension to a ClientHello, fixing both lengths.

    The fields before the extensions are walked by hand (RFC 5246
    §7.4.1.2), so the input does not depend on the codec under test.
    """
    position = 4 + 2 + 32  # header, client_version, random
    position += 1 + client_hello[position]  # session_id<0..32>
    position += 2 + int.from_bytes(client_hello[position : position + 2], "big")
    position += 1 + client_hello[position]  # compression_methods<1..2^8-1>
    block = int.from_bytes(client_hello[position : position + 2], "big")
    assert position + 2 + block == len(client_hello)
    body = b"".join(
        [
            client_hello[4:position],
            (block + len(extension)).to_bytes(2, "big"),
            client_hello[position + 2 :],
            extension,
        ]
    )
    return client_hello[:1] + len(body).to_bytes(3, "big") + body


def _forget(package: str) -> None:
    for name in [m for m in sys.modules if m.split(".")[0] == package]:
        del sys.modules[name]


# --------------------------------------------------------------------------
# Adding a new extension
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenCodecs:
    folder: Path
    extensions: ModuleType
    handshake: ModuleType


@pytest.fixture(scope="module")
def token_codecs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenCodecs]:
    root = tmp_path_factory.mktemp("token-walkthrough")
    specs = root / "specs"
    shutil.copytree(REPO / "specs", specs)
    (specs / "token.tls").write_text(
        readme_block("Adding a new extension", "c"), encoding="utf-8"
    )
    package = f"mycodecs_{uuid.uuid4().hex}"
    out = root / "out" / package

    result = tlsspec_command("generate", str(specs), "-o", str(out))
    assert result.returncode == 0, result.stderr

    sys.path.insert(0, str(out.parent))
    try:
        yield TokenCodecs(
            folder=out,
            extensions=importlib.import_module(f"{package}.extensions"),
            handshake=importlib.import_module(f"{package}.handshake"),
        )
    finally:
        sys.path.remove(str(out.parent))
        _forget(package)


def test_new_extension_decodes_into_its_struct(
    token_codecs: TokenCodecs, openssl_flight: OpenSSLFlight
) -> None:
    data = append_extension(openssl_flight.client_hello, TOKEN_EXTENSION)

    hello = token_codecs.handshake.Handshake.parse(data)

    token = hello.body.extensions[-1]
    assert token.extension_type is token_codecs.extensions.ExtensionType.token
    assert token.extension_type == TOKEN_TYPE
    assert token.extension_data == Container(token=b"abc")
    assert token_codecs.handshake.Handshake.build(hello) == data
    # Every extension OpenSSL sent decodes as the installed codecs decode it.
    original = installed_handshake.Handshake.parse(openssl_flight.client_hello)
    assert hello.body.extensions[:-1] == original.body.extensions
    assert hello.body.extensions[0].extension_data.server_name_list[0].name == (
        SNI.encode()
    )


def test_installed_codecs_keep_the_new_extension_as_raw_bytes(
    openssl_flight: OpenSSLFlight,
) -> None:
    data = append_extension(openssl_flight.client_hello, TOKEN_EXTENSION)

    hello = installed_handshake.Handshake.parse(data)

    token = hello.body.extensions[-1]
    assert type(token.extension_type) is int
    assert token.extension_type == TOKEN_TYPE
    assert token.extension_data == b"\x03abc"
    assert not hasattr(installed_extensions.ExtensionType, "token")
    assert installed_handshake.Handshake.build(hello) == data


def test_new_extension_enforces_its_vector_floor(
    token_codecs: TokenCodecs, openssl_flight: OpenSSLFlight
) -> None:
    data = append_extension(openssl_flight.client_hello, EMPTY_TOKEN_EXTENSION)
    count = len(installed_handshake.Handshake.parse(data).body.extensions)

    with pytest.raises(DecodeError) as info:
        token_codecs.handshake.Handshake.parse(data)

    index = count - 1
    assert info.value.path == (
        f"Handshake.body.extensions[{index}].extension_data.token"
    )
    assert info.value.alert == "decode_error"
    # The token's length byte 00 is the message's last byte; the error
    # points at the first byte after it.
    assert info.value.offset == len(data)


def test_cli_decodes_the_new_extension_with_generated_codecs(
    token_codecs: TokenCodecs, openssl_flight: OpenSSLFlight, tmp_path: Path
) -> None:
    path = tmp_path / "client_hello.bin"
    path.write_bytes(append_extension(openssl_flight.client_hello, TOKEN_EXTENSION))

    result = tlsspec_command(
        "parse", "Handshake", str(path), "--codecs", str(token_codecs.folder)
    )

    assert result.returncode == 0, result.stderr
    assert f"extension_type: token ({TOKEN_TYPE})" in result.stdout
    assert "token: 616263 (3 bytes)" in result.stdout


# --------------------------------------------------------------------------
# Adding a new message
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class HeartbeatWalkthrough:
    root: Path
    # The README's commands: `tlsspec generate ...`, `python -c ...`.
    commands: list[list[str]]
    module: ModuleType


def _import_folder(folder: Path, name: str) -> ModuleType:
    # Import the README's output folder under a name of its own, so no
    # other test's package of the same name is shadowed.
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return package


@pytest.fixture(scope="module")
def heartbeat(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[HeartbeatWalkthrough]:
    root = tmp_path_factory.mktemp("heartbeat-walkthrough")
    # The README's copy of the project's specs.
    shutil.copytree(REPO / "specs", root / "myspecs")
    (root / "myspecs" / "heartbeat.tls").write_text(
        readme_block("Adding a new message", "c"), encoding="utf-8"
    )
    commands = [
        shlex.split(line)
        for line in readme_block("Adding a new message", "sh").splitlines()
        if line.strip()
    ]
    generate = commands[0]
    assert generate[0] == "tlsspec"

    result = tlsspec_command(*generate[1:], cwd=root)
    assert result.returncode == 0, result.stderr

    package = f"readme_heartbeat_{uuid.uuid4().hex}"
    _import_folder(root / "mycodecs", package)
    try:
        module = importlib.import_module(f"{package}.heartbeat")
        yield HeartbeatWalkthrough(root, commands, module)
    finally:
        _forget(package)


def _readme_sample(heartbeat: HeartbeatWalkthrough) -> bytes:
    code = heartbeat.commands[1][2]
    literal = re.search(r"bytes\.fromhex\((.*?)\)\)", code)
    assert literal is not None, code
    return bytes.fromhex(ast.literal_eval(literal.group(1)))


def test_readme_heartbeat_command_prints_the_message(
    heartbeat: HeartbeatWalkthrough,
) -> None:
    python, flag, code = heartbeat.commands[1]
    assert (python, flag) == ("python", "-c")
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=heartbeat.root,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "payload_length = 3" in result.stdout
    assert "payload = b'abc'" in result.stdout
    assert "padding = b''" in result.stdout


def test_readme_heartbeat_sample_decodes_as_a_request_carrying_abc(
    heartbeat: HeartbeatWalkthrough,
) -> None:
    sample = _readme_sample(heartbeat)
    message = heartbeat.module.HeartbeatMessage

    value = message.parse(sample)

    assert sample == bytes.fromhex("01 0003 616263 0000")
    assert value.type is heartbeat.module.HeartbeatMessageType.heartbeat_request
    assert value == Container(type=1, payload_length=3, payload=b"abc", padding=b"")
    # payload_length is filled in from payload on build.
    built = message.build(
        {"type": "heartbeat_request", "payload": b"abc", "padding": b""}
    )
    assert built == sample


def test_heartbeat_payload_length_past_the_end_is_a_decode_error(
    heartbeat: HeartbeatWalkthrough,
) -> None:
    sample = bytes.fromhex("01 0010 616263 0000")

    with pytest.raises(DecodeError) as info:
        heartbeat.module.HeartbeatMessage.parse(sample)

    error = info.value
    assert (error.path, error.offset, error.alert) == (
        "HeartbeatMessage.payload",
        3,
        "decode_error",
    )
