"""End-to-end fixtures: one fake Discord and one bot process per test module (see harness.py).

Async module fixtures and the tests that use them share the module's event loop: each module sets
``pytestmark = pytest.mark.asyncio(loop_scope="module")``. When a test fails, the tail of the bot's log and
the fake's latest requests are added to the report.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

# --import-mode=importlib puts no test directory on sys.path: the e2e modules import these helpers by name.
sys.path.insert(0, str(Path(__file__).parent))

from harness import LAUNCHED, Harness, launch

LAST_REQUESTS = 40
TEST_STARTED = pytest.StashKey[float]()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def e2e(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    """The bot with the default e2e config (the bundled sources, the fake's guild, default cooldown)."""
    async with launch(tmp_path_factory.mktemp("e2e")) as harness:
        yield harness


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[TEST_STARTED] = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed or "e2e" not in item.nodeid:
        return
    started = item.stash.get(TEST_STARTED, 0.0)
    for bot in LAUNCHED:
        if bot.running or (bot.ended_at or 0.0) >= started or bot.started_at >= started:
            report.sections.append((f"bot log (tail of {bot.log_path})", bot.log_tail()))
    harness = getattr(item, "funcargs", {}).get("e2e")
    if isinstance(harness, Harness):
        report.sections.append(("fake Discord", harness.fake.summary(LAST_REQUESTS)))
