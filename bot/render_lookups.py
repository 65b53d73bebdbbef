"""Lookups and admin pages as embeds: /article, /sources, /help, the reload summary and the status page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord
from discord.utils import format_dt

from knowledge import ArticleMention, KnowledgeBase, citation_label, instrument_label

from .catalog import ASKING, SECTIONS, CommandHelp
from .cite import ABSTAIN_COLOUR, FAILURE_COLOUR, LOOKUP_COLOUR, citation_source, footer
from .store import ReloadResult
from .text import EMBED_FIELDS_MAX, SAFE_URL, content, fit, quote, safe

HOW_TO_EXAMPLE = "Can IOM staff use the UN laissez-passer?"  # persona.examples[0] by default


# -- lookups -------------------------------------------------------------------------------------------------------


def article_embed(
    number: str, instrument: str | None, mentions: Sequence[ArticleMention], knowledge: KnowledgeBase
) -> discord.Embed:
    """Every sentence of the sources that cites article number, quoted with its source; or an honest none."""
    glossary = knowledge.glossary
    label = safe(instrument_label(instrument, glossary)) if instrument else None  # the glossary's words, or as given
    of = f" of the {label}" if label else ""
    title = f"Article {safe(number)}{' — ' + label if label else ''}"
    if not mentions:
        lines = [f"My sources never cite article {safe(number)}{of}, so I can't tell you what it says."]
        cited = cited_articles_lines(knowledge)
        if cited:
            lines += ["", "Articles they do cite:", *cited]
        embed = discord.Embed(title=title, description="\n".join(lines), colour=ABSTAIN_COLOUR)
        embed.set_footer(text=footer(knowledge, "Nothing guessed"))
        return fit(embed)
    lines = []
    groups: dict[str | None, list[ArticleMention]] = {}
    for mention in mentions:
        groups.setdefault(mention.citation.instrument, []).append(mention)
    for symbol, group in sorted(groups.items(), key=lambda item: item[0] != glossary.default_instrument):
        if len(groups) > 1 or not instrument:
            heading = citation_label(symbol, (number,), glossary)
            lines.append(f"**{safe(heading)}**")
        seen: set[tuple[str, int]] = set()
        for mention in group:
            key = (mention.passage.id, mention.sentence.start)
            if key in seen:
                continue
            seen.add(key)
            lines += [quote(mention.sentence.text), f"— {citation_source(mention.citation)}", ""]
    embed = discord.Embed(title=title, description="\n".join(lines).strip(), colour=LOOKUP_COLOUR)
    embed.set_footer(text=footer(knowledge))
    return fit(embed)


def cited_articles_lines(knowledge: KnowledgeBase) -> list[str]:
    """One line per instrument: the article numbers the sources cite."""
    cited = knowledge.articles
    return [
        f"• {safe(cited.label(symbol) if symbol else 'no instrument named')}: {', '.join(cited.numbers(symbol))}"
        for symbol in cited.instruments()
    ]


def sources_embed(knowledge: KnowledgeBase) -> discord.Embed:
    """The documents in the knowledge base: title, publisher, link and passages."""
    embed = discord.Embed(
        title="My sources",
        description=f"{len(knowledge.documents)} documents, {len(knowledge.passages)} passages. "
        "I answer only by quoting them.",
        colour=LOOKUP_COLOUR,
    )
    documents = knowledge.documents
    shown = documents if len(documents) <= EMBED_FIELDS_MAX else documents[: EMBED_FIELDS_MAX - 1]
    for document in shown:
        lines = [f"Publisher: {safe(document.publisher or 'not named')}"]
        lines.append(document.url if document.url and SAFE_URL.fullmatch(document.url) else "No link known")
        lines.append(f"{knowledge.passage_count(document.id)} passages · `{document.id}`")
        embed.add_field(name=safe(document.title), value="\n".join(lines), inline=False)
    if len(shown) < len(documents):
        embed.add_field(name="…", value=f"and {len(documents) - len(shown)} more documents", inline=False)
    embed.set_footer(text=footer(knowledge, "Sources"))
    return fit(embed)


QUESTIONS_RECORDED = (
    "The text of questions I cannot answer (or answer unsure) is stored, without your name, so that the admins "
    "can add sources; it is deleted after the retention period. 👍 / 👎 under an answer are stored the same way."
)


def help_embed(
    knowledge: KnowledgeBase,
    commands: Sequence[CommandHelp] = (),
    *,
    bot_name: str,
    answer_dms: bool,
    answer_channels: Sequence[int],
    examples: Sequence[str] = (HOW_TO_EXAMPLE,),
    records_questions: bool = False,
) -> discord.Embed:
    """How to ask, the commands (from the command tree), what the bot knows, and what it does not do."""
    name = safe(bot_name)
    lines: dict[str, list[str]] = {section: [] for section in SECTIONS}
    lines[ASKING] += [
        f"• Mention me with a question: `@{name} {safe(examples[0])}`",
        *(f"  or `@{name} {safe(example)}`" for example in examples[1:3]),
    ]
    for command in commands:
        usage = f"On any message: **{safe(command.usage)}**" if command.menu else f"`{command.usage}`"
        lines[command.section].append(f"• {usage} — {safe(command.description)}")
    if answer_dms:
        lines[ASKING].append("• Send me a direct message")
    if answer_channels:
        lines[ASKING].append(f"• In {' '.join(f'<#{c}>' for c in answer_channels)}, just ask: I answer every question")
    titles = ", ".join(f"*{safe(d.title)}*" for d in knowledge.documents[:5])
    more = f" and {len(knowledge.documents) - 5} more" if len(knowledge.documents) > 5 else ""
    knows = (
        f"{len(knowledge.documents)} document(s), {len(knowledge.passages)} passages: {titles}{more}. "
        f"They cite {len(knowledge.articles)} Agreement articles."
    )
    limits = (
        "I only quote my sources: no guesses, opinions or legal advice. When they don't say, I tell you so "
        "and point to the nearest sections. I don't browse the web or remember earlier messages."
    )
    embed = discord.Embed(title="How to ask me", colour=LOOKUP_COLOUR)
    for section in SECTIONS:
        if lines[section]:
            embed.add_field(name=section, value="\n".join(lines[section]), inline=False)
    embed.add_field(name="What I know", value=knows, inline=False)
    embed.add_field(name="What I don't do", value=limits, inline=False)
    if records_questions:
        embed.add_field(name="What is recorded", value=QUESTIONS_RECORDED, inline=False)
    embed.set_footer(text=footer(knowledge, "Answers are quoted, never written"))
    return fit(embed)


# -- admin ---------------------------------------------------------------------------------------------------------


def reload_summary(result: ReloadResult) -> str:
    """What a reload did, for the admin who asked (and the status page)."""
    if not result.ok:
        serving = (
            f"The previous knowledge base (version `{result.version}`) is still answering."
            if result.version
            else "No knowledge base is loaded."
        )
        return content(f"Reload failed: {safe(result.error or 'unknown error')}\n{serving}")
    was = "unchanged" if result.version == result.previous_version else f"was `{result.previous_version}`"
    return content(
        f"Reloaded the knowledge base: version `{result.version}` ({was}).\n"
        f"{result.documents} documents, {result.passages} passages; since the previous version "
        f"{result.added} added, {result.removed} removed, {result.changed} changed. "
        f"Built in {result.seconds:.2f} s."
    )


def status_embed(knowledge: KnowledgeBase, last_reload: ReloadResult | None, *, reloading: bool) -> discord.Embed:
    """Version, load time, size and the last reload of the knowledge base."""
    embed = discord.Embed(title="Knowledge base", colour=LOOKUP_COLOUR)
    embed.add_field(name="Version", value=f"`{knowledge.version}`")
    embed.add_field(name="Loaded", value=_when(knowledge.loaded_at))
    embed.add_field(name="Build time", value=f"{knowledge.build_seconds:.2f} s")
    embed.add_field(name="Documents", value=str(len(knowledge.documents)))
    embed.add_field(name="Passages", value=str(len(knowledge.passages)))
    embed.add_field(name="Sources", value=f"`{safe(str(knowledge.sources_dir))}`", inline=False)
    if last_reload is None:
        last = "None since start-up."
    else:
        last = f"{_when(last_reload.finished_at)} ({safe(last_reload.trigger)}): {reload_summary(last_reload)}"
    if reloading:
        last = "A reload is running now.\n" + last
    embed.add_field(name="Last reload", value=last, inline=False)
    embed.colour = FAILURE_COLOUR if last_reload is not None and not last_reload.ok else LOOKUP_COLOUR
    return fit(embed)


def _when(moment: datetime) -> str:
    return f"{format_dt(moment, 'f')} ({format_dt(moment, 'R')})"
