"""Meta-tests over the command tree: each command is declared once, on itself, and everything else follows.

/help is generated from the tree, each command's rate limit is a check on the command, and the README lists every
command: a renamed or new command cannot silently lose its limit or go undocumented.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.catalog import ADMIN, ASKING, LOOKUPS, catalog, command_help, listed
from bot.exts.admin import Admin
from bot.exts.ask import Ask
from bot.limits import ASKING as ASKING_LIMIT
from bot.limits import LIGHT, rate_limit_of

from .conftest import GUILD_ID, FakeBot, FakeInteraction, invoke

README = Path(__file__).resolve().parents[2] / "README.md"


async def every_command(bot: FakeBot) -> list[Any]:
    """The leaves of the tree (groups walked) with both cogs loaded as setup() loads them."""
    await bot.add_cog(Ask(bot))
    await bot.add_cog(Admin(bot), guilds=[discord.Object(id=g) for g in bot.config.discord.admin_guild_ids])
    roots = [*bot.tree.get_commands(), *bot.tree.get_commands(guild=discord.Object(id=GUILD_ID))]
    leaves = []
    for root in roots:
        leaves += list(root.walk_commands()) if isinstance(root, app_commands.Group) else [root]
    return leaves


def qualified(command: Any) -> str:
    return command.name if isinstance(command, app_commands.ContextMenu) else f"/{command.qualified_name}"


async def test_the_tree_has_every_command_this_test_expects(bot: FakeBot) -> None:
    names = sorted(qualified(c) for c in await every_command(bot))

    assert names == sorted(
        ["/ask", "/search", "/article", "/sources", "/help", "Ask IOM bot"]
        + [f"/kb {n}" for n in ("reload", "rollback", "versions", "status", "unanswered", "feedback")]
    )


async def test_help_lists_every_command_with_its_description_and_options(bot: FakeBot) -> None:
    commands = await every_command(bot)
    cog = bot.tree.get_command("help").binding  # type: ignore[union-attr]

    [sent] = await invoke(cog, cog.help_, FakeInteraction(bot, command=cog.help_, guild_id=GUILD_ID))

    fields = {field.name: field.value or "" for field in sent.embed.fields}
    for command in commands:
        line = command_help(command)
        assert line.usage in fields[line.section], line.usage
        assert line.description and line.description in fields[line.section], line.usage
    assert "`/search query [results]`" in fields[LOOKUPS] and "`/ask question [private]`" in fields[ASKING]


async def test_help_outside_the_admin_servers_leaves_out_kb(bot: FakeBot) -> None:
    await every_command(bot)
    cog = bot.tree.get_command("help").binding  # type: ignore[union-attr]

    [sent] = await invoke(cog, cog.help_, FakeInteraction(bot, command=cog.help_, guild_id=None))

    assert "/kb" not in sent.text and ADMIN not in [field.name for field in sent.embed.fields]
    assert "/article number [instrument]" in sent.text


async def test_the_readme_lists_every_command(bot: FakeBot) -> None:
    readme = README.read_text(encoding="utf-8")

    missing = [qualified(c) for c in await every_command(bot) if qualified(c) not in readme]

    assert missing == []


async def test_every_asking_command_declares_its_rate_limit(bot: FakeBot) -> None:
    limits = {qualified(c): rate_limit_of(c) for c in await every_command(bot) if not qualified(c).startswith("/kb")}

    assert limits == {
        "/ask": ASKING_LIMIT,
        "/search": ASKING_LIMIT,
        "/article": ASKING_LIMIT,
        "Ask IOM bot": ASKING_LIMIT,
        "/sources": LIGHT,
        "/help": LIGHT,
    }


async def test_admin_commands_are_gated_by_the_admin_check(bot: FakeBot) -> None:
    admin = [c for c in await every_command(bot) if qualified(c).startswith("/kb")]

    assert admin and all(isinstance(c.binding, Admin) and c.root_parent.default_permissions for c in admin)


@pytest.mark.parametrize("name", ["search", "article"])
async def test_a_lookup_shares_the_asking_cooldown(name: str, bot: FakeBot, kb: Any) -> None:
    await every_command(bot)
    command = bot.tree.get_command(name)
    cog = command.binding  # type: ignore[union-attr]
    for _ in range(bot.config.asking.cooldown.count):
        bot.limits.asking.hit(FakeInteraction(bot).user.id)  # the asking limit spent by other ways of asking
    options = {"query": "laissez-passer"} if name == "search" else {"number": "11"}

    [sent] = await invoke(cog, command, FakeInteraction(bot, command=command), **options)

    assert sent.ephemeral and sent.content is not None and sent.content.startswith("Slow down: try again in ")


def test_an_unknown_help_section_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown /help section 'Misc'"):
        listed("Misc")


def test_a_group_is_listed_by_its_leaves() -> None:
    group = app_commands.Group(name="kb", description="d", extras=listed(ADMIN))

    @group.command(name="status")
    async def status(interaction: discord.Interaction) -> None:
        """Show the status."""

    [line] = catalog([group])

    assert line == command_help(group.get_command("status"))  # type: ignore[arg-type]
    assert (line.usage, line.description, line.section) == ("/kb status", "Show the status.", ADMIN)
