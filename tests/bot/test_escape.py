"""bot.escape.escape_markdown gives discord.py's output in linear time; render never escapes a huge text whole."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from discord.utils import escape_markdown as discord_escape

from bot import render
from bot.escape import escape_markdown
from bot.store import ReloadResult

PIECES = [*"*`_~|[]()>#- \n\\ab\t<:/.'\u2003", "http://", "https://", "steam://", "<a:/b>", "](", "@everyone"]


def generated(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 24))) for _ in range(count)]


@pytest.mark.parametrize("seed", range(4))
def test_same_output_as_discord_on_generated_text(seed: int) -> None:
    for text in generated(5000, seed):
        assert escape_markdown(text) == discord_escape(text), repr(text)


@pytest.mark.parametrize(
    "text",
    [
        "**bold** and __under__ ~~strike~~ ||spoiler|| `code`",
        "[a masked link](https://example.com) then text",
        "> quoted\n>>> block\n# heading\n  - item\nhttps://example.com/a_b_c.",
        "<https://example.com/x_y> and a\\backslash",
        "",
    ],
)
def test_same_output_as_discord_on_markdown(text: str) -> None:
    assert escape_markdown(text) == discord_escape(text)


@pytest.mark.parametrize(
    "text",
    ["[](" * 1333, "[" * 4000 + "](" + ")" * 10, "\n" * 4000 + "x", "<" * 4000, "http://" * 600 + "." * 1000],
    ids=["brackets", "open-brackets", "blank-lines", "angles", "urls"],
)
def test_hostile_patterns_are_escaped(text: str) -> None:
    escaped = escape_markdown(text)
    assert escaped.replace("\\", "") == text.replace("\\", "")  # only backslashes added
    assert len(escaped) <= 2 * len(text)


def test_a_huge_reload_error_becomes_one_short_message() -> None:
    error = "bomb.md: bad id " + "[*a, " * 2_000_000
    result = ReloadResult(False, "test", datetime.now(UTC), 0.1, "abc", "abc", error=error)

    summary = render.reload_summary(result)

    assert len(summary) <= render.CONTENT_LIMIT and summary.startswith("Reload failed: bomb.md: bad id ")
