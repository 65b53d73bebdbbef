"""Reading a question: its parts, what kind of answer it wants, and the articles and instrument it names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import CHAT_WORDS, article_numbers, normalize

# What kind of fact a question asks for; the answer sentence should carry one.
WANTS_DATE = "date"
WANTS_NUMBER = "number"
WANTS_ARTICLE = "article"
WANTS_PERSON = "person"
WANTS_NAME = "name"  # "who is the Director General?": a role is not an answer, a name is
WANTS_PLACE = "place"
WANTS_DEFINITION = "definition"

WH_WORDS = r"(?:what|which|who|whom|whose|when|where|why|how|does|do|did|is|are|was|were|can|could|will|would|has|have)"
# "..., and which covers X" / "... and when" / "...? What about ..." open a second part.
PART_SPLIT = re.compile(rf"(?:\?+\s+|[,;]\s*(?:and|but|also)?\s*|\s+(?:and|also|plus)\s+)(?={WH_WORDS}\b)")
LEADING_WH = re.compile(rf"^{WH_WORDS}\s+")
YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b")
NUMBER_WORD = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|billion)\b"
)
MONTHS = "january february march april may june july august september october november december".split()


@dataclass(frozen=True, slots=True)
class Question:
    text: str  # as asked, whitespace-collapsed
    parts: tuple[str, ...]  # one per fact asked for; a single-fact question has one part
    wants: tuple[str, ...]  # per part: WANTS_* or ""
    articles: tuple[str, ...]  # article numbers named ("art. 5", "Article 5")
    instrument: str | None  # a symbol when the question names an instrument ("1996 agreement")
    years: tuple[str, ...]  # years named: a fact about another year is not an answer


def chat_fold(text: str) -> str:
    """Normalise and fold chat spellings ("wen", "wat") so question words are recognised."""
    text = re.sub(r"\b(who|what|where|when|how)(?:'s|s)\b", r"\1 is", normalize(text))
    words = re.split(r"(\W+)", text)
    return "".join(CHAT_WORDS.get(w, w) for w in words)


def wants(part: str) -> str:
    """The kind of fact a question part asks for."""
    p = chat_fold(part)
    if re.search(r"\b(which|what)\s+(article|art|arts|articles|provision|provisions)\b", p):
        return WANTS_ARTICLE
    if re.search(r"\b(when|what\s+(date|day|year|month|time)|on\s+what\s+date|since\s+when|what\s+year)\b", p):
        return WANTS_DATE
    if re.search(r"\bdate\b", p):
        return WANTS_DATE
    if re.search(r"\b(how\s+(many|much|big|large)|what\s+(percentage|share|amount)|number)\b", p):
        return WANTS_NUMBER
    if re.search(r"^\W*(?:and\s+)?who\s+(?:is|was|are|were)\s+(?:the\s+|an?\s+)?\w+", p) and not re.search(
        r"\bwho\s+(?:is|was|are|were)\s+(?:\w+\s+)?(?:entitled|allowed|able|responsible|in charge|involved|eligible)\b",
        p,
    ):
        return WANTS_NAME
    if re.search(r"\b(what|whats)\s+(is|are|was|were)\s+(his|her|their|its|the)\s+names?\b|\bname\s+(of\s+)?the\b", p):
        return WANTS_NAME
    if re.search(r"\b(who|whom|whose)\b", p):
        return WANTS_PERSON
    if re.search(
        r"^\W*(what\s+(is|are|does)\s+(an?\s+|the\s+)?\S+(\s+\S+){0,3}?(\s+mean)?\W*$|define\b|meaning\s+of\b)", p
    ):
        return WANTS_DEFINITION
    if re.search(r"\bwhere\b", p):
        return WANTS_PLACE
    return ""


def split_parts(text: str) -> tuple[str, ...]:
    """Split a two-part question at a coordinated second question; parts without content rejoin the first."""
    folded = chat_fold(text)
    pieces = [piece.strip(" ,;?") for piece in PART_SPLIT.split(folded)]
    pieces = [piece for piece in pieces if piece]
    if len(pieces) <= 1:
        return (folded.strip(),)
    parts: list[str] = []
    for piece in pieces:
        content = re.sub(rf"\b{WH_WORDS}\b", " ", piece)
        if parts and len(re.findall(r"[^\W\d_]{3,}|\d+", content)) < 2:
            # "who signs it and when": the second part asks about the first part's subject.
            subject = LEADING_WH.sub("", parts[0])
            parts.append(f"{piece} {subject}")
        else:
            parts.append(piece)
    return tuple(dict.fromkeys(parts))[:3]


MENTION = re.compile(r"<[@#][!&]?\d+>|@(?:everyone|here)\b|<a?:\w+:\d+>")


def strip_mentions(text: str) -> str:
    """Discord mentions and custom emoji are addressing, not content: drop them."""
    return MENTION.sub(" ", text)


def read_question(text: str, resolve_instrument: object = None) -> Question:
    """Analyse a question; resolve_instrument maps a phrase ("1996") to a symbol, or returns None."""
    text = " ".join(strip_mentions(text).split())
    normalized = normalize(text)
    parts = split_parts(text)
    instrument = None
    if callable(resolve_instrument):
        for phrase in _instrument_phrases(normalized):
            instrument = resolve_instrument(phrase)
            if instrument:
                break
    return Question(
        text=text,
        parts=parts,
        wants=tuple(wants(part) for part in parts),
        articles=tuple(dict.fromkeys(article_numbers(normalized))),
        instrument=instrument,
        years=tuple(dict.fromkeys(YEAR.findall(normalized))),
    )


def _instrument_phrases(normalized: str) -> list[str]:
    """Candidate names of an instrument in a question: symbols, years, "old/new/previous agreement"."""
    phrases = re.findall(r"\b[a-z]{1,5}(?:/[a-z]{1,5})*/\d+(?:/\d+)*\b", normalized)
    phrases += [
        f"{m} agreement" for m in re.findall(r"\b(old|new|previous|relationship|cooperation)\s+agreement", normalized)
    ]
    phrases += YEAR.findall(normalized)
    return phrases


def has_date(sentence: str) -> bool:
    lowered = sentence.lower()
    return bool(YEAR.search(lowered)) or any(re.search(rf"\b{m}\b", lowered) for m in MONTHS)


def has_number(sentence: str) -> bool:
    lowered = sentence.lower()
    return bool(NUMBER.search(lowered)) or bool(
        re.search(
            r"\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|billion)\b", lowered
        )
    )
