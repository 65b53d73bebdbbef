"""run --processes: how the shards are dealt out, and each process's own config."""

from __future__ import annotations

import dataclasses

import pytest

from bot.cluster import child_config, shard_groups
from bot.config import Config, DiscordConfig, MetricsConfig


@pytest.mark.parametrize(
    ("shards", "processes", "groups"),
    [
        ([0, 1, 2, 3], 2, [(0, 2), (1, 3)]),
        ([0, 1, 2, 3, 4], 2, [(0, 2, 4), (1, 3)]),
        ([4, 5, 6], 3, [(4,), (5,), (6,)]),
    ],
)
def test_shards_are_dealt_out_in_turn(shards: list[int], processes: int, groups: list[tuple[int, ...]]) -> None:
    assert shard_groups(shards, processes) == groups


@pytest.mark.parametrize(("listen", "expected"), [("127.0.0.1:9108", "127.0.0.1:9110"), ("127.0.0.1:0", "127.0.0.1:0")])
def test_each_process_gets_its_shards_and_its_own_metrics_port(listen: str, expected: str) -> None:
    config = Config(discord=DiscordConfig(shard_count=8), metrics=MetricsConfig(listen=listen))

    mine = child_config(config, (2, 6), 2)

    assert (mine.discord.shard_count, mine.discord.shard_ids) == (8, (2, 6))
    assert mine.metrics.listen == expected
    assert dataclasses.replace(mine, discord=config.discord, metrics=config.metrics) == config
