"""Answers and lookups -> Discord embeds and text: inside Discord's limits, and unable to ping anyone.

Pure functions of knowledge objects: no I/O, no client. Every piece of text that came from a user or a source
goes through ``safe`` (markdown and mentions escaped) before it is placed in a message, and every embed goes
through ``fit`` so that Discord never answers 400. The client's ``AllowedMentions.none()`` is the second lock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

import discord
from discord.utils import format_dt

from knowledge.answer import Answer, Citation, Hit
from knowledge.base import ArticleMention, KnowledgeBase
from knowledge.chunking import Passage
from knowledge.glossary import GlossaryFile
from knowledge.labels import citation_label, instrument_label

from .escape import escape_markdown
from .store import ReloadResult

CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000  # all embeds of one message together
EMBED_FIELDS_MAX = 25
ELLIPSIS = "…"
EMPTY = "\u200b"  # Discord rejects empty field names and values

ANSWER_COLOUR = discord.Colour.blurple()
ABSTAIN_COLOUR = discord.Colour.light_grey()
LOOKUP_COLOUR = discord.Colour.teal()
FAILURE_COLOUR = discord.Colour.red()

NEAREST_SECTIONS = 3  # sections offered with an abstention
MORE_RESULTS_MIN_SCORE = 0.1  # a passage this close to the question counts as a good further result
EXCERPT_CHARS = 320  # of a passage in a search result
PASSAGES_SHOWN_MAX = 3  # "Show passage" shows the passages of at most this many answer parts
HOW_TO_EXAMPLE = "When did IOM join the UN system?"  # persona.examples[0] by default
SAFE_URL = re.compile(r"https?://[^\s<>()\[\]]+")
# @everyone, @here and <@id>, <@!id>, <@&id> of any length: discord.utils.escape_mentions only defuses ids of 17 to
# 20 digits, and the accounts and roles of 2015 have 15 or 16.
MENTION = re.compile(r"@(everyone|here|[!&]?\d)")
SAFE_INPUT_MAX = EMBED_TOTAL_LIMIT + 100  # characters of a text escaped at most: no message shows more


# -- text ----------------------------------------------------------------------------------------------------------


def safe(text: str) -> str:
    """Text from a user or a source, shown as written: markdown escaped, mentions defused.

    Cut to SAFE_INPUT_MAX characters first (no message shows more): a huge text is never escaped whole.
    """
    return MENTION.sub("@\u200b\\1", escape_markdown(clip(text, SAFE_INPUT_MAX)))


def clip(text: str, limit: int) -> str:
    """Text cut to at most limit characters, with an ellipsis when cut (never half an escape)."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)].rstrip()
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:  # a lone backslash would escape the ellipsis
        cut = cut[:-1]
    return cut + ELLIPSIS


def content(text: str) -> str:
    """A message's content (already made safe) within Discord's 2000 characters."""
    return clip(text, CONTENT_LIMIT)


