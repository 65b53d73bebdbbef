"""Admin: /kb reload and /kb status, for admins only (checked in code, not only by Discord's defaults)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from .. import render
from ..config import DiscordConfig
from ..tree import NO_MENTIONS, Refused

if TYPE_CHECKING:
    from ..client import QABot

log = logging.getLogger(__name__)

NOT_ADMIN_MESSAGE = "Only admins can use this command."


def is_admin(interaction: discord.Interaction, config: DiscordConfig) -> bool:
    """A configured admin user anywhere; in a configured admin server, also an admin role or Manage Server.

    Another server's owner has Manage Server there, not here: roles and permissions count only in the servers
    of discord.admin_guilds. The @everyone role (its id is the server's) never makes an admin.
    """
    user = interaction.user
    if user.id in config.admin_users:
        return True
    guild_id = interaction.guild_id
    if guild_id is None or guild_id not in config.admin_guild_ids:
        return False
    permissions = interaction.permissions  # resolved by Discord for this member in this channel
    if permissions.administrator or permissions.manage_guild:
        return True
    roles = getattr(user, "roles", ())  # a Member in a guild; a User in DMs has none
    return any(role.id in config.admin_roles and role.id != guild_id for role in roles)


class Admin(commands.Cog):
    """Manage the knowledge base."""

    kb = app_commands.Group(
        name="kb",
        description="Manage the knowledge base (admins only)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        if interaction.guild_id is None:  # Discord hides /kb in DMs (guild_only); a stale or forged one stops here
            raise app_commands.NoPrivateMessage()
        if not is_admin(interaction, self.bot.config.discord):
            log.info(
                "refused %s to user %s", interaction.command and interaction.command.qualified_name, interaction.user.id
            )
            raise Refused(NOT_ADMIN_MESSAGE)
        return True

    @kb.command()
    async def reload(self, interaction: discord.Interaction) -> None:
        """Rebuild the knowledge base from the sources directory and swap it in."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        result = await self.bot.store.reload(f"/kb reload by {interaction.user} ({interaction.user.id})")
        await interaction.followup.send(render.reload_summary(result), ephemeral=True, allowed_mentions=NO_MENTIONS)

    @kb.command()
    async def status(self, interaction: discord.Interaction) -> None:
        """Version, load time, size and the last reload of the knowledge base."""
        store = self.bot.store
        embed = render.status_embed(store.current, store.last_reload, reloading=store.reloading)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: QABot) -> None:
    # /kb exists only in the admin servers: never global, so no other server even sees it.
    guilds = [discord.Object(id=guild_id) for guild_id in bot.config.discord.admin_guild_ids]
    await bot.add_cog(Admin(bot), guilds=guilds)
