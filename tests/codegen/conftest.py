"""Fixtures that compile spec text and import the generated modules.

``compile_spec`` is the way every codegen test reaches the compiler: spec
text goes into ``*.tls`` files in a temporary folder, ``compile_files`` turns
them into Python sources, and the sources are written into a package with a
name unique to the test and imported from there. Compiling runs ruff over
the output, so sources are cached per spec text for the session; writing and
importing stay per test, which keeps module caches of different tests apart.
"""

from __future__ import annotations

import importlib
import itertools
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tlsspec.codegen.diagnostics import SpecError, SpecErrors
from tlsspec.codegen.generate import compile_files, write_output

SpecText = str | dict[str, str]

# Spec text given as one string is compiled as this file.
DEFAULT_SPEC = "spec.tls"

_sources: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
_serial = itertools.count()


def as_files(text: SpecText) -> dict[str, str]:
    """Spec text as ``{file name: text}``."""
    return {DEFAULT_SPEC: text} if isinstance(text, str) else dict(text)


def write_specs(folder: Path, text: SpecText) -> list[Path]:
    """Write spec files into ``folder``; return their paths in given order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, body in as_files(text).items():
        path = folder / name
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


def _compiled(text: SpecText, folder: Path) -> dict[str, str]:
    key = tuple(as_files(text).items())
    if key not in _sources:
        _sources[key] = compile_files(write_specs(folder, text))
    return _sources[key]


def _package_name(node_name: str) -> str:
    stem = re.sub(r"\W", "_", node_name)[:40]
    return f"gen_{stem}_{next(_serial)}"


@pytest.fixture
def compile_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Callable[[SpecText], ModuleType | dict[str, ModuleType]]]:
    """Compile spec text and import the result.

    Call it with one spec's text to get its module, or with
    ``{"a.tls": ..., "b.tls": ...}`` (one shared namespace) to get
    ``{"a": module, "b": module}``.
    """
    packages: list[str] = []
    monkeypatch.syspath_prepend(str(tmp_path))

    def compile_spec(text: SpecText) -> ModuleType | dict[str, ModuleType]:
        sources = _compiled(text, tmp_path / f"specs{len(packages)}")
        package = _package_name(request.node.name)
        packages.append(package)
        write_output(tmp_path / package, sources)
        importlib.invalidate_caches()
        modules = {
            Path(name).stem: importlib.import_module(f"{package}.{Path(name).stem}")
            for name in as_files(text)
        }
        return modules[Path(DEFAULT_SPEC).stem] if isinstance(text, str) else modules

    yield compile_spec

    for package in packages:
        for name in [m for m in sys.modules if m.split(".")[0] == package]:
            del sys.modules[name]


@pytest.fixture
def compile_errors(tmp_path: Path) -> Callable[[SpecText], list[SpecError]]:
    """Compile spec text that must fail; return every diagnostic, in order."""

    def compile_errors(text: SpecText) -> list[SpecError]:
        with pytest.raises(SpecErrors) as info:
            compile_files(write_specs(tmp_path / "bad", text))
        return info.value.errors

    return compile_errors


@pytest.fixture
def compile_error(
    compile_errors: Callable[[SpecText], list[SpecError]],
) -> Callable[[SpecText], SpecError]:
    """Compile spec text that must fail with exactly one diagnostic."""

    def compile_error(text: SpecText) -> SpecError:
        errors = compile_errors(text)
        assert len(errors) == 1, "\n".join(e.render() for e in errors)
        return errors[0]

    return compile_error
