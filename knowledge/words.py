"""The English words the speller leaves alone: a question's real word is not a misspelt word of the sources
("bank" is not "ban", "billion" not "million"), unless it spells one the other way ("labour" and the sources'
"labor"). The words are SCOWL's American and British lists (english.txt.gz, made by docs/tools/english_words.py)."""

from __future__ import annotations

import functools
import gzip
from dataclasses import dataclass
from pathlib import Path

ENGLISH_FILE = Path(__file__).with_name("english.txt.gz")


@dataclass(frozen=True, slots=True)
class English:
    words: frozenset[str]  # every word of either list
    variety: dict[str, str]  # a word of one list only -> its list, "a" (American) or "b" (British)

    def keeps(self, word: str, fix: str) -> bool:
        """True when the speller should leave word as it is rather than mend it into fix: word is an English
        word, and fix is not its spelling in the other variety."""
        if word not in self.words:
            return False
        mine = self.variety.get(word)
        return mine is None or self.variety.get(fix, mine) == mine

    @classmethod
    def parse(cls, text: str) -> English:
        """The words of english.txt.gz's text: comment lines, the words of both lists, "## a" and the American
        list's own, "## b" and the British list's own."""
        start = 0
        while text.startswith("# ", start):  # the notice
            start = text.index("\n", start) + 1
        both, _, rest = text[start:].partition("\n## a\n")
        american, _, british = rest.partition("\n## b\n")
        variety = dict.fromkeys(american.split(), "a") | dict.fromkeys(british.split(), "b")
        return cls(frozenset(both.split()) | variety.keys(), variety)


@functools.lru_cache(maxsize=1)
def load_english(path: Path = ENGLISH_FILE) -> English:
    """The shipped word lists (read once per process, when the speller first has a word to mend)."""
    return English.parse(gzip.decompress(path.read_bytes()).decode("utf-8"))
