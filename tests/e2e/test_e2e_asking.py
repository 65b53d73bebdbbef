"""Asking, end to end: the real bot process answers mentions, DMs, slash commands, the message menu and buttons.

One bot process serves the module; each test asks as its own fresh member and waits for its own replies.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from fake_discord import EPHEMERAL, Sent
from harness import COOLDOWN_COUNT, Harness

pytestmark = pytest.mark.asyncio(loop_scope="module")

LAISSEZ_PASSER = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."
ART_5_SENTENCE = "The IOM Director General is entitled to participate in the General Assembly plenary meetings"
ADOPTION_QUESTION = "When did the UN General Assembly adopt the resolution approving the IOM agreement?"
NEAR_MISS = "Where is the headquarters of UNHCR located?"  # on the topic, not in the sources
ADOPTION_SENTENCE = "On July 25, 2016 the UN General Assembly adopted a resolution approving a draft agreement"
SOURCE_TITLE = "International Organization for Migration to Join United Nations System"
ABSTENTION = "I couldn't find that in my sources"


def field(sent: Sent, name: str) -> str:
    """The value of the first embed field called name."""
    for embed in sent.embeds:
        for embed_field in embed.get("fields") or []:
            if embed_field["name"] == name:
                return embed_field["value"]
    raise AssertionError(f"no embed field {name!r} in {sent}")


def assert_cites_art_11(sent: Sent) -> None:
    """The answer quotes the source sentence and cites art. 11 of A/70/976."""
    assert f"> {ART_11_SENTENCE}" in sent.embeds[0]["description"], sent.text
    assert field(sent, "Agreement article") == "[2016 Agreement (A/70/976)](https://undocs.org/A/70/976) art. 11"
    assert SOURCE_TITLE in field(sent, "Source")


def assert_mentions_nobody(body: dict) -> None:
    allowed = body.get("allowed_mentions")
    assert allowed is not None, f"no allowed_mentions in {body}"
    assert allowed.get("parse") == [], allowed
    assert not allowed.get("users") and not allowed.get("roles"), allowed
    assert allowed.get("replied_user", False) is False, allowed


# -- 1. a mention in a channel -------------------------------------------------------------------------------------


async def test_mention_is_answered_with_quote_and_article(e2e: Harness) -> None:
    fake = e2e.fake
    question = await fake.send_message(fake.mention_bot(LAISSEZ_PASSER), author=e2e.new_member())

    reply = await fake.wait_for_reply(int(question["id"]))

    assert reply.channel_id == fake.world.general.id
    assert int(reply.message["message_reference"]["message_id"]) == int(question["id"])
    assert reply.embeds[0]["title"] == LAISSEZ_PASSER
    assert_cites_art_11(reply)
    assert not reply.ephemeral


async def test_message_without_mention_is_left_alone(e2e: Harness) -> None:
    fake = e2e.fake
    user = e2e.new_member()
    ignored = await fake.send_message(LAISSEZ_PASSER, author=user)
    # A later mention in the same channel is the barrier: once it is answered, the first message has been seen.
    barrier = await fake.send_message(fake.mention_bot(LAISSEZ_PASSER), author=user)

    await fake.wait_for_reply(int(barrier["id"]))

    assert not [s for s in fake.sent if s.reply_to == int(ignored["id"])]
    assert fake.identifies[-1]["intents"] & (1 << 15) == 0, "message content intent asked without answer channels"


# -- 2. DMs and abstention -----------------------------------------------------------------------------------------


async def test_dm_question_is_answered(e2e: Harness) -> None:
    fake = e2e.fake
    user = e2e.new_member()
    question = await fake.send_dm(ADOPTION_QUESTION, author=user)

    reply = await fake.wait_for_reply(int(question["id"]))

    assert reply.channel_id == fake.world.dm_channel(user).id
    assert ADOPTION_SENTENCE in reply.embeds[0]["description"]
    assert SOURCE_TITLE in field(reply, "Source")


async def test_unanswerable_question_gets_honest_abstention(e2e: Harness) -> None:
    fake = e2e.fake
    question = await fake.send_dm(NEAR_MISS, author=e2e.new_member())

    reply = await fake.wait_for_reply(int(question["id"]))

    embed = reply.embeds[0]
    assert embed["title"] == ABSTENTION
    assert "so I won't guess" in embed["description"]
    assert "headquarters" in embed["description"]  # the reason names what the sources lack
    labels = [b["label"] for b in reply.buttons if "label" in b]  # the 👍 / 👎 buttons carry an emoji only
    assert labels in ([], ["More results"])


async def test_off_topic_question_gets_one_line_and_no_quote(e2e: Harness) -> None:
    fake = e2e.fake
    question = await fake.send_dm("What is the capital of Australia?", author=e2e.new_member())

    reply = await fake.wait_for_reply(int(question["id"]))

    assert not reply.embeds and "I answer questions about my sources" in reply.text
    assert "/help" in reply.text and "Canberra" not in reply.text


# -- 3. slash commands, the message menu and the button ------------------------------------------------------------


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
async def test_ask_command(e2e: Harness, private: bool) -> None:
    fake = e2e.fake
    interaction = await fake.send_command("ask", user=e2e.new_member(), question=LAISSEZ_PASSER, private=private)

    answer = await fake.wait_for_answer(interaction)

    assert answer.kind == "response"
    assert_cites_art_11(answer)
    assert bool(answer.flags & EPHEMERAL) is private


async def test_search_command(e2e: Harness) -> None:
    fake = e2e.fake
    interaction = await fake.send_command("search", user=e2e.new_member(), query="laissez-passer", results=3)

    answer = await fake.wait_for_answer(interaction)

    embed = answer.embeds[0]
    assert embed["title"] == "Search: laissez-passer"
    assert 1 <= len(embed["fields"]) <= 3
    best = embed["fields"][0]
    assert best["name"].startswith("1. Details of the Agreement · score ")
    assert best["value"].startswith("> The agreement also establishes administrative cooperation")
    assert "2016 Agreement (A/70/976) arts. 8, 10, 11" in best["value"]


async def test_article_command(e2e: Harness) -> None:
    fake = e2e.fake
    interaction = await fake.send_command("article", user=e2e.new_member(), number="5")

    answer = await fake.wait_for_answer(interaction)

    embed = answer.embeds[0]
    assert embed["title"] == "Article 5"
    assert ART_5_SENTENCE in embed["description"]
    assert "2016 Agreement (A/70/976) art. 5" in embed["description"]
    assert "art. 11" not in embed["description"]


async def test_article_number_autocomplete(e2e: Harness) -> None:
    fake = e2e.fake
    interaction = await fake.send_autocomplete("article", "number", "5", user=e2e.new_member())

    choices = await fake.wait_for_choices(interaction)

    assert {"name": "art. 5 — 2016 Agreement (A/70/976)", "value": "5 A/70/976"} in choices
    assert all(c["value"].startswith("5") for c in choices), choices
    assert 1 <= len(choices) <= 25


async def test_article_from_autocomplete_value(e2e: Harness) -> None:
    """What the user picks in the autocomplete ("5 A/70/976") is a valid /article number."""
    fake = e2e.fake
    interaction = await fake.send_command("article", user=e2e.new_member(), number="5 A/70/976")

    answer = await fake.wait_for_answer(interaction)

    assert answer.embeds[0]["title"] == "Article 5 — 2016 Agreement (A/70/976)"
    assert ART_5_SENTENCE in answer.embeds[0]["description"]


async def test_sources_command(e2e: Harness) -> None:
    fake = e2e.fake
    interaction = await fake.send_command("sources", user=e2e.new_member())

    answer = await fake.wait_for_answer(interaction)

    assert answer.ephemeral
    assert answer.embeds[0]["title"] == "My sources"
    assert field(answer, SOURCE_TITLE).startswith("Publisher: International Justice Resource Center (IJRC)")


async def test_help_command(e2e: Harness) -> None:
    fake = e2e.fake
    interaction = await fake.send_command("help", user=e2e.new_member())

    answer = await fake.wait_for_answer(interaction)

    assert answer.ephemeral
    assert answer.embeds[0]["title"] == "How to ask me"
    assert "/ask" in field(answer, "Asking") and "direct message" in field(answer, "Asking")
    assert "/article" in field(answer, "Lookups")


async def test_message_menu_answers_a_members_message(e2e: Harness) -> None:
    fake = e2e.fake
    asker = e2e.new_member("asker")
    target = await fake.send_message(LAISSEZ_PASSER, author=asker)  # no mention: only the menu makes it a question

    interaction = await fake.send_message_command("Ask IOM bot", target, user=e2e.new_member("helper"))
    answer = await fake.wait_for_answer(interaction)

    assert_cites_art_11(answer)
    assert not answer.ephemeral


async def test_show_passage_button(e2e: Harness) -> None:
    fake = e2e.fake
    user = e2e.new_member()
    question = await fake.send_message(fake.mention_bot(LAISSEZ_PASSER), author=user)
    reply = await fake.wait_for_reply(int(question["id"]))
    # A person clicks after the bot has finished replying; the bot logs each answer once its buttons are live.
    await e2e.bot.wait_for_log(rf"answer via=mention user={user.id}\b")

    click = await fake.click(reply, "Show passage", user=user)
    passage = await fake.wait_for_answer(click)

    assert passage.ephemeral
    embed = passage.embeds[0]
    assert embed["title"] == "Details of the Agreement"
    # The whole passage, not only the answer's sentence: the sentences around it are there too.
    assert ART_11_SENTENCE in embed["description"]
    assert "See id. at art. 10." in embed["description"]
    assert (
        field(passage, "Agreement articles")
        == "[2016 Agreement (A/70/976)](https://undocs.org/A/70/976) arts. 8, 10, 11"
    )


# -- 5. nothing the bot says can ping anyone -----------------------------------------------------------------------


async def test_mentions_in_question_ping_nobody(e2e: Harness) -> None:
    fake = e2e.fake
    world = fake.world
    pings = f"@everyone @here {world.admin_role.mention} {world.admin.mention}"
    since = len(fake.requests)
    mention = await fake.send_message(fake.mention_bot(f"{pings} {LAISSEZ_PASSER}"), author=e2e.new_member())
    command = await fake.send_command("ask", user=e2e.new_member(), question=f"{pings} {LAISSEZ_PASSER}")
    abstain = await fake.send_dm(f"{pings} {NEAR_MISS}", author=e2e.new_member())

    replies = [
        await fake.wait_for_reply(int(mention["id"])),
        await fake.wait_for_answer(command),
        await fake.wait_for_reply(int(abstain["id"])),
    ]

    for reply in replies:
        assert "@everyone" in reply.text.replace("\u200b", "")  # the question is shown as asked...
        for ping in ("@everyone", "@here", world.admin_role.mention, world.admin.mention):
            assert ping not in reply.text  # ...but defused
    bodies = [body for record, body in fake.message_bodies() if record.seq > since]
    assert len(bodies) >= 3
    for body in bodies:
        assert_mentions_nobody(body)


async def test_every_message_the_bot_sent_pings_nobody(e2e: Harness) -> None:
    """All the module's traffic so far (whatever ran before), plus one answer of this test's own."""
    fake = e2e.fake
    question = await fake.send_message(fake.mention_bot(f"@everyone {LAISSEZ_PASSER}"), author=e2e.new_member())
    await fake.wait_for_reply(int(question["id"]))

    bodies = fake.message_bodies()
    assert bodies
    for _, body in bodies:
        assert_mentions_nobody(body)


# -- 6. load -------------------------------------------------------------------------------------------------------


async def test_fifty_simultaneous_asks_each_answered_within_3_seconds(e2e: Harness) -> None:
    fake = e2e.fake
    questions = [
        (LAISSEZ_PASSER, ART_11_SENTENCE),
        (ADOPTION_QUESTION, ADOPTION_SENTENCE),
        ("How many Member States does IOM have?", "165 Member States"),
    ]
    asked = [questions[n % len(questions)] for n in range(50)]
    interactions = [
        await fake.send_command("ask", user=e2e.new_member(f"user{n}"), question=question)
        for n, (question, _) in enumerate(asked)
    ]

    answers = await asyncio.gather(*(fake.wait_for_answer(i) for i in interactions))

    for interaction, answer, (question, sentence) in zip(interactions, answers, asked, strict=True):
        callback = interaction.callbacks[0]
        assert callback.status == 200, callback
        assert callback.received_at - interaction.dispatched_at < 3.0
        assert answer.embeds[0]["title"] == question
        assert sentence in answer.embeds[0]["description"]


# -- 9. odd questions ----------------------------------------------------------------------------------------------

ODD_QUESTIONS = {
    "10000-chars": ("Can IOM staff travel? " * 500)[:10_000],
    "empty": "",
    "emoji-only": "🌍🤔❓🛂",
    "zero-width": "\u200b\u200c\u200d\ufeff",
    "markdown": "```py\nprint('hi')\n```\n**Can IOM staff** travel on a UN `laissez-passer`? ||spoiler|| > quote",
}


@pytest.mark.parametrize("kind", list(ODD_QUESTIONS))
async def test_odd_question_gets_clear_reply_and_bot_keeps_answering(e2e: Harness, kind: str) -> None:
    fake = e2e.fake
    user = e2e.new_member()
    odd = await fake.send_message(fake.mention_bot(ODD_QUESTIONS[kind]), author=user)

    reply = await fake.wait_for_reply(int(odd["id"]))

    if kind == "10000-chars":
        assert reply.content == "Your question is 10000 characters long; I read at most 300. Please shorten it."
    elif kind in ("empty", "zero-width"):  # invisible characters alone are no question either
        assert reply.content.startswith("Ask me a question after the mention")
        assert "/ask" in reply.content
    elif kind == "markdown":
        assert_cites_art_11(reply)
        assert "**" not in reply.embeds[0]["title"].replace("\\*", "")  # shown as typed, not as bold
    else:  # emoji alone: no question for the sources, so the one line on what the bot answers
        assert not reply.embeds and "I answer questions about my sources" in reply.content
    assert len(reply.content) <= 2000

    follow_up = await fake.send_message(fake.mention_bot(LAISSEZ_PASSER), author=user)
    assert_cites_art_11(await fake.wait_for_reply(int(follow_up["id"])))
    assert e2e.bot.running


async def test_cooldown_tells_the_user_to_wait(e2e: Harness) -> None:
    """Over the cooldown (5 questions a minute per user in the e2e config), a notice instead of silence."""
    fake = e2e.fake
    user = e2e.new_member()
    questions = [
        await fake.send_message(fake.mention_bot(LAISSEZ_PASSER), author=user) for _ in range(COOLDOWN_COUNT + 1)
    ]

    replies = [await fake.wait_for_reply(int(q["id"])) for q in questions]

    assert sum(1 for r in replies if r.embeds and ART_11_SENTENCE in r.embeds[0]["description"]) == COOLDOWN_COUNT
    notices = [r.content for r in replies if not r.embeds]
    assert len(notices) == 1 and re.fullmatch(r"Slow down: try again in \d+ s\.", notices[0]), notices
