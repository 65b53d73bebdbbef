"""/kb reload and /kb status: who may use them, what a reload reports, and that a failed reload changes nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from pathlib import Path
from types import SimpleNamespace

import discord
import pytest

from bot.config import Config, ConfigError, DiscordConfig
from bot.exts.admin import NOT_ADMIN_MESSAGE, Admin, is_admin
from bot.store import UNEXPECTED_BUILD_ERROR, KnowledgeStore
from knowledge.base import KnowledgeBase

from .conftest import GUILD_ID, ROLE_ID, USER_ID, FakeBot, FakeInteraction, FakeRole, FakeUser, invoke

QUESTION = "What travel document can IOM staff use?"
EXTRA_SOURCE = "Extra notes on IOM\n\nIOM opened a new office in Geneva to coordinate its migration statistics work.\n"
BROKEN_SOURCE = "---\ntitle: Broken\nsections: [unclosed\n---\nBody text.\n"


def reload_command(cog: Admin) -> object:
    return cog.kb.get_command("reload")


def status_command(cog: Admin) -> object:
    return cog.kb.get_command("status")


@pytest.fixture
def reload_store(sources_copy: Path) -> KnowledgeStore:
    return KnowledgeStore(sources_copy, knowledge=KnowledgeBase.load(sources_copy))


@pytest.fixture
def reload_bot(config: Config, reload_store: KnowledgeStore) -> FakeBot:
    return FakeBot(config, reload_store)


def admin_interaction(bot: FakeBot, command: object) -> FakeInteraction:
    return FakeInteraction(bot, command=command, permissions=discord.Permissions(manage_guild=True))


# -- who is an admin ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "permissions", "admin"),
    [
        (FakeUser(), discord.Permissions.none(), False),
        (FakeUser(roles=[FakeRole(42)]), discord.Permissions(send_messages=True, manage_messages=True), False),
        (FakeUser(roles=[FakeRole(ROLE_ID)]), discord.Permissions.none(), True),
        (FakeUser(), discord.Permissions(manage_guild=True), True),
        (FakeUser(), discord.Permissions(administrator=True), True),
        (FakeUser(id=777), discord.Permissions.none(), True),  # a configured admin user
    ],
)
def test_is_admin(bot: FakeBot, user: FakeUser, permissions: discord.Permissions, admin: bool) -> None:
    config = dataclasses.replace(bot.config.discord, admin_users=(777,))
    interaction = FakeInteraction(bot, user=user, permissions=permissions)

    assert is_admin(interaction, config) is admin  # type: ignore[arg-type]


OTHER_GUILD = GUILD_ID + 99


@pytest.mark.parametrize(
    ("user", "permissions", "admin"),
    [
        (FakeUser(roles=[FakeRole(ROLE_ID)]), discord.Permissions.none(), False),
        (FakeUser(), discord.Permissions(manage_guild=True), False),  # the owner of another server
        (FakeUser(), discord.Permissions(administrator=True), False),
        (FakeUser(id=777), discord.Permissions.none(), True),  # a configured admin user, anywhere
    ],
)
def test_in_a_server_that_is_not_an_admin_server_only_admin_users_count(
    bot: FakeBot, user: FakeUser, permissions: discord.Permissions, admin: bool
) -> None:
    config = dataclasses.replace(bot.config.discord, admin_users=(777,))
    interaction = FakeInteraction(bot, user=user, permissions=permissions, guild_id=OTHER_GUILD)

    assert is_admin(interaction, config) is admin  # type: ignore[arg-type]


def test_admin_guilds_default_to_guild_ids_and_can_differ() -> None:
    assert DiscordConfig(guild_ids=(GUILD_ID,)).admin_guild_ids == (GUILD_ID,)
    assert DiscordConfig(guild_ids=(GUILD_ID,), admin_guilds=[str(OTHER_GUILD)]).admin_guild_ids == (OTHER_GUILD,)
    assert DiscordConfig(guild_ids=(GUILD_ID,), admin_guilds=[]).admin_guild_ids == ()


def test_the_everyone_role_as_an_admin_role_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"discord\.admin_roles\[1\]: .* @everyone role: every member"):
        DiscordConfig(guild_ids=(GUILD_ID,), admin_roles=(ROLE_ID, GUILD_ID))


def test_the_everyone_role_never_makes_an_admin(bot: FakeBot) -> None:
    # A config that skipped validation (built by hand): the check itself still refuses the @everyone role.
    config = SimpleNamespace(admin_users=(), admin_guild_ids=(GUILD_ID,), admin_roles=(GUILD_ID,))
    everyone = FakeUser(roles=[FakeRole(GUILD_ID)])

    assert is_admin(FakeInteraction(bot, user=everyone), config) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("which", [reload_command, status_command])
async def test_a_member_is_refused_ephemerally(reload_bot: FakeBot, which: object) -> None:
    cog = Admin(reload_bot)  # type: ignore[arg-type]
    command = which(cog)  # type: ignore[operator]
    interaction = FakeInteraction(reload_bot, command=command, user=FakeUser(roles=[FakeRole(42)]))
    version = reload_bot.store.current.version

    [sent] = await invoke(cog, command, interaction)

    assert sent.ephemeral and sent.content == NOT_ADMIN_MESSAGE
    assert interaction.response.deferred is None
    assert reload_bot.store.last_reload is None and reload_bot.store.current.version == version


def test_kb_is_hidden_by_default_from_members_without_manage_server() -> None:
    assert Admin.kb.default_permissions == discord.Permissions(manage_guild=True)
    assert Admin.kb.guild_only


# -- reload ---------------------------------------------------------------------------------------------------------


async def test_reload_swaps_in_the_new_sources_and_summarises(reload_bot: FakeBot, sources_copy: Path) -> None:
    cog = Admin(reload_bot)  # type: ignore[arg-type]
    old = reload_bot.store.current
    (sources_copy / "extra-notes.txt").write_text(EXTRA_SOURCE, encoding="utf-8")
    interaction = admin_interaction(reload_bot, reload_command(cog))

    [sent] = await invoke(cog, reload_command(cog), interaction)

    new = reload_bot.store.current
    assert interaction.response.deferred == {"thinking": True, "ephemeral": True}
    assert sent.kind == "followup" and sent.ephemeral
    assert new is not old and new.version != old.version
    added = len(new.passages) - len(old.passages)
    assert sent.content == (
        f"Reloaded the knowledge base: version `{new.version}` (was `{old.version}`).\n"
        f"{len(new.documents)} documents, {len(new.passages)} passages; since the previous version "
        f"{added} added, 0 removed, 0 changed. Built in {reload_bot.store.last_reload.seconds:.2f} s."  # type: ignore[union-attr]
    )
    assert any("Geneva" in hit.passage.text for hit in new.search("Geneva office", 1))


async def test_a_broken_source_is_named_and_the_old_knowledge_base_keeps_answering(
    reload_bot: FakeBot, sources_copy: Path
) -> None:
    cog = Admin(reload_bot)  # type: ignore[arg-type]
    old = reload_bot.store.current
    (sources_copy / "broken.md").write_text(BROKEN_SOURCE, encoding="utf-8")

    [sent] = await invoke(cog, reload_command(cog), admin_interaction(reload_bot, reload_command(cog)))

    assert sent.ephemeral and sent.content is not None
    assert sent.content.startswith("Reload failed: broken.md:3: bad YAML in front matter")
    assert sent.content.endswith(f"The previous knowledge base (version `{old.version}`) is still answering.")
    assert reload_bot.store.current is old
    assert reload_bot.store.current.answer(QUESTION).text == old.answer(QUESTION).text


@pytest.mark.parametrize(
    ("break_sources", "problem"),
    [
        (lambda d: [p.unlink() for p in d.iterdir()], "no source files"),
        (lambda d: (d / "empty.txt").write_text("", encoding="utf-8"), "empty.txt"),
        (lambda d: (d / "binary.txt").write_bytes(b"ab\x00cd"), "binary.txt: binary file"),
        (lambda d: (d / "glossary.yaml").write_text("terms: [", encoding="utf-8"), "glossary.yaml"),
    ],
)
async def test_every_kind_of_broken_sources_leaves_the_old_one_serving(
    reload_store: KnowledgeStore, sources_copy: Path, break_sources: object, problem: str
) -> None:
    old = reload_store.current
    break_sources(sources_copy)  # type: ignore[operator]

    result = await reload_store.reload("test")

    assert not result.ok and result.error is not None and problem in result.error
    assert reload_store.current is old and result.version == old.version


async def test_an_unexpected_build_error_is_logged_not_shown(
    kb: KnowledgeBase, caplog: pytest.LogCaptureFixture
) -> None:
    def build(sources: Path | None) -> KnowledgeBase:
        raise MemoryError("secret detail")

    store = KnowledgeStore(None, knowledge=kb, build=build)

    with caplog.at_level(logging.ERROR, logger="bot.store"):
        result = await store.reload("test")

    assert result.error == UNEXPECTED_BUILD_ERROR and store.current is kb
    assert "secret detail" in caplog.text


async def test_a_build_that_takes_too_long_fails_and_keeps_the_old_one(kb: KnowledgeBase) -> None:
    never = threading.Event()

    def build(sources: Path | None) -> KnowledgeBase:
        never.wait(5)
        return kb

    store = KnowledgeStore(None, knowledge=kb, build=build, timeout_s=0.05)
    try:
        result = await store.reload("test")
    finally:
        never.set()

    assert result.error == "the build took longer than 0.05 s" and store.current is kb


async def test_concurrent_reloads_are_serialised(kb: KnowledgeBase) -> None:
    events: list[str] = []
    first_inside, release_first, second_inside = threading.Event(), threading.Event(), threading.Event()

    def build(sources: Path | None) -> KnowledgeBase:
        number = sum(event.startswith("start") for event in events)
        events.append(f"start {number}")
        if number == 0:
            first_inside.set()
            assert release_first.wait(5)
        else:
            second_inside.set()
        events.append(f"end {number}")
        return kb

    store = KnowledgeStore(None, knowledge=kb, build=build)
    first = asyncio.create_task(store.reload("first"))
    assert await asyncio.to_thread(first_inside.wait, 5)
    second = asyncio.create_task(store.reload("second"))

    started_while_first_ran = await asyncio.to_thread(second_inside.wait, 0.2)
    release_first.set()
    results = await asyncio.wait_for(asyncio.gather(first, second), 5)

    assert not started_while_first_ran
    assert events == ["start 0", "end 0", "start 1", "end 1"]
    assert [result.trigger for result in results] == ["first", "second"]
    assert store.last_reload is results[1]


async def test_questions_go_on_during_a_reload(kb: KnowledgeBase) -> None:
    inside, release = threading.Event(), threading.Event()

    def build(sources: Path | None) -> KnowledgeBase:
        inside.set()
        assert release.wait(5)
        return KnowledgeBase.load()

    store = KnowledgeStore(None, knowledge=kb, build=build)
    reload = asyncio.create_task(store.reload("slow"))
    assert await asyncio.to_thread(inside.wait, 5)

    assert store.reloading
    assert store.current.answer(QUESTION).text == kb.answer(QUESTION).text  # the event loop is free; old one serves

    release.set()
    assert (await asyncio.wait_for(reload, 5)).ok


# -- status ---------------------------------------------------------------------------------------------------------


async def test_status_shows_the_version_and_the_last_reload(reload_bot: FakeBot, sources_copy: Path) -> None:
    cog = Admin(reload_bot)  # type: ignore[arg-type]
    (sources_copy / "broken.md").write_text(BROKEN_SOURCE, encoding="utf-8")
    await reload_bot.store.reload("SIGHUP")

    [sent] = await invoke(cog, status_command(cog), admin_interaction(reload_bot, status_command(cog)))

    fields = {item.name: item.value or "" for item in sent.embed.fields}
    assert sent.ephemeral
    assert fields["Version"] == f"`{reload_bot.store.current.version}`"
    assert fields["Passages"] == str(len(reload_bot.store.current.passages))
    assert "(SIGHUP): Reload failed: broken.md:3" in fields["Last reload"]


async def test_status_before_any_reload(bot: FakeBot, admin_cog: Admin) -> None:
    interaction = FakeInteraction(
        bot, command=status_command(admin_cog), user=FakeUser(id=USER_ID, roles=[FakeRole(ROLE_ID)])
    )

    [sent] = await invoke(admin_cog, status_command(admin_cog), interaction)

    assert "None since start-up." in sent.text
