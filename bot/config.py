"""The bot's configuration: YAML -> frozen dataclasses, validated on load; the token comes from the environment.

Every section validates itself in ``__post_init__``, so a ``Config(...)`` built in a test is checked exactly like
one loaded from YAML. Errors are one line and name the key path (``discord.guild_ids[1]: ...``) or the variable;
a file with several mistakes raises one ConfigError that lists them all (``problems``), one per line.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Self

from knowledge import yamltext

DEFAULT_TOKEN_ENV = "DISCORD_TOKEN"
QUESTION_MAX_CHARS = 4000  # a Discord message holds at most 4000 characters (with Nitro)
ANSWER_WORDS_RANGE = (10, 400)  # kb.answer(max_words=...); 400 words stay well inside an embed description
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SNOWFLAKE_MAX = 2**64 - 1
SNOWFLAKE_TEXT = re.compile(r"[0-9]{1,20}")  # a quoted id: ASCII digits only ('²' is a digit to str.isdigit)
CONFIG_MAX_BYTES = 1_000_000  # the example config is 3 KB
MESSAGE_MAX_CHARS = 300  # of a ConfigError: a value quoted in it may be huge
SHARD_COUNT_MAX = 10_000  # Discord's largest bots run a few thousand shards
DEFAULT_MENU_NAME = "Ask IOM bot"
DEFAULT_EXAMPLES = ("When did IOM join the UN system?",)


class ConfigError(ValueError):
    """Configuration problems, each one line that names the key path or the environment variable."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [_one_line(problem) for problem in ([problems] if isinstance(problems, str) else problems)]
        super().__init__("\n".join(self.problems))


def _one_line(message: str) -> str:
    message = " ".join(message.split("\n"))
    return message if len(message) <= MESSAGE_MAX_CHARS else message[: MESSAGE_MAX_CHARS - 1] + "…"


def _collect(problems: list[str], build: Callable[[], Any]) -> Any:
    """build(), or None after adding its ConfigError's problems to problems: every mistake is reported at once."""
    try:
        return build()
    except ConfigError as error:
        problems.extend(error.problems)
        return None


class Secret:
    """A string that never shows itself in repr, str, f-strings or logs; ``reveal()`` returns it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# -- value checks: each takes the value and its key path, returns the normalised value or raises ConfigError ----


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _ids(value: Any, path: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple | frozenset | set):
        raise ConfigError(f"{path}: expected a list of ids, got {_type_name(value)}")
    ids: list[int] = []
    for index, item in enumerate(value):
        number = int(item) if isinstance(item, str) and SNOWFLAKE_TEXT.fullmatch(item.strip()) else item  # quoted
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number <= SNOWFLAKE_MAX:
            raise ConfigError(f"{path}[{index}]: expected a Discord id (a positive whole number), got {item!r}")
        if number not in ids:
            ids.append(number)
    return tuple(ids)


def _optional_ids(value: Any, path: str) -> tuple[int, ...] | None:
    return None if value is None else _ids(value, path)


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: expected true or false, got {value!r}")
    return value


def _int_in(low: int, high: int) -> Callable[[Any, str], int]:
    def check(value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected a whole number, got {value!r}")
        if not low <= value <= high:
            raise ConfigError(f"{path}: must be between {low} and {high}, got {value}")
        return value

    return check


def _seconds(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{path}: expected a number of seconds, got {value!r}")
    if not 0 < value <= 86_400:
        raise ConfigError(f"{path}: must be more than 0 and at most 86400 seconds, got {value}")
    return float(value)


def _optional_share(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{path}: expected a share between 0 and 1 (like 0.9) or null, got {value!r}")
    return float(value)


def _env_name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not ENV_NAME.match(value):
        raise ConfigError(f"{path}: expected the name of an environment variable (like DISCORD_TOKEN), got {value!r}")
    return value


def _level(value: Any, path: str) -> str:
    if not isinstance(value, str) or value.upper() not in LOG_LEVELS:
        raise ConfigError(f"{path}: expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return value.upper()


def _directory(null_means: str) -> Callable[[Any, str], Path | None]:
    def check(value: Any, path: str) -> Path | None:
        if value is None:
            return None
        if isinstance(value, Path):
            return value
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: expected a directory path or null ({null_means}), got {value!r}")
        return Path(value.strip()).expanduser()

    return check


def _optional(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def optional(value: Any, path: str) -> Any:
        return None if value is None else check(value, path)

    return optional


def _shard_ids(value: Any, path: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{path}: expected a list of shard numbers (like [0, 1]) or null, got {_type_name(value)}")
    ids: list[int] = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int) or item < 0:
            raise ConfigError(f"{path}[{index}]: expected a shard number (0 or more), got {item!r}")
        if item not in ids:
            ids.append(item)
    if not ids:
        raise ConfigError(f"{path}: list at least one shard, or null for all of them")
    return tuple(sorted(ids))


def _text(limit: int) -> Callable[[Any, str], str]:
    def check(value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: expected some text, got {value!r}")
        if len(value.strip()) > limit:
            raise ConfigError(f"{path}: at most {limit} characters, got {len(value.strip())}")
        return value.strip()

    return check


def _texts(limit: int) -> Callable[[Any, str], tuple[str, ...]]:
    def check(value: Any, path: str) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not value:
            raise ConfigError(f"{path}: expected a list of at least one question, got {_type_name(value)}")
        return tuple(_text(limit)(item, f"{path}[{index}]") for index, item in enumerate(value))

    return check


def _listen(value: Any, path: str) -> str | None:
    """null, or "HOST:PORT" (port 0: any free port, which the log names)."""
    if value is None:
        return None
    host, _, port = str(value).rpartition(":") if isinstance(value, str) else ("", "", "")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or int(port) > 65_535:
        raise ConfigError(f"{path}: expected HOST:PORT (like 127.0.0.1:9108) or null, got {value!r}")
    return f"{host}:{int(port)}"


def _check(check: Callable[[Any, str], Any]) -> dict[str, Any]:
    return {"check": check}


# -- sections ------------------------------------------------------------------------------------------------------


class Section:
    """A config section: unknown keys and bad values are ConfigErrors naming the key path."""

    __slots__ = ()
    KEY: ClassVar[str]

    def __post_init__(self) -> None:
        problems: list[str] = []
        for item in fields(self):  # type: ignore[arg-type]
            path, value = f"{self.KEY}.{item.name}", getattr(self, item.name)
            nested = item.metadata.get("section")
            if nested is not None and not isinstance(value, nested):
                problems.append(f"{path}: expected a {nested.__name__}, got {_type_name(value)}")
            check = item.metadata.get("check")
            if check is not None:
                checked = _collect(problems, lambda check=check, value=value, path=path: check(value, path))
                object.__setattr__(self, item.name, checked)
        if problems:
            raise ConfigError(problems)

    @classmethod
    def from_mapping(cls, data: Any) -> Self:
        """Build the section from its YAML mapping (None means all defaults)."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{cls.KEY}: expected a mapping of keys to values, got {_type_name(data)}")
        known = [item.name for item in fields(cls) if item.init]  # type: ignore[arg-type]
        problems = [_unknown_key(cls.KEY, key, known) for key in data if key not in known]
        values: dict[str, Any] = {}
        for item in fields(cls):  # type: ignore[arg-type]
            nested = item.metadata.get("section")
            if nested is not None:
                values[item.name] = _collect(
                    problems, lambda nested=nested, item=item: nested.from_mapping(data.get(item.name))
                )
                if values[item.name] is None:
                    values[item.name] = nested()
            elif item.name in data:
                values[item.name] = data[item.name]
        section = _collect(problems, lambda: cls(**values))
        if problems:
            raise ConfigError(problems)
        return section


