"""The buttons under an answer: they hold ids (the version that answered, the passages' ids), never a knowledge
base, and look them up in the one answering when clicked."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord

from knowledge.answer import Answer, Hit
from knowledge.base import KnowledgeBase
from knowledge.chunking import Passage

from . import render
from .tree import NO_MENTIONS, UserFacingError, reply_error

log = logging.getLogger(__name__)

VIEW_TIMEOUT_S = 600.0  # interaction tokens last 15 minutes: the view can still disable its buttons
SEARCH_RESULTS_MAX = 10


class AnswerView(discord.ui.View):
    """Buttons under an answer: the full passage, and more results when there are several good passages.

    The view holds ids, never a knowledge base: the version that answered and the passages' ids (with their
    scores). A click looks them up in the knowledge base answering then, so an answer with buttons keeps no old
    version alive after a reload; a passage a reload removed is said to be gone.
    """

    def __init__(self, answer: Answer, version: str, *, timeout: float = VIEW_TIMEOUT_S) -> None:
        super().__init__(timeout=timeout)
        self.question = answer.question
        self.abstained = answer.abstained
        self.version = version
        self.passage_ids = tuple(passage.id for passage in render.answer_passages(answer))
        self.results = tuple((hit.passage.id, hit.score) for hit in render.more_results(answer))
        self.message: discord.Message | discord.InteractionMessage | None = None
        if not self.passage_ids or answer.abstained:
            self.remove_item(self.show_passage)
        if len(self.results) < (1 if answer.abstained else 2):
            self.remove_item(self.more_results)

    def _passages(self, knowledge: KnowledgeBase, ids: Sequence[str]) -> list[Passage]:
        found = [knowledge.passage(passage_id) for passage_id in ids]
        if any(passage is None for passage in found):
            raise UserFacingError(render.passage_gone(self.version, knowledge.version))
        return [passage for passage in found if passage is not None]

    @discord.ui.button(label="Show passage", style=discord.ButtonStyle.secondary)
    async def show_passage(self, interaction: discord.Interaction, button: discord.ui.Button[AnswerView]) -> None:
        knowledge = _knowledge(interaction)
        embeds = render.passages_embeds(self._passages(knowledge, self.passage_ids), knowledge)
        await interaction.response.send_message(embeds=embeds, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @discord.ui.button(label="More results", style=discord.ButtonStyle.secondary)
    async def more_results(self, interaction: discord.Interaction, button: discord.ui.Button[AnswerView]) -> None:
        knowledge = _knowledge(interaction)
        title = "Nearest passages (not an answer)" if self.abstained else "More results"
        shown = self.results[:SEARCH_RESULTS_MAX]
        passages = self._passages(knowledge, [passage_id for passage_id, _ in shown])
        hits = [Hit(passage, score) for passage, (_, score) in zip(passages, shown, strict=True)]
        embed = render.search_embed(self.question, hits, knowledge, title=title)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.message is not None:
            try:
                await self.message.edit(view=self, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException:
                log.debug("could not disable the buttons of message %s", self.message.id)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        await reply_error(interaction, error)


def _knowledge(interaction: discord.Interaction) -> KnowledgeBase:
    """The knowledge base answering now (the client is a QABot, or a test's stand-in for one)."""
    return interaction.client.knowledge  # type: ignore[attr-defined]