def quote(text: str) -> str:
    """Source text as a block quote, verbatim as displayed."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in safe(text).split("\n"))


def seconds(value: float) -> int:
    """Whole seconds to wait, rounded up, at least 1."""
    return max(1, math.ceil(value))


# -- citations -----------------------------------------------------------------------------------------------------


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


def _unique(items: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def _citation_fields(embed: discord.Embed, citations: Sequence[Citation], glossary: GlossaryFile) -> None:
    sources = _unique(citation_source(c) for c in citations)
    if sources:
        embed.add_field(name="Source" if len(sources) == 1 else "Sources", value="\n".join(sources), inline=False)
    articles = _unique(linked_articles_line(c, glossary) for c in citations)
    if articles:
        name = "Agreement article" if len(articles) == 1 and "arts." not in articles[0] else "Agreement articles"
        embed.add_field(name=name, value="\n".join(articles), inline=False)
    others = _unique(other for c in citations for other in c.others)
    if others:
        embed.add_field(name="Also cited", value="\n".join(safe(o) for o in others), inline=False)


def _footer(knowledge: KnowledgeBase, prefix: str = "Quoted from my sources") -> str:
    return f"{prefix} · knowledge base {knowledge.version}"


# -- answers -------------------------------------------------------------------------------------------------------


def answer_embed(answer: Answer, knowledge: KnowledgeBase) -> discord.Embed:
    """The answer: its verbatim extract quoted, its source and articles, the knowledge-base version."""
    if answer.abstained or not answer.parts:
        return abstention_embed(answer, knowledge)
    embed = discord.Embed(
        title=safe(answer.question) or "Answer",
        description="\n".join(quote(part.text) for part in answer.parts),
        colour=ANSWER_COLOUR,
    )
    _citation_fields(embed, answer.citations, knowledge.glossary)
    if answer.unanswered:
        embed.add_field(
            name="Not in my sources", value="\n".join(f"• {safe(part)}" for part in answer.unanswered), inline=False
        )
    for alternative in answer.alternatives[:1]:
        where = "; ".join(_unique(citation_source(c) for c in alternative.citations))
        value = f"{quote(alternative.text)}\n— {safe(where)}" if where else quote(alternative.text)
        embed.add_field(name="Also relevant", value=value, inline=False)
    embed.set_footer(text=_footer(knowledge, f"Quoted from my sources · confidence {answer.confidence:.0%}"))
    return fit(embed)


def abstention_embed(answer: Answer, knowledge: KnowledgeBase) -> discord.Embed:
    """An honest "not in my sources", with the nearest sections to look at instead of a guess."""
    asked = f" to “{safe(answer.question)}”" if answer.question.strip() else ""
    lines = [f"I couldn't find an answer{asked} in my sources, so I won't guess."]
    if answer.reason:
        lines.append(f"*Why:* {safe(answer.reason)}.")
    embed = discord.Embed(
        title="I couldn't find that in my sources", description="\n".join(lines), colour=ABSTAIN_COLOUR
    )
    nearest = nearest_sections(answer.hits, knowledge)
    if nearest:
        embed.add_field(name="Nearest sections", value="\n".join(f"• {line}" for line in nearest), inline=False)
    else:
        embed.add_field(name="Try", value="`/sources` lists what I know; `/help` shows how to ask.", inline=False)
    embed.set_footer(text=_footer(knowledge, "Nothing guessed"))
    return fit(embed)


def nearest_sections(hits: Sequence[Hit], knowledge: KnowledgeBase, limit: int = NEAREST_SECTIONS) -> list[str]:
    """Source lines of the distinct sections of the nearest passages, best first."""
    lines: list[str] = []
    for hit in hits:
        document = knowledge.document(hit.passage.doc_id)
        line = source_line(document.title, hit.passage.section, document.url)
        if line not in lines:
            lines.append(line)
        if len(lines) == limit:
            break
    return lines


def more_results(answer: Answer) -> tuple[Hit, ...]:
    """The passages worth offering beyond the answer: good hits, or the nearest ones when abstaining."""
    if answer.abstained:
        return answer.hits
    return tuple(hit for hit in answer.hits if hit.score >= MORE_RESULTS_MIN_SCORE)


def answer_passages(answer: Answer) -> list[Passage]:
    """The distinct passages the answer's sentences come from, in answer order."""
    seen: dict[str, Passage] = {}
    for part in answer.parts:
        seen.setdefault(part.passage.id, part.passage)
    return list(seen.values())[:PASSAGES_SHOWN_MAX]


def passage_embed(passage: Passage, knowledge: KnowledgeBase) -> discord.Embed:
    """One passage in full, with every citation it carries."""
    document = knowledge.document(passage.doc_id)
    embed = discord.Embed(
        title=safe(passage.section or document.title), description=quote(passage.text), colour=LOOKUP_COLOUR
    )
    _citation_fields(embed, knowledge.citations_for(passage), knowledge.glossary)
    embed.set_footer(text=_footer(knowledge, passage.id))
    return embed


def passage_embeds(answer: Answer, knowledge: KnowledgeBase) -> list[discord.Embed]:
    """The full passages behind an answer ("Show passage"), together within one message's limits."""
    return passages_embeds(answer_passages(answer), knowledge)


