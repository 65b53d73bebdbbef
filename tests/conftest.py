"""Shared fixtures: the bundled knowledge base (built once) and small hand-made source directories."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge.base import BUNDLED_SOURCES, KnowledgeBase


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The bundled knowledge base, loaded once for the whole run."""
    return KnowledgeBase.load()


@pytest.fixture
def sources_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled sources."""
    target = tmp_path / "sources"
    shutil.copytree(BUNDLED_SOURCES, target)
    return target


SourceWriter = Callable[..., Path]


@pytest.fixture
def write_source(tmp_path: Path) -> SourceWriter:
    """Write one source file into tmp_path/sources and return its path."""
    directory = tmp_path / "sources"
    directory.mkdir(exist_ok=True)

    def write(name: str, text: str | bytes) -> Path:
        path = directory / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def front_matter() -> Callable[..., str]:
    """Build a Markdown source: YAML front matter from keyword arguments, then the body."""
    import yaml

    def build(body: str, **meta: object) -> str:
        return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n" + body

    return build
