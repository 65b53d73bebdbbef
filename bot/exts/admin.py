"""Admin: /kb reload and /kb status, for admins only (checked in code, not only by Discord's defaults)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from knowledge import cluster

from .. import render, reports
from .. import storage as stored
from ..catalog import ADMIN, listed
from ..config import DiscordConfig
from ..storage import DAY_S, Storage
from ..tree import NO_MENTIONS, Refused

if TYPE_CHECKING:
    from ..client import QABot

log = logging.getLogger(__name__)

NOT_ADMIN_MESSAGE = "Only admins can use this command."
USER_HASH_HEX = 10


def actor(user: discord.abc.User) -> str:
    """Who did something, for logs and /kb versions: the name and a one-way hash of the id (never the id)."""
    digest = hashlib.sha256(f"iom-bot user {user.id}".encode()).hexdigest()[:USER_HASH_HEX]
    return f"{user.name} (#{digest})"


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
        extras=listed(ADMIN),
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
    @app_commands.describe(force="Swap the new version in even if it fails its checks (logged with your name)")
    async def reload(self, interaction: discord.Interaction, force: bool = False) -> None:
        """Rebuild the knowledge base from the sources, run its checks, and swap it in if they pass."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        verb = "/kb reload force:true" if force else "/kb reload"
        result = await self.bot.store.reload(f"{verb} by {actor(interaction.user)}", force=force)
        embed = reports.reload_embed(result, self.bot.store.current)
        await interaction.followup.send(
            render.reload_summary(result),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
            **({"embed": embed} if embed is not None else {}),
        )

    @kb.command()
    @app_commands.describe(version="A kept version (see /kb versions); default: the one before the serving one")
    async def rollback(self, interaction: discord.Interaction, version: str | None = None) -> None:
        """Serve a kept earlier version of the knowledge base again (from memory, at once)."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        result = await self.bot.store.rollback(version, f"/kb rollback by {actor(interaction.user)}")
        embed = reports.reload_embed(result, self.bot.store.current) if result.ok else None
        await interaction.followup.send(
            reports.rollback_summary(result),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
            **({"embed": embed} if embed is not None else {}),
        )

    @rollback.autocomplete("version")
    async def version_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The kept versions, newest first."""
        serving = self.bot.store.current.version
        return [
            app_commands.Choice(
                name=f"{v.id} — {v.loaded_by}"[:100] + (" (serving)" if v.id == serving else ""), value=v.id
            )
            for v in self.bot.store.history.list()
            if v.id.startswith(current.strip().lower())
        ][:25]

    @kb.command()
    async def versions(self, interaction: discord.Interaction) -> None:
        """The kept versions: when and by whom loaded, source hash, counts and check results."""
        store = self.bot.store
        embed = reports.versions_embed(store.history.list(), store.current.version)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @kb.command()
    async def status(self, interaction: discord.Interaction) -> None:
        """Bot and knowledge-base versions, uptime, use, latency, saved index, last reload and checks."""
        store = self.bot.store
        await interaction.response.defer(thinking=True, ephemeral=True)  # the saved index is read from disk
        state = await asyncio.to_thread(reports.index_state, store.current, store.index)
        storage = getattr(self.bot, "storage", None)
        storage_state = None
        if storage is not None:
            storage_state = f"degraded: {storage.degraded}" if storage.degraded else f"ok ({storage.path})"
        embed = reports.status_embed(
            store,
            self.bot.usage,
            gateway_latency_s=getattr(self.bot, "latency", float("nan")),
            index_state=state,
            storage_state=storage_state,
        )
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @kb.command()
    @app_commands.describe(days="How many days back (default 7)", csv="Attach every group as a CSV file")
    async def unanswered(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 3650] = 7, csv: bool = False
    ) -> None:
        """The questions I could not answer (or answered unsure), grouped by similarity, most frequent first."""
        storage = self._storage()
        await interaction.response.defer(thinking=True, ephemeral=True)
        rows = await storage.read(lambda conn: stored.unanswered(conn, time.time() - days * DAY_S))
        groups = await asyncio.to_thread(cluster, [text for text, _, _ in rows])
        embed = reports.unanswered_embed(groups, days, record_questions=self.bot.config.storage.record_questions)
        extra = {}
        if csv:
            table = [(g.count, g.example, " | ".join(g.texts)) for g in groups]
            extra["file"] = reports.csv_file("unanswered.csv", ("count", "example", "texts"), table)
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS, **extra)

    @kb.command()
    @app_commands.describe(days="How many days back (default 7)", csv="Attach every rated answer as a CSV file")
    async def feedback(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 3650] = 7, csv: bool = False
    ) -> None:
        """The worst-rated answers (👍 / 👎) with their passages."""
        storage = self._storage()
        await interaction.response.defer(thinking=True, ephemeral=True)
        rows = await storage.read(lambda conn: stored.feedback(conn, time.time() - days * DAY_S))
        embed = reports.feedback_embed(rows, days, self.bot.store.current)
        extra = {}
        if csv:
            header = ("kb_version", "passage_ids", "articles", "up", "down", "wrong_article", "confidence")
            extra["file"] = reports.csv_file("feedback.csv", header, [[row[k] for k in header] for row in rows])
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS, **extra)

    def _storage(self) -> Storage:
        storage = getattr(self.bot, "storage", None)
        if storage is None:
            raise Refused("Storage is off (storage.database is null): nothing is recorded.")
        return storage


async def setup(bot: QABot) -> None:
    # /kb exists only in the admin servers: never global, so no other server even sees it.
    guilds = [discord.Object(id=guild_id) for guild_id in bot.config.discord.admin_guild_ids]
    await bot.add_cog(Admin(bot), guilds=guilds)
