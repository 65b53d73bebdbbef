"""The bot's configuration: YAML -> frozen dataclasses, validated on load; the token comes from the environment.

Every section validates itself in ``__post_init__``, so a ``Config(...)`` built in a test is checked exactly like
one loaded from YAML. Errors are one line and name the key path (``discord.guild_ids[1]: ...``) or the variable;
a file with several mistakes raises one ConfigError that lists them all (``problems``), one per line. The value
checks, ConfigError, Secret and the Section base are in bot.config_checks; this module is the schema and loading.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from knowledge import YamlError, read_yaml

from . import config_checks as check
from .config_checks import ConfigError, Secret, Section

DEFAULT_TOKEN_ENV = "DISCORD_TOKEN"
QUESTION_MAX_CHARS = 4000  # a Discord message holds at most 4000 characters (with Nitro)
ANSWER_WORDS_RANGE = (10, 400)  # kb.answer(max_words=...); 400 words stay well inside an embed description
CONFIG_MAX_BYTES = 1_000_000  # the example config is 3 KB
SHARD_COUNT_MAX = 10_000  # Discord's largest bots run a few thousand shards
DEFAULT_MENU_NAME = "Ask IOM bot"
DEFAULT_EXAMPLES = ("Can IOM staff use the UN laissez-passer?", "How many Member States does IOM have?")


@dataclass(frozen=True, slots=True)
class DiscordConfig(Section):
    KEY: ClassVar[str] = "discord"

    token_env: str = field(default=DEFAULT_TOKEN_ENV, metadata=check.rule(check.env_name))
    guild_ids: tuple[int, ...] = field(default=(), metadata=check.rule(check.ids))
    # The servers where /kb is registered and admin roles or Manage Server count (None: guild_ids). Elsewhere only
    # admin_users are admins: an owner of any other server the bot is in is not one of ours.
    admin_guilds: tuple[int, ...] | None = field(default=None, metadata=check.rule(check.optional_ids))
    admin_roles: tuple[int, ...] = field(default=(), metadata=check.rule(check.ids))
    admin_users: tuple[int, ...] = field(default=(), metadata=check.rule(check.ids))
    allowed_channels: tuple[int, ...] = field(default=(), metadata=check.rule(check.ids))  # empty: every channel
    denied_channels: tuple[int, ...] = field(default=(), metadata=check.rule(check.ids))
    answer_channels: tuple[int, ...] = field(
        default=(), metadata=check.rule(check.ids)
    )  # needs the message-content intent
    answer_dms: bool = field(default=True, metadata=check.rule(check.boolean))
    # Sharding (Discord requires it past 2,500 guilds): this process runs shard_ids out of shard_count.
    # null/null: one process, no sharding. shard_count alone: this process runs every shard.
    shard_count: int | None = field(default=None, metadata=check.rule(check.optional(check.int_in(1, SHARD_COUNT_MAX))))
    shard_ids: tuple[int, ...] | None = field(default=None, metadata=check.rule(check.shard_ids))

    def _check_shards(self) -> None:
        if self.shard_ids is not None and self.shard_count is None:
            raise ConfigError(f"{self.KEY}.shard_ids: needs discord.shard_count (how many shards in all)")
        too_high = [i for i in self.shard_ids or () if self.shard_count is not None and i >= self.shard_count]
        if too_high:
            raise ConfigError(
                f"{self.KEY}.shard_ids: shard {too_high[0]} does not exist with shard_count {self.shard_count} "
                f"(shards are numbered 0 to {self.shard_count - 1})"
            )

    def on_my_shards(self, guild_id: int) -> bool:
        """Whether guild_id's events come to this process: Discord routes a guild to shard (id >> 22) % count."""
        if self.shard_count is None or self.shard_ids is None:
            return True
        return (guild_id >> 22) % self.shard_count in self.shard_ids

    def __post_init__(self) -> None:
        Section.__post_init__(self)
        self._check_shards()
        for index, role in enumerate(self.admin_roles):
            if role in self.admin_guild_ids or role in self.guild_ids:
                raise ConfigError(
                    f"{self.KEY}.admin_roles[{index}]: {role} is a server's id, which is its @everyone role: "
                    "every member would be an admin"
                )

    @property
    def admin_guild_ids(self) -> tuple[int, ...]:
        """The servers where roles and Manage Server make an admin: admin_guilds, or guild_ids when unset."""
        return self.guild_ids if self.admin_guilds is None else self.admin_guilds


