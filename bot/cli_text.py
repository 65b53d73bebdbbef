"""Answers and citations as plain text, for the command line: the AnswerDisplay the embeds show, as lines."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from knowledge import Answer, Citation, citation_label

from .display import AnswerDisplay, CitedSection, cited_sections, display

if TYPE_CHECKING:
    from knowledge import GlossaryFile, KnowledgeBase

NEAREST_SECTIONS = 3  # sections listed with an abstention
SMALLTALK_LINE = "I answer questions about my sources, quoting and citing them: ask one, or see `iom-bot --help`."


def render_answer(kb: KnowledgeBase, answer: Answer) -> str:
    """The answer and where it comes from, or an honest "not in my sources" with the nearest sections."""
    return answer_text(display(answer, kb), kb.glossary)


def render_abstention(kb: KnowledgeBase, answer: Answer) -> str:
    return abstention_text(display(answer, kb))


def answer_text(shown: AnswerDisplay, glossary: GlossaryFile) -> str:
    if shown.reason_code == "smalltalk":
        return SMALLTALK_LINE
    if not shown.answered:
        return abstention_text(shown)
    lines = [" ".join(shown.lines)]
    lines.extend(f"— {line}" for line in section_lines(shown.sections, glossary))
    lines.extend(f"Not in my sources: {part}" for part in shown.unanswered)
    for alternative in shown.alternatives:
        lines.append(f"Also relevant: {alternative.text}")
        lines.extend(f"  — {line}" for line in section_lines(alternative.sections, glossary))
    return "\n".join(lines)


def abstention_text(shown: AnswerDisplay) -> str:
    lines = [f"Not in my sources: {shown.reason}." if shown.reason else "Not in my sources."]
    if shown.nearest:
        lines.append("Nearest sections:")
    for near in shown.nearest[:NEAREST_SECTIONS]:
        where = short_publisher(near.publisher) if near.publisher else near.doc_id
        lines.append(f"  - {section_label(near.section)} ({where}, score {near.score:.3f})")
    return "\n".join(lines)


def source_lines(citations: Iterable[Citation], glossary: GlossaryFile) -> list[str]:
    """One line per cited section: publisher, title, section, then each instrument with its articles."""
    return section_lines(cited_sections(citations), glossary)


def section_lines(sections: Iterable[CitedSection], glossary: GlossaryFile) -> list[str]:
    lines = []
    for cited in sections:
        parts = [f"{_document_label(cited.publisher, cited.title)}, {section_label(cited.section)}"]
        parts.extend(citation_label(symbol, numbers, glossary) for symbol, numbers in cited.articles)
        parts.extend(cited.others)
        if cited.url:
            parts.append(cited.url)
        lines.append(" · ".join(parts))
    return lines


def _document_label(publisher: str | None, title: str) -> str:
    return f'{short_publisher(publisher)}, "{title}"' if publisher else f'"{title}"'


def short_publisher(publisher: str) -> str:
    """ "International Justice Resource Center (IJRC)" -> "IJRC"; a name without an abbreviation stays."""
    match = re.search(r"\(([^()]{2,20})\)\s*$", publisher)
    return match.group(1) if match else publisher


def section_label(section: str | None) -> str:
    return f"§ {section}" if section else "opening paragraphs"
