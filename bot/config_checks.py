"""The config's building blocks: ConfigError, Secret, the value checks and Section, the base of every section.

A value check takes the value and its key path and returns the normalised value or raises a ConfigError naming
the path. A Section checks each field with the check in its metadata (``rule(check)``) in ``__post_init__``, so a
section built in a test is checked exactly like one loaded from YAML, and every mistake is reported at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar, Self

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SNOWFLAKE_MAX = 2**64 - 1
SNOWFLAKE_TEXT = re.compile(r"[0-9]{1,20}")  # a quoted id: ASCII digits only ('²' is a digit to str.isdigit)
MESSAGE_MAX_CHARS = 300  # of a ConfigError: a value quoted in it may be huge


class ConfigError(ValueError):
    """Configuration problems, each one line that names the key path or the environment variable."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [one_line(problem) for problem in ([problems] if isinstance(problems, str) else problems)]
        super().__init__("\n".join(self.problems))


def one_line(message: str) -> str:
    message = " ".join(message.split("\n"))
    return message if len(message) <= MESSAGE_MAX_CHARS else message[: MESSAGE_MAX_CHARS - 1] + "…"


def collect(problems: list[str], build: Callable[[], Any]) -> Any:
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


def type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def ids(value: Any, path: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple | frozenset | set):
        raise ConfigError(f"{path}: expected a list of ids, got {type_name(value)}")
    ids: list[int] = []
    for index, item in enumerate(value):
        number = int(item) if isinstance(item, str) and SNOWFLAKE_TEXT.fullmatch(item.strip()) else item  # quoted
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number <= SNOWFLAKE_MAX:
            raise ConfigError(f"{path}[{index}]: expected a Discord id (a positive whole number), got {item!r}")
        if number not in ids:
            ids.append(number)
    return tuple(ids)


def optional_ids(value: Any, path: str) -> tuple[int, ...] | None:
    return None if value is None else ids(value, path)


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: expected true or false, got {value!r}")
    return value


def int_in(low: int, high: int) -> Callable[[Any, str], int]:
    def check(value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected a whole number, got {value!r}")
        if not low <= value <= high:
            raise ConfigError(f"{path}: must be between {low} and {high}, got {value}")
        return value

    return check


def seconds(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{path}: expected a number of seconds, got {value!r}")
    if not 0 < value <= 86_400:
        raise ConfigError(f"{path}: must be more than 0 and at most 86400 seconds, got {value}")
    return float(value)


def optional_share(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{path}: expected a share between 0 and 1 (like 0.9) or null, got {value!r}")
    return float(value)


def env_name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not ENV_NAME.match(value):
        raise ConfigError(f"{path}: expected the name of an environment variable (like DISCORD_TOKEN), got {value!r}")
    return value


def level(value: Any, path: str) -> str:
    if not isinstance(value, str) or value.upper() not in LOG_LEVELS:
        raise ConfigError(f"{path}: expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return value.upper()


def directory(null_means: str) -> Callable[[Any, str], Path | None]:
    def check(value: Any, path: str) -> Path | None:
        if value is None:
            return None
        if isinstance(value, Path):
            return value
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: expected a directory path or null ({null_means}), got {value!r}")
        return Path(value.strip()).expanduser()

    return check


def optional(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def optional(value: Any, path: str) -> Any:
        return None if value is None else check(value, path)

    return optional


def shard_ids(value: Any, path: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{path}: expected a list of shard numbers (like [0, 1]) or null, got {type_name(value)}")
    ids: list[int] = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int) or item < 0:
            raise ConfigError(f"{path}[{index}]: expected a shard number (0 or more), got {item!r}")
        if item not in ids:
            ids.append(item)
    if not ids:
        raise ConfigError(f"{path}: list at least one shard, or null for all of them")
    return tuple(sorted(ids))


def text(limit: int) -> Callable[[Any, str], str]:
    def check(value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: expected some text, got {value!r}")
        if len(value.strip()) > limit:
            raise ConfigError(f"{path}: at most {limit} characters, got {len(value.strip())}")
        return value.strip()

    return check


def texts(limit: int) -> Callable[[Any, str], tuple[str, ...]]:
    def check(value: Any, path: str) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not value:
            raise ConfigError(f"{path}: expected a list of at least one question, got {type_name(value)}")
        return tuple(text(limit)(item, f"{path}[{index}]") for index, item in enumerate(value))

    return check


def listen(value: Any, path: str) -> str | None:
    """null, or "HOST:PORT" (port 0: any free port, which the log names)."""
    if value is None:
        return None
    host, _, port = str(value).rpartition(":") if isinstance(value, str) else ("", "", "")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or int(port) > 65_535:
        raise ConfigError(f"{path}: expected HOST:PORT (like 127.0.0.1:9108) or null, got {value!r}")
    return f"{host}:{int(port)}"


def rule(check: Callable[[Any, str], Any]) -> dict[str, Any]:
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
                problems.append(f"{path}: expected a {nested.__name__}, got {type_name(value)}")
            check = item.metadata.get("check")
            if check is not None:
                checked = collect(problems, lambda check=check, value=value, path=path: check(value, path))
                object.__setattr__(self, item.name, checked)
        if problems:
            raise ConfigError(problems)

    @classmethod
    def from_mapping(cls, data: Any) -> Self:
        """Build the section from its YAML mapping (None means all defaults)."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{cls.KEY}: expected a mapping of keys to values, got {type_name(data)}")
        known = [item.name for item in fields(cls) if item.init]  # type: ignore[arg-type]
        problems = [unknown_key(cls.KEY, key, known) for key in data if key not in known]
        values: dict[str, Any] = {}
        for item in fields(cls):  # type: ignore[arg-type]
            nested = item.metadata.get("section")
            if nested is not None:
                values[item.name] = collect(
                    problems, lambda nested=nested, item=item: nested.from_mapping(data.get(item.name))
                )
                if values[item.name] is None:
                    values[item.name] = nested()
            elif item.name in data:
                values[item.name] = data[item.name]
        section = collect(problems, lambda: cls(**values))
        if problems:
            raise ConfigError(problems)
        return section


def unknown_key(where: str, key: object, known: list[str]) -> str:
    path = f"{where}.{key}" if where else str(key)
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f" (did you mean '{where + '.' if where else ''}{close[0]}'?)" if close else f" (known: {', '.join(known)})"
    return f"{path}: unknown key {str(key)!r}{hint}"


def database(value: Any, path: str) -> Path | str | None:
    if value is None or value == ":memory:" or isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: expected a file path, ':memory:' or null (storage off), got {value!r}")
    return Path(value.strip()).expanduser()


def share(value: Any, path: str) -> float:
    share = optional_share(value, path)
    if share is None:
        raise ConfigError(f"{path}: expected a share between 0 and 1, got null")
    return share
