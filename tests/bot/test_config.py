"""Config: the example loads; every mistake is one line naming the key or the variable; the token stays hidden."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_DATABASE,
    AskingConfig,
    Config,
    ConfigError,
    CooldownConfig,
    DiscordConfig,
    KnowledgeConfig,
    Secret,
    StorageConfig,
    load_config,
)

EXAMPLE = Path(__file__).parents[2] / "config.example.yaml"
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.not-a-real-token_0123456789"
ENV = {"DISCORD_TOKEN": TOKEN}


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, ENV if environ is None else environ)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_example_config_loads_with_the_defaults() -> None:
    config = load_config(EXAMPLE, ENV)

    storage = StorageConfig(database=EXAMPLE.parent / DEFAULT_DATABASE)  # beside the config file
    assert config == dataclasses.replace(Config(), token=Secret(TOKEN), storage=storage)
    assert config.token is not None and config.token.reveal() == TOKEN


def test_example_config_loads_without_a_token_when_not_required() -> None:
    assert load_config(EXAMPLE, {}, require_token=False).token is None


@pytest.mark.parametrize("environ", [{}, {"DISCORD_TOKEN": ""}, {"DISCORD_TOKEN": "   "}])
def test_missing_token_names_the_variable(environ: dict[str, str]) -> None:
    assert error_of(EXAMPLE, environ) == "DISCORD_TOKEN is not set (the variable named by discord.token_env)"


def test_token_is_read_from_the_variable_the_yaml_names(tmp_path: Path) -> None:
    path = write(tmp_path, "discord:\n  token_env: IOM_BOT_TOKEN\n")

    assert error_of(path, ENV) == "IOM_BOT_TOKEN is not set (the variable named by discord.token_env)"
    assert load_config(path, {"IOM_BOT_TOKEN": "abc"}).token == Secret("abc")


def test_token_never_shows_in_repr_or_str() -> None:
    config = load_config(EXAMPLE, ENV)

    for shown in (repr(config), str(config), f"{config.token}", repr(config.token), str(config.token)):
        assert TOKEN not in shown
    assert "***" in repr(config)


CONFIG_ERRORS = [
    (
        "discord:\n  admin_role: [1]\n",
        "discord.admin_role: unknown key 'admin_role' (did you mean 'discord.admin_roles'?)",
    ),
    (
        "asking:\n  cooldown:\n    cont: 2\n",
        "asking.cooldown.cont: unknown key 'cont' (did you mean 'asking.cooldown.count'?)",
    ),
    (
        "discrod: {}\n",
        "discrod: unknown key 'discrod' (did you mean 'discord'?)",
    ),
    (
        "logging:\n  colour: true\n",
        "logging.colour: unknown key 'colour' (known: level)",
    ),
    (
        "discord:\n  guild_ids: 123\n",
        "discord.guild_ids: expected a list of ids, got int",
    ),
    (
        "discord:\n  guild_ids: [1, abc]\n",
        "discord.guild_ids[1]: expected a Discord id (a positive whole number), got 'abc'",
    ),
    (
        "discord:\n  admin_users: [-4]\n",
        "discord.admin_users[0]: expected a Discord id (a positive whole number), got -4",
    ),
    (
        "discord:\n  answer_dms: sometimes\n",
        "discord.answer_dms: expected true or false, got 'sometimes'",
    ),
    (
        "discord:\n  token_env: 'my token'\n",
        "discord.token_env: expected the name of an environment variable (like DISCORD_TOKEN), got 'my token'",
    ),
    (
        "discord: [1, 2]\n",
        "discord: expected a mapping of keys to values, got list",
    ),
    (
        "asking:\n  cooldown:\n    count: -1\n",
        "asking.cooldown.count: must be between 0 and 1000, got -1",
    ),
    (
        "asking:\n  cooldown:\n    seconds: 0\n",
        "asking.cooldown.seconds: must be more than 0 and at most 86400 seconds, got 0",
    ),
    (
        "asking:\n  max_question_length: 5\n",
        "asking.max_question_length: must be between 10 and 4000, got 5",
    ),
    (
        "asking:\n  answer_words: many\n",
        "asking.answer_words: expected a whole number, got 'many'",
    ),
    (
        "knowledge:\n  sources: 12\n",
        "knowledge.sources: expected a directory path or null (the bundled sources), got 12",
    ),
    (
        "knowledge:\n  index: [a, b]\n",
        "knowledge.index: expected a directory path or null (no saved index), got ['a', 'b']",
    ),
    (
        "knowledge:\n  index: ''\n",
        "knowledge.index: expected a directory path or null (no saved index), got ''",
    ),
    (
        "knowledge:\n  sources: kb/sources\n  index: kb\n",
        "knowledge.index: must not be the sources directory or one that holds it",
    ),
    (
        "knowledge:\n  sources: kb\n  index: ./kb/\n",
        "knowledge.index: must not be the sources directory or one that holds it",
    ),
    (
        "logging:\n  level: LOUD\n",
        "logging.level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'",
    ),
    (
        "token: abc\n",
        "token: the token never goes in the YAML; set the variable named by discord.token_env",
    ),
    (
        "discord:\n  token: abc\n",
        "discord.token: the token never goes in the YAML; set the variable named by discord.token_env",
    ),
]


@pytest.mark.parametrize(("yaml_text", "message"), CONFIG_ERRORS)
def test_config_errors_are_one_line_naming_the_key(tmp_path: Path, yaml_text: str, message: str) -> None:
    assert error_of(write(tmp_path, yaml_text)) == message


def test_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "discord:\n  guild_ids: [1, 2\nlogging: {}\n")

    message = error_of(path)

    assert message.startswith(f"{path}:3: bad YAML:")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just words\n"])
def test_a_config_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    assert (
        "expected a mapping of sections (discord, asking, knowledge, logging, metrics, persona, storage)"
        in error_of(write(tmp_path, text))
    )


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.yaml") == f"{tmp_path / 'nope.yaml'}: no such file"


def test_an_empty_file_means_all_defaults(tmp_path: Path) -> None:
    storage = StorageConfig(database=tmp_path / DEFAULT_DATABASE)
    assert load_config(write(tmp_path, ""), ENV) == dataclasses.replace(Config(), token=Secret(TOKEN), storage=storage)


@pytest.mark.parametrize(
    ("yaml_text", "database"),
    [
        ("storage: {database: null}", None),
        ("storage: {database: ':memory:'}", ":memory:"),
        ("storage: {database: data/bot.db}", "data/bot.db"),
        ("storage: {record_questions: true}", DEFAULT_DATABASE),
    ],
)
def test_the_database_is_beside_the_config_unless_named(tmp_path: Path, yaml_text: str, database: str | None) -> None:
    config = load_config(write(tmp_path, yaml_text), ENV)

    expected = database if database in (None, ":memory:") else (tmp_path / database).resolve()
    assert config.storage.database == expected


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        ("storage: {database: 3}", "storage.database: expected a file path, ':memory:' or null"),
        ("storage: {record_questions: yes please}", "storage.record_questions: expected true or false"),
        ("storage: {retention_days: 0}", "storage.retention_days: must be between 1 and 3650"),
        ("storage: {doubtful_below: 2}", "storage.doubtful_below: expected a share between 0 and 1"),
        ("storage: {record_question: true}", "storage.record_question: unknown key"),
    ],
)
def test_bad_storage_settings_are_one_line(tmp_path: Path, yaml_text: str, problem: str) -> None:
    assert problem in error_of(write(tmp_path, yaml_text))


def test_relative_sources_resolve_against_the_yaml_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "deploy"
    folder.mkdir()
    path = write(folder, "knowledge:\n  sources: ./my-sources\n")
    monkeypatch.chdir(tmp_path)

    assert load_config(path, ENV).knowledge.sources == folder.resolve() / "my-sources"


def test_absolute_sources_stay(tmp_path: Path) -> None:
    path = write(tmp_path, f"knowledge:\n  sources: {tmp_path / 'abs'}\n")

    assert load_config(path, ENV).knowledge.sources == tmp_path / "abs"


def test_ids_may_be_quoted_and_duplicates_collapse(tmp_path: Path) -> None:
    path = write(tmp_path, "discord:\n  guild_ids: ['123', 123, 456]\n")

    assert load_config(path, ENV).discord.guild_ids == (123, 456)


def test_sections_built_directly_are_validated_and_normalised() -> None:
    assert DiscordConfig(guild_ids=[1, 2]).guild_ids == (1, 2)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^discord\.guild_ids\[0\]: expected a Discord id"):
        DiscordConfig(guild_ids=(0,))
    with pytest.raises(ConfigError, match=r"^asking\.cooldown: expected a CooldownConfig, got dict$"):
        AskingConfig(cooldown={"count": 1})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^token: expected a Secret"):
        Config(token="plain")  # type: ignore[arg-type]


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.discord = DiscordConfig()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.asking.cooldown.count = 3  # type: ignore[misc]


def test_answer_channels_need_the_message_content_intent() -> None:
    assert not Config().needs_message_content
    assert Config(discord=DiscordConfig(answer_channels=(5,))).needs_message_content


def test_cooldown_defaults_and_off() -> None:
    assert CooldownConfig() == CooldownConfig(count=5, seconds=60)
    assert CooldownConfig(count=0).count == 0
    assert KnowledgeConfig(sources="x").sources == Path("x")  # type: ignore[arg-type]


def test_the_index_is_optional_and_relative_to_the_yaml_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "deploy"
    folder.mkdir()
    path = write(folder, "knowledge:\n  sources: my-sources\n  index: state/index\n")  # neither exists: fine
    monkeypatch.chdir(tmp_path)

    knowledge = load_config(path, ENV).knowledge

    assert knowledge.index == folder.resolve() / "state" / "index"
    assert knowledge.sources == folder.resolve() / "my-sources"
    assert Config().knowledge.index is None
    assert load_config(write(tmp_path, f"knowledge:\n  index: {tmp_path / 'abs'}\n"), ENV).knowledge.index == (
        tmp_path / "abs"
    )


def test_an_index_beside_or_inside_the_sources_is_fine() -> None:
    assert KnowledgeConfig(sources=Path("kb/sources"), index=Path("kb/index")).index == Path("kb/index")
    assert KnowledgeConfig(sources=Path("kb"), index=Path("kb/.index")).index == Path("kb/.index")


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "discord:\n  admin_role: [1]\n  guild_ids: [x]\nasking:\n  answer_words: 5\nloging:\n  level: INFO\n",
    )

    with pytest.raises(ConfigError) as caught:
        load_config(path, {})

    assert caught.value.problems == [
        "loging: unknown key 'loging' (did you mean 'logging'?)",
        "discord.admin_role: unknown key 'admin_role' (did you mean 'discord.admin_roles'?)",
        "discord.guild_ids[0]: expected a Discord id (a positive whole number), got 'x'",
        "asking.answer_words: must be between 10 and 400, got 5",
        "DISCORD_TOKEN is not set (the variable named by discord.token_env)",
    ]
    assert str(caught.value) == "\n".join(caught.value.problems)


SHARD_ERRORS = [
    ("discord:\n  shard_ids: [0]\n", "discord.shard_ids: needs discord.shard_count (how many shards in all)"),
    (
        "discord:\n  shard_count: 2\n  shard_ids: [0, 2]\n",
        "discord.shard_ids: shard 2 does not exist with shard_count 2 (shards are numbered 0 to 1)",
    ),
    ("discord:\n  shard_count: 0\n", "discord.shard_count: must be between 1 and 10000, got 0"),
    ("discord:\n  shard_count: 2\n  shard_ids: []\n", "discord.shard_ids: list at least one shard, or null for all"),
    ("metrics:\n  listen: 9108\n", "metrics.listen: expected HOST:PORT (like 127.0.0.1:9108) or null, got 9108"),
    ("persona:\n  examples: []\n", "persona.examples: expected a list of at least one question, got list"),
    ("persona:\n  menu_name: " + "x" * 33 + "\n", "persona.menu_name: at most 32 characters, got 33"),
]


@pytest.mark.parametrize(("yaml_text", "message"), SHARD_ERRORS)
def test_shard_metrics_and_persona_mistakes_name_the_key(tmp_path: Path, yaml_text: str, message: str) -> None:
    assert error_of(write(tmp_path, yaml_text)).startswith(message)


def test_shards_metrics_and_persona_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "discord:\n  shard_count: 4\n  shard_ids: [3, 2]\nmetrics:\n  listen: 127.0.0.1:9108\n"
        'persona:\n  name: Helper\n  menu_name: Ask Helper\n  examples: ["What is IOM?"]\n',
    )

    config = load_config(path, ENV)

    assert (config.discord.shard_count, config.discord.shard_ids) == (4, (2, 3))
    assert config.metrics.address == ("127.0.0.1", 9108)
    assert (config.persona.name, config.persona.menu_name, config.persona.examples) == (
        "Helper",
        "Ask Helper",
        ("What is IOM?",),
    )
    assert [config.discord.on_my_shards(shard << 22) for shard in range(4)] == [False, False, True, True]