def passages_embeds(passages: Sequence[Passage], knowledge: KnowledgeBase) -> list[discord.Embed]:
    """Passages in full, together within one message's limits."""
    return fit_all([passage_embed(passage, knowledge) for passage in passages])


def passage_gone(version: str, current: str) -> str:
    return (
        f"That passage is no longer in my sources: the knowledge base was reloaded since this answer "
        f"(version `{version}`, now `{current}`). Please ask again."
    )


def search_embed(
    query: str, hits: Sequence[Hit], knowledge: KnowledgeBase, *, title: str | None = None
) -> discord.Embed:
    """The top passages for a query with their scores, sections and citations."""
    embed = discord.Embed(title=title or f"Search: {safe(query)}", colour=LOOKUP_COLOUR)
    if not hits:
        embed.description = "Nothing in my sources matches that."
    for rank, hit in enumerate(hits[:EMBED_FIELDS_MAX], start=1):
        passage = hit.passage
        citations = knowledge.citations_for(passage)
        where = passage.section or knowledge.document(passage.doc_id).title
        lines = [quote(clip(passage.text, EXCERPT_CHARS)), citation_source(citations[0])]
        articles = _unique(articles_line(c, knowledge.glossary) for c in citations)
        if articles:
            lines.append(safe("; ".join(articles)))
        lines.append(f"`{passage.id}`")
        embed.add_field(name=f"{rank}. {safe(where)} · score {hit.score:.3f}", value="\n".join(lines), inline=False)
    embed.set_footer(text=_footer(knowledge, "Passages ranked by similarity to your words"))
    return fit(embed)


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
        embed.set_footer(text=_footer(knowledge, "Nothing guessed"))
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
    embed.set_footer(text=_footer(knowledge))
    return fit(embed)


