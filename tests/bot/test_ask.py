"""The Ask cog through its callbacks: slash commands, the message menu, mentions, DMs and answer channels."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot import render
from bot.config import Config, CooldownConfig, DiscordConfig
from bot.exts.ask import (
    DYNAMIC_ITEMS,
    AnswerView,
    Ask,
    channel_allowed,
    clean_question,
    parse_article,
    reads_as_question,
)
from bot.limits import UserCooldowns
from bot.store import KnowledgeStore
from bot.tree import UNEXPECTED_MESSAGE, UserFacingError
from knowledge.answer import Answer, AnswerPart, Hit
from knowledge.base import KnowledgeBase
from knowledge.lookups import CitedArticles

from .conftest import (
    BOT_ID,
    BOT_ROLE_ID,
    CHANNEL_ID,
    FakeBot,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
    Sent,
    invoke,
)

QUESTION = "What travel document can IOM staff use?"
NONSENSE = "zzqx blorfle wibbet?"
MENTIONS = ["@everyone", "@here", "<@123456789012345678>", "<@&123456789012345678>"]


def with_discord(config: Config, **changes: object) -> Config:
    return dataclasses.replace(config, discord=dataclasses.replace(config.discord, **changes))


def with_asking(config: Config, **changes: object) -> Config:
    return dataclasses.replace(config, asking=dataclasses.replace(config.asking, **changes))


def answered_text(sent: Sent) -> str:
    """The extract as displayed (block quote markers and escapes removed)."""
    description = sent.embed.description or ""
    return re.sub(r"\\(.)", r"\1", " ".join(line.removeprefix("> ") for line in description.split("\n")))


def assert_cannot_ping(sent: Sent) -> None:
    assert sent.allowed_mentions is not None
    assert sent.allowed_mentions.to_dict() == {"parse": []}  # replied_user left out means false
    assert not sent.allowed_mentions.replied_user
    for mention in MENTIONS:
        assert mention not in sent.text


def guild_message(content: str, **kwargs: object) -> FakeMessage:
    return FakeMessage(content, guild=FakeGuild(self_role=FakeRole(BOT_ROLE_ID)), **kwargs)  # type: ignore[arg-type]


# -- pure helpers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "question"),
    [
        (f"<@{BOT_ID}> what is IOM?", "what is IOM?"),
        (f"<@!{BOT_ID}>   what\n\tis   IOM? ", "what is IOM?"),
        (f"what is <@{BOT_ID}> IOM", "what is IOM"),
        (f"<@&{BOT_ROLE_ID}> hi", "hi"),
        (f"<@{BOT_ID}>", ""),
        ("<@111111111111111111> who?", "<@111111111111111111> who?"),
    ],
)
def test_clean_question_strips_only_the_bot_mention(text: str, question: str) -> None:
    assert clean_question(text, BOT_ID, BOT_ROLE_ID) == question


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("When was the agreement signed?", True),
        ("what does article 11 say", True),
        ("the agreement says what?)", True),
        ("Does IOM have observers", True),
        ("thanks everyone", False),
        ("is it", False),
        ("", False),
        ("lol.", False),
    ],
)
def test_reads_as_question(text: str, expected: bool) -> None:
    assert reads_as_question(text) is expected


@pytest.mark.parametrize(
    ("config", "channel", "parent", "in_dm", "allowed"),
    [
        (DiscordConfig(), 1, None, False, True),
        (DiscordConfig(denied_channels=(1,)), 1, None, False, False),
        (DiscordConfig(denied_channels=(9,)), 1, 9, False, False),  # a thread of a denied channel
        (DiscordConfig(allowed_channels=(2,)), 1, None, False, False),
        (DiscordConfig(allowed_channels=(2,)), 2, None, False, True),
        (DiscordConfig(allowed_channels=(2,)), 5, 2, False, True),
        (DiscordConfig(allowed_channels=(2,), answer_channels=(3,)), 3, None, False, True),
        (DiscordConfig(allowed_channels=(3,), denied_channels=(3,)), 3, None, False, False),
        (DiscordConfig(answer_dms=True), 1, None, True, True),
        (DiscordConfig(answer_dms=False), 1, None, True, False),
    ],
)
def test_channel_allowed(config: DiscordConfig, channel: int, parent: int | None, in_dm: bool, allowed: bool) -> None:
    assert channel_allowed(config, channel, parent, in_dm=in_dm) is allowed


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("11", ("11", None)), ("art. 11", ("11", None)), ("Article 5", ("5", None)), ("2 E/1996/90", ("2", "E/1996/90"))],
)
def test_parse_article(text: str, parsed: tuple[str, str | None]) -> None:
    assert parse_article(text) == parsed


def test_parse_article_refuses_words() -> None:
    with pytest.raises(UserFacingError, match="Give an article number"):
        parse_article("the one about travel")


def test_cooldown_counts_per_user_and_recovers() -> None:
    now = [1000.0]
    cooldowns = UserCooldowns(2, 10, clock=lambda: now[0])

    assert cooldowns.hit(1) is None
    assert cooldowns.hit(1) is None
    assert cooldowns.hit(1) == pytest.approx(10)
    assert cooldowns.hit(2) is None  # another user has their own bucket
    now[0] += 10.5
    assert cooldowns.hit(1) is None


def test_cooldown_count_zero_is_off() -> None:
    cooldowns = UserCooldowns(0, 10)
    assert all(cooldowns.hit(1) is None for _ in range(50))


# -- /ask -----------------------------------------------------------------------------------------------------------


async def test_ask_answers_with_the_same_answer_as_the_knowledge_base(
    ask_cog: Ask, bot: FakeBot, kb: KnowledgeBase
) -> None:
    expected = kb.answer(QUESTION, max_words=bot.config.asking.answer_words)
    assert not expected.abstained

    [sent] = await invoke(ask_cog, ask_cog.ask, FakeInteraction(bot, command=ask_cog.ask), question=QUESTION)

    assert sent.kind == "response" and not sent.ephemeral
    assert answered_text(sent) == expected.text
    assert sent.embed.title == QUESTION
    assert kb.version in (sent.embed.footer.text or "")
    assert "Show passage" in sent.buttons
    assert_cannot_ping(sent)


async def test_ask_private_is_ephemeral(ask_cog: Ask, bot: FakeBot) -> None:
    interaction = FakeInteraction(bot, command=ask_cog.ask)

    [sent] = await invoke(ask_cog, ask_cog.ask, interaction, question=QUESTION, private=True)

    assert sent.ephemeral


async def test_ask_abstains_honestly(ask_cog: Ask, bot: FakeBot) -> None:
    interaction = FakeInteraction(bot, command=ask_cog.ask)
    [sent] = await invoke(ask_cog, ask_cog.ask, interaction, question="Where is the headquarters of UNHCR located?")

    assert sent.embed.title == "I couldn't find that in my sources"
    assert "so I won't guess" in sent.text
    assert "Show passage" not in sent.buttons


async def test_small_talk_and_off_topic_get_one_line_and_no_quote(ask_cog: Ask, bot: FakeBot) -> None:
    for question in ("thanks bot!", NONSENSE):
        [sent] = await invoke(ask_cog, ask_cog.ask, FakeInteraction(bot, command=ask_cog.ask), question=question)
        assert not sent.embeds and sent.ephemeral
        assert "I answer questions about my sources" in sent.text and "/help" in sent.text


async def test_a_question_over_the_limit_gets_a_clear_message(
    make_bot: Callable[[Config], FakeBot], config: Config
) -> None:
    bot = make_bot(with_asking(config, max_question_length=20))
    cog = Ask(bot)  # type: ignore[arg-type]

    [sent] = await invoke(cog, cog.ask, FakeInteraction(bot, command=cog.ask), question="x" * 25)

    assert sent.ephemeral
    assert sent.content == "Your question is 25 characters long; I read at most 20. Please shorten it."


async def test_a_question_of_only_whitespace_gets_the_how_to(ask_cog: Ask, bot: FakeBot) -> None:
    [sent] = await invoke(ask_cog, ask_cog.ask, FakeInteraction(bot, command=ask_cog.ask), question="  \n ")

    assert sent.ephemeral and sent.content == render.how_to_ask("IOM bot")


async def test_cooldown_answers_try_again_ephemerally(make_bot: Callable[[Config], FakeBot], config: Config) -> None:
    bot = make_bot(with_asking(config, cooldown=CooldownConfig(count=1, seconds=30)))
    cog = Ask(bot)  # type: ignore[arg-type]

    [first] = await invoke(cog, cog.ask, FakeInteraction(bot, command=cog.ask), question=QUESTION)
    [second] = await invoke(cog, cog.search, FakeInteraction(bot, command=cog.search), query=QUESTION)
    [help_] = await invoke(cog, cog.help_, FakeInteraction(bot, command=cog.help_))

    assert first.embeds and not first.ephemeral
    assert second.ephemeral and second.content in {"Slow down: try again in 30 s.", "Slow down: try again in 29 s."}
    assert help_.embeds  # /help is not rate-limited


@pytest.mark.parametrize(
    ("changes", "guild_id", "message"),
    [
        ({"denied_channels": (CHANNEL_ID,)}, 300000000000000001, "I don't answer in this channel."),
        ({"allowed_channels": (1,)}, 300000000000000001, "I don't answer in this channel."),
        ({"answer_dms": False}, None, "I don't answer in direct messages."),
    ],
)
async def test_commands_respect_allowed_channels_and_dms(
    make_bot: Callable[[Config], FakeBot],
    config: Config,
    changes: dict[str, object],
    guild_id: int | None,
    message: str,
) -> None:
    bot = make_bot(with_discord(config, **changes))
    cog = Ask(bot)  # type: ignore[arg-type]
    interaction = FakeInteraction(bot, command=cog.ask, guild_id=guild_id)

    [sent] = await invoke(cog, cog.ask, interaction, question=QUESTION)

    assert sent.ephemeral and sent.content == message and not sent.embeds


@pytest.mark.parametrize("mention", MENTIONS)
async def test_ask_with_mentions_cannot_ping(ask_cog: Ask, bot: FakeBot, mention: str) -> None:
    interaction = FakeInteraction(bot, command=ask_cog.ask)

    [sent] = await invoke(
        ask_cog, ask_cog.ask, interaction, question=f"{mention} what travel document can IOM staff use?"
    )

    assert_cannot_ping(sent)


# -- buttons --------------------------------------------------------------------------------------------------------


async def test_show_passage_sends_the_full_passage_with_its_citations(
    ask_cog: Ask, bot: FakeBot, kb: KnowledgeBase
) -> None:
    [sent] = await invoke(ask_cog, ask_cog.ask, FakeInteraction(bot, command=ask_cog.ask), question=QUESTION)
    view = sent.view
    assert isinstance(view, AnswerView)
    click = FakeInteraction(bot)

    await view.show_passage.callback(click)  # type: ignore[call-arg]

    [shown] = click.outbox
    passage = kb.passage(view.passage_ids[0])
    assert shown.ephemeral
    assert shown.embeds[0].description == render.quote(passage.text)
    assert "Agreement article" in shown.text
    assert_cannot_ping(shown)


async def test_more_results_lists_the_other_good_passages(bot: FakeBot, kb: KnowledgeBase) -> None:
    part = AnswerPart("t", kb.passages[1], ())
    hits = (Hit(kb.passages[1], 0.5), Hit(kb.passages[2], 0.3), Hit(kb.passages[3], 0.01))
    view = AnswerView(Answer("q", (part,), False, 0.5, hits), kb.version)
    click = FakeInteraction(bot)

    await view.more_results.callback(click)  # type: ignore[call-arg]

    [shown] = click.outbox
    assert shown.ephemeral and shown.embed.title == "More results"
    assert [item.value.split("`")[-2] for item in shown.embed.fields] == [kb.passages[1].id, kb.passages[2].id]


def test_one_good_passage_offers_no_more_results(kb: KnowledgeBase) -> None:
    part = AnswerPart("t", kb.passages[1], ())
    view = AnswerView(
        Answer("q", (part,), False, 0.5, (Hit(kb.passages[1], 0.5), Hit(kb.passages[2], 0.01))), kb.version
    )

    assert [item.item.label for item in view.children] == ["Show passage", "Why this answer?"]  # type: ignore[attr-defined]


async def test_an_abstention_offers_the_nearest_passages_not_an_answer(bot: FakeBot, kb: KnowledgeBase) -> None:
    view = AnswerView(Answer("q", (), True, 0.05, (Hit(kb.passages[4], 0.05),), reason="r"), kb.version)
    assert [item.item.label for item in view.children] == ["More results"]  # type: ignore[attr-defined]
    click = FakeInteraction(bot)

    await view.more_results.callback(click)  # type: ignore[call-arg]

    assert click.outbox[0].embed.title == "Nearest passages (not an answer)"


async def test_the_buttons_are_persistent_and_carry_their_state_in_custom_ids(ask_cog: Ask, bot: FakeBot) -> None:
    message = guild_message(f"<@{BOT_ID}> {QUESTION}")
    await ask_cog.on_message(message)  # type: ignore[arg-type]
    view = message.outbox[0].view
    assert isinstance(view, AnswerView)

    assert view.timeout is None and view.is_persistent()
    for item in view.children:
        custom_id = item.custom_id  # type: ignore[attr-defined]
        assert len(custom_id) <= 100 and bot.store.current.version in custom_id
        [factory] = [f for f in DYNAMIC_ITEMS if f.__discord_ui_compiled_template__.fullmatch(custom_id)]
        match = factory.__discord_ui_compiled_template__.fullmatch(custom_id)
        rebuilt = await factory.from_custom_id(FakeInteraction(bot), item.item, match)  # type: ignore[arg-type]
        assert rebuilt.custom_id == custom_id  # what a click after a restart rebuilds is the same button


async def test_a_failing_button_gets_the_generic_reply(
    ask_cog: Ask, bot: FakeBot, caplog: pytest.LogCaptureFixture
) -> None:
    answer, knowledge = ask_cog.answer(QUESTION)
    view = AnswerView(answer, knowledge.version)
    click = FakeInteraction(bot)

    await view.on_error(click, RuntimeError("secret internals"), view.children[0])  # type: ignore[arg-type]

    assert click.outbox[0].content == UNEXPECTED_MESSAGE and click.outbox[0].ephemeral
    assert "secret internals" not in click.outbox[0].text


# -- the other commands ---------------------------------------------------------------------------------------------


async def test_search_lists_the_top_passages(ask_cog: Ask, bot: FakeBot, kb: KnowledgeBase) -> None:
    interaction = FakeInteraction(bot, command=ask_cog.search)

    [sent] = await invoke(ask_cog, ask_cog.search, interaction, query="laissez-passer travel document", results=2)

    hits = kb.search("laissez-passer travel document", 2)
    assert [item.name for item in sent.embed.fields] == [
        f"{n}. {hit.passage.section} · score {hit.score:.3f}" for n, hit in enumerate(hits, start=1)
    ]


async def test_article_quotes_what_cites_it(ask_cog: Ask, bot: FakeBot) -> None:
    interaction = FakeInteraction(bot, command=ask_cog.article)

    [sent] = await invoke(ask_cog, ask_cog.article, interaction, number="11", instrument="2016")

    assert sent.embed.title == "Article 11 — 2016 Agreement (A/70/976)"
    assert "laissez-passer" in sent.text


async def test_article_from_autocomplete_value_carries_its_instrument(ask_cog: Ask, bot: FakeBot) -> None:
    interaction = FakeInteraction(bot, command=ask_cog.article)

    [sent] = await invoke(ask_cog, ask_cog.article, interaction, number="2 E/1996/90", instrument=None)

    assert sent.embed.title == "Article 2 — 1996 Cooperation Agreement (E/1996/90)"


async def test_article_never_cited_is_answered_honestly(ask_cog: Ask, bot: FakeBot) -> None:
    interaction = FakeInteraction(bot, command=ask_cog.article)

    [sent] = await invoke(ask_cog, ask_cog.article, interaction, number="99", instrument=None)

    assert (sent.embed.description or "").startswith("My sources never cite article 99, so I can't tell you")


async def test_article_with_an_unknown_instrument_says_which_it_knows(ask_cog: Ask, bot: FakeBot) -> None:
    interaction = FakeInteraction(bot, command=ask_cog.article)

    [sent] = await invoke(ask_cog, ask_cog.article, interaction, number="3", instrument="@everyone treaty")

    assert sent.ephemeral
    assert sent.content is not None and sent.content.startswith("I don't know an instrument called")
    assert "2016 Agreement (A/70/976)" in sent.content
    assert_cannot_ping(sent)


async def test_number_autocomplete_offers_the_cited_articles(ask_cog: Ask, bot: FakeBot, kb: KnowledgeBase) -> None:
    choices = await ask_cog.number_autocomplete(FakeInteraction(bot), "")  # type: ignore[arg-type]

    assert len(choices) == min(25, len(kb.cited_articles()))
    assert app_commands.Choice(name="art. 11 — 2016 Agreement (A/70/976)", value="11 A/70/976") in choices
    assert all(len(choice.name) <= 100 for choice in choices)


async def test_number_autocomplete_filters_by_typed_number_and_instrument(ask_cog: Ask, bot: FakeBot) -> None:
    interaction = FakeInteraction(bot, namespace={"instrument": "1996"})

    choices = await ask_cog.number_autocomplete(interaction, "art. 2")  # type: ignore[arg-type]

    assert [choice.value for choice in choices] == ["2 E/1996/90"]


async def test_autocomplete_never_offers_more_than_25(ask_cog: Ask, bot: FakeBot, kb: KnowledgeBase) -> None:
    many = dataclasses.replace(kb)
    object.__setattr__(many, "articles", CitedArticles([("A/70/976", str(n)) for n in range(1, 80)], kb.glossary))
    bot.store = KnowledgeStore(knowledge=many)

    choices = await ask_cog.number_autocomplete(FakeInteraction(bot), "")  # type: ignore[arg-type]
    ones = await ask_cog.number_autocomplete(FakeInteraction(bot), "art. 1")  # type: ignore[arg-type]

    assert len(choices) == 25
    assert choices[0].value == "1 A/70/976"
    assert [c.value.split()[0] for c in ones] == ["1", *map(str, range(10, 20))]  # in number order


async def test_instrument_autocomplete_names_instruments(ask_cog: Ask, bot: FakeBot) -> None:
    choices = await ask_cog.instrument_autocomplete(FakeInteraction(bot), "1996")  # type: ignore[arg-type]

    assert choices == [app_commands.Choice(name="1996 Cooperation Agreement (E/1996/90)", value="E/1996/90")]


async def test_sources_lists_the_documents(ask_cog: Ask, bot: FakeBot, kb: KnowledgeBase) -> None:
    [sent] = await invoke(ask_cog, ask_cog.sources, FakeInteraction(bot, command=ask_cog.sources))

    assert sent.ephemeral
    assert [item.name for item in sent.embed.fields] == [document.title for document in kb.documents]


async def test_help_explains_asking_and_limits(ask_cog: Ask, bot: FakeBot) -> None:
    [sent] = await invoke(ask_cog, ask_cog.help_, FakeInteraction(bot, command=ask_cog.help_))

    assert sent.ephemeral
    assert "What I don't do" in sent.text and "/ask" in sent.text


async def test_the_message_menu_answers_the_selected_text(ask_cog: Ask, bot: FakeBot, kb: KnowledgeBase) -> None:
    menu = ask_cog.ask_message_menu
    selected = guild_message(QUESTION)

    [sent] = await invoke(ask_cog, menu, FakeInteraction(bot, command=menu), message=selected)

    assert answered_text(sent) == kb.answer(QUESTION, max_words=bot.config.asking.answer_words).text
    assert_cannot_ping(sent)


async def test_the_message_menu_on_an_empty_message_says_so(ask_cog: Ask, bot: FakeBot) -> None:
    menu = ask_cog.ask_message_menu

    [sent] = await invoke(ask_cog, menu, FakeInteraction(bot, command=menu), message=guild_message(""))

    assert sent.ephemeral and sent.content == "That message has no text I can read as a question."


async def test_an_unexpected_error_is_logged_and_never_shown(
    ask_cog: Ask, bot: FakeBot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(question: str) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(ask_cog, "answer", explode)

    with caplog.at_level(logging.ERROR, logger="bot.tree"):
        [sent] = await invoke(ask_cog, ask_cog.ask, FakeInteraction(bot, command=ask_cog.ask), question=QUESTION)

    assert sent.ephemeral and sent.content == UNEXPECTED_MESSAGE
    [record] = caplog.records
    assert record.exc_info is not None and "hunter2" in str(record.exc_info[1])


async def test_one_log_line_per_answer_without_the_question(
    ask_cog: Ask, bot: FakeBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.exts.ask"):
        await invoke(ask_cog, ask_cog.ask, FakeInteraction(bot, command=ask_cog.ask), question=QUESTION)

    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert line.startswith("answer via=/ask ")
    for key in ("latency_ms=", "score=", "abstained=False", "passage=ijrc-iom-joins-un-system#"):
        assert key in line
    assert "travel document" not in line


# -- messages -------------------------------------------------------------------------------------------------------


async def test_a_mention_gets_a_reply_with_the_answer_while_typing(
    ask_cog: Ask, bot: FakeBot, kb: KnowledgeBase
) -> None:
    message = guild_message(f"<@{BOT_ID}> {QUESTION}")

    await ask_cog.on_message(message)  # type: ignore[arg-type]

    [sent] = message.outbox
    assert sent.kind == "reply" and sent.reference is message
    assert answered_text(sent) == kb.answer(QUESTION, max_words=bot.config.asking.answer_words).text
    assert message.channel.typing_shown == 1
    assert_cannot_ping(sent)


async def test_a_mention_of_the_bot_role_counts(ask_cog: Ask) -> None:
    message = guild_message(f"<@&{BOT_ROLE_ID}> {QUESTION}")

    await ask_cog.on_message(message)  # type: ignore[arg-type]

    assert message.outbox[0].embed.title == QUESTION


async def test_an_empty_mention_gets_the_how_to(ask_cog: Ask) -> None:
    message = guild_message(f"<@{BOT_ID}>  ")

    await ask_cog.on_message(message)  # type: ignore[arg-type]

    [sent] = message.outbox
    assert sent.content == render.how_to_ask("IOM bot") and not sent.embeds
    assert message.channel.typing_shown == 0


async def test_a_long_mention_gets_the_limit(make_bot: Callable[[Config], FakeBot], config: Config) -> None:
    bot = make_bot(with_asking(config, max_question_length=10))
    cog = Ask(bot)  # type: ignore[arg-type]
    message = guild_message(f"<@{BOT_ID}> {QUESTION}")

    await cog.on_message(message)  # type: ignore[arg-type]

    assert (
        message.outbox[0].content
        == f"Your question is {len(QUESTION)} characters long; I read at most 10. Please shorten it."
    )


async def test_mentions_share_the_cooldown(make_bot: Callable[[Config], FakeBot], config: Config) -> None:
    bot = make_bot(with_asking(config, cooldown=CooldownConfig(count=1, seconds=45)))
    cog = Ask(bot)  # type: ignore[arg-type]
    first, second = guild_message(f"<@{BOT_ID}> {QUESTION}"), guild_message(f"<@{BOT_ID}> {QUESTION}")

    await cog.on_message(first)  # type: ignore[arg-type]
    await cog.on_message(second)  # type: ignore[arg-type]

    assert first.outbox[0].embeds
    assert second.outbox[0].content in {"Slow down: try again in 45 s.", "Slow down: try again in 44 s."}


@pytest.mark.parametrize(
    "author", [FakeUser(id=BOT_ID, name="IOM bot", bot=True), FakeUser(id=5, name="other bot", bot=True)]
)
async def test_bots_and_itself_are_ignored(ask_cog: Ask, author: FakeUser) -> None:
    message = guild_message(f"<@{BOT_ID}> {QUESTION}", author=author)

    await ask_cog.on_message(message)  # type: ignore[arg-type]

    assert message.outbox == []


async def test_messages_without_a_mention_are_ignored(ask_cog: Ask) -> None:
    message = guild_message(QUESTION)

    await ask_cog.on_message(message)  # type: ignore[arg-type]

    assert message.outbox == []


async def test_system_messages_are_ignored(ask_cog: Ask) -> None:
    message = guild_message(f"<@{BOT_ID}> {QUESTION}", message_type=discord.MessageType.pins_add)

    await ask_cog.on_message(message)  # type: ignore[arg-type]

    assert message.outbox == []


async def test_a_mention_in_a_denied_channel_is_ignored(make_bot: Callable[[Config], FakeBot], config: Config) -> None:
    cog = Ask(make_bot(with_discord(config, denied_channels=(CHANNEL_ID,))))  # type: ignore[arg-type]
    message = guild_message(f"<@{BOT_ID}> {QUESTION}")

    await cog.on_message(message)  # type: ignore[arg-type]

    assert message.outbox == []


@pytest.mark.parametrize(("answer_dms", "replies"), [(True, 1), (False, 0)])
async def test_dms_are_answered_when_enabled(
    make_bot: Callable[[Config], FakeBot], config: Config, answer_dms: bool, replies: int
) -> None:
    cog = Ask(make_bot(with_discord(config, answer_dms=answer_dms)))  # type: ignore[arg-type]
    message = FakeMessage(QUESTION, guild=None)

    await cog.on_message(message)  # type: ignore[arg-type]

    assert len(message.outbox) == replies
    assert all(sent.embeds for sent in message.outbox)


@pytest.mark.parametrize(
    ("content", "replies"),
    [(QUESTION, 1), ("thanks, that helps", 0), ("hi everyone, how are you?", 0), ("what is the capital of peru?", 0)],
)
async def test_answer_channels_answer_every_question(
    make_bot: Callable[[Config], FakeBot], config: Config, content: str, replies: int
) -> None:
    cog = Ask(make_bot(with_discord(config, answer_channels=(CHANNEL_ID,))))  # type: ignore[arg-type]
    message = guild_message(content)

    await cog.on_message(message)  # type: ignore[arg-type]

    assert len(message.outbox) == replies


@pytest.mark.parametrize("content", ["hi!", "thank you so much", "what is the capital of peru?"])
async def test_small_talk_in_a_mention_gets_one_line_without_a_quote(ask_cog: Ask, content: str) -> None:
    message = guild_message(f"<@{BOT_ID}> {content}")

    await ask_cog.on_message(message)  # type: ignore[arg-type]

    [sent] = message.outbox
    assert not sent.embeds and "I answer questions about my sources" in sent.text


@pytest.mark.parametrize("mention", MENTIONS)
async def test_a_mention_reply_cannot_ping(ask_cog: Ask, mention: str) -> None:
    for content in (f"<@{BOT_ID}> {mention} {QUESTION}", f"<@{BOT_ID}> {mention} {NONSENSE}"):
        message = guild_message(content)
        await ask_cog.on_message(message)  # type: ignore[arg-type]
        assert_cannot_ping(message.outbox[0])


async def test_a_reply_that_discord_refuses_is_logged_not_raised(
    ask_cog: Ask, caplog: pytest.LogCaptureFixture
) -> None:
    message = guild_message(f"<@{BOT_ID}> {QUESTION}")
    response = type("Response", (), {"status": 403, "reason": "Forbidden"})()
    message.fail_with = discord.Forbidden(response, {"message": "Missing Permissions", "code": 50013})  # type: ignore[arg-type]

    with caplog.at_level(logging.WARNING, logger="bot.exts.ask"):
        await ask_cog.on_message(message)  # type: ignore[arg-type]

    assert "could not reply to message" in caplog.text


async def test_a_bug_while_answering_a_mention_replies_generically(
    ask_cog: Ask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(question: str) -> None:
        raise RuntimeError("internal detail")

    monkeypatch.setattr(ask_cog, "answer", explode)
    message = guild_message(f"<@{BOT_ID}> {QUESTION}")

    with caplog.at_level(logging.ERROR):
        await ask_cog.on_message(message)  # type: ignore[arg-type]

    assert message.outbox[0].content == UNEXPECTED_MESSAGE
    assert "internal detail" in caplog.text  # in the log, with its traceback, never in the reply


async def test_the_answer_comes_from_the_knowledge_base_serving_now(
    ask_cog: Ask, bot: FakeBot, kb: KnowledgeBase
) -> None:
    """The cog reads bot.knowledge on every question: a reload is seen by the next one."""
    assert ask_cog.answer(QUESTION)[1] is kb
    replacement = type(bot.store)(None, knowledge=KnowledgeBase.load())
    bot.store = replacement

    assert ask_cog.answer(QUESTION)[1] is replacement.current


async def test_answers_use_the_configured_answer_words(
    make_bot: Callable[[Config], FakeBot], config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    cog = Ask(make_bot(with_asking(config, answer_words=17)))  # type: ignore[arg-type]
    seen: list[int] = []
    real = KnowledgeBase.answer

    def spy(self: KnowledgeBase, question: str, *, max_words: int) -> Answer:
        seen.append(max_words)
        return real(self, question, max_words=max_words)

    monkeypatch.setattr(KnowledgeBase, "answer", spy)

    cog.answer(QUESTION)

    assert seen == [17]


def test_a_question_of_invisible_characters_only_is_empty() -> None:
    from bot.exts.ask import clean_question

    assert clean_question("<@42> \u200b\u200d\ufeff", bot_id=42) == ""
    assert clean_question("<@42> what is\u200b iom", bot_id=42) == "what is iom"


async def test_a_click_after_a_reload_that_removed_the_passage_says_it_is_gone(
    ask_cog: Ask, bot: FakeBot, kb: KnowledgeBase, sources_copy: Path
) -> None:
    [sent] = await invoke(ask_cog, ask_cog.ask, FakeInteraction(bot, command=ask_cog.ask), question=QUESTION)
    view = sent.view
    assert isinstance(view, AnswerView)
    for path in sources_copy.glob("*.md"):
        path.unlink()
    (sources_copy / "other.txt").write_text("Other notes\n\nIOM has an office in Geneva.\n", encoding="utf-8")
    bot.store = KnowledgeStore(sources_copy, knowledge=KnowledgeBase.load(sources_copy))
    click = FakeInteraction(bot)

    try:
        await view.show_passage.callback(click)  # type: ignore[call-arg]
    except UserFacingError as error:
        await view.on_error(click, error, view.show_passage)  # type: ignore[arg-type]

    [shown] = click.outbox
    assert shown.ephemeral and "has since been removed" in shown.text and kb.version in shown.text
