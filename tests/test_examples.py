"""The example questions a newcomer meets first (/help, the how-to reply, config.example.yaml, `iom-bot ask
--help`) are answered from the bundled knowledge base: an example that gets "not in my sources" is a broken
first impression."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.cli import EXAMPLES
from bot.config import DEFAULT_EXAMPLES
from bot.render_lookups import HOW_TO_EXAMPLE
from knowledge.base import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]


def shipped_examples() -> list[str]:
    persona = yaml.safe_load((ROOT / "bot" / "config.example.yaml").read_text(encoding="utf-8"))["persona"]
    cli = [
        question
        for line in EXAMPLES["ask"].splitlines()
        for question in re.findall(r'iom-bot ask (?:--json )?"([^"]+)"|"question": "([^"]+)"', line)
    ]
    found = [q for pair in cli for q in pair if q]
    return list(dict.fromkeys([*DEFAULT_EXAMPLES, HOW_TO_EXAMPLE, *persona["examples"], *found]))


def test_the_cli_help_has_example_questions() -> None:
    assert len(shipped_examples()) >= 4


@pytest.mark.parametrize("question", shipped_examples())
def test_every_shipped_example_is_answered(kb: KnowledgeBase, question: str) -> None:
    answer = kb.answer(question)
    assert not answer.abstained, (question, answer.reason)
    assert answer.citations
