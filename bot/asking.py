"""Reading questions out of messages, and replying to them: the Ask cog's helpers that need no cog.

Which messages read as questions, where the bot answers, how an article number is typed, and the two courtesies of
a reply (the typing indicator, best effort, and one retry of a reply Discord answered 503).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from knowledge import INVISIBLE, CitedArticles, KnowledgeBase, article_label

from . import render
from .config import DiscordConfig
from .tree import UserFacingError

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_503_S = 0.5  # before the one retry of a reply that got 503 (an interaction's window is 3 s)
TYPING_WAIT_S = 1.0  # the typing indicator is cosmetic: the answer waits for it at most this long
QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how is are was were do does did can could should would will "
    "has have had may might must shall".split()
)
ARTICLE_INPUT = re.compile(r"^\s*(?:art(?:icle)?s?\.?\s*)?(\d{1,3}[a-z]{0,3})\b\s*(.*)$", re.IGNORECASE)


def clean_question(text: str, bot_id: int | None = None, role_id: int | None = None) -> str:
    """The question in text: the bot's user (or role) mention removed and whitespace collapsed."""
    if bot_id is not None:
        text = re.sub(rf"<@!?{bot_id}>", " ", text)
    if role_id is not None:
        text = re.sub(rf"<@&{role_id}>", " ", text)
    # Invisible characters alone are no question: "@bot" + a zero-width space gets the how-to, not an abstention.
    return " ".join(text.translate(INVISIBLE).split())


def reads_as_question(text: str) -> bool:
    """Whether a message in an answer channel reads as a question: it ends with '?' or opens with a question word."""
    stripped = text.strip().rstrip(" \"'”’)!.")
    if not stripped:
        return False
    if stripped.endswith("?"):
        return True
    first = re.match(r"[A-Za-z']+", stripped)
    return first is not None and first.group(0).lower() in QUESTION_WORDS and len(stripped.split()) >= 3


def channel_allowed(config: DiscordConfig, channel_id: int | None, parent_id: int | None, *, in_dm: bool) -> bool:
    """Whether the bot answers here: DMs when enabled; else not denied, and allowed when a list is configured."""
    if in_dm:
        return config.answer_dms
    ids = {channel_id, parent_id} - {None}  # a thread follows its parent channel
    if ids & set(config.denied_channels):
        return False
    allowed = set(config.allowed_channels) | set(config.answer_channels)
    return not config.allowed_channels or bool(ids & allowed)


def parse_article(text: str) -> tuple[str, str | None]:
    """ "11", "art. 11", "11 A/70/976" (an autocomplete value) -> ("11", "A/70/976" or None)."""
    match = ARTICLE_INPUT.match(text)
    if match is None:
        raise UserFacingError("Give an article number, like `11` or `art. 11`.")
    return match.group(1).lower(), match.group(2).strip() or None


def named_instrument(knowledge: KnowledgeBase, named: str | None) -> str | None:
    """The symbol of the instrument named (a glossary name, or a cited symbol in any case); None when none is."""
    if not named:
        return None
    symbol = knowledge.glossary.resolve_instrument(named) or knowledge.articles.symbol(named)
    if symbol is None:
        known = ", ".join(render.instrument_label(i.symbol, knowledge.glossary) for i in knowledge.glossary.instruments)
        raise UserFacingError(
            render.content(f"I don't know an instrument called “{render.safe(named)}”. I know: {known}.")
        )
    return symbol


def article_choices(cited: CitedArticles, current: str, only: str | None, limit: int) -> list[app_commands.Choice[str]]:
    """/article's number suggestions: the cited articles whose number starts with what was typed ("art. 1")."""
    typed = current.strip().lower().removeprefix("article").removeprefix("art.").removeprefix("art").strip()
    return [
        app_commands.Choice(
            name=f"{article_label(number)} — {cited.label(symbol) if symbol else 'no instrument named'}"[:100],
            value=f"{number} {symbol or ''}".strip(),
        )
        for symbol, number in cited.starting_with(typed, only, limit=limit)
    ]


def instrument_choices(cited: CitedArticles, current: str, limit: int) -> list[app_commands.Choice[str]]:
    """/article's instrument suggestions: the cited instruments whose label contains what was typed."""
    typed = current.strip().casefold()
    labels = ((symbol, cited.label(symbol)) for symbol in cited.symbols)
    return [app_commands.Choice(name=label[:100], value=s) for s, label in labels if typed in label.casefold()][:limit]


@contextlib.asynccontextmanager
async def typing_shown(channel: discord.abc.Messageable) -> AsyncIterator[None]:
    """Show that the bot is typing, best effort: a failed or slow typing request never holds back the answer."""
    typing: Any = channel.typing()
    try:
        await asyncio.wait_for(typing.__aenter__(), TYPING_WAIT_S)
    except (discord.HTTPException, TimeoutError) as error:
        log.debug("could not show typing in channel %s: %r", getattr(channel, "id", None), error)
        typing = None
    try:
        yield
    finally:
        if typing is not None:
            await typing.__aexit__(None, None, None)


async def retry_503(send: Callable[[], Awaitable[T]]) -> T:
    """send(), and once more after RETRY_503_S if Discord answers 503 (discord.py retries 500, 502 and 504 itself).

    For message replies only: an interaction callback that got any answer is spent (Discord, and the test fake,
    answer a second one with 404 Unknown interaction).
    """
    try:
        return await send()
    except discord.HTTPException as error:
        if error.status != 503:
            raise
    log.info("Discord answered 503 Service Unavailable to a reply; retrying it once")
    await asyncio.sleep(RETRY_503_S)
    return await send()
