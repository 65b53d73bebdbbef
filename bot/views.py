"""The buttons under an answer: persistent, so a click works after a restart too.

Every button carries its state in its ``custom_id`` (discord.py's persistent views: ``DynamicItem`` templates,
registered in ``setup_hook`` by the Ask extension): the version that answered and, for "Show passage", the
passage's id and a digest of its text. A click looks them up in the knowledge base answering *then*: an answer
from an older version says so, shows the current passage (or says it was removed), and the answer message is
edited once to mark it out of date when its passage changed. No knowledge base is kept alive by a button.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from typing import Any

import discord

from knowledge import Answer, Hit, KnowledgeBase, Passage

from . import render, reports
from .tree import NO_MENTIONS, UserFacingError, reply_error

log = logging.getLogger(__name__)

SEARCH_RESULTS_MAX = 10
CUSTOM_ID_MAX = 100  # Discord's limit
DIGEST_HEX = 8
VERSION = r"(?P<version>[0-9a-f]{12})"
ESCAPE = re.compile(r"\\([^A-Za-z0-9\s])")
ABSTENTION_QUESTION = re.compile(r"I couldn't find an answer to “(?P<question>.*)” in my sources", re.DOTALL)


def digest(text: str) -> str:
    """A short digest of a passage's text: a click can tell whether the passage changed since the answer."""
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_HEX]


class PassageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"iom:p:{VERSION}:(?P<digest>[0-9a-f]{{{DIGEST_HEX}}}):(?P<passage>.+)",
):
    """ "Show passage": the answer's passage in full (the current one, said so when the version changed)."""

    def __init__(self, version: str, text_digest: str, passage_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Show passage",
                style=discord.ButtonStyle.secondary,
                custom_id=f"iom:p:{version}:{text_digest}:{passage_id}",
            )
        )
        self.version, self.digest, self.passage_id = version, text_digest, passage_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> PassageButton:
        return cls(match["version"], match["digest"], match["passage"])

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        try:
            await self._show(interaction)
        except Exception as error:
            await reply_error(interaction, error)

    async def _show(self, interaction: discord.Interaction) -> None:
        knowledge = _knowledge(interaction)
        passage = knowledge.passage(self.passage_id)
        if self.version == knowledge.version:
            if passage is None:  # cannot happen for one version; said plainly all the same
                raise UserFacingError(render.passage_gone(self.version, knowledge.version))
            embeds = render.passages_embeds([passage], knowledge)
            await interaction.response.send_message(embeds=embeds, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        note = (
            f"This answer came from knowledge-base version `{self.version}`; "
            f"the current version is `{knowledge.version}`."
        )
        if passage is None:
            await interaction.response.send_message(
                render.content(note + " Its passage has since been removed from my sources. Please ask again."),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            await mark_out_of_date(interaction, knowledge.version)
            return
        changed = digest(passage.text) != self.digest
        note += " Its passage has changed since; this is the current text." if changed else " Its passage is unchanged."
        await interaction.response.send_message(
            render.content(note),
            embeds=render.passages_embeds([passage], knowledge),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        if changed:
            await mark_out_of_date(interaction, knowledge.version)


class MoreButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"iom:m:{VERSION}"):
    """ "More results": the other good passages (the nearest ones for an abstention)."""

    def __init__(
        self, version: str, *, abstained: bool = False, results: tuple[tuple[str, float], ...] | None = None
    ) -> None:
        super().__init__(
            discord.ui.Button(label="More results", style=discord.ButtonStyle.secondary, custom_id=f"iom:m:{version}")
        )
        self.version, self.abstained, self.results = version, abstained, results

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> MoreButton:
        return cls(match["version"])

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        try:
            await self._more(interaction)
        except Exception as error:
            await reply_error(interaction, error)

    async def _more(self, interaction: discord.Interaction) -> None:
        knowledge = _knowledge(interaction)
        if self.results is not None:  # the instance that went out with the answer (same process)
            question = ""
            ids = [passage_id for passage_id, _ in self.results[:SEARCH_RESULTS_MAX]]
            passages = _passages(knowledge, ids, self.version)
            hits = [Hit(p, s) for p, (_, s) in zip(passages, self.results, strict=False)]
            abstained = self.abstained
        else:  # rebuilt from its custom_id: ask the question on the message again
            question = question_of(interaction.message)
            if question is None:
                raise UserFacingError("I can't read the question of this answer any more. Please ask again.")
            answer = knowledge.answer(question)
            abstained = answer.abstained
            hits = list(render.more_results(answer))[:SEARCH_RESULTS_MAX]
        title = "Nearest passages (not an answer)" if abstained else "More results"
        embed = render.search_embed(question, hits, knowledge, title=title)
        note = None
        if self.version != knowledge.version:
            note = f"From the current knowledge base (version `{knowledge.version}`), not `{self.version}`."
        await interaction.response.send_message(note, embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)


class WhyButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"iom:w:{VERSION}"):
    """ "Why this answer?": the confidence, what matched, the runner-up and the passage, to the clicker only."""

    def __init__(self, version: str, question: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label="Why this answer?", style=discord.ButtonStyle.secondary, custom_id=f"iom:w:{version}"
            )
        )
        self.version, self.question = version, question

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> WhyButton:
        return cls(match["version"])

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        try:
            await self._why(interaction)
        except Exception as error:
            await reply_error(interaction, error)

    async def _why(self, interaction: discord.Interaction) -> None:
        knowledge = _knowledge(interaction)
        question = self.question or question_of(interaction.message)
        if question is None:
            raise UserFacingError("I can't read the question of this answer any more. Please ask again.")
        note = None
        if self.version != knowledge.version:
            note = (
                f"This answer came from version `{self.version}`; this is how the current version "
                f"`{knowledge.version}` reads the question."
            )
        embed = reports.explain_embed(knowledge.explain(question), knowledge, note)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)