@dataclass(frozen=True, slots=True)
class CooldownConfig(Section):
    KEY: ClassVar[str] = "asking.cooldown"

    count: int = field(default=5, metadata=check.rule(check.int_in(0, 1000)))  # 0 turns the cooldown off
    seconds: float = field(default=60.0, metadata=check.rule(check.seconds))


@dataclass(frozen=True, slots=True)
class AskingConfig(Section):
    KEY: ClassVar[str] = "asking"

    cooldown: CooldownConfig = field(default_factory=CooldownConfig, metadata={"section": CooldownConfig})
    max_question_length: int = field(default=300, metadata=check.rule(check.int_in(10, QUESTION_MAX_CHARS)))
    answer_words: int = field(default=60, metadata=check.rule(check.int_in(*ANSWER_WORDS_RANGE)))


@dataclass(frozen=True, slots=True)
class KnowledgeConfig(Section):
    KEY: ClassVar[str] = "knowledge"

    sources: Path | None = field(default=None, metadata=check.rule(check.directory("the bundled sources")))
    # A saved index: loaded when it was built from exactly these sources, else rebuilt and rewritten there.
    # It need not exist yet. None: the sources are indexed at every start and reload.
    index: Path | None = field(default=None, metadata=check.rule(check.directory("no saved index")))
    # The share of checks.yaml a new version must pass to replace the serving one. None: every check that passed
    # on the serving version must still pass.
    min_check_pass: float | None = field(default=None, metadata=check.rule(check.optional_share))
    keep_versions: int = field(default=3, metadata=check.rule(check.int_in(1, 20)))  # loadable by /kb rollback

    def __post_init__(self) -> None:
        Section.__post_init__(self)
        if self.index is not None and self.sources is not None and self.sources.is_relative_to(self.index):
            # Writing the index replaces its directory: that must never take the sources with it.
            raise ConfigError(f"{self.KEY}.index: must not be the sources directory or one that holds it")


@dataclass(frozen=True, slots=True)
class LoggingConfig(Section):
    KEY: ClassVar[str] = "logging"

    level: str = field(default="INFO", metadata=check.rule(check.level))

    @property
    def level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.level]


@dataclass(frozen=True, slots=True)
class MetricsConfig(Section):
    KEY: ClassVar[str] = "metrics"

    # HOST:PORT of /healthz and /metrics (Prometheus); null: off. Keep it on loopback unless a firewall guards it.
    listen: str | None = field(default=None, metadata=check.rule(check.listen))

    @property
    def address(self) -> tuple[str, int] | None:
        if self.listen is None:
            return None
        host, _, port = self.listen.rpartition(":")
        return host, int(port)


@dataclass(frozen=True, slots=True)
class PersonaConfig(Section):
    KEY: ClassVar[str] = "persona"

    name: str | None = field(
        default=None, metadata=check.rule(check.optional(check.text(32)))
    )  # null: the Discord display name
    menu_name: str = field(
        default=DEFAULT_MENU_NAME, metadata=check.rule(check.text(32))
    )  # Discord's limit for a menu name
    examples: tuple[str, ...] = field(default=DEFAULT_EXAMPLES, metadata=check.rule(check.texts(200)))


@dataclass(frozen=True, slots=True)
class StorageConfig(Section):
    """The database of answers, votes and doubtful questions (issue 15)."""

    KEY: ClassVar[str] = "storage"

    # A file; ':memory:'; None: storage off. load_config puts it beside the config file when the YAML omits it.
    database: Path | str | None = field(default=None, metadata=check.rule(check.database))
    record_questions: bool = field(default=False, metadata=check.rule(check.boolean))  # else only their analysed terms
    retention_days: int = field(default=30, metadata=check.rule(check.int_in(1, 3650)))
    doubtful_below: float = field(default=0.5, metadata=check.rule(check.share))  # an answer this unsure is recorded


DEFAULT_DATABASE = "iom-bot.sqlite3"


