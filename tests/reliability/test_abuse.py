"""Abuse: mentions in everything the bot echoes ping no one; one user's spam meets the cooldown without costing
anyone else; only admins reload, checked for every way of being (or not being) an admin, in a server and in a DM.

One bot process serves the module. Its guild has a configured admin role with no permissions, a Manage Server
role, an Administrator role and a role with lesser permissions; one more admin is configured by user id.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import rigs
from fake_discord import ADMINISTRATOR, CALLBACK_DEFERRED_MESSAGE, FakeDiscord, Role, Sent, User
from harness import COOLDOWN_COUNT, BotProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTION = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."
NOT_ADMIN = "Only admins can use this command."
SERVER_ONLY = "That command works only in a server."
RELOADED = re.compile(r"Reloaded the knowledge base: version `[0-9a-f]{12}` ")
COOLDOWN_NOTICE = re.compile(r"Slow down: try again in \d+ s\.")
ZWSP = "\u200b"


@dataclass
class Rig:
    fake: FakeDiscord
    bot: BotProcess
    sources: Path
    admin_role: Role  # configured in discord.admin_roles, with no permissions at all
    users: dict[str, User]  # by kind

    def member(self, name: str = "m") -> User:
        return self.fake.world.new_member(name)

    async def reload(self, user: User) -> Sent:
        interaction = await self.fake.send_command("kb reload", user=user)
        return await self.fake.wait_for_answer(interaction)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    directory = tmp_path_factory.mktemp("abuse")
    async with FakeDiscord() as fake:
        admin_role = rigs.add_role(fake, "Bot admins")
        users = {
            "configured role": rigs.new_member(fake, "role-admin", admin_role),
            "configured user id": rigs.new_member(fake, "id-admin"),
            "Manage Server": rigs.new_member(fake, "manager", rigs.add_role(fake, "Moderators", rigs.MANAGE_GUILD)),
            "Administrator": rigs.new_member(fake, "administrator", rigs.add_role(fake, "Owners", ADMINISTRATOR)),
            "lesser permissions": rigs.new_member(fake, "helper", rigs.add_role(fake, "Helpers", rigs.MANAGE_MESSAGES)),
            "no role": rigs.new_member(fake, "plain"),
        }
        sources = rigs.copy_sources(directory / "sources")
        discord = {"admin_roles": [admin_role.id], "admin_users": [users["configured user id"].id]}
        bot = await rigs.start(fake, directory, sources, discord=discord)
        try:
            yield Rig(fake, bot, sources, admin_role, users)
        finally:
            await rigs.stop(bot)


def injections(rig: Rig) -> list[str]:
    """Every kind of mention: everyone, here, a user, a nickname, a role (this guild's ids, and a short 2015 one)."""
    world = rig.fake.world
    return [
        "@everyone",
        "@here",
        f"<@{world.owner.id}>",
        f"<@!{world.admin.id}>",
        f"<@&{rig.admin_role.id}>",
        f"<@&{world.everyone_role.id}>",
        "<@&1234567890123456>",  # 16 digits: discord.utils.escape_mentions misses these
    ]


def assert_defused(text: str, injected: list[str]) -> None:
    """Each injected mention is shown, defused by a zero-width space after its '@'."""
    for mention in injected:
        assert mention not in text, f"{mention!r} live in {text!r}"
        assert mention.replace("@", "@" + ZWSP, 1) in text, f"{mention!r} not shown defused in {text!r}"


# -- only admins reload --------------------------------------------------------------------------------------------


ADMIN_KINDS = ["configured role", "configured user id", "Manage Server", "Administrator"]
MEMBER_KINDS = ["lesser permissions", "no role"]


@pytest.mark.parametrize("kind", ADMIN_KINDS)
async def test_each_kind_of_admin_may_reload_in_the_server(rig: Rig, kind: str) -> None:
    interaction = await rig.fake.send_command("kb reload", user=rig.users[kind])

    reply = await rig.fake.wait_for_answer(interaction)

    assert interaction.callbacks[0].json["type"] == CALLBACK_DEFERRED_MESSAGE
    assert reply.ephemeral and RELOADED.match(reply.content), reply.content


@pytest.mark.parametrize("command", ["kb reload", "kb status"])
@pytest.mark.parametrize("kind", MEMBER_KINDS)
async def test_members_are_refused_at_once(rig: Rig, kind: str, command: str) -> None:
    interaction = await rig.fake.send_command(command, user=rig.users[kind])

    reply = await rig.fake.wait_for_answer(interaction)

    assert reply.kind == "response" and reply.ephemeral and reply.content == NOT_ADMIN
    assert [c.json["type"] for c in interaction.callbacks] == [4]  # refused before any deferral or reload


@pytest.mark.parametrize("kind", ADMIN_KINDS + MEMBER_KINDS)
async def test_nobody_reloads_from_a_dm(rig: Rig, kind: str) -> None:
    since = len(rig.bot.lines)
    interaction = await rigs.send_guild_command_in_dm(rig.fake, "kb reload", rig.users[kind])

    reply = await rig.fake.wait_for_answer(interaction)

    assert reply.ephemeral and reply.content == SERVER_ONLY
    assert [c.json["type"] for c in interaction.callbacks] == [4]
    assert not [line for line in rig.bot.lines[since:] if "bot.store" in line], "a reload ran"


# -- mentions in everything the bot echoes -------------------------------------------------------------------------


async def test_mentions_in_a_question_ping_no_one(rig: Rig) -> None:
    fake, injected = rig.fake, injections(rig)
    answerable = f"{' '.join(injected)} {QUESTION}"
    unanswerable = f"{' '.join(injected)} Where is the headquarters of UNHCR located?"

    mention = await fake.send_message(fake.mention_bot(answerable), author=rig.member())
    dm = await fake.send_dm(unanswerable, author=rig.member())
    asked = await fake.send_command("ask", question=unanswerable, user=rig.member())
    searched = await fake.send_command("search", query=" ".join(injected), user=rig.member())
    target = await fake.send_message(answerable, author=rig.member())
    menu = await fake.send_message_command("Ask IOM bot", target, user=rig.member())

    replies = [
        await fake.wait_for_reply(int(mention["id"])),
        await fake.wait_for_reply(int(dm["id"])),
        await fake.wait_for_answer(asked),
        await fake.wait_for_answer(searched),
        await fake.wait_for_answer(menu),
    ]
    assert f"> {ART_11_SENTENCE}" in replies[0].embeds[0]["description"]
    for reply in replies:
        assert_defused(reply.text, injected)
    assert rigs.assert_nobody_pinged(fake) >= len(replies)


@pytest.mark.parametrize(
    "options", [{"number": "11 {m}"}, {"number": "11", "instrument": "{m}"}], ids=["number", "instrument"]
)
async def test_mentions_in_article_names_ping_no_one(rig: Rig, options: dict[str, str]) -> None:
    injected = injections(rig)
    filled = {key: value.format(m=" ".join(injected)) for key, value in options.items()}
    interaction = await rig.fake.send_command("article", user=rig.member(), **filled)

    reply = await rig.fake.wait_for_answer(interaction)

    assert reply.ephemeral and reply.content.startswith("I don't know an instrument called"), reply.content
    assert_defused(reply.text, injected)
    rigs.assert_nobody_pinged(rig.fake)


@pytest.fixture
def restored(rig: Rig) -> Iterator[Path]:
    yield rig.sources
    for path in rig.sources.iterdir():
        path.unlink()
    rigs.copy_sources(rig.sources)


@pytest.mark.parametrize("content", [b"---\ntitle: [unclosed\n---\nBody.\n", b"# Title\n\x00binary\n"])
async def test_mentions_in_file_names_of_reload_errors_ping_no_one(rig: Rig, restored: Path, content: bytes) -> None:
    injected = injections(rig)
    name = " ".join(injected)
    (restored / f"{name}.md").write_bytes(content)  # bad YAML; or a binary file
    admin = rigs.new_member(rig.fake, "@everyone <@&" + str(rig.admin_role.id) + ">", rig.admin_role)

    summary = await rig.reload(admin)
    status = await rig.fake.wait_for_answer(await rig.fake.send_command("kb status", user=admin))

    assert summary.content.startswith("Reload failed: "), summary.content
    assert_defused(summary.content, injected)
    assert_defused(status.text, [*injected, f"<@&{rig.admin_role.id}>"])  # the trigger names the admin, defused
    rigs.assert_nobody_pinged(rig.fake)


# -- spam ----------------------------------------------------------------------------------------------------------


SPAM = 30


async def test_one_users_spam_gets_one_notice_and_others_are_answered(rig: Rig) -> None:
    fake = rig.fake
    spammer, other = rig.member("spammer"), rig.member("other")
    spam = [await fake.send_message(fake.mention_bot(QUESTION), author=spammer) for _ in range(SPAM)]
    question = await fake.send_message(fake.mention_bot(QUESTION), author=other)

    answered = [await fake.wait_for_reply(int(message["id"])) for message in spam[: COOLDOWN_COUNT + 1]]
    reply = await fake.wait_for_reply(int(question["id"]))

    assert all(f"> {ART_11_SENTENCE}" in r.embeds[0]["description"] for r in answered[:COOLDOWN_COUNT])
    assert COOLDOWN_NOTICE.fullmatch(answered[COOLDOWN_COUNT].content), answered[COOLDOWN_COUNT].content
    assert f"> {ART_11_SENTENCE}" in reply.embeds[0]["description"]
    # Messages handled in order: when the other user's reply is out, the spam after the notice was seen and dropped.
    spam_ids = {int(message["id"]) for message in spam}
    to_spammer = [sent for sent in fake.sent if sent.reply_to in spam_ids]
    assert len(to_spammer) == COOLDOWN_COUNT + 1, "each reply to spam spends the channel's 5-per-5-s send limit"


async def test_slash_spam_is_refused_ephemerally_and_others_are_answered(rig: Rig) -> None:
    fake = rig.fake
    spammer, other = rig.member("spammer"), rig.member("other")
    spam = [await fake.send_command("ask", question=QUESTION, user=spammer) for _ in range(COOLDOWN_COUNT + 3)]
    asked = await fake.send_command("ask", question=QUESTION, user=other)

    replies = [await fake.wait_for_answer(interaction) for interaction in spam]
    reply = await fake.wait_for_answer(asked)

    answers = [r for r in replies if r.embeds and f"> {ART_11_SENTENCE}" in r.embeds[0]["description"]]
    notices = [r for r in replies if COOLDOWN_NOTICE.fullmatch(r.content)]
    assert len(answers) == COOLDOWN_COUNT and len(notices) == 3  # an interaction must be answered: ephemerally
    assert all(n.ephemeral for n in notices)
    assert f"> {ART_11_SENTENCE}" in reply.embeds[0]["description"]


async def test_the_cooldown_is_shared_by_every_way_of_asking(rig: Rig) -> None:
    fake = rig.fake
    user = rig.member("both")
    for _ in range(COOLDOWN_COUNT):
        message = await fake.send_message(fake.mention_bot(QUESTION), author=user)
        await fake.wait_for_reply(int(message["id"]))

    reply = await fake.wait_for_answer(await fake.send_command("ask", question=QUESTION, user=user))

    assert reply.ephemeral and COOLDOWN_NOTICE.fullmatch(reply.content), reply.content


async def test_no_message_of_the_module_could_ping(rig: Rig) -> None:
    assert rigs.assert_nobody_pinged(rig.fake) > 20
    assert rigs.problems(rig.bot, expected=r"^reload \(/kb reload by .*\) failed, still serving ") == []
