"""Small typed fakes of the Discord objects the cogs touch, and fixtures that wire them to a real knowledge base.

Every fake method that stands for a discord.py call checks its arguments against the real method's signature
(as ``create_autospec`` would), so a misspelt keyword fails the test instead of passing silently. What the bot
sends is recorded as ``Sent`` objects: tests assert on what a user would see.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.config import AskingConfig, Config, CooldownConfig, DiscordConfig, KnowledgeConfig
from bot.exts.admin import Admin
from bot.exts.ask import Ask
from bot.limits import Limits
from bot.metrics import Metrics
from bot.store import KnowledgeStore
from bot.tree import reply_error
from bot.usage import Usage
from knowledge.base import KnowledgeBase

BOT_ID = 900000000000000001
USER_ID = 100000000000000001
GUILD_ID = 300000000000000001
CHANNEL_ID = 400000000000000001
ROLE_ID = 500000000000000001
BOT_ROLE_ID = 500000000000000099


def _check_call(real: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Fail like discord.py would if the call does not fit the real method's signature."""
    inspect.signature(real).bind(None, *args, **kwargs)


@dataclass
class Sent:
    """One thing the bot sent: a response, a follow-up, a reply, or an edit."""

    kind: str  # "response", "followup", "reply", "edit"
    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    ephemeral: bool = False
    allowed_mentions: discord.AllowedMentions | None = None
    reference: Any = None

    @property
    def embed(self) -> discord.Embed:
        assert len(self.embeds) == 1, f"expected one embed, got {len(self.embeds)}"
        return self.embeds[0]

    @property
    def text(self) -> str:
        """Everything a user reads in the message: content, then every embed's title, description, fields, footer."""
        parts = [self.content or ""]
        for embed in self.embeds:
            parts += [embed.title or "", embed.description or "", embed.footer.text or ""]
            parts += [f"{f.name}\n{f.value}" for f in embed.fields]
        return "\n".join(parts)

    @property
    def buttons(self) -> list[str]:
        if self.view is None:
            return []
        # A persistent button is a DynamicItem wrapping the Button.
        items = [getattr(item, "item", item) for item in self.view.children]
        return [item.label or "" for item in items if isinstance(item, discord.ui.Button)]


def _record(kind: str, content: Any = None, **kwargs: Any) -> Sent:
    embeds = list(kwargs.get("embeds") or [])
    if kwargs.get("embed") is not None:
        embeds.append(kwargs["embed"])
    return Sent(
        kind=kind,
        content=None if content is None else str(content),
        embeds=embeds,
        view=kwargs.get("view"),
        ephemeral=bool(kwargs.get("ephemeral", False)),
        allowed_mentions=kwargs.get("allowed_mentions"),
        reference=kwargs.get("reference"),
    )


class FakeMessageSent:
    """A message the bot sent, which a view may edit when it times out."""

    def __init__(self, outbox: list[Sent], message_id: int = 700000000000000001) -> None:
        self.id = message_id
        self._outbox = outbox

    async def edit(self, **kwargs: Any) -> FakeMessageSent:
        _check_call(discord.Message.edit, **kwargs)
        self._outbox.append(_record("edit", **kwargs))
        return self


@dataclass
class FakeCallbackResponse:
    resource: Any


class FakeResponse:
    """Stands for discord.InteractionResponse."""

    def __init__(self, outbox: list[Sent]) -> None:
        self._outbox = outbox
        self._done = False
        self.deferred: dict[str, bool] | None = None

    def is_done(self) -> bool:
        return self._done

    def _respond(self) -> None:
        assert not self._done, "the interaction was answered twice"
        self._done = True

    async def send_message(self, content: Any = None, **kwargs: Any) -> FakeCallbackResponse:
        _check_call(discord.InteractionResponse.send_message, content, **kwargs)
        self._respond()
        self._outbox.append(_record("response", content, **kwargs))
        return FakeCallbackResponse(resource=None)

    async def defer(self, **kwargs: Any) -> None:
        _check_call(discord.InteractionResponse.defer, **kwargs)
        self._respond()
        self.deferred = kwargs


class FakeFollowup:
    """Stands for the interaction's follow-up webhook."""

    def __init__(self, outbox: list[Sent]) -> None:
        self._outbox = outbox

    async def send(self, content: Any = None, **kwargs: Any) -> FakeMessageSent:
        _check_call(discord.Webhook.send, content, **kwargs)
        self._outbox.append(_record("followup", content, **kwargs))
        return FakeMessageSent(self._outbox)


@dataclass
class FakeRole:
    id: int
    name: str = "role"

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass
class FakeUser:
    id: int = USER_ID
    name: str = "asker"
    bot: bool = False
    roles: list[FakeRole] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def __str__(self) -> str:
        return self.name


@dataclass
class FakeGuild:
    id: int = GUILD_ID
    self_role: FakeRole | None = None


class FakeTyping:
    def __init__(self, channel: FakeChannel) -> None:
        self._channel = channel

    async def __aenter__(self) -> None:
        self._channel.typing_shown += 1

    async def __aexit__(self, *exc: object) -> None:
        return None