SECTIONS: dict[str, type[Section]] = {
    "discord": DiscordConfig,
    "asking": AskingConfig,
    "knowledge": KnowledgeConfig,
    "logging": LoggingConfig,
    "metrics": MetricsConfig,
    "persona": PersonaConfig,
    "storage": StorageConfig,
}


@dataclass(frozen=True, slots=True)
class Config:
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    asking: AskingConfig = field(default_factory=AskingConfig)
    knowledge: KnowledgeConfig = field(default_factory=KnowledgeConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    persona: PersonaConfig = field(default_factory=PersonaConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    token: Secret | None = None  # read from the variable named by discord.token_env; None only when not required

    def __post_init__(self) -> None:
        for key, section in SECTIONS.items():
            if not isinstance(getattr(self, key), section):
                raise ConfigError(f"{key}: expected a {section.__name__}")
        if self.token is not None and not isinstance(self.token, Secret):
            raise ConfigError("token: expected a Secret (never a plain string)")

    @property
    def needs_message_content(self) -> bool:
        """Answer channels read every message, which needs the privileged message-content intent."""
        return bool(self.discord.answer_channels)


def load_config(path: Path | str, environ: Mapping[str, str] = os.environ, *, require_token: bool = True) -> Config:
    """Load and validate the YAML config at path; the token is read from the variable named by discord.token_env."""
    path = Path(path)
    data = _read_yaml(path)
    discord_data = data.get("discord")
    problems: list[str] = []
    if "token" in data or (isinstance(discord_data, Mapping) and "token" in discord_data):
        where = "token" if "token" in data else "discord.token"
        problems.append(f"{where}: the token never goes in the YAML; set the variable named by discord.token_env")
        data = {k: v for k, v in data.items() if k != "token"}
        if isinstance(discord_data, Mapping):
            discord_data = {k: v for k, v in discord_data.items() if k != "token"}
    problems.extend(check.unknown_key("", key, list(SECTIONS)) for key in data if key not in SECTIONS)
    base = path.absolute().parent
    sections: dict[str, Any] = {}
    for key, section in SECTIONS.items():
        value = discord_data if key == "discord" else data.get(key)
        sections[key] = check.collect(problems, lambda section=section, value=value: section.from_mapping(value))
    knowledge = sections["knowledge"]
    if knowledge is not None:
        resolved = {"sources": _resolve(base, knowledge.sources), "index": _resolve(base, knowledge.index)}
        sections["knowledge"] = check.collect(problems, lambda: dataclasses.replace(knowledge, **resolved))
    if sections["storage"] is not None:
        sections["storage"] = check.collect(problems, lambda: _storage(base, data.get("storage")))
    token_env = sections["discord"].token_env if sections["discord"] is not None else DEFAULT_TOKEN_ENV
    token = check.collect(problems, lambda: read_token(token_env, environ, required=require_token))
    if problems:
        raise ConfigError(problems)
    return Config(**sections, token=token)


def _storage(base: Path, data: Any) -> StorageConfig:
    """The storage section; its database beside the config file unless the YAML names one (or null)."""
    storage = StorageConfig.from_mapping(data)
    named = isinstance(data, Mapping) and "database" in data
    database = storage.database if named else Path(DEFAULT_DATABASE)
    if isinstance(database, Path):
        database = _resolve(base, database)
    return dataclasses.replace(storage, database=database)


def _resolve(base: Path, path: Path | None) -> Path | None:
    """A path from the YAML: relative ones are relative to the YAML file's folder."""
    return path if path is None or path.is_absolute() else (base / path).resolve()


def read_token(name: str, environ: Mapping[str, str], *, required: bool = True) -> Secret | None:
    """The token from environ[name]; a ConfigError naming the variable when it is missing or malformed."""
    value = environ.get(name, "").strip()
    if not value:
        if required:
            raise ConfigError(f"{name} is not set (the variable named by discord.token_env)")
        return None
    if any(ch.isspace() for ch in value):
        raise ConfigError(f"{name} does not look like a bot token (it contains whitespace)")
    return Secret(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = read_yaml(path, CONFIG_MAX_BYTES)
    except YamlError as error:
        raise ConfigError(error.at(path)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of sections ({', '.join(SECTIONS)}), got {check.type_name(data)}"
        )
    return data
