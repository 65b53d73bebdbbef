"""The one-way arrow bot -> knowledge: knowledge imports no discord and no bot; every extension can be loaded."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

IMPORT_ALL_KNOWLEDGE = """
import importlib, pkgutil, sys
import knowledge
for module in pkgutil.walk_packages(knowledge.__path__, "knowledge."):
    importlib.import_module(module.name)
from knowledge.base import KnowledgeBase
KnowledgeBase.load().answer("What is IOM?")
leaked = sorted(name for name in sys.modules if name.split(".")[0] in {"discord", "bot", "aiohttp"})
print(",".join(leaked))
"""


def test_knowledge_imports_no_discord_and_no_bot() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL_KNOWLEDGE], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"knowledge imported {result.stdout.strip()}"


def extension_modules() -> list[str]:
    import bot.exts

    return sorted(module.name for module in pkgutil.iter_modules(bot.exts.__path__, "bot.exts."))


def test_every_extension_module_is_loaded_at_start_up() -> None:
    from bot.client import EXTENSIONS

    assert sorted(EXTENSIONS) == extension_modules()


@pytest.mark.parametrize("name", extension_modules())
def test_every_extension_has_an_async_setup(name: str) -> None:
    module = importlib.import_module(name)

    assert inspect.iscoroutinefunction(getattr(module, "setup", None)), f"{name} has no async def setup(bot)"
