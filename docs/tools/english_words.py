"""Write knowledge/english.txt.gz, the English words the speller leaves alone, from SCOWL's word lists.

    apt-get install wamerican wbritish          # Debian's packages of SCOWL (size 50)
    python docs/tools/english_words.py          # writes knowledge/english.txt.gz

It holds the lower-case words of four letters or more (the speller mends nothing shorter), one a line: first
those of both lists, then after a line "## a" those of the American list only ("labor", "center"), then after
"## b" those of the British list only ("labour", "centre"). The speller does not mend a word either list holds
("bank" is not a misspelt "ban"), except a word of one variety into the other's ("labour" into the sources'
"labor"): knowledge/words.py.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "knowledge" / "english.txt.gz"
LISTS = {"a": Path("/usr/share/dict/american-english"), "b": Path("/usr/share/dict/british-english")}
WORD = re.compile(r"[a-z]{4,40}")
NOTICE = """\
# English words (SCOWL size 50, American and British), for knowledge/words.py. Made by
# docs/tools/english_words.py from Debian's wamerican and wbritish 2020.12.07.
# SCOWL: Copyright 2000-2011 by Kevin Atkinson. Permission to use, copy, modify, distribute and sell these word
# lists, the associated scripts, the output created from the scripts, and its documentation for any purpose is
# hereby granted without fee, provided that the above copyright notice appears in all copies and that both that
# copyright notice and this permission notice appear in supporting documentation. Kevin Atkinson makes no
# representations about the suitability of this array for any purpose. It is provided "as is" without express or
# implied warranty. (The lists draw on further sources under similar terms: see SCOWL's README.)
"""


def main() -> None:
    words = {
        variety: {line.strip() for line in path.read_text("utf-8", errors="ignore").splitlines()}
        for variety, path in LISTS.items()
    }
    kept = {variety: {w for w in found if WORD.fullmatch(w)} for variety, found in words.items()}
    both = kept["a"] & kept["b"]
    lines = [*sorted(both), "## a", *sorted(kept["a"] - both), "## b", *sorted(kept["b"] - both)]
    body = NOTICE + "\n".join(lines) + "\n"
    # mtime=0: the same lists always give the same file.
    OUT.write_bytes(gzip.compress(body.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"wrote {OUT}: {len(lines) - 2} words")


if __name__ == "__main__":
    main()
