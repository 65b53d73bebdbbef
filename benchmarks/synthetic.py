"""Seeded synthetic corpora and queries: English-like passages with a Zipf-distributed vocabulary.

The vocabulary's head is real English function and common words in their usual frequency order
(so the analyser's stopword list removes most of them, as it would in real text, and the rest,
like "not", "which", "who", "one", stay as very common terms); the long tail is pronounceable
pseudo-words, some with English suffixes so the stemmer has work to do. Passage n of every
corpus is the same passage: a smaller corpus is a prefix of a larger one.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np

SEED = 20240607
VOCABULARY_SIZE = 300_000
ZIPF_EXPONENT = 1.05  # the 150 head words then hold ~50 % of tokens, as in English text
WORDS_PER_PASSAGE = (80, 120)  # inclusive range
QUERY_WORDS = (3, 8)
QUERY_FUNCTION_WORD_SHARE = 0.4  # share of queries with one function word typed into them
PASSAGES_PER_BLOCK = 10_000  # generation unit: passages are drawn block by block, so prefixes agree

# The most frequent English words, most frequent first (Brown corpus order, lightly edited).
HEAD_WORDS = """the of and to a in is that for it as was with be by on not he i this are or his from at which but
have an they you were her she there one been we their all has would will when who more if no out so said what up
its about into than them can only other new some could time these two may then do first any my now such like our
over man me even most made after also did many before must through back years where much your way well down should
because each just those people how too little state good very make world still own see men work long get here
between both life being under never day same another know while last might us great old year off come since
against go came right used take three""".split()
# Words people type into questions; the analyser drops some ("the", "is") and keeps others ("what", "not").
QUERY_FUNCTION_WORDS = "what how which who when where why the is are of for in not does can".split()
ONSETS = "b c d f g h j k l m n p r s t v w z br cl cr dr fl gr pl pr sh st th tr ch".split()
VOWELS = "a e i o u ai ea ee oo ou ie".split()
CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "rt", "nt"]
SUFFIXES = ["", "", "", "", "", "s", "s", "ed", "ing", "er", "ly", "tion", "ment", "ness", "al"]


def vocabulary(size: int = VOCABULARY_SIZE, seed: int = SEED) -> list[str]:
    """HEAD_WORDS followed by distinct pseudo-words, in Zipf rank order."""
    rng = np.random.default_rng(seed)
    words = list(dict.fromkeys(HEAD_WORDS))
    seen = set(words)
    while len(words) < size:
        n = 4096
        syllables = rng.choice([1, 2, 3], n, p=[0.3, 0.45, 0.25])
        parts = [
            rng.choice(ONSETS, (n, 3)),
            rng.choice(VOWELS, (n, 3)),
            rng.choice(CODAS, (n, 3)),
        ]
        suffixes = rng.choice(SUFFIXES, n)
        for i in range(n):
            word = "".join(parts[0][i, j] + parts[1][i, j] + parts[2][i, j] for j in range(syllables[i]))
            word += suffixes[i]
            if word not in seen:
                seen.add(word)
                words.append(word)
                if len(words) == size:
                    break
    return words


def _cumulative(size: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1, dtype=np.float64) ** exponent
    cumulative = np.cumsum(weights)
    return cumulative / cumulative[-1]


def passages(n: int, seed: int = SEED) -> list[str]:
    """The first n passages of the seeded stream (80-120 words each)."""
    words = np.array(vocabulary(seed=seed), dtype=object)
    cumulative = _cumulative(len(words), ZIPF_EXPONENT)
    out: list[str] = []
    for block in range(0, n, PASSAGES_PER_BLOCK):
        rng = np.random.default_rng([seed, block // PASSAGES_PER_BLOCK])
        lengths = rng.integers(WORDS_PER_PASSAGE[0], WORDS_PER_PASSAGE[1] + 1, PASSAGES_PER_BLOCK)
        ranks = np.searchsorted(cumulative, rng.random(int(lengths.sum())), side="right")
        drawn = words[np.minimum(ranks, len(words) - 1)]
        ends = np.cumsum(lengths)
        for i in range(min(PASSAGES_PER_BLOCK, n - block)):
            sentence = drawn[ends[i] - lengths[i] : ends[i]]
            out.append(" ".join(sentence).capitalize() + ".")
    return out


def queries(n: int = 1000, seed: int = SEED) -> list[str]:
    """n queries of 3-8 words as people type them: content words, often one function word."""
    words = vocabulary(seed=seed)
    content = words[len(dict.fromkeys(HEAD_WORDS)) :]
    cumulative = _cumulative(len(content), ZIPF_EXPONENT)
    rng = np.random.default_rng([seed, 999_999])
    out = []
    for _ in range(n):
        length = int(rng.integers(QUERY_WORDS[0], QUERY_WORDS[1] + 1))
        with_function_word = rng.random() < QUERY_FUNCTION_WORD_SHARE
        ranks = np.searchsorted(cumulative, rng.random(length - with_function_word), side="right")
        query = [content[min(int(r), len(content) - 1)] for r in ranks]
        if with_function_word:
            query.insert(int(rng.integers(0, len(query) + 1)), str(rng.choice(QUERY_FUNCTION_WORDS)))
        out.append(" ".join(query))
    return out


def cached_passages(n: int, cache_dir: Path, seed: int = SEED) -> list[str]:
    """passages(n), read from (or first written to) a one-passage-per-line file in cache_dir."""
    key = hashlib.sha256(f"{seed}:{VOCABULARY_SIZE}:{ZIPF_EXPONENT}:{WORDS_PER_PASSAGE}:{n}".encode()).hexdigest()[:12]
    path = Path(cache_dir) / f"passages-{n}-{key}.txt"
    if path.exists():
        with path.open(encoding="utf-8") as lines:  # line by line: no second copy of the whole file
            return [line.rstrip("\n") for line in lines]
    texts = passages(n, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(text + "\n" for text in texts), "utf-8")
    tmp.replace(path)
    return texts


PASSAGES_PER_FILE = 1000
PASSAGES_PER_SECTION = 100
SENTENCE_WORDS = (8, 30)  # inclusive range
PARAGRAPH_MAX_WORDS = 100  # under chunking's 110 with a citation sentence added: one paragraph, one passage
CITATION_EVERY = 7  # one paragraph in this many ends with a citation sentence ("See id. at art. 5.")
FIRST_CITATION = (
    "See UN General Assembly, Agreement concerning the Relationship between the United Nations and the "
    "International Organization for Migration, UN Doc. A/70/976, 8 July 2016."
)


def paragraph(text: str, rng: np.random.Generator) -> str:
    """A synthetic passage cut to PARAGRAPH_MAX_WORDS words and into sentences of SENTENCE_WORDS words."""
    words = text.rstrip(".").split()[:PARAGRAPH_MAX_WORDS]
    sentences = []
    while words:
        length = int(rng.integers(SENTENCE_WORDS[0], SENTENCE_WORDS[1] + 1))
        head, words = words[:length], words[length:]
        sentences.append(" ".join(head).capitalize() + ".")
    return " ".join(sentences)


def write_sources(directory: Path, texts: list[str], seed: int = SEED) -> int:
    """Write texts as a sources directory: PASSAGES_PER_FILE paragraphs per front-matter Markdown file.

    Each file is one document with `## ` sections of PASSAGES_PER_SECTION paragraphs; some paragraphs end
    with a law-review citation, so chunking resolves references as it does for real sources. Returns the
    number of files written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files = 0
    for first in range(0, len(texts), PASSAGES_PER_FILE):
        number = first // PASSAGES_PER_FILE + 1
        rng = np.random.default_rng([seed, 555_555, number])
        lines = [
            "---",
            f"id: synthetic-{number:04d}",
            f"title: Synthetic document {number}",
            "publisher: Benchmark generator",
            "url: null",
            "---",
            f"# Synthetic document {number}",
            "",
        ]
        for offset, text in enumerate(texts[first : first + PASSAGES_PER_FILE]):
            if offset % PASSAGES_PER_SECTION == 0:
                lines += [f"## Section {offset // PASSAGES_PER_SECTION + 1}", ""]
            body = paragraph(text, rng)
            if offset == 0:
                body += " " + FIRST_CITATION
            elif offset % CITATION_EVERY == 0:
                body += f" See id. at art. {int(rng.integers(1, 20))}."
            lines += [body, ""]
        path = directory / f"synthetic-{number:04d}.md"
        path.write_text("\n".join(lines), "utf-8")
        files += 1
    return files


def cached_sources(n: int, cache_dir: Path, glossary: Path | None = None, seed: int = SEED) -> Path:
    """A sources directory of the first n passages (see write_sources), made once in cache_dir."""
    layout = (seed, n, PASSAGES_PER_FILE, PASSAGES_PER_SECTION, SENTENCE_WORDS, PARAGRAPH_MAX_WORDS, CITATION_EVERY)
    extra = hashlib.sha256(glossary.read_bytes()).hexdigest() if glossary is not None else ""
    key = hashlib.sha256(f"{layout}:{extra}".encode()).hexdigest()[:12]
    directory = Path(cache_dir) / f"sources-{n}-{key}"
    done = directory / ".complete"
    if not done.exists():
        staging = directory.with_name(directory.name + ".tmp")
        if staging.exists():
            shutil.rmtree(staging)
        write_sources(staging, cached_passages(n, cache_dir, seed), seed)
        if glossary is not None:
            (staging / glossary.name).write_bytes(glossary.read_bytes())
        (staging / ".complete").write_text("", "utf-8")
        staging.replace(directory)
    return directory
