"""bot/ uses knowledge through its public surface (knowledge/__init__.py) only, and that surface is cheap to import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import knowledge

ROOT = Path(__file__).parents[1]
BOT_MODULES = sorted((ROOT / "bot").rglob("*.py"))


def knowledge_imports(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, module, names) of every import of knowledge or one of its modules in a file, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "knowledge":
            found.append((node.lineno, node.module or "", tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.Import):
            found.extend(
                (node.lineno, alias.name, ()) for alias in node.names if alias.name.split(".")[0] == "knowledge"
            )
    return found


def test_the_scan_sees_every_kind_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import knowledge.text\nfrom knowledge import build\ndef f():\n    from knowledge.base import KnowledgeBase\n",
        "utf-8",
    )
    assert knowledge_imports(sample) == [
        (1, "knowledge.text", ()),
        (2, "knowledge", ("build",)),
        (4, "knowledge.base", ("KnowledgeBase",)),
    ]


@pytest.mark.parametrize("path", BOT_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_bot_imports_only_the_public_surface(path: Path) -> None:
    internal = [f"{path.name}:{line}: {module}" for line, module, _ in knowledge_imports(path) if module != "knowledge"]
    assert internal == [], "import these names from knowledge (add them to knowledge/__init__.py if they belong there)"
    unknown = [
        f"{path.name}:{line}: {name}"
        for line, _, names in knowledge_imports(path)
        for name in names
        if name not in knowledge.__all__
    ]
    assert unknown == [], "not in knowledge.__all__"


def test_every_public_name_resolves() -> None:
    assert sorted(knowledge.__all__) == sorted(set(knowledge.__all__))
    for name in knowledge.__all__:
        assert getattr(knowledge, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'persist_helpers'"):
        _ = knowledge.persist_helpers


def test_what_iom_bot_help_imports_imports_nothing_heavy() -> None:
    heavy = "{'numpy', 'scipy', 'numba', 'yaml', 'Stemmer', 'discord'}"
    script = (
        "import sys, knowledge\n"
        "from knowledge import Answer, Citation, SourceError, citation_label\n"  # bot/cli.py's, at its top
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
