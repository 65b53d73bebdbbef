"""Test-only launcher: point discord.py at a fake Discord, then run the bot exactly as `python -m bot` does.

    FAKE_DISCORD_URL=http://127.0.0.1:PORT python tests/e2e/launcher.py run --config CONFIG.yaml

Only two semi-internal class attributes change (pinned by discord.py>=2.7,<2.8 in pyproject.toml):
``discord.http.Route.BASE`` (every REST call, interaction callbacks and webhooks included) and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``. The bot's code runs unchanged, in this process.
SIGUSR1 prints every thread's stack to stderr (the harness sends it when the bot hangs).
"""

from __future__ import annotations

import faulthandler
import os
import runpy
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    base = os.environ["FAKE_DISCORD_URL"].rstrip("/")  # http://127.0.0.1:PORT
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the harness asks for stacks when the bot hangs

    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http://", "ws://", 1) + "/gateway")

    sys.path[0] = str(REPO)  # import the working tree's bot/ and knowledge/, not tests/e2e
    sys.argv = ["bot", *sys.argv[1:]]
    runpy.run_module("bot", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
