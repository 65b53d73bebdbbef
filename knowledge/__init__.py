"""The knowledge core: sources -> passages -> TF-IDF index -> cited, extractive answers. Never imports discord.

This is the surface callers (bot/, scripts) use: ``from knowledge import build, KnowledgeBase, Answer``. The
names are imported on first use, each from its module, so ``import knowledge`` costs nothing and a command
that answers nothing (``iom-bot --help``) never imports numpy or scipy. The modules behind them are internals:
tests/test_boundaries.py fails when bot/ imports one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> the module that defines it
_EXPORTS = {
    # building and holding a knowledge base
    "build": "builder",
    "build_timeout": "builder",
    "BUNDLED_SOURCES": "base",
    "KnowledgeBase": "base",
    "KnowledgeBaseDiff": "base",
    "ArticleMention": "base",
    "SourceError": "documents",
    "scorer_engine": "scoring",
    # what it answers with
    "Answer": "answer",
    "Citation": "answer",
    "Hit": "answer",
    "Passage": "chunking",
    "GlossaryFile": "glossary",
    "article_label": "labels",
    "citation_label": "labels",
    "instrument_label": "labels",
    "CitedArticles": "lookups",
    "Explanation": "explain",
    # checks, changes between versions, evaluation
    "Check": "checks",
    "CheckReport": "checks",
    "load_checks": "checks",
    "run_checks": "checks",
    "gate": "checks",
    "changed_answers": "checks",
    "Changes": "changes",
    "compare": "changes",
    "EvalError": "evaluation",
    "load_eval_set": "evaluation",
    "run_eval": "evaluation",
    "format_table": "evaluation",
    "format_failures": "evaluation",
    "Cluster": "clusters",
    "cluster": "clusters",
    # reading text and files as the knowledge base does
    "INVISIBLE": "text",
    "normalize": "text",
    "strip_mentions": "question",
    "load_yaml": "yamltext",
    "read_yaml": "yamltext",
    "YamlError": "yamltext",
    "read_limited": "files",
    "FileTooLarge": "files",
    "NotRegularFile": "files",
}
_RENAMED = {"load_yaml": "load", "read_yaml": "read"}  # exported under a clearer name than the module's

__all__ = [
    "BUNDLED_SOURCES",
    "INVISIBLE",
    "Answer",
    "ArticleMention",
    "Changes",
    "Check",
    "CheckReport",
    "Citation",
    "CitedArticles",
    "Cluster",
    "EvalError",
    "Explanation",
    "FileTooLarge",
    "GlossaryFile",
    "Hit",
    "KnowledgeBase",
    "KnowledgeBaseDiff",
    "NotRegularFile",
    "Passage",
    "SourceError",
    "YamlError",
    "article_label",
    "build",
    "build_timeout",
    "changed_answers",
    "citation_label",
    "cluster",
    "compare",
    "format_failures",
    "format_table",
    "gate",
    "instrument_label",
    "load_checks",
    "load_eval_set",
    "load_yaml",
    "normalize",
    "read_limited",
    "read_yaml",
    "run_checks",
    "run_eval",
    "scorer_engine",
    "strip_mentions",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), _RENAMED.get(name, name))
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:
    from .answer import Answer, Citation, Hit
    from .base import BUNDLED_SOURCES, ArticleMention, KnowledgeBase, KnowledgeBaseDiff
    from .builder import build, build_timeout
    from .changes import Changes, compare
    from .checks import Check, CheckReport, changed_answers, gate, load_checks, run_checks
    from .chunking import Passage
    from .clusters import Cluster, cluster
    from .documents import SourceError
    from .evaluation import EvalError, format_failures, format_table, load_eval_set, run_eval
    from .explain import Explanation
    from .files import FileTooLarge, NotRegularFile, read_limited
    from .glossary import GlossaryFile
    from .labels import article_label, citation_label, instrument_label
    from .lookups import CitedArticles
    from .question import strip_mentions
    from .text import INVISIBLE, normalize
    from .yamltext import YamlError
    from .yamltext import load as load_yaml
    from .yamltext import read as read_yaml
