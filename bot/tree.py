"""QATree: the command tree, and the one place where errors become replies and log lines."""

from __future__ import annotations

import logging
from typing import TypeGuard

import discord
from discord import app_commands

from . import render

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
UNEXPECTED_MESSAGE = "Something went wrong; it has been logged."
UNKNOWN_INTERACTION = 10062  # Discord's code for an interaction not answered within 3 s: it is gone


class UserFacingError(app_commands.AppCommandError):
    """An error whose message is safe to show to the user as it is."""


class Refused(app_commands.CheckFailure):
    """A check that refused the user, with a message safe to show (not an admin, not in this channel)."""


def user_message(error: Exception) -> str | None:
    """The reply for an expected error, or None for an unexpected one (which is logged with its traceback)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original  # what the callback raised: a UserFacingError, or a bug
    match error:
        case UserFacingError() | Refused():
            return str(error)
        case app_commands.CommandOnCooldown():
            return render.cooldown_notice(error.retry_after)
        case app_commands.NoPrivateMessage():
            return "That command works only in a server."
        case app_commands.MissingPermissions() | app_commands.MissingAnyRole() | app_commands.MissingRole():
            return "You don't have permission to use that command."
        case app_commands.BotMissingPermissions():
            missing = ", ".join(error.missing_permissions).replace("_", " ")
            return render.content(f"I'm missing permissions here: {missing}.")
        case app_commands.CheckFailure():
            return "You can't use that command here."
        case app_commands.TransformerError():
            return "I couldn't understand one of the options; please check it and try again."
        case app_commands.CommandNotFound() | app_commands.CommandSignatureMismatch():
            return "That command has changed since Discord last heard of it; please try again in a minute."
    return None


async def reply_error(interaction: discord.Interaction, error: Exception) -> None:
    """Reply to a failed interaction ephemerally: a friendly line for expected errors, never exception text."""
    command = interaction.command.qualified_name if interaction.command else "component"
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if discord_failed(original):  # not a bug of ours: one line, no traceback, no second try at a dropped interaction
        expired = original.code == UNKNOWN_INTERACTION
        why = "the interaction expired (3 s)" if expired else f"Discord answered {original.status} {original.text}"
        log.warning("%s for user %s not answered: %s", command, interaction.user.id, why)
        if not expired:
            await send_ephemeral(interaction, UNEXPECTED_MESSAGE, failure_level=logging.DEBUG)
        return
    message = user_message(error)
    if message is None:
        log.error("%s failed (user %s, guild %s)", command, interaction.user.id, interaction.guild_id, exc_info=error)
        message = UNEXPECTED_MESSAGE
    else:
        log.debug("%s refused for user %s: %s", command, interaction.user.id, type(error).__name__)
    await send_ephemeral(interaction, message)


def discord_failed(error: BaseException) -> TypeGuard[discord.HTTPException]:
    """Whether Discord, not the bot, failed the request: an expired interaction or a server error."""
    if isinstance(error, discord.NotFound):
        return error.code == UNKNOWN_INTERACTION
    return isinstance(error, discord.DiscordServerError)


async def send_ephemeral(interaction: discord.Interaction, text: str, *, failure_level: int = logging.WARNING) -> None:
    """An ephemeral reply, as the response or as a follow-up when the response is already done."""
    text = render.content(text)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as error:  # the interaction expired or Discord is down: nobody to tell
        log.log(failure_level, "could not send an error reply (%s %s)", error.status, error.text)


class QATree(app_commands.CommandTree):
    """The bot's command tree: errors from every command end in ``on_error``."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        await reply_error(interaction, error)