def _unknown_key(where: str, key: object, known: list[str]) -> str:
    path = f"{where}.{key}" if where else str(key)
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f" (did you mean '{where + '.' if where else ''}{close[0]}'?)" if close else f" (known: {', '.join(known)})"
    return f"{path}: unknown key {str(key)!r}{hint}"


@dataclass(frozen=True, slots=True)
class DiscordConfig(Section):
    KEY: ClassVar[str] = "discord"

    token_env: str = field(default=DEFAULT_TOKEN_ENV, metadata=_check(_env_name))
    guild_ids: tuple[int, ...] = field(default=(), metadata=_check(_ids))
    # The servers where /kb is registered and admin roles or Manage Server count (None: guild_ids). Elsewhere only
    # admin_users are admins: an owner of any other server the bot is in is not one of ours.
    admin_guilds: tuple[int, ...] | None = field(default=None, metadata=_check(_optional_ids))
    admin_roles: tuple[int, ...] = field(default=(), metadata=_check(_ids))
    admin_users: tuple[int, ...] = field(default=(), metadata=_check(_ids))
    allowed_channels: tuple[int, ...] = field(default=(), metadata=_check(_ids))  # empty: every channel
    denied_channels: tuple[int, ...] = field(default=(), metadata=_check(_ids))
    answer_channels: tuple[int, ...] = field(default=(), metadata=_check(_ids))  # needs the message-content intent
    answer_dms: bool = field(default=True, metadata=_check(_bool))
    # Sharding (Discord requires it past 2,500 guilds): this process runs shard_ids out of shard_count.
    # null/null: one process, no sharding. shard_count alone: this process runs every shard.
    shard_count: int | None = field(default=None, metadata=_check(_optional(_int_in(1, SHARD_COUNT_MAX))))
    shard_ids: tuple[int, ...] | None = field(default=None, metadata=_check(_shard_ids))

    def _check_shards(self) -> None:
        if self.shard_ids is not None and self.shard_count is None:
            raise ConfigError(f"{self.KEY}.shard_ids: needs discord.shard_count (how many shards in all)")
        too_high = [i for i in self.shard_ids or () if self.shard_count is not None and i >= self.shard_count]
        if too_high:
            raise ConfigError(
                f"{self.KEY}.shard_ids: shard {too_high[0]} does not exist with shard_count {self.shard_count} "
                f"(shards are numbered 0 to {self.shard_count - 1})"
            )

    @property
    def sharded(self) -> bool:
        return self.shard_count is not None

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

    count: int = field(default=5, metadata=_check(_int_in(0, 1000)))  # 0 turns the cooldown off
    seconds: float = field(default=60.0, metadata=_check(_seconds))


