"""The store's quality gate, kept versions and rollback; `iom-bot check` runs checks.yaml; the admin reports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import reports
from bot.cli import main
from bot.store import KnowledgeStore
from bot.versions import History, Version
from knowledge.checks import CheckReport

SOURCE = "iom-joins-un-system.md"
LAISSEZ_PASSER = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."
LOREM = "Lorem ipsum\n\nLorem ipsum dolor sit amet, consectetur adipiscing elit.\n"


def lorem(sources: Path) -> None:
    """Replace the article with a one-line lorem file, as the issue's admin did."""
    (sources / SOURCE).unlink()
    (sources / "lorem.txt").write_text(LOREM, encoding="utf-8")


def edit_article(sources: Path, old: str, new: str) -> None:
    path = sources / SOURCE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(re.sub(r"(?m)^body_sha256: .*\n", "", text.replace(old, new)), encoding="utf-8")


async def test_a_lorem_reload_is_refused_with_the_failing_checks_named(sources_copy: Path) -> None:
    store = KnowledgeStore(sources_copy)
    serving = await store.load()
    lorem(sources_copy)

    result = await store.reload("test")

    assert not result.ok and result.version == serving.version
    assert store.current is serving
    assert store.current.answer(LAISSEZ_PASSER).parts[0].text == ART_11_SENTENCE
    assert LAISSEZ_PASSER in result.failing_checks
    assert any("answers none of the" in problem for problem in result.refused)
    assert result.error is not None and result.error.startswith("the new version failed its checks")


async def test_a_forced_reload_goes_through_and_rollback_restores(sources_copy: Path) -> None:
    store = KnowledgeStore(sources_copy)
    good = await store.load()
    lorem(sources_copy)

    forced = await store.reload("forced by someone", force=True)
    rolled = await store.rollback(None, "rollback by someone")

    assert forced.ok and forced.forced and forced.version != good.version
    assert rolled.ok and rolled.rollback and rolled.version == good.version and store.current is good
    assert store.current.answer(LAISSEZ_PASSER).parts[0].text == ART_11_SENTENCE
    assert [v.loaded_by for v in store.history.list()] == ["start-up", "forced by someone"]
    assert store.history.list()[1].forced
    assert rolled.changes is not None and rolled.changes.documents_added == ("ijrc-iom-joins-un-system",)


async def test_rollback_to_a_version_not_kept_fails_and_changes_nothing(sources_copy: Path) -> None:
    store = KnowledgeStore(sources_copy)
    serving = await store.load()

    result = await store.rollback("abcdef123456", "test")

    assert not result.ok and "version abcdef123456 is not kept" in (result.error or "")
    assert store.current is serving


async def test_a_reload_names_the_changed_document_and_article(sources_copy: Path) -> None:
    store = KnowledgeStore(sources_copy)
    await store.load()
    edit_article(sources_copy, " See id. at art. 10.", "")

    result = await store.reload("test")

    assert result.ok and result.changes is not None
    lines = result.changes.lines(store.current)
    assert "Documents changed: ijrc-iom-joins-un-system" in lines
    assert any(line.startswith("Articles losing citing sentences: art. 10 of 2016 Agreement") for line in lines)
    embed = reports.reload_embed(result, store.current)
    assert embed is not None and "art. 10 of 2016 Agreement" in embed.fields[-1].value


def version(name: str) -> Version:
    class Stub:
        def __init__(self, version: str) -> None:
            self.version = version

    return Version(Stub(name), None, "test", CheckReport(()))  # type: ignore[arg-type]


def test_history_keeps_the_newest_and_one_entry_per_version() -> None:
    history = History(keep=2)
    a, b, c, b_again = (
        version("aaaa00000000"),
        version("bbbb00000000"),
        version("cccc00000000"),
        version("bbbb00000000"),
    )

    assert history.add(a) == [] and history.add(b) == []
    assert history.add(c) == [a.knowledge]  # the oldest goes
    assert history.add(b_again) == [b.knowledge]  # same sources again: the old copy goes
    assert [v.id for v in history.list()] == ["bbbb00000000", "cccc00000000"]
    assert history.get("cccc") is c and history.get("ccc") is None  # a prefix of 4 or more
    assert history.before("bbbb00000000") is c


def test_cli_check_runs_the_checks_and_fails_when_one_fails(
    sources_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--sources", str(sources_copy)]) == 0
    assert re.search(r"checks +\d+/\d+ checks passed", capsys.readouterr().out)
    (sources_copy / "checks.yaml").write_text(
        "checks:\n  - question: Can IOM staff travel on a UN laissez-passer?\n    expect: a diplomatic passport\n",
        encoding="utf-8",
    )

    code = main(["check", "--sources", str(sources_copy)])

    out = capsys.readouterr().out
    assert code == 1 and "0/1 checks passed" in out and f"FAILED   {LAISSEZ_PASSER}" in out


def test_cli_check_names_a_bad_checks_file(sources_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (sources_copy / "checks.yaml").write_text("checks: [{question: q}]\n", encoding="utf-8")

    assert main(["check", "--sources", str(sources_copy)]) == 2
    assert "checks.yaml: checks[0]: give an expected span" in capsys.readouterr().err