class AnswerView(discord.ui.View):
    """The buttons under an answer; persistent (no timeout), every one rebuilt from its custom_id on a click."""

    def __init__(self, answer: Answer, version: str, *, answer_id: str | None = None) -> None:
        super().__init__(timeout=None)
        self.question = answer.question
        self.abstained = answer.abstained
        self.version = version
        self.passage_ids = tuple(passage.id for passage in render.answer_passages(answer))
        self.results = tuple((hit.passage.id, hit.score) for hit in render.more_results(answer))
        self.message: discord.Message | discord.InteractionMessage | None = None
        self.show_passage: PassageButton | None = None
        self.more_results: MoreButton | None = None
        self.why: WhyButton | None = None
        if self.passage_ids and not answer.abstained:
            first = render.answer_passages(answer)[0]
            button = PassageButton(version, digest(first.text), first.id)
            if len(button.custom_id) <= CUSTOM_ID_MAX:
                self.show_passage = button
                self.add_item(button)
            else:
                log.debug("passage id %r is too long for a button", first.id)
        if len(self.results) >= (1 if answer.abstained else 2):
            self.more_results = MoreButton(version, abstained=answer.abstained, results=self.results)
            self.add_item(self.more_results)
        if not answer.abstained and answer.parts:
            self.why = WhyButton(version, answer.question)
            self.add_item(self.why)
        if answer_id is not None:  # storage is on: 👍 / 👎
            self.add_item(VoteButton(answer_id, "up"))
            self.add_item(VoteButton(answer_id, "down"))

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        await reply_error(interaction, error)


def question_of(message: discord.Message | None) -> str | None:
    """The question an answer message answers, read back from its embed (as shown: markdown escapes undone)."""
    if message is None or not message.embeds:
        return None
    embed = message.embeds[0]
    match = ABSTENTION_QUESTION.search(embed.description or "")
    text = match["question"] if match else embed.title
    if not text or text == "Answer":
        return None
    return ESCAPE.sub(r"\1", text).replace("\u200b", "").removesuffix(render.ELLIPSIS).strip() or None