@dataclass(frozen=True, slots=True)
class AskingConfig(Section):
    KEY: ClassVar[str] = "asking"

    cooldown: CooldownConfig = field(default_factory=CooldownConfig, metadata={"section": CooldownConfig})
    max_question_length: int = field(default=300, metadata=_check(_int_in(10, QUESTION_MAX_CHARS)))
    answer_words: int = field(default=60, metadata=_check(_int_in(*ANSWER_WORDS_RANGE)))


@dataclass(frozen=True, slots=True)
class KnowledgeConfig(Section):
    KEY: ClassVar[str] = "knowledge"

    sources: Path | None = field(default=None, metadata=_check(_directory("the bundled sources")))
    # A saved index: loaded when it was built from exactly these sources, else rebuilt and rewritten there.
    # It need not exist yet. None: the sources are indexed at every start and reload.
    index: Path | None = field(default=None, metadata=_check(_directory("no saved index")))
    # The share of checks.yaml a new version must pass to replace the serving one. None: every check that passed
    # on the serving version must still pass.
    min_check_pass: float | None = field(default=None, metadata=_check(_optional_share))
    keep_versions: int = field(default=3, metadata=_check(_int_in(1, 20)))  # loadable by /kb rollback

    def __post_init__(self) -> None:
        Section.__post_init__(self)
        if self.index is not None and self.sources is not None and self.sources.is_relative_to(self.index):
            # Writing the index replaces its directory: that must never take the sources with it.
            raise ConfigError(f"{self.KEY}.index: must not be the sources directory or one that holds it")


@dataclass(frozen=True, slots=True)
class LoggingConfig(Section):
    KEY: ClassVar[str] = "logging"

    level: str = field(default="INFO", metadata=_check(_level))

    @property
    def level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.level]


@dataclass(frozen=True, slots=True)
class MetricsConfig(Section):
    KEY: ClassVar[str] = "metrics"

    # HOST:PORT of /healthz and /metrics (Prometheus); null: off. Keep it on loopback unless a firewall guards it.
    listen: str | None = field(default=None, metadata=_check(_listen))

    @property
    def address(self) -> tuple[str, int] | None:
        if self.listen is None:
            return None
        host, _, port = self.listen.rpartition(":")
        return host, int(port)


@dataclass(frozen=True, slots=True)
class PersonaConfig(Section):
    KEY: ClassVar[str] = "persona"

    name: str | None = field(default=None, metadata=_check(_optional(_text(32))))  # null: the Discord display name
    menu_name: str = field(default=DEFAULT_MENU_NAME, metadata=_check(_text(32)))  # Discord's limit for a menu name
    examples: tuple[str, ...] = field(default=DEFAULT_EXAMPLES, metadata=_check(_texts(200)))


def _database(value: Any, path: str) -> Path | str | None:
    if value is None or value == ":memory:" or isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: expected a file path, ':memory:' or null (storage off), got {value!r}")
    return Path(value.strip()).expanduser()


def _share(value: Any, path: str) -> float:
    share = _optional_share(value, path)
    if share is None:
        raise ConfigError(f"{path}: expected a share between 0 and 1, got null")
    return share


@dataclass(frozen=True, slots=True)
class StorageConfig(Section):
    """The database of answers, votes and doubtful questions (issue 15)."""

    KEY: ClassVar[str] = "storage"

    # A file; ':memory:'; None: storage off. load_config puts it beside the config file when the YAML omits it.
    database: Path | str | None = field(default=None, metadata=_check(_database))
    record_questions: bool = field(default=False, metadata=_check(_bool))  # else only their analysed terms
    retention_days: int = field(default=30, metadata=_check(_int_in(1, 3650)))
    doubtful_below: float = field(default=0.5, metadata=_check(_share))  # an answer this unsure is recorded


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
    problems.extend(_unknown_key("", key, list(SECTIONS)) for key in data if key not in SECTIONS)
    base = path.absolute().parent
    sections: dict[str, Any] = {}
    for key, section in SECTIONS.items():
        value = discord_data if key == "discord" else data.get(key)
        sections[key] = _collect(problems, lambda section=section, value=value: section.from_mapping(value))
    knowledge = sections["knowledge"]
    if knowledge is not None:
        resolved = {"sources": _resolve(base, knowledge.sources), "index": _resolve(base, knowledge.index)}
        sections["knowledge"] = _collect(problems, lambda: dataclasses.replace(knowledge, **resolved))
    if sections["storage"] is not None:
        sections["storage"] = _collect(problems, lambda: _storage(base, data.get("storage")))
    token_env = sections["discord"].token_env if sections["discord"] is not None else DEFAULT_TOKEN_ENV
    token = _collect(problems, lambda: read_token(token_env, environ, required=require_token))
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
        data = yamltext.read(path, CONFIG_MAX_BYTES)
    except yamltext.YamlError as error:
        raise ConfigError(error.at(path)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections ({', '.join(SECTIONS)}), got {_type_name(data)}")
    return data
