"""Every refusal is one line and exit 2, never a traceback: hostile configs, glossaries, eval sets and batch lines.

Each input here once ended the command with a traceback and exit 1 (or hung, or read until memory ran out).
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from knowledge.base import BUNDLED_SOURCES, KnowledgeBase

DIGITS = "9" * 5000
Make = Callable[[Path], str]  # writes the input under a directory, returns the path to pass


def text(name: str, content: str) -> Make:
    def make(directory: Path) -> str:
        (directory / name).write_text(content, "utf-8")
        return str(directory / name)

    return make


def fifo(directory: Path) -> str:
    os.mkfifo(directory / "fifo.yaml")
    return str(directory / "fifo.yaml")


CONFIGS = {
    "superscript-id": text("c.yaml", "discord:\n  guild_ids: ['²']\n"),
    "5000-digit-id": text("c.yaml", f"discord:\n  guild_ids: [{DIGITS}]\n"),
    "5000-digit-quoted-id": text("c.yaml", f"discord:\n  guild_ids: ['{DIGITS}']\n"),
    "dev-zero": lambda directory: "/dev/zero",
    "fifo": fifo,
    "alias": text("c.yaml", "discord: &d {guild_ids: [1]}\nasking: *d\n"),
}
EVAL_SETS = {
    "deep": text("e.yaml", "[" * 100_000),
    "5000-digit-id": text("e.yaml", f"items:\n  - id: {DIGITS}\n"),
    "dev-zero": lambda directory: "/dev/zero",
    "fifo": fifo,
    "alias-bomb": text("e.yaml", "items: &a [1]\nmeta: *a\n"),
}
GLOSSARIES = {
    "list-default": "default_instrument: [1]\n",
    "mixed-keys": "instruments:\n  A/1: {name: N, 2: x, b: y}\n",
}


def refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and len(err) < 500, err
    return err


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_a_hostile_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    refused(capsys, ["check", "--config", CONFIGS[case](tmp_path)])


@pytest.mark.parametrize("case", sorted(EVAL_SETS))
def test_a_hostile_eval_set_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    refused(capsys, ["eval", EVAL_SETS[case](tmp_path)])


@pytest.mark.parametrize("case", sorted(GLOSSARIES))
def test_a_glossary_of_the_wrong_types_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    sources = shutil.copytree(BUNDLED_SOURCES, tmp_path / "sources")
    (sources / "glossary.yaml").write_text(GLOSSARIES[case], "utf-8")

    assert "glossary.yaml" in refused(capsys, ["check", "--sources", str(sources)])


def test_an_unreadable_sources_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("knowledge.documents.os.scandir", denied)  # root reads any directory: deny it here

    assert "Permission denied" in refused(capsys, ["check", "--sources", str(BUNDLED_SOURCES)])


@pytest.mark.parametrize(
    "manifest",
    ["[" * 100_000, '{"format": "iom-bot/index-set", "version": 2, "indexes": [{}], "metadata": {}}'],
    ids=["deep", "bad-name"],
)
def test_a_bad_index_manifest_is_ignored_and_answers_go_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], manifest: str
) -> None:
    index = tmp_path / "index"
    index.mkdir()
    (index / "indexes.json").write_text(manifest, "utf-8")

    code = main(["ask", "--index", str(index), "--json", "Can IOM staff use the UN laissez-passer?"])

    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["abstained"] is False and "Traceback" not in err


BATCH = [
    '{"id": ' + DIGITS + ', "question": "What is IOM?"}',
    "[" * 100_000,
    '{"id": NaN, "question": "What is IOM?"}',
    '{"id": Infinity, "question": "What is IOM?"}',
    '{"id": 1e400, "question": "What is IOM?"}',
    '{"id": 7, "question": "What is IOM?"}',
]


def test_bad_batch_lines_get_an_error_each_and_the_batch_goes_on(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(BATCH) + "\n"))

    code = main(["ask", "--batch"])

    out = capsys.readouterr().out.splitlines()
    assert code == 0 and len(out) == len(BATCH)
    replies = [json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} in the output")) for line in out]
    assert all(
        reply["id"] is None and reply["error"].startswith(f"line {n}: ") for n, reply in enumerate(replies[:-1], 1)
    )
    assert replies[-1]["id"] == 7 and replies[-1]["abstained"] is False


@pytest.mark.parametrize("words", [0, -3, True, 2.5])
def test_an_answer_of_no_words_is_refused(kb: KnowledgeBase, words: object) -> None:
    with pytest.raises(ValueError, match="max_words must be a whole number of at least 1"):
        kb.answer("What is IOM?", max_words=words)  # type: ignore[arg-type]