async def mark_out_of_date(interaction: discord.Interaction, current: str) -> None:
    """Edit the answer message once to say it is out of date (on a click only: no edit storm after a reload)."""
    message = interaction.message
    if message is None or message.flags.ephemeral or "Out of date" in (message.content or ""):
        return
    try:
        await message.edit(content=reports.OUT_OF_DATE.format(version=current), allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as error:
        log.debug("could not mark message %s out of date: %s", message.id, error.status)


def _passages(knowledge: KnowledgeBase, ids: list[str], version: str) -> list[Passage]:
    found = [knowledge.passage(passage_id) for passage_id in ids]
    if any(passage is None for passage in found):
        raise UserFacingError(render.passage_gone(version, knowledge.version))
    return [passage for passage in found if passage is not None]


def _knowledge(interaction: discord.Interaction) -> KnowledgeBase:
    """The knowledge base answering now (the client is a QABot, or a test's stand-in for one)."""
    return interaction.client.knowledge  # type: ignore[attr-defined]


# -- feedback (issue 15) ---------------------------------------------------------------------------------------------

REASONS = {
    "wrong_article": "Wrong article",
    "not_answered": "It does not answer my question",
    "other": "Something else",
}


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"iom:v:(?P<answer>[0-9a-f]{16}):(?P<vote>up|down)"
):
    """👍 / 👎 on an answer: one vote per user per answer, changeable (a later click replaces it)."""

    def __init__(self, answer_id: str, vote: str) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="👍" if vote == "up" else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"iom:v:{answer_id}:{vote}",
            )
        )
        self.answer_id, self.vote = answer_id, vote

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(match["answer"], match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        try:
            if not record_vote(interaction, self.answer_id, 1 if self.vote == "up" else -1, None):
                raise UserFacingError("Feedback is not being recorded on this bot.")
            if self.vote == "up":
                await interaction.response.send_message("Thanks: 👍 recorded.", ephemeral=True)
                return
            metrics = getattr(interaction.client, "metrics", None)
            if metrics is not None:
                metrics.voted_wrong()
            view = discord.ui.View(timeout=None)
            view.add_item(ReasonSelect(self.answer_id))
            await interaction.response.send_message(
                "Thanks: 👎 recorded. What was wrong? (optional)", view=view, ephemeral=True
            )
        except Exception as error:
            await reply_error(interaction, error)


class ReasonSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"iom:r:(?P<answer>[0-9a-f]{16})"):
    """Why a 👎: "wrong article" and the like, stored with the vote."""

    def __init__(self, answer_id: str) -> None:
        options = [discord.SelectOption(label=label, value=value) for value, label in REASONS.items()]
        super().__init__(
            discord.ui.Select(custom_id=f"iom:r:{answer_id}", placeholder="What was wrong?", options=options)
        )
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Select[Any], match: re.Match[str], /
    ) -> ReasonSelect:
        return cls(match["answer"])

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        try:
            reason = self.item.values[0] if self.item.values else "other"
            record_vote(interaction, self.answer_id, -1, reason if reason in REASONS else "other")
            await interaction.response.edit_message(content=f"Thanks: 👎 recorded ({REASONS.get(reason)}).", view=None)
        except Exception as error:
            await reply_error(interaction, error)


def record_vote(interaction: discord.Interaction, answer_id: str, vote: int, reason: str | None) -> bool:
    """Queue the vote (never waits for the database); False when storage is off."""
    from .storage import VoteRow

    storage = getattr(interaction.client, "storage", None)
    if storage is None:
        return False
    storage.record_vote(
        VoteRow(answer_id, interaction.user.id, vote, reason, time.time(), interaction.guild_id, interaction.channel_id)
    )
    return True


DYNAMIC_ITEMS = (PassageButton, MoreButton, WhyButton, VoteButton, ReasonSelect)
