"""Law-review style references in the text -> structured, resolved references.

The sources cite like a law review: a claim sentence is followed by a citation sentence such as
"See id. at art. 3.", "See id. at arts. 4 and 5.", "See Ocean Council, Fisheries Pact, UN Doc.
A/1/2, 1 May 2001." or a bracketed "[Harbour News: Board]". "id." is the authority cited just
before; a bare "See id." repeats the previous pinpoint too. A short form that names an instrument's
title resolves to the symbol its full citation gave earlier in the same document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

# Document symbols: A/1/2, B/1950/7, A/RES/70/130, C/12/3 ...
SYMBOL = r"[A-Z]{1,5}(?:/[A-Z]{1,5})*/\d+(?:/\d+)*(?:/[A-Za-z0-9.]+)*"
# ... as a citation gives them: "UN Doc. A/1/2", "Board Doc. C/12/3", "Doc. X/1/2" (any issuer's "Doc.").
SYMBOL_PATTERN = re.compile(rf"(?:\b[A-Z][\w.-]*\s+)?\bDoc\.\s+(?P<symbol>{SYMBOL})")
# The one article grammar, for the sources' pinpoints and for what people type alike: "art. 5", "Article 8",
# "arts. 4 and 5", "articles 4, 5 or 6", "arts. 3–5", "art. 3 to art. 5". At most three digits: "article 2016" is
# a year.
# People also spell a number out ("article eight", "articles ten and eleven", "article twenty-one"); a spelled
# number followed by "more", "other" or "thing" counts something else ("art. 5 and one more thing").
UNITS = "one two three four five six seven eight nine".split()
TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
SPELLED = {
    **{word: n for n, word in enumerate(UNITS, 1)},
    **{word: n for n, word in enumerate(TEENS, 10)},
    **{word: 10 * n for n, word in enumerate(TENS, 2)},
}
SPELLED_NUMBER = (
    rf"(?:(?:{'|'.join(TENS)})(?:[- ](?:{'|'.join(UNITS)}))?|{'|'.join(TEENS + UNITS)})\b"
    r"(?!\s+(?:more|other|others|thing|things|question|questions)\b)"
)
ARTICLE_NUMBER = rf"(?:\d{{1,3}}[a-z]?\b|{SPELLED_NUMBER})"
ARTICLES_PATTERN = re.compile(
    rf"\b(?:art|arts|article|articles)\b\.?\s*(?P<list>{ARTICLE_NUMBER}"
    rf"(?:\s*(?:,|and|&|or|to|-|–)\s*(?:art\.\s*)?{ARTICLE_NUMBER})*)",
    re.IGNORECASE,
)
NUMBER_PATTERN = re.compile(rf"\d+[a-z]?|{SPELLED_NUMBER}")
CITATION_LEAD = re.compile(r"^(?:See|Cf\.|See also|See generally)(?:,\s*e\.g\.,)?\s+", re.IGNORECASE)
BRACKETED = re.compile(r"^\[(?P<label>[^\[\]]{1,200})\]$")
DATE_TAIL = re.compile(r",\s*\d{1,2}\s+[A-Z][a-z]+\s+\d{4}\s*$")


class Pinpoint(NamedTuple):
    """One article a sentence rests on: the instrument's document symbol (None: not known) and the number."""

    instrument: str | None
    number: str  # "11", "5a"

    def order(self) -> tuple[str, int, str]:
        """Sort key: by instrument (none first), then by number as a number ("2" before "11")."""
        digits = "".join(ch for ch in self.number if ch.isdigit())
        return (self.instrument or "", int(digits) if digits else 0, self.number)


@dataclass(frozen=True, slots=True)
class Reference:
    """One authority a sentence rests on: an instrument (with articles) or another source."""

    label: str  # the authority as cited, e.g. "Ocean Council, Fisheries Pact ..." or "Harbour News: Board"
    instrument: str | None = None  # UN document symbol when known
    articles: tuple[str, ...] = ()  # article numbers as strings: ("4", "5")


@dataclass(slots=True)
class CitationContext:
    """What "id." and short forms refer to while reading one document in order."""

    previous: Reference | None = None
    titles: dict[str, str] = field(default_factory=dict)  # normalised instrument title -> symbol


