"""Shards across processes: two bot processes, two shards each out of four, against a fake Discord that routes
each guild's events to its shard. Each process answers the mention in its own guild and never the other's; the
same with `run --processes 2` (one knowledge base, forked)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from fake_shards import ShardedDiscord, wait_for_shards
from harness import BUNDLED_SOURCES, START_TIMEOUT_S, BotProcess, spawn

pytestmark = pytest.mark.asyncio(loop_scope="function")

SHARD_COUNT = 4
QUESTION = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."


def answer_lines(bot: BotProcess) -> list[str]:
    return [line for line in bot.lines if "bot.exts.ask: answer via=mention" in line]


async def test_two_processes_each_answer_only_their_own_guild(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(BUNDLED_SOURCES, sources)
    async with ShardedDiscord(SHARD_COUNT) as fake:
        first = fake.world
        shard = fake.shard_of(first.guild_id)
        mine = [shard, (shard + 1) % SHARD_COUNT]  # process A: the first guild's shard and the next one
        theirs = [(shard + 2) % SHARD_COUNT, (shard + 3) % SHARD_COUNT]  # process B: the other two
        second = fake.add_guild(theirs[0])
        guilds = [first.guild_id, second.guild_id]
        bots: list[BotProcess] = []
        try:
            for name, shard_ids in (("a", mine), ("b", theirs)):
                discord = {"guild_ids": guilds, "shard_count": SHARD_COUNT, "shard_ids": shard_ids}
                bots.append(await spawn(fake, tmp_path / name, sources, discord=discord))
            await wait_for_shards(fake, SHARD_COUNT, timeout=2 * START_TIMEOUT_S)
            await fake.wait_for_commands(first.guild_id, timeout=START_TIMEOUT_S)
            await fake.wait_for_commands(second.guild_id, timeout=START_TIMEOUT_S)
            asker_a, asker_b = first.new_member("asks_a"), second.new_member("asks_b")

            in_first = await fake.send_in(first, fake.mention_bot(QUESTION), author=asker_a)
            in_second = await fake.send_in(second, fake.mention_bot(QUESTION), author=asker_b)
            replies = [await fake.wait_for_reply(int(m["id"]), START_TIMEOUT_S) for m in (in_first, in_second)]
            await asyncio.gather(*(bot.wait_for_log(r"answer via=mention", START_TIMEOUT_S) for bot in bots))
            codes = [await bot.terminate() for bot in bots]
        finally:
            for bot in bots:
                if bot.running:
                    bot.process.kill()

    a, b = bots
    assert fake.identified_shards == [[i, SHARD_COUNT] for i in range(SHARD_COUNT)]
    assert all(ART_11_SENTENCE in reply.embeds[0]["description"] for reply in replies)
    assert [reply.channel_id for reply in replies] == [first.general.id, second.general.id]
    # Each process answered once, and only the asker in its own guild.
    assert [f"user={asker_a.id}" in line for line in answer_lines(a)] == [True], a.log()
    assert [f"user={asker_b.id}" in line for line in answer_lines(b)] == [True], b.log()
    # The fake routed each guild's message to one shard only, the one (guild_id >> 22) % 4 names.
    routed = {(shard_id, guild) for shard_id, event, guild in fake.delivered if event == "MESSAGE_CREATE"}
    assert (fake.shard_of(first.guild_id), str(first.guild_id)) in routed
    assert (fake.shard_of(second.guild_id), str(second.guild_id)) in routed
    assert {shard_id for shard_id, _ in routed} <= {shard, theirs[0]}
    assert codes == [0, 0]
    assert "Traceback" not in a.log() + b.log()


async def test_processes_share_out_the_shards_of_one_run(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(BUNDLED_SOURCES, sources)
    async with ShardedDiscord(SHARD_COUNT) as fake:
        first = fake.world
        shard = fake.shard_of(first.guild_id)
        second = fake.add_guild((shard + 1) % SHARD_COUNT)  # the other process: shards are dealt out in turn
        discord = {"guild_ids": [first.guild_id, second.guild_id], "shard_count": SHARD_COUNT}
        bot = await spawn(fake, tmp_path / "run", sources, args=("--processes", "2"), discord=discord)
        try:
            await wait_for_shards(fake, SHARD_COUNT, timeout=2 * START_TIMEOUT_S)
            await fake.wait_for_commands(first.guild_id, timeout=START_TIMEOUT_S)
            await fake.wait_for_commands(second.guild_id, timeout=START_TIMEOUT_S)
            messages = [
                await fake.send_in(world, fake.mention_bot(QUESTION), author=world.new_member("asks"))
                for world in (first, second)
            ]
            replies = [await fake.wait_for_reply(int(m["id"]), START_TIMEOUT_S) for m in messages]
            code = await bot.terminate(timeout=2 * START_TIMEOUT_S)
        finally:
            if bot.running:
                bot.process.kill()

    assert fake.identified_shards == [[i, SHARD_COUNT] for i in range(SHARD_COUNT)]
    assert all(ART_11_SENTENCE in reply.embeds[0]["description"] for reply in replies)
    assert any("process 1 of 2" in line and "runs shards (0, 2)" in line for line in bot.lines), bot.log()
    assert any("process 2 of 2" in line and "runs shards (1, 3)" in line for line in bot.lines), bot.log()
    assert len(answer_lines(bot)) == 2
    assert code == 0 and "Traceback" not in bot.log()
