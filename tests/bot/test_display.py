"""One AnswerDisplay, two renderings: the CLI's text and the embed show the same sentences, sections and sections
near an abstention, because both are built from the display rather than each from the Answer."""

from __future__ import annotations

import pytest

from bot import render
from bot.cli_text import answer_text, section_lines
from bot.display import display
from knowledge.base import KnowledgeBase

ANSWERED = ["Can IOM staff travel on a UN laissez-passer?", "What does article 11 of the Agreement provide?"]


@pytest.mark.parametrize("question", ANSWERED)
def test_the_cli_and_the_embed_show_the_same_answer(kb: KnowledgeBase, question: str) -> None:
    answer = kb.answer(question)
    shown = display(answer, kb)

    text = answer_text(shown, kb.glossary).splitlines()
    embed = render.answer_embed(answer, kb)

    assert shown.answered and shown.lines
    assert text[0] == " ".join(shown.lines) == answer.text
    assert embed.description == "\n".join(render.quote(line) for line in shown.lines)
    assert text[1 : 1 + len(shown.sections)] == [f"— {line}" for line in section_lines(shown.sections, kb.glossary)]
    sources = next(f.value or "" for f in embed.fields if f.name in ("Source", "Sources")).splitlines()
    assert sorted({s.title for s in shown.sections}) == sorted({c.title for c in shown.citations})
    assert all(any(render.safe(s.title) in line for line in sources) for s in shown.sections)


def test_the_cli_and_the_embed_offer_the_same_nearest_sections(kb: KnowledgeBase) -> None:
    answer = kb.answer("When did IOM join the UN system?")
    shown = display(answer, kb)

    text = answer_text(shown, kb.glossary)
    embed = render.answer_embed(answer, kb)

    assert not shown.answered and shown.nearest
    nearest = next(f.value or "" for f in embed.fields if f.name == "Nearest sections")
    for near in shown.nearest[:3]:
        assert f"score {near.score:.3f}" in text
        assert render.source_line(near.title, near.section, near.url) in nearest