def cited_articles_lines(knowledge: KnowledgeBase) -> list[str]:
    """One line per instrument: the article numbers the sources cite."""
    numbers: dict[str | None, list[str]] = {}
    for symbol, number in knowledge.cited_articles():
        numbers.setdefault(symbol, []).append(number)
    return [
        f"• {safe(instrument_label(symbol, knowledge.glossary) if symbol else 'no instrument named')}: "
        f"{', '.join(found)}"
        for symbol, found in numbers.items()
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
    embed.set_footer(text=_footer(knowledge, "Sources"))
    return fit(embed)


QUESTIONS_RECORDED = (
    "The text of questions I cannot answer (or answer unsure) is stored, without your name, so that the admins "
    "can add sources; it is deleted after the retention period. 👍 / 👎 under an answer are stored the same way."
)


def help_embed(
    knowledge: KnowledgeBase,
    *,
    bot_name: str,
    answer_dms: bool,
    answer_channels: Sequence[int],
    examples: Sequence[str] = (HOW_TO_EXAMPLE,),
    menu_name: str = "Ask IOM bot",
    records_questions: bool = False,
) -> discord.Embed:
    """How to ask, what the bot knows, and what it does not do."""
    name = safe(bot_name)
    asking = [
        f"• Mention me with a question: `@{name} {safe(examples[0])}`",
        *(f"  or `@{name} {safe(example)}`" for example in examples[1:3]),
        "• `/ask question` — add `private: True` to see the answer alone",
        f"• On any message: **Apps → {safe(menu_name)}** answers its text",
    ]
    if answer_dms:
        asking.append("• Send me a direct message")
    if answer_channels:
        asking.append(f"• In {' '.join(f'<#{c}>' for c in answer_channels)}, just ask: I answer every question")
    lookups = [
        "• `/search query` — the best passages, with scores and citations",
        "• `/article number` — every sentence that cites an Agreement article",
        "• `/sources` — the documents I answer from",
    ]
    titles = ", ".join(f"*{safe(d.title)}*" for d in knowledge.documents[:5])
    more = f" and {len(knowledge.documents) - 5} more" if len(knowledge.documents) > 5 else ""
    knows = (
        f"{len(knowledge.documents)} document(s), {len(knowledge.passages)} passages: {titles}{more}. "
        f"They cite {len(knowledge.cited_articles())} Agreement articles."
    )
    limits = (
        "I only quote my sources: no guesses, opinions or legal advice. When they don't say, I tell you so "
        "and point to the nearest sections. I don't browse the web or remember earlier messages."
    )
    embed = discord.Embed(title="How to ask me", colour=LOOKUP_COLOUR)
    embed.add_field(name="Asking", value="\n".join(asking), inline=False)
    embed.add_field(name="Lookups", value="\n".join(lookups), inline=False)
    embed.add_field(name="What I know", value=knows, inline=False)
    embed.add_field(name="What I don't do", value=limits, inline=False)
    if records_questions:
        embed.add_field(name="What is recorded", value=QUESTIONS_RECORDED, inline=False)
    embed.set_footer(text=_footer(knowledge, "Answers are quoted, never written"))
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


# -- short replies -------------------------------------------------------------------------------------------------


def smalltalk_reply(bot_name: str) -> str:
    """The one line for small talk and off-topic messages: what the bot answers, never a quote."""
    return content(
        f"I'm {safe(bot_name)}: I answer questions about my sources, quoting and citing them. "
        "Ask me one, or see `/help`."
    )


def how_to_ask(bot_name: str, example: str = HOW_TO_EXAMPLE) -> str:
    return content(
        f"Ask me a question after the mention, like “@{safe(bot_name)} {safe(example)}”, "
        "or use `/ask`. `/help` tells you more."
    )


def question_too_long(length: int, limit: int) -> str:
    return f"Your question is {length} characters long; I read at most {limit}. Please shorten it."


def cooldown_notice(retry_after: float) -> str:
    return f"Slow down: try again in {seconds(retry_after)} s."


# -- limits --------------------------------------------------------------------------------------------------------


def fit(embed: discord.Embed, total: int = EMBED_TOTAL_LIMIT) -> discord.Embed:
    """The embed cut to every Discord limit (title, description, fields, footer, author, total), in place."""
    if embed.title:
        embed.title = clip(embed.title, EMBED_TITLE_LIMIT)
    if embed.description:
        embed.description = clip(embed.description, EMBED_DESCRIPTION_LIMIT)
    if embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, EMBED_FOOTER_LIMIT), icon_url=embed.footer.icon_url)
    if embed.author.name:
        embed.set_author(name=clip(embed.author.name, EMBED_AUTHOR_LIMIT), url=embed.author.url)
    fields = [
        (clip(f.name or EMPTY, EMBED_FIELD_NAME_LIMIT), clip(f.value or EMPTY, EMBED_FIELD_VALUE_LIMIT), f.inline)
        for f in embed.fields[:EMBED_FIELDS_MAX]
    ]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=bool(inline))
    while (excess := len(embed) - total) > 0:
        description = embed.description or ""
        values = [field.value or "" for field in embed.fields]
        longest = max(range(len(values)), key=lambda i: len(values[i]), default=None)
        longest_value = values[longest] if longest is not None else ""
        if len(description) >= len(longest_value) and len(description) > excess:
            embed.description = clip(description, len(description) - excess)
        elif longest is not None and len(longest_value) > excess:
            field = embed.fields[longest]
            value = clip(longest_value, len(longest_value) - excess) or EMPTY
            embed.set_field_at(longest, name=field.name or EMPTY, value=value, inline=bool(field.inline))
        elif embed.fields:
            embed.remove_field(len(embed.fields) - 1)
        else:  # only the title and footer are left: share what remains between them, then stop
            embed.description = None
            footer = clip(embed.footer.text or "", total // 2)
            embed.set_footer(text=footer or None, icon_url=embed.footer.icon_url)
            embed.title = clip(embed.title or "", max(total - len(footer), 1)) or None
            break
    return embed


def fit_all(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """Embeds that go in one message: each within its limits, together within the 6000-character total."""
    share = EMBED_TOTAL_LIMIT // max(len(embeds), 1)
    return [fit(embed, total=share) for embed in embeds]
