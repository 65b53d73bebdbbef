"""Citations as Discord shows them: sources linked, articles named with their instrument, within one footer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import discord

from knowledge import Citation, GlossaryFile, KnowledgeBase, citation_label, instrument_label

from .text import SAFE_URL, safe

ANSWER_COLOUR = discord.Colour.blurple()
ABSTAIN_COLOUR = discord.Colour.light_grey()
LOOKUP_COLOUR = discord.Colour.teal()
FAILURE_COLOUR = discord.Colour.red()


def articles_line(citation: Citation, glossary: GlossaryFile) -> str | None:
    """ "2016 Agreement (A/70/976) art. 11", "... arts. 4, 5", or None when the citation names no article."""
    if not citation.articles:
        return None
    return citation_label(citation.instrument, citation.articles, glossary)


def linked_articles_line(citation: Citation, glossary: GlossaryFile) -> str | None:
    """articles_line made safe, its instrument linked where the glossary gives the instrument a url."""
    line = articles_line(citation, glossary)
    if line is None:
        return None
    instrument = glossary.instrument(citation.instrument) if citation.instrument else None
    url = instrument.url if instrument is not None else None
    name = instrument_label(citation.instrument, glossary) if citation.instrument else ""
    if not url or not SAFE_URL.fullmatch(url) or not name or not line.startswith(name):
        return safe(line)
    label = safe(name).replace("[", "(").replace("]", ")")
    return f"[{label}]({url}){safe(line[len(name) :])}"


def source_line(title: str, section: str | None, url: str | None, publisher: str | None = None) -> str:
    """Title (linked when the URL is known), publisher and section, made safe."""
    name = safe(title)
    line = f"[{name.replace('[', '(').replace(']', ')')}]({url})" if url and SAFE_URL.fullmatch(url) else f"*{name}*"
    if publisher:
        line += f", {safe(publisher)}"
    if section:
        line += f" · {safe(section)}"
    return line


def citation_source(citation: Citation) -> str:
    return source_line(citation.title, citation.section, citation.url, citation.publisher)


def unique(items: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def citation_fields(embed: discord.Embed, citations: Sequence[Citation], glossary: GlossaryFile) -> None:
    sources = unique(citation_source(c) for c in citations)
    if sources:
        embed.add_field(name="Source" if len(sources) == 1 else "Sources", value="\n".join(sources), inline=False)
    articles = unique(linked_articles_line(c, glossary) for c in citations)
    if articles:
        name = "Agreement article" if len(articles) == 1 and "arts." not in articles[0] else "Agreement articles"
        embed.add_field(name=name, value="\n".join(articles), inline=False)
    others = unique(other for c in citations for other in c.others)
    if others:
        embed.add_field(name="Also cited", value="\n".join(safe(o) for o in others), inline=False)


def footer(knowledge: KnowledgeBase, prefix: str = "Quoted from my sources") -> str:
    return f"{prefix} · knowledge base {knowledge.version}"
