"""The command line: each command's happy path on the bundled sources, exit codes and one-line errors."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli_text
from bot.cli import main
from knowledge.answer import Answer, AnswerPart, Citation, Hit
from knowledge.base import BUNDLED_SOURCES

PROCESS_TIMEOUT_S = 60
TINY_SET = """\
meta: {name: tiny}
items:
- id: t1
  question: "Can IOM staff use a UN laissez-passer as a travel document?"
  category: lexical
  gold_spans: ["entitlement to use a UN laissez-passer as a valid travel document"]
  gold_articles: ["art. 11"]
- id: t2
  question: "What is the capital of Australia?"
  category: out_of_scope
  abstain: true
"""


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_process(*argv: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env={**os.environ, **(env or {})},
        timeout=PROCESS_TIMEOUT_S,
    )


def assert_one_line_error(err: str, fragment: str) -> None:
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert fragment in err
    assert "Traceback" not in err


@pytest.fixture
def bad_sources(write_source) -> Path:
    return write_source("broken.md", "---\ntitle: no closing line\n").parent


@pytest.fixture
def tiny_set(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SET, encoding="utf-8")
    return path


# ---------------------------------------------------------------- ask


def test_ask_prints_the_answer_and_where_it_comes_from(capsys):
    code, out, _ = run_main(capsys, "ask", "Can IOM staff use a UN laissez-passer as a travel document?")
    answer, source = out.splitlines()[:2]
    assert code == 0
    assert "laissez-passer" in answer
    assert source.startswith('— IJRC, "International Organization for Migration to Join United Nations System"')
    assert source.endswith(
        "§ Details of the Agreement · 2016 Agreement (A/70/976) art. 11 · https://ijrcenter.org/2016/08/09/international-organization-for-migration-to-join-united-nations-system/"
    )


def test_ask_joins_unquoted_words(capsys):
    code, out, _ = run_main(capsys, "ask", "Can", "IOM", "staff", "use", "a", "UN", "laissez-passer?")
    assert code == 0
    assert "laissez-passer" in out.splitlines()[0]


def test_ask_out_of_scope_says_so(capsys):
    code, out, _ = run_main(capsys, "ask", "What is the capital of Australia?")
    assert code == 0
    assert out.startswith("Not in my sources")


def test_abstention_lists_the_nearest_sections(kb):
    near, far = kb.passages[-1], next(p for p in kb.passages if p.section is None)
    answer = Answer("q", (), True, 0.1, (Hit(near, 0.25), Hit(near, 0.2), Hit(far, 0.1)), reason="too weak")
    assert cli_text.render_abstention(kb, answer).splitlines() == [
        "Not in my sources: too weak.",
        "Nearest sections:",
        f"  - § {near.section} (IJRC, score 0.250)",
        "  - opening paragraphs (IJRC, score 0.100)",
    ]


def test_sources_merge_per_section(kb):
    passage = kb.passages[0]

    def cite(section: str | None, *articles: str, others: tuple[str, ...] = ()) -> Citation:
        instrument = "A/70/976" if articles else None
        return Citation("doc", "T", section, None, "Pub Co (PC)", passage.id, articles, instrument, others)

    parts = (
        AnswerPart("One.", passage, (cite("Details", "8"),)),
        AnswerPart("Two.", passage, (cite("Details", "10"), cite("Details", "8"))),
        AnswerPart("Three.", passage, (cite(None, others=("UN News Centre: IOM",)),)),
    )
    answer = Answer("q", parts, False, 0.5)
    assert cli_text.render_answer(kb, answer).splitlines() == [
        "One. Two. Three.",
        '— PC, "T", § Details · 2016 Agreement (A/70/976) arts. 8, 10',
        '— PC, "T", opening paragraphs · UN News Centre: IOM',
    ]


def test_ask_long_question_is_fine(capsys):
    code, out, _ = run_main(capsys, "ask", "laissez-passer " * 2000)
    assert code == 0 and out.strip()


@pytest.mark.parametrize("argv", [["ask"], ["ask", "   "], ["ask", "--json", ""], ["search", " "]])
def test_empty_question_is_a_usage_error(capsys, argv):
    code, out, err = run_main(capsys, *argv)
    assert code == 2 and out == ""
    assert_one_line_error(err, "empty")


def test_batch_with_a_question_argument_is_a_usage_error(capsys):
    code, _, err = run_main(capsys, "ask", "--batch", "why?")
    assert code == 2
    assert_one_line_error(err, "--batch reads its questions from stdin")


@pytest.mark.parametrize("command", [["ask", "hi"], ["search", "hi"], ["chat"], ["check"]])
def test_missing_sources_dir_is_one_line(capsys, tmp_path, command):
    code, out, err = run_main(capsys, *command, "--sources", str(tmp_path / "nowhere"))
    assert code == 2 and out == ""
    assert_one_line_error(err, "nowhere: not a directory of sources")


def test_broken_source_file_is_one_line(capsys, bad_sources):
    code, _, err = run_main(capsys, "ask", "--sources", str(bad_sources), "hi")
    assert code == 2
    assert_one_line_error(err, f"{bad_sources / 'broken.md'}:1: front matter is not closed")


def test_unknown_command_is_an_argparse_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["frobnicate"])
    assert caught.value.code == 2


# ---------------------------------------------------------------- search


def test_search_ranks_passages_with_scores_ids_sections_and_citations(capsys):
    code, out, _ = run_main(capsys, "search", "IOM staff laissez-passer", "-k", "2")
    lines = out.splitlines()
    assert code == 0
    assert [line.split()[0] for line in lines if not line.startswith(" ")] == ["1.", "2."]
    assert lines[0].startswith("1. [0.") and "#details-of-the-agreement-" in lines[0]
    assert (
        lines[1]
        .strip()
        .endswith(
            "2016 Agreement (A/70/976) arts. 8, 10, 11 · https://ijrcenter.org/2016/08/09/international-organization-for-migration-to-join-united-nations-system/"
        )
    )
    assert "laissez-passer" in out.split("\n2. ")[0]


def test_search_json_adds_citations_to_each_hit(capsys):
    code, out, _ = run_main(capsys, "search", "--json", "IOM staff laissez-passer", "-k", "3")
    data = json.loads(out)
    assert code == 0
    assert data["query"] == "IOM staff laissez-passer" and len(data["hits"]) == 3
    assert {"id", "text", "score", "source", "section", "citations"} == set(data["hits"][0])


@pytest.mark.parametrize("k", ["0", "-1", "two"])
def test_search_k_must_be_positive(capsys, k):
    with pytest.raises(SystemExit) as caught:
        main(["search", "staff", "-k", k])
    assert caught.value.code == 2


# ---------------------------------------------------------------- chat


def test_chat_answers_piped_lines_until_quit(capsys, monkeypatch):
    stdin = "Can IOM staff use a UN laissez-passer?\n\n  \nquit\nWhat is the capital of Australia?\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code, out, _ = run_main(capsys, "chat")
    assert code == 0
    assert "laissez-passer" in out and "— IJRC" in out
    assert "Not in my sources" not in out, "nothing after 'quit' is answered"
    assert ">" not in out, "no prompt when stdin is not a terminal"


def test_chat_ends_cleanly_at_eof(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("What is the capital of Australia?"))
    code, out, _ = run_main(capsys, "chat")
    assert code == 0
    assert out.startswith("Not in my sources")


def test_chat_ends_cleanly_on_ctrl_c(capsys, monkeypatch):
    def interrupt(prompt: str = "") -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", interrupt)
    code, _, err = run_main(capsys, "chat")
    assert code == 0 and "Traceback" not in err


# ---------------------------------------------------------------- check


def test_check_summarises_the_bundled_sources(capsys, kb):
    code, out, _ = run_main(capsys, "check")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == (
        f"ok: 1 document(s), {len(kb.passages)} passages, "
        f"{kb.cited_sentence_count} of {kb.sentence_count} sentences with citations, "
        f"{len(kb.cited_articles())} cited articles, version {kb.version}"
    )
    assert "articles   2016 Agreement (A/70/976) arts. 2, 3, 4, 5, 6, 7, 8, 10, 11, 13" in lines
    assert "articles   1996 Cooperation Agreement (E/1996/90) arts. 2, 3" in lines


def test_check_reports_bad_sources_with_exit_2(capsys, bad_sources):
    code, out, err = run_main(capsys, "check", "--sources", str(bad_sources))
    assert code == 2 and out == ""
    assert_one_line_error(err, f"{bad_sources / 'broken.md'}:1: front matter is not closed")


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_config_uses_its_sources_and_needs_no_token(capsys, monkeypatch, tmp_path, bad_sources):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    config = write_config(tmp_path, f"knowledge:\n  sources: {bad_sources.name}\n")  # relative to the YAML
    code, _, err = run_main(capsys, "check", "--config", str(config))
    assert code == 2
    assert_one_line_error(err, f"{bad_sources / 'broken.md'}:1: front matter is not closed")


def test_check_sources_overrides_the_config(capsys, monkeypatch, tmp_path, bad_sources):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    config = write_config(tmp_path, f"knowledge:\n  sources: {bad_sources}\n")
    code, out, _ = run_main(capsys, "check", "--config", str(config), "--sources", str(BUNDLED_SOURCES))
    assert code == 0
    assert f"config     {config}: ok" in out.splitlines()


def test_check_config_says_whether_its_saved_index_matches(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    config = write_config(tmp_path, "knowledge:\n  index: index\n")
    index = tmp_path / "index"

    _, before, _ = run_main(capsys, "check", "--config", str(config))
    assert main(["build-index", "--index", str(index)]) == 0
    capsys.readouterr()
    code, after, _ = run_main(capsys, "check", "--config", str(config))

    assert f"index      {index}: not built yet (the bot builds and saves it when it starts)" in before.splitlines()
    assert code == 0 and f"index      {index}: matches the sources" in after.splitlines()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("knowledge:\n  source: x\n", "knowledge.source: unknown key 'source'"), (None, "config.yaml: no such file")],
)
def test_check_config_errors_are_one_line(capsys, tmp_path, text, fragment):
    config = write_config(tmp_path, text) if text is not None else tmp_path / "config.yaml"
    code, out, err = run_main(capsys, "check", "--config", str(config))
    assert code == 2 and out == ""
    assert_one_line_error(err, fragment)


# ---------------------------------------------------------------- run


def test_run_without_a_token_is_a_one_line_error(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("IOM_TEST_TOKEN", raising=False)
    config = write_config(tmp_path, "discord:\n  token_env: IOM_TEST_TOKEN\n")
    code, _, err = run_main(capsys, "run", "--config", str(config))
    assert code == 2
    assert_one_line_error(err, "IOM_TEST_TOKEN is not set")


def test_run_hands_the_config_to_the_bot(monkeypatch, tmp_path):
    calls = []

    def run_bot(config, *, sync_global: bool = False, verbose: int = 0) -> int:
        calls.append((config, sync_global))
        return 0

    monkeypatch.setenv("IOM_TEST_TOKEN", "abc.def")
    monkeypatch.setattr("bot.client.run_bot", run_bot)
    config = write_config(tmp_path, "discord:\n  token_env: IOM_TEST_TOKEN\n")
    assert main(["run", "--config", str(config), "--sync", "--sources", str(tmp_path)]) == 0
    [(loaded, sync_global)] = calls
    assert sync_global is True
    assert loaded.token.reveal() == "abc.def"
    assert loaded.knowledge.sources == tmp_path


def test_run_index_overrides_the_config(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setenv("IOM_TEST_TOKEN", "abc.def")
    monkeypatch.setattr("bot.client.run_bot", lambda config, **kwargs: calls.append(config) or 0)
    config = write_config(tmp_path, "discord:\n  token_env: IOM_TEST_TOKEN\nknowledge:\n  index: from-yaml\n")

    assert main(["run", "--config", str(config)]) == 0
    assert main(["run", "--config", str(config), "--index", str(tmp_path / "from-cli")]) == 0
    assert [loaded.knowledge.index for loaded in calls] == [tmp_path / "from-yaml", tmp_path / "from-cli"]


def test_run_index_must_not_hold_the_sources(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("IOM_TEST_TOKEN", "abc.def")
    yaml_text = f"discord:\n  token_env: IOM_TEST_TOKEN\nknowledge:\n  sources: {tmp_path / 'kb'}\n"
    config = write_config(tmp_path, yaml_text)
    code, _, err = run_main(capsys, "run", "--config", str(config), "--index", str(tmp_path))
    assert code == 2
    assert_one_line_error(err, "knowledge.index: must not be the sources directory or one that holds it")


# ---------------------------------------------------------------- eval


def test_eval_prints_a_table_per_category_and_overall(capsys, tiny_set):
    code, out, _ = run_main(capsys, "eval", str(tiny_set))
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("tiny: 2 questions, knowledge base ")
    assert lines[1].split()[:3] == ["category", "n", "hit@1"]
    assert [line.split()[0] for line in lines[2:]] == ["lexical", "out_of_scope", "-" * len(lines[4]), "overall"]
    assert lines[-1].split()[1] == "2"


def test_eval_json_is_one_report(capsys, tiny_set):
    code, out, _ = run_main(capsys, "eval", "--json", str(tiny_set))
    report = json.loads(out)
    assert code == 0
    assert report["set"] == "tiny"
    assert list(report["categories"]) == ["lexical", "out_of_scope"]
    assert [item["id"] for item in report["items"]] == ["t1", "t2"]


def test_eval_failures_lists_what_went_wrong(capsys, tmp_path):
    path = tmp_path / "fail.yaml"
    path.write_text('- {id: f1, question: "What is the capital of Australia?", gold_spans: ["Canberra"]}\n')
    code, out, _ = run_main(capsys, "eval", "--failures", str(path))
    assert code == 0
    assert "f1 [uncategorised] What is the capital of Australia?" in out
    assert "    - abstained (" in out


def test_eval_warns_when_the_set_was_written_for_other_sources(capsys, tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text(TINY_SET.replace("meta: {name: tiny}", "meta: {name: tiny, source_sha256: deadbeef}"))
    code, out, err = run_main(capsys, "eval", str(path))
    assert code == 0 and out.startswith("tiny: 2 questions")
    assert err.startswith("warning: ") and "deadbeef" in err


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (None, "missing.yaml: no such file"),
        ("items: [\n", "missing.yaml:2: bad YAML"),
        ("42", "non-empty list"),
        ("items: " + "[" * 3000 + "]" * 3000, "missing.yaml: bad YAML: nested too deeply"),  # was a long traceback
        ("items:\n" + "".join(" " * depth + "- \n" for depth in range(3000)), "bad YAML: nested too deeply"),
        ("items: &a [x]\nmore: *a\n", "missing.yaml:1: bad YAML: YAML anchors and aliases"),
        ("n: " + "9" * 5000, "missing.yaml: bad YAML: Exceeds the limit"),
    ],
)
def test_eval_input_errors_are_one_line(capsys, tmp_path, text, fragment):
    path = tmp_path / "missing.yaml"
    if text is not None:
        path.write_text(text)
    code, out, err = run_main(capsys, "eval", str(path))
    assert code == 2 and out == ""
    assert_one_line_error(err, fragment)


# ---------------------------------------------------------------- the process boundary


def test_offline_commands_never_import_discord(tiny_set):
    assert importlib.util.find_spec("discord") is not None, "discord must be installed for this test to mean anything"
    script = (
        "import json, sys\n"
        "from bot.cli import main\n"
        "codes = [main(argv) for argv in json.loads(sys.argv[1])]\n"
        "loaded = sorted(m for m in sys.modules if m == 'discord' or m.startswith('discord.'))\n"
        "print(json.dumps({'codes': codes, 'discord': loaded}), file=sys.stderr)\n"
    )
    commands = [["ask", "What does article 8 provide?"], ["search", "staff"], ["check"], ["eval", str(tiny_set)]]
    result = run_process("-c", script, json.dumps(commands))
    report = json.loads(result.stderr.splitlines()[-1])
    assert report == {"codes": [0, 0, 0, 0], "discord": []}


def test_python_m_bot_survives_a_terminal_that_cannot_encode_the_answer():
    result = run_process(
        "-m", "bot", "ask", "Can IOM staff use a UN laissez-passer?", env={"PYTHONIOENCODING": "ascii"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("It also affords") or "laissez-passer" in result.stdout
    assert "? IJRC" in result.stdout  # the dash could not be encoded and was replaced


def test_chat_with_piped_stdin_in_a_real_process():
    result = run_process("-m", "bot", "chat", stdin="What does Article 8 provide?\n")
    assert result.returncode == 0, result.stderr
    assert "administrative cooperation" in result.stdout
