"""The fictional knowledge base's blind sets, answered without example questions and with its own.

Usage: python eval/fictional.py

tests/data/fictional holds a document written for the tests (a fictional accord between two fictional
organisations), its glossary, two blind question sets (eval/) and eight more question sets written blind by
other helpers (examples/), who saw only the document. The blind sets are answered twice by the same code and
selector: as the sources are, with no example questions, and with the eight sets as the knowledge base's
examples.yaml (in a temporary copy of the sources), as a maintainer who adds questions people asked would have
them. No question of the blind sets is among the examples (eval/validate.py checks for the same question).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

import yaml  # noqa: E402
from memory import example_questions  # noqa: E402

from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.evaluation import compute_metrics, load_eval_set, run_eval  # noqa: E402
from knowledge.examples import EXAMPLES_FILE  # noqa: E402

FICTIONAL = ROOT / "tests" / "data" / "fictional"
BLIND_SETS = tuple(sorted((FICTIONAL / "eval").glob("*.yaml")))
EXAMPLE_SETS = tuple(sorted((FICTIONAL / "examples").glob("*.yaml")))


def with_examples(directory: Path) -> Path:
    """A copy of the fictional sources in directory, with the example sets as its examples.yaml."""
    sources = directory / "sources"
    shutil.copytree(FICTIONAL / "sources", sources)
    body = [{"question": e.question, "answers": list(e.answers)} for e in example_questions(EXAMPLE_SETS)]
    (sources / EXAMPLES_FILE).write_text(yaml.safe_dump({"examples": body}, allow_unicode=True), "utf-8")
    return sources


def table(kb: KnowledgeBase) -> list[str]:
    lines, every = [], []
    for path in BLIND_SETS:
        results = run_eval(kb, load_eval_set(path).items).results
        every += results
        lines.append(_line(path.stem, results))
    lines.append(_line("both", every))
    return lines


def _line(name: str, results) -> str:
    m = compute_metrics(results)
    f1 = "-" if m.abstain_f1 is None else f"{m.abstain_f1:.2f}"
    return f"{name:<12} {m.n:>4} {m.e2e.value:>6.2f} {m.wrong.value:>6.2f} {f1:>8}"


def main() -> int:
    header = f"{'set':<12} {'n':>4} {'e2e':>6} {'wrong':>6} {'abst-F1':>8}"
    print("without example questions", header, *table(KnowledgeBase.load(FICTIONAL / "sources")), sep="\n")
    with tempfile.TemporaryDirectory() as directory:
        kb = KnowledgeBase.load(with_examples(Path(directory)))
        answered = len(kb.retriever.examples.answered)
        title = f"with its {len(kb.retriever.examples)} example questions ({answered} sentences answer one or more)"
        print("", title, header, *table(kb), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
