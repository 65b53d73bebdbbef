"""A pytest plugin for test_secrets.py: `-p sentinel_token` makes every FakeDiscord default to the token in
RELIABILITY_SENTINEL_TOKEN, so that a run of the e2e suite gives the bot that token (and the fake accepts only it).

Not a test module: it is loaded by name in a child pytest run, with tests/e2e and this directory on PYTHONPATH.
"""

from __future__ import annotations

import os

import fake_discord

SENTINEL = os.environ["RELIABILITY_SENTINEL_TOKEN"]
fake_discord.FakeDiscord.__init__.__kwdefaults__["token"] = SENTINEL
