"""Answers and lookups -> Discord embeds and text: inside Discord's limits, and unable to ping anyone.

Pure functions of knowledge objects: no I/O, no client. An answer is shown from its AnswerDisplay (bot.display),
which the CLI renders as text; safe text and the limits are in bot.text, citations in bot.cite, the lookup and
admin pages in bot.render_lookups (all re-exported here, so that callers import one module).
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from knowledge import Answer, Hit, KnowledgeBase, Passage, instrument_label

from .cite import (
    ABSTAIN_COLOUR,
    ANSWER_COLOUR,
    FAILURE_COLOUR,
    LOOKUP_COLOUR,
    articles_line,
    citation_fields,
    citation_source,
    footer,
    linked_articles_line,
    source_line,
    unique,
)
from .display import AnswerDisplay, NearSection, display
from .render_lookups import (
    HOW_TO_EXAMPLE,
    QUESTIONS_RECORDED,
    _when,
    article_embed,
    cited_articles_lines,
    help_embed,
    reload_summary,
    sources_embed,
    status_embed,
)
from .text import (
    CONTENT_LIMIT,
    ELLIPSIS,
    EMBED_AUTHOR_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_NAME_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_FIELDS_MAX,
    EMBED_FOOTER_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    EMPTY,
    SAFE_URL,
    clip,
    content,
    fit,
    fit_all,
    quote,
    safe,
    seconds,
)

__all__ = [  # the re-exports; the rest of the module is what it defines
    "ABSTAIN_COLOUR", "ANSWER_COLOUR", "CONTENT_LIMIT", "ELLIPSIS", "EMBED_AUTHOR_LIMIT", "EMBED_DESCRIPTION_LIMIT",
    "EMBED_FIELDS_MAX", "EMBED_FIELD_NAME_LIMIT", "EMBED_FIELD_VALUE_LIMIT", "EMBED_FOOTER_LIMIT",
    "EMBED_TITLE_LIMIT", "EMBED_TOTAL_LIMIT", "EMPTY", "FAILURE_COLOUR", "HOW_TO_EXAMPLE", "LOOKUP_COLOUR",
    "QUESTIONS_RECORDED", "SAFE_URL", "_when", "article_embed", "articles_line", "cited_articles_lines", "clip",
    "content", "fit", "fit_all", "help_embed", "instrument_label", "linked_articles_line", "quote", "reload_summary",
    "safe", "seconds", "source_line", "sources_embed", "status_embed",
]  # fmt: skip

NEAREST_SECTIONS = 3  # sections offered with an abstention
MORE_RESULTS_MIN_SCORE = 0.1  # a passage this close to the question counts as a good further result
EXCERPT_CHARS = 320  # of a passage in a search result
PASSAGES_SHOWN_MAX = 3  # "Show passage" shows the passages of at most this many answer parts


# -- answers -------------------------------------------------------------------------------------------------------


def answer_embed(answer: Answer, knowledge: KnowledgeBase) -> discord.Embed:
    """The answer: its verbatim extract quoted, its source and articles, the knowledge-base version."""
    shown = display(answer, knowledge)
    if not shown.answered:
        return abstention_embed(shown, knowledge)
    embed = discord.Embed(
        title=safe(shown.question) or "Answer",
        description="\n".join(quote(line) for line in shown.lines),
        colour=ANSWER_COLOUR,
    )
    citation_fields(embed, shown.citations, knowledge.glossary)
    if shown.unanswered:
        embed.add_field(
            name="Not in my sources", value="\n".join(f"• {safe(part)}" for part in shown.unanswered), inline=False
        )
    for alternative in shown.alternatives[:1]:
        where = "; ".join(unique(citation_source(c) for c in alternative.citations))
        value = f"{quote(alternative.text)}\n— {safe(where)}" if where else quote(alternative.text)
        embed.add_field(name="Also relevant", value=value, inline=False)
    embed.set_footer(text=footer(knowledge, f"Quoted from my sources · confidence {shown.confidence:.0%}"))
    return fit(embed)


def abstention_embed(shown: AnswerDisplay, knowledge: KnowledgeBase) -> discord.Embed:
    """An honest "not in my sources", with the nearest sections to look at instead of a guess."""
    asked = f" to “{safe(shown.question)}”" if shown.question.strip() else ""
    lines = [f"I couldn't find an answer{asked} in my sources, so I won't guess."]
    if shown.reason:
        lines.append(f"*Why:* {safe(shown.reason)}.")
    embed = discord.Embed(
        title="I couldn't find that in my sources", description="\n".join(lines), colour=ABSTAIN_COLOUR
    )
    nearest = nearest_lines(shown.nearest)
    if nearest:
        embed.add_field(name="Nearest sections", value="\n".join(f"• {line}" for line in nearest), inline=False)
    else:
        embed.add_field(name="Try", value="`/sources` lists what I know; `/help` shows how to ask.", inline=False)
    embed.set_footer(text=footer(knowledge, "Nothing guessed"))
    return fit(embed)


def nearest_lines(nearest: Sequence[NearSection], limit: int = NEAREST_SECTIONS) -> list[str]:
    """Source lines of the distinct nearest sections, best first."""
    lines = unique(source_line(near.title, near.section, near.url) for near in nearest)
    return lines[:limit]


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
    citation_fields(embed, knowledge.citations_for(passage), knowledge.glossary)
    embed.set_footer(text=footer(knowledge, passage.id))
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
        articles = unique(articles_line(c, knowledge.glossary) for c in citations)
        if articles:
            lines.append(safe("; ".join(articles)))
        lines.append(f"`{passage.id}`")
        embed.add_field(name=f"{rank}. {safe(where)} · score {hit.score:.3f}", value="\n".join(lines), inline=False)
    embed.set_footer(text=footer(knowledge, "Passages ranked by similarity to your words"))
    return fit(embed)


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
