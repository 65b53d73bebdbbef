"""Asking: mentions, DMs, answer channels, /ask, /search, /article, /sources, /help and the message menu."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import secrets
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from knowledge import Answer, KnowledgeBase, article_label

from .. import render
from ..asking import (
    article_choices,
    channel_allowed,
    clean_question,
    instrument_choices,
    named_instrument,
    parse_article,
    reads_as_question,
    retry_503,
    typing_shown,
)
from ..catalog import ASKING as ASKING_HELP
from ..catalog import LOOKUPS, catalog, commands_here, listed
from ..config import QUESTION_MAX_CHARS
from ..limits import ASKING, LIGHT, rate_limit, rate_limited
from ..storage import AnswerRow, analysed_terms
from ..tree import NO_MENTIONS, UNEXPECTED_MESSAGE, Refused, UserFacingError
from ..views import DYNAMIC_ITEMS, SEARCH_RESULTS_MAX, AnswerView

if TYPE_CHECKING:
    from ..client import QABot

log = logging.getLogger(__name__)
AUTOCOMPLETE_MAX = 25
ARTICLE_MENTIONS_MAX = 40  # sentences quoted by /article: more than one embed holds


# -- the cog -------------------------------------------------------------------------------------------------------


class Ask(commands.Cog):
    """Answer questions from the knowledge base."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        menu_name = bot.config.persona.menu_name
        self.ask_message_menu = app_commands.ContextMenu(
            name=menu_name, callback=self.ask_message, extras=listed(ASKING_HELP, "answers its text")
        )
        self.ask_message_menu.add_check(self.interaction_check)
        self.ask_message_menu.add_check(rate_limit(ASKING))

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.ask_message_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.ask_message_menu.name, type=self.ask_message_menu.type)

    # -- gates and shared steps ------------------------------------------------------------------------------------

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        """Answer only where allowed (each command's rate limit is a check of its own, after this one)."""
        channel = interaction.channel
        if not channel_allowed(
            self.bot.config.discord,
            interaction.channel_id,
            getattr(channel, "parent_id", None),
            in_dm=interaction.guild_id is None,
        ):
            where = "in direct messages" if interaction.guild_id is None else "in this channel"
            raise Refused(f"I don't answer {where}.")
        return True

    def checked_question(self, text: str) -> str:
        """The question cleaned, or a UserFacingError saying why it cannot be asked."""
        question = clean_question(text, self.bot.user.id if self.bot.user else None)
        if not question:
            raise UserFacingError(render.how_to_ask(self.bot_name, self.bot.config.persona.examples[0]))
        limit = self.bot.config.asking.max_question_length
        if len(question) > limit:
            raise UserFacingError(render.question_too_long(len(question), limit))
        return question

    @property
    def bot_name(self) -> str:
        if self.bot.config.persona.name:
            return self.bot.config.persona.name
        return self.bot.user.display_name if self.bot.user else "IOM bot"

    def answer(self, question: str) -> tuple[Answer, KnowledgeBase]:
        knowledge = self.bot.knowledge  # read once: a reload mid-answer cannot mix two versions
        return knowledge.answer(question, max_words=self.bot.config.asking.answer_words), knowledge

    def record(
        self, answer: Answer, knowledge: KnowledgeBase, guild_id: int | None, channel_id: int | None
    ) -> str | None:
        """Queue the answer for storage (never waits); its id for the feedback buttons, or None (storage off)."""
        storage = getattr(self.bot, "storage", None)
        if storage is None or answer.smalltalk:
            return None
        config = self.bot.config.storage
        doubtful = answer.abstained or answer.confidence < config.doubtful_below
        # Analysed by the writer thread, not here: the answer never waits for it. Only the analyser goes along.
        terms = functools.partial(analysed_terms, knowledge.retriever.analyzer, answer.question) if doubtful else None
        answer_id = secrets.token_hex(8)
        storage.record_answer(
            AnswerRow(
                id=answer_id,
                at=time.time(),
                kb_version=knowledge.version,
                passage_ids=" ".join(p.id for p in render.answer_passages(answer)),
                articles="; ".join(
                    f"{c.instrument or ''} {' '.join(map(article_label, c.articles))}".strip()
                    for c in answer.citations
                    if c.articles
                ),
                confidence=float(answer.confidence),
                abstained=answer.abstained,
                reason=answer.reason_code,
                guild_id=guild_id,
                channel_id=channel_id,
                doubtful=doubtful,
                question=answer.question if doubtful and config.record_questions else None,
                terms=terms,
            )
        )
        return answer_id

    def log_answer(self, via: str, started: float, answer: Answer, user_id: int) -> None:
        """One line per answer; the question itself only at debug level."""
        top = answer.parts[0].passage.id if answer.parts else (answer.hits[0].passage.id if answer.hits else None)
        latency_ms = (time.perf_counter() - started) * 1000
        usage = getattr(self.bot, "usage", None)
        if usage is not None and not answer.smalltalk:
            usage.record(latency_ms, abstained=answer.abstained)
        log.info(
            "answer via=%s user=%s latency_ms=%.1f score=%.3f confidence=%.3f abstained=%s reason=%s passage=%s",
            via,
            user_id,
            latency_ms,
            answer.score,
            answer.confidence,
            answer.abstained,
            answer.reason_code,
            top,
        )
        log.debug("question via=%s: %r", via, answer.question)
        self.bot.metrics.answered(via, abstained=answer.abstained, seconds=time.perf_counter() - started)

    async def send_answer(
        self,
        interaction: discord.Interaction,
        question: str,
        *,
        via: str,
        ephemeral: bool = False,
        asked_in: discord.Message | None = None,
    ) -> None:
        """Answer as the interaction's response; asked_in: the message answered (the message menu) to link back."""
        started = time.perf_counter()
        answer, knowledge = self.answer(question)
        if answer.smalltalk:
            await interaction.response.send_message(
                render.smalltalk_reply(self.bot_name), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            self.log_answer(via, started, answer, interaction.user.id)
            return
        answer_id = self.record(answer, knowledge, interaction.guild_id, interaction.channel_id)
        view = AnswerView(answer, knowledge.version, answer_id=answer_id)
        embed = render.answer_embed(answer, knowledge)
        if asked_in is not None:
            embed.insert_field_at(0, name="Answering", value=f"[this message]({asked_in.jump_url})", inline=False)
            embed = render.fit(embed)
        response = await interaction.response.send_message(
            embed=embed,
            ephemeral=ephemeral,
            allowed_mentions=NO_MENTIONS,
            **({"view": view} if view.children else {}),
        )
        if view.children and isinstance(response.resource, discord.InteractionMessage):
            view.message = response.resource
        self.log_answer(via, started, answer, interaction.user.id)

    # -- slash commands --------------------------------------------------------------------------------------------

    @app_commands.command(extras=listed(ASKING_HELP))
    @rate_limited(ASKING)
    @app_commands.describe(question="What do you want to know?", private="Only you see the answer")
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, QUESTION_MAX_CHARS],
        private: bool = False,
    ) -> None:
        """Ask a question about IOM and the UN-IOM Agreement; the answer quotes the sources."""
        await self.send_answer(interaction, self.checked_question(question), via="/ask", ephemeral=private)

    @app_commands.command(extras=listed(LOOKUPS))
    @rate_limited(ASKING)
    @app_commands.describe(query="Words to look for", results="How many passages (1-10)")
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, QUESTION_MAX_CHARS],
        results: app_commands.Range[int, 1, SEARCH_RESULTS_MAX] = 5,
    ) -> None:
        """Look up the passages of the sources that best match your words."""
        started = time.perf_counter()
        query = self.checked_question(query)
        knowledge = self.bot.knowledge
        hits = knowledge.search(query, results)
        embed = render.search_embed(query, hits, knowledge)
        await interaction.response.send_message(embed=embed, allowed_mentions=NO_MENTIONS)
        log.info(
            "search user=%s latency_ms=%.1f score=%.3f results=%d passage=%s",
            interaction.user.id,
            (time.perf_counter() - started) * 1000,
            hits[0].score if hits else 0.0,
            len(hits),
            hits[0].passage.id if hits else None,
        )

    @app_commands.command(extras=listed(LOOKUPS))
    @rate_limited(ASKING)
    @app_commands.describe(number="The article number, like 11", instrument="Which agreement (default: all)")
    async def article(
        self,
        interaction: discord.Interaction,
        number: app_commands.Range[str, 1, 40],
        instrument: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """What the sources say about an Agreement article: every sentence that cites it."""
        knowledge = self.bot.knowledge
        wanted, picked = parse_article(number)
        symbol = named_instrument(knowledge, instrument or picked)
        mentions = knowledge.article(wanted, symbol, limit=ARTICLE_MENTIONS_MAX)  # from a dict made at build time
        # Quoting (escaping) up to 40 sentences takes milliseconds: in a thread, off the event loop.
        embed = await asyncio.to_thread(render.article_embed, wanted, symbol, mentions, knowledge)
        await interaction.response.send_message(embed=embed, allowed_mentions=NO_MENTIONS)
        log.info(
            "article user=%s number=%s instrument=%s mentions=%d", interaction.user.id, wanted, symbol, len(mentions)
        )

    @article.autocomplete("number")
    async def number_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The articles the sources actually cite, with their instrument (at most 25, from the article index)."""
        if self.bot.limits.light.hit(interaction.user.id) is not None:
            return []
        knowledge = self.bot.knowledge
        named = getattr(interaction.namespace, "instrument", None)
        only = knowledge.glossary.resolve_instrument(named) if named else None
        return article_choices(knowledge.articles, current, only, AUTOCOMPLETE_MAX)

    @article.autocomplete("instrument")
    async def instrument_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The instruments the sources cite articles of."""
        if self.bot.limits.light.hit(interaction.user.id) is not None:
            return []
        return instrument_choices(self.bot.knowledge.articles, current, AUTOCOMPLETE_MAX)

    @app_commands.command(extras=listed(LOOKUPS))
    @rate_limited(LIGHT)
    async def sources(self, interaction: discord.Interaction) -> None:
        """The documents I answer from."""
        embed = render.sources_embed(self.bot.knowledge)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="help", extras=listed(LOOKUPS))
    @rate_limited(LIGHT)
    async def help_(self, interaction: discord.Interaction) -> None:
        """How to ask me, what I know, and what I don't do."""
        config = self.bot.config.discord
        embed = render.help_embed(
            self.bot.knowledge,
            catalog(commands_here(self.bot.tree, interaction.guild_id)),
            bot_name=self.bot_name,
            answer_dms=config.answer_dms,
            answer_channels=config.answer_channels,
            examples=self.bot.config.persona.examples,
            records_questions=self.bot.config.storage.record_questions and self.bot.config.storage.database is not None,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def ask_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Answer the selected message's text as a question (the "Ask IOM bot" message menu)."""
        if not clean_question(message.content):
            raise UserFacingError("That message has no text I can read as a question.")
        await self.send_answer(interaction, self.checked_question(message.content), via="menu", asked_in=message)

    # -- messages --------------------------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a mention, a DM (when enabled), or a question in an answer channel."""
        found = self.question_in(message)
        if found is None:
            return
        via, question = found
        try:
            await self.reply_to(message, question, via=via)
        except discord.HTTPException as error:  # deleted message, missing permission: nobody to tell
            log.warning(
                "could not reply to message %s in %s: %s %s", message.id, message.channel.id, error.status, error.text
            )
        except Exception:
            log.exception("answering message %s failed", message.id)
            await self._reply(message, UNEXPECTED_MESSAGE)

    def question_in(self, message: discord.Message) -> tuple[str, str] | None:
        """(how it was asked, the question text) if this message is for the bot, else None."""
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return None
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return None
        config = self.bot.config.discord
        in_dm = message.guild is None
        parent_id = getattr(message.channel, "parent_id", None)
        if not channel_allowed(config, message.channel.id, parent_id, in_dm=in_dm):
            return None
        if in_dm:
            return "dm", clean_question(message.content, me.id)
        role = message.guild.self_role if message.guild is not None else None
        mentioned = re.search(rf"<@!?{me.id}>", message.content) or (
            role is not None and f"<@&{role.id}>" in message.content
        )
        if mentioned:
            return "mention", clean_question(message.content, me.id, role.id if role else None)
        in_answer_channel = bool({message.channel.id, parent_id} & set(config.answer_channels))
        if in_answer_channel and reads_as_question(message.content):
            return "channel", clean_question(message.content)
        return None

    async def reply_to(self, message: discord.Message, question: str, *, via: str) -> None:
        """Reply to the message with the answer embed (or why not), showing that the bot is typing."""
        try:
            question = self.checked_question(question)
        except UserFacingError as error:
            await self._reply(message, str(error))
            return
        retry_after = self.bot.limits.asking.hit(message.author.id)
        if retry_after is not None:
            if self.bot.limits.asking.first_notice(message.author.id, retry_after):
                await self._reply(message, render.cooldown_notice(retry_after))
            else:  # told already: every reply would spend the channel's send limit, slowing everyone's answers
                log.debug("ignored message %s from user %s: still on cooldown", message.id, message.author.id)
            return
        started = time.perf_counter()
        answer, knowledge = self.answer(question)
        if answer.smalltalk:
            # Small talk and off-topic chatter: nothing at all in an answer channel, one line when addressed.
            if via != "channel":
                await self._reply(message, render.smalltalk_reply(self.bot_name))
            self.log_answer(via, started, answer, message.author.id)
            return
        async with typing_shown(message.channel):
            guild_id = message.guild.id if message.guild is not None else None
            answer_id = self.record(answer, knowledge, guild_id, message.channel.id)
            view = AnswerView(answer, knowledge.version, answer_id=answer_id)
            embed = render.answer_embed(answer, knowledge)
            sent = await retry_503(
                lambda: message.reply(
                    embed=embed,
                    mention_author=False,
                    allowed_mentions=NO_MENTIONS,
                    **({"view": view} if view.children else {}),
                )
            )
        view.message = sent
        self.log_answer(via, started, answer, message.author.id)

    @staticmethod
    async def _reply(message: discord.Message, text: str) -> None:
        try:
            await retry_503(
                lambda: message.reply(render.content(text), mention_author=False, allowed_mentions=NO_MENTIONS)
            )
        except discord.HTTPException as error:
            log.warning("could not reply to message %s: %s %s", message.id, error.status, error.text)


async def setup(bot: QABot) -> None:
    # The answer buttons are persistent: registered here, in setup_hook, so clicks after a restart still work.
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Ask(bot))