@dataclass
class FakeChannel:
    id: int = CHANNEL_ID
    parent_id: int | None = None
    typing_shown: int = 0

    def typing(self) -> FakeTyping:
        return FakeTyping(self)


class FakeMessage:
    """Stands for a discord.Message someone else wrote."""

    def __init__(
        self,
        content: str,
        *,
        author: FakeUser | None = None,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
        message_type: discord.MessageType = discord.MessageType.default,
    ) -> None:
        self.id = 600000000000000001
        self.content = content
        self.author = author or FakeUser()
        self.guild = guild
        self.channel = channel or FakeChannel()
        self.type = message_type
        self.outbox: list[Sent] = []
        self.fail_with: Exception | None = None

    @property
    def jump_url(self) -> str:
        guild = self.guild.id if self.guild is not None else "@me"
        return f"https://discord.com/channels/{guild}/{self.channel.id}/{self.id}"

    async def reply(self, content: Any = None, **kwargs: Any) -> FakeMessageSent:
        _check_call(discord.abc.Messageable.send, content, **kwargs)
        if self.fail_with is not None:
            raise self.fail_with
        self.outbox.append(_record("reply", content, reference=self, **kwargs))
        return FakeMessageSent(self.outbox)


class FakeInteraction:
    """Stands for a discord.Interaction: a slash command, a menu or a button in a guild (or a DM)."""

    def __init__(
        self,
        bot: FakeBot,
        *,
        command: Any = None,
        user: FakeUser | None = None,
        guild_id: int | None = GUILD_ID,
        channel: FakeChannel | None = None,
        permissions: discord.Permissions | None = None,
        namespace: dict[str, Any] | None = None,
    ) -> None:
        self.client = bot
        self.command = command
        self.user = user or FakeUser()
        self.guild_id = guild_id
        self.channel = channel or FakeChannel()
        self.channel_id = self.channel.id
        self.permissions = permissions or discord.Permissions.none()
        self.namespace = SimpleNamespace(**(namespace or {}))
        self.outbox: list[Sent] = []
        self.message: Any = None  # the message a clicked button is on
        self.response = FakeResponse(self.outbox)
        self.followup = FakeFollowup(self.outbox)


class FakeBot:
    """What the cogs use of QABot: config, the knowledge store, the bot user."""

    def __init__(self, config: Config, store: KnowledgeStore) -> None:
        self.config = config
        self.store = store
        self.user = FakeUser(id=BOT_ID, name="IOM bot", bot=True)
        self.metrics = Metrics()
        self.usage = Usage()
        self.limits = Limits(config.asking.cooldown, on_limited=self.metrics.cooldown_hit)
        # A real command tree (what /help lists), on a stand-in for the client's connection state.
        state = SimpleNamespace(_command_tree=None)
        self.tree = app_commands.CommandTree(SimpleNamespace(http=None, _connection=state))

    async def add_cog(self, cog: Any, *, guilds: list[discord.Object] | None = None) -> None:
        """Register the cog's commands in the tree, as commands.Bot.add_cog does."""
        for command in cog.get_app_commands():
            self.tree.add_command(command, guilds=guilds or discord.utils.MISSING)
        await cog.cog_load()

    @property
    def knowledge(self) -> KnowledgeBase:
        return self.store.current


async def invoke(cog: Any, command: Any, interaction: FakeInteraction, **options: Any) -> list[Sent]:
    """Run a command as the tree does: its checks, then its callback; errors go to the tree's handler."""
    try:
        if not await command._check_can_run(interaction):
            raise app_commands.CheckFailure("a check failed")
        if isinstance(command, app_commands.ContextMenu):
            await command._callback(interaction, *options.values())
        else:
            await command.callback(cog, interaction, **options)
    except app_commands.AppCommandError as error:
        await reply_error(interaction, error)  # type: ignore[arg-type]
    except Exception as error:
        await reply_error(interaction, app_commands.CommandInvokeError(command, error))  # type: ignore[arg-type]
    return interaction.outbox


@pytest.fixture
def config() -> Config:
    """A bot config: one guild, the bundled sources, a generous cooldown."""
    return Config(
        discord=DiscordConfig(guild_ids=(GUILD_ID,), admin_roles=(ROLE_ID,)),
        asking=AskingConfig(cooldown=CooldownConfig(count=100, seconds=60)),
        knowledge=KnowledgeConfig(sources=None),
    )


@pytest.fixture
def store(kb: KnowledgeBase) -> KnowledgeStore:
    return KnowledgeStore(None, knowledge=kb)


@pytest.fixture
def make_bot(store: KnowledgeStore) -> Callable[[Config], FakeBot]:
    return lambda config: FakeBot(config, store)


@pytest.fixture
def bot(config: Config, make_bot: Callable[[Config], FakeBot]) -> FakeBot:
    return make_bot(config)


@pytest.fixture
async def ask_cog(bot: FakeBot) -> Ask:
    cog = Ask(bot)  # type: ignore[arg-type]
    await bot.add_cog(cog)
    return cog


@pytest.fixture
def admin_cog(bot: FakeBot) -> Admin:
    return Admin(bot)  # type: ignore[arg-type]