def is_citation_sentence(sentence: str) -> bool:
    """True for a sentence that only cites ("See id. at art. 3.", "[Harbour News: Board]")."""
    stripped = sentence.strip()
    return bool(CITATION_LEAD.match(stripped) or BRACKETED.match(stripped))


def parse_citation_sentence(sentence: str, context: CitationContext) -> tuple[Reference, ...]:
    """Resolve a citation sentence into references, updating context for the next "id."."""
    stripped = sentence.strip()
    bracketed = BRACKETED.match(stripped)
    if bracketed:
        reference = Reference(label=bracketed.group("label").strip())
        context.previous = reference
        return (reference,)
    body = CITATION_LEAD.sub("", stripped, count=1).rstrip()
    body = body.removesuffix(".")
    references: list[Reference] = []
    for part in _split_parts(body):
        reference = _parse_part(part, context)
        if reference is not None:
            references.append(reference)
            context.previous = reference
    return tuple(references)


def _split_parts(body: str) -> list[str]:
    return [part.strip() for part in body.split(";") if part.strip()]


def _parse_part(part: str, context: CitationContext) -> Reference | None:
    if re.match(r"^id\.?$", part, re.IGNORECASE):
        return context.previous  # bare "id.": same authority, same pinpoint
    if re.match(r"^id\.", part, re.IGNORECASE):
        articles = _articles(part)
        if context.previous is None:
            return Reference(label="id.", articles=articles)
        return Reference(label=context.previous.label, instrument=context.previous.instrument, articles=articles)
    articles = _articles(part)
    symbol_match = SYMBOL_PATTERN.search(part)
    label = _label(part)
    title_key = _title_key(label)
    if symbol_match:
        symbol = symbol_match.group("symbol").rstrip(".")
        if title_key:
            context.titles[title_key] = symbol
        return Reference(label=label, instrument=symbol, articles=articles)
    return Reference(label=label, instrument=context.titles.get(title_key), articles=articles)


def _articles(part: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(article_numbers(part)))


def _label(part: str) -> str:
    """The authority's name: the part without its symbol, date and pinpoint."""
    label = SYMBOL_PATTERN.split(part, maxsplit=1)[0]
    label = ARTICLES_PATTERN.split(label, maxsplit=1)[0]
    label = DATE_TAIL.sub("", label)
    return label.strip(" ,.")


def _title_key(label: str) -> str:
    """The instrument's title without the issuing body: "Ocean Council, Fisheries Pact" -> "fisheries pact";
    a label of one piece is the title itself ("Accord on Relations between ...")."""
    pieces = [piece.strip() for piece in label.split(",") if piece.strip()]
    if not pieces:
        return ""
    return " ".join(" ".join(pieces[1:] if len(pieces) > 1 else pieces).lower().split())


def article_numbers(text: str) -> list[str]:
    """Article numbers named in text, in order and with repeats: "art. 5 and arts. 4 and 5" -> ["5", "4", "5"]."""
    lowered = text.lower()
    if "art" not in lowered:  # every form the grammar reads starts so
        return []
    lists = (match.group("list") for match in ARTICLES_PATTERN.finditer(lowered))
    return [_digits(number) for found in lists for number in NUMBER_PATTERN.findall(found)]


def article_number(label: str) -> str | None:
    """One article as a question set or a check names it: "art. 11", "Article 11", "11" -> "11"; else None."""
    text = label.strip().lower()
    match = ARTICLES_PATTERN.fullmatch(text) or ARTICLES_PATTERN.fullmatch(f"art. {text}")
    numbers = NUMBER_PATTERN.findall(match.group("list")) if match else []
    return numbers[0] if len(numbers) == 1 and numbers[0][0].isdigit() else None  # data spells no number out


def _digits(number: str) -> str:
    """An article number in digits: "8" and "5a" as they are, "eight" -> "8", "twenty-one" -> "21"."""
    if number[0].isdigit():
        return number
    return str(sum(SPELLED[word] for word in re.split(r"[- ]", number)))
