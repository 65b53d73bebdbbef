"""Reading a question: its parts, what kind of answer it wants, and the articles and instrument it names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .citations import article_numbers
from .text import CHAT_WORDS, normalize

# What kind of fact a question asks for; the answer sentence should carry one.
WANTS_DATE = "date"
WANTS_NUMBER = "number"
WANTS_ARTICLE = "article"
WANTS_PERSON = "person"
WANTS_NAME = "name"  # "who is the Director General?": a role is not an answer, a name is
WANTS_PLACE = "place"
WANTS_DEFINITION = "definition"

WH_LIST = "what|which|who|whom|whose|when|where|why|how"
WH = rf"(?:{WH_LIST})"  # a wh-word
WH_WORDS = (  # a word that opens a question: a wh-word, an auxiliary, a preposition and a wh-word
    rf"(?:{WH_LIST}|does|do|did|is|are|was|were|can|could|will|would|has|have|had"
    r"|may|might|must|should|shall|(?:in|under|for|since|by|until|from|at|on|to|with) (?:what|which|when|whom))"
)
# "..., and which covers X" / "... and when" / "...? What about ..." / "... + when" / "...? and um can ..." open a
# second part (spoken fillers may follow the joining word).
JOIN = r"(?:and|also|plus|but|&|\+|/)(?:\s+(?:also|um+|uh+|er+|so|then))*"
# A request in place of a question word: "..., and also tell me who signs it", "..., and name the article".
REQUEST = (
    r"(?:(?:please\s+)?(?:tell|give|show)\s+(?:me|us)|say|state|explain|describe|name|list|identify|outline"
    r"|indicate|specify)"
)
# What opens a second part: a question word, or a request followed by one or by what it asks for.
# "whether" opens one only after "and" or "tell me" ("..., and whether it changes ..."): after a bare comma it
# weighs alternatives ("..., whether established now or later").
OPENS = (
    rf"(?:{REQUEST}\s+)?(?:{WH_WORDS}|(?<=\band )whether|(?<=\bme )whether)\b"
    rf"|{REQUEST}\s+(?:the|an?|both|either|any|one|two|its|their|his|her)\b"
)
# After a question mark, a counted next question: "...? Second thing: which ...", "...? Also, who ...".
COUNTED = r"(?:second(?:ly)?|next|then|finally|lastly|also|another|one more|other)(?:\s+(?:thing|question|point|one))?"
# A second question whose question word comes a few words in, as people write in a hurry or in a second
# language: "...? and the union can come to ...?", "..., and with the north how many ...?", "..., and crisis of
# which country ...?". After "? and" any question word counts (an auxiliary too); after ", and" only a wh-word.
LATE_OPENS = rf"(?:[\w'-]+\s+){{1,3}}{WH_WORDS}\b"
LATE_WH = rf"(?:[\w'-]+\s+){{1,3}}{WH}\b"
# ... and after a bare question mark, a whole second question whose question word comes a few words in ("...?
# Nearly how many ...?", "...? Through whom?"); not one that restates the first ("...? like what ...?", "...,
# right? so what ...?").
RESTATING = r"(?:so|like|well|ok|okay|um+|uh+|then|i mean|or|and)\b"
OPENING = re.compile(OPENS)
LATE_MARK = re.compile(rf",\s*{JOIN}\s+")
ASKS = re.compile(rf"^{WH_WORDS}\b|\b{WH}\b")  # a question, not a statement
# A later item's label in a numbered list: "(ii)", "b)", "2)", "Q2:", "Question 2:" (then its words; not "2.",
# which ends "art. 2." as often as it numbers anything).
LATER_LABEL = r"(?:\((?:ii|iii|iv|b|c|d|[2-9])\)|(?:[b-d]|[2-9])\)|q(?:uestion)?\s*(?:[2-9]|two|three)\s*[:.)-]?)"
# One group: re.split gives the pieces and, between them, the marks that split them. An enumeration splits too:
# "... dealing with (i) X and (ii) Y"; and so does a second question mark after "? and" or "? also", however
# short what it closes: "can the chief sit in the council? and the union's head at the assembly?"; and a full
# stop before a question word, when what it ends is a question too: "how many fled since 2011. how many in ...".
PART_SPLIT = re.compile(
    rf"((?:\?+\s*(?:(?:{JOIN}|{COUNTED}\s*[:,.\-–—]+)\s*)?|[,;]\s*(?:{JOIN}\s*)?|\s+{JOIN}\s+)(?={OPENS})"
    rf"|\?+\s*{JOIN}\s+(?={LATE_OPENS})|,\s*{JOIN}\s+(?={LATE_WH})"
    rf"|\?+\s+(?!{RESTATING}\s)(?={LATE_WH}[^?]*\?)"
    rf"|\?+\s*(?:{JOIN}|also,)\s+(?=[^?]+\?+\s*$)"
    rf"|(?<=[^\W_]{{2}})\.\s+(?:{JOIN}\s+)?(?={OPENS})"
    rf"|\s+(?:and\s+)?{LATER_LABEL}\s*(?=[^\W\d_])"
    r")"
)
# The label of the first item of a numbered list, left out of that item: "1) can ...", "Q1: how many ...".
FIRST_LABEL = re.compile(r"(?:^|(?<=\s))(?:\((?:i|a|1)\)|[a1]\)|q(?:uestion)?\s*(?:1|one)\s*[:.)-]?)\s+")
# One of these is in every split point.
PART_MARKS = ("?", ".", ",", ";", ":", ")", "and", "also", "plus", "but", "&", "+", "/", "(")
BARE_MARK = re.compile(r"[,;]\s*")  # a comma alone: what goes before may be a lead-in, not a question
LATER_LABEL_MARK = re.compile(LATER_LABEL)
OPTIONS = re.compile(r"\?\s*(?:\((?:a|i|1)\)|[a1]\))")  # a list opened right after a question: its options
AUXILIARY = r"(?:is|are|was|were|do|does|did|can|could|will|would|has|have|had|should|shall|may|might|must)\b"
# "When the chief attends, does she vote?", "If it joins, ...": a clause that opens with a conjunction and no
# verb right after it sets the scene for the question after the comma ("When is it, and where?" asks twice).
SCENE = re.compile(rf"^(?:when|whenever|if|once|while|after|before|although|though|unless)\s+(?!{AUXILIARY})")
# ... so its "when" asks for no date, when a question follows the comma.
SCENE_WHEN = re.compile(rf"^when\s+(?!{AUXILIARY})[^,?]+,\s*(?:{WH_WORDS})\b")
LEADING_WH = re.compile(rf"^{WH_WORDS}\s+")
LEADING_QUESTION = re.compile(rf"^(?:{REQUEST}\s+)?{WH}\b")  # a wh-question, however it is punctuated
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
    own: tuple[str, ...]  # per part: its own words, before the first part's subject was added ("and when")


CONTRACTIONS = ("'s", "whos", "whats", "wheres", "whens", "hows")  # one is in every CONTRACTED_WH match
CONTRACTED_WH = re.compile(r"\b(who|what|where|when|how)(?:'s|s)\b")
CHAT_WORD = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, CHAT_WORDS), key=len, reverse=True)) + r")\b")
# What a part asks for: the first of these patterns that matches it (a WANTS_NAME match can be vetoed).
# Each comes with clauses of words that any match contains all of, for one clause at least: a part that
# satisfies no clause is not searched (most parts are searched by two or three patterns, not nine).
# "Name the person who ...", "name of the current chief": a request for a person's name. "Name the department",
# "name this body" ask for the name of a thing, which a sentence states without naming any person.
PERSON_NOUN = (
    r"(?:person|people|individual|man|woman|gentleman|lady|official|officer|head|chief|boss|leader|director"
    r"|secretary|president|chair|chairman|chairwoman|chairperson|minister|spokesperson|spokesman|author|writer"
    r"|commissioner|ambassador|envoy|delegate|photographer|founder|signatory|signatories)s?\b"
)
WANTS_PATTERNS = tuple(
    (want, tuple(tuple(clause.split()) for clause in clauses.split(",")), re.compile(pattern))
    for want, clauses, pattern in (
        (
            WANTS_ARTICLE,
            "which art, what art, which provision, what provision",
            r"\b(which|what)\s+(article|art|arts|articles|provision|provisions)\b",
        ),
        (  # "For ten points, name the article.", "cite the provisions that ..."
            WANTS_ARTICLE,
            "article, provision",
            rf"(?:{REQUEST}|cite|quote)\s+(?:the|this|that|these|both)\s+(?:[\w'-]+\s+)?(?:article|provision)s?\b",
        ),
        (
            WANTS_DATE,
            "when, what date, what day, what year, what month, what time, which date, which day, which year,"
            " which month, year in, date on, day on",
            r"\b(when|(what|which)\s+(date|day|year|month|time)|on\s+what\s+date|since\s+when"
            r"|the\s+(year|date|day|month)\s+(in|on)\s+which)\b",
        ),
        (WANTS_DATE, "date", r"\bdate\b"),
        (  # a request for one: "For ten points, name the year.", "Give me the month it was signed" (not "under
            # what name year ...": a request opens the part or follows a stop)
            WANTS_DATE,
            "year, month",
            rf"(?:^|[,.;:!?]\s*|\bplease\s+){REQUEST}\s+(?:the\s+)?(?:exact\s+|specific\s+)?(?:year|month)\b",
        ),
        (
            WANTS_NUMBER,
            "how many, how much, how big, how large, what percentage, what share, what amount, number",
            r"\b(how\s+(many|much|big|large)|what\s+(percentage|share|amount)|number)\b",
        ),
        (WANTS_NAME, "who", r"^\W*(?:and\s+)?who\s+(?:is|was|are|were)\s+(?:the\s+|an?\s+)?\w+"),
        (
            WANTS_NAME,
            "name",
            r"\b(what|whats)\s+(is|are|was|were)\s+(his|her|their|its|the)\s+names?\b"
            rf"|\bname\s+(?:of\s+)?(?:the|this|that)\s+(?:[\w'-]+\s+){{0,2}}?{PERSON_NOUN}",
        ),
        (WANTS_PERSON, "who", r"\b(who|whom|whose)\b"),
        (
            WANTS_DEFINITION,
            "what, define, meaning",
            r"^\W*(what\s+(is|are|does)\s+(an?\s+|the\s+)?\S+(\s+\S+){0,3}?(\s+mean)?\W*$|define\b|meaning\s+of\b)",
        ),
        (WANTS_PLACE, "where", r"\bwhere\b"),
    )
)
# "Who is responsible for ...": a role in a process, not a name; so is "who is <verb>-ed / -ing ...", however it
# is spelt ("who is suposed to sign").
NOT_A_NAME = re.compile(
    r"\bwho\s+(?:is|was|are|were)\s+(?:\w+\s+)?(?:entitled|allowed|able|responsible|in charge|involved|eligible"
    r"|due|supposed|expected|going|set|meant|scheduled|required|invited|permitted|authori[sz]ed|obliged|mandated"
    r"|tasked|charged)\b"
    r"|\bwho\s+(?:is|was|are|were)\s+(?!the\b|an?\b)\w{2,}(?:ed|ing)\b"
)
# "Who does the agency cover?", "who do they each help?": a "who" that is the object of a verb of serving asks for
# the people served, a group, not a person's name.
NOT_A_PERSON = re.compile(
    r"\bwho\s+(?:does|do|did|will|would|can|could|should|shall)\s+(?:[\w'-]+\s+){1,4}?(?:cover|covers|help|helps"
    r"|serve|serves|protect|protects|assist|assists|support|supports|look after|care for|deal with|focus on"
    r"|target|targets|include|includes|represent|represents|work with|aid|benefit|reach)\b"
)
# A "who"/"whose" right after a noun opens a relative clause ("the two envoys whose mandates overlap"): it
# asks for no person. After these words it opens a question ("tell me who", "and who", "to whom").
RELATIVE = re.compile(
    r"(?<![\w'-])(?!(?:and|or|but|so|then|to|by|for|with|of|from|about|on|at|in|through|via|under|among|between"
    r"|against|within|without|upon|into|than|as|me|us|you|know|tell|say|ask|asks|asked|asking"
    r"|wonder|wondering|remember|recall|idea|clue|sure|is|was|are|were|exactly|just|guess|see|explain|describe"
    r"|question)\b)[^\W\d_][\w'-]*\s+$"
)
# Words before a "when" that embed the question it opens ("can you tell me when ...", "do you know when ...").
EMBEDDING = re.compile(r"\b(?:know|tell|say|remind|explain|find out|wonder|wondering|remember|recall|idea|clue)\b")
WH_WORD = re.compile(rf"\b{WH_WORDS}\b")
CONTENT_WORD = re.compile(r"[^\W\d_]{3,}|\d+")
SYMBOL = re.compile(r"\b[a-z]{1,5}(?:/[a-z]{1,5})*/\d+(?:/\d+)*\b")
NAMED_AGREEMENT = re.compile(r"\b(old|new|previous|relationship|cooperation)\s+agreement")
MONTH = re.compile(rf"\b(?:{'|'.join(MONTHS)})\b")
NUMBER_WORD_OR_DIGITS = re.compile(rf"{NUMBER.pattern}|{NUMBER_WORD.pattern}")


def chat_fold(text: str) -> str:
    """Normalise and fold chat spellings ("wen", "wat") so question words are recognised."""
    text = normalize(text)
    if any(contraction in text for contraction in CONTRACTIONS):  # most questions need no scan
        text = CONTRACTED_WH.sub(r"\1 is", text)
    return CHAT_WORD.sub(lambda match: CHAT_WORDS[match.group(0)], text)


def wants(part: str) -> str:
    """The kind of fact a question part asks for."""
    return _wants(chat_fold(part))


def _wants(folded: str) -> str:
    for want, clauses, pattern in WANTS_PATTERNS:
        # Plain loops, not any()/all() over generators: this runs for every question.
        for clause in clauses:
            for word in clause:
                if word not in folded:
                    break
            else:
                break  # every word of this clause is there: the pattern may match
        else:
            continue
        for match in pattern.finditer(folded):
            if not _vetoed(want, folded, match):
                return want
    return ""


def _vetoed(want: str, folded: str, match: re.Match[str]) -> bool:
    """A match that does not say what the question asks for: "who is due to sign" asks for a role, not a name,
    "who does the agency cover?" for a group, and "the two envoys whose mandates ..." for no person;
    "does he vote when he attends?" and "when he attends, does he vote?" ask yes or no, their "when" opening a
    clause ("tell me when ..." still asks)."""
    if want == WANTS_NAME:  # "what is the name of the chief who is due to sign?" still asks for a name
        return "who" in match.group(0) and bool(NOT_A_NAME.search(folded))
    if want == WANTS_PERSON:
        return bool(NOT_A_PERSON.search(folded) or RELATIVE.search(folded, 0, match.start()))
    if want == WANTS_DATE and match.group(0) == "when":
        before = folded[: match.start()]
        if not before.strip(" \t\"'(") and SCENE_WHEN.match(folded.lstrip(" \t\"'(")):
            return True
        return bool(WH_WORD.search(before)) and not EMBEDDING.search(before)
    return False


def split_parts(text: str) -> tuple[str, ...]:
    """Split a two-part question at a coordinated second question; parts without content rejoin the first."""
    return tuple(part for part, _ in _split_folded(chat_fold(text)))


# "what can the SG and the DG each attend?": one question about each of two things.
EACH = re.compile(r"\b((?:the\s+)?[\w'-]+)\s+and\s+((?:the\s+)?[\w'-]+)\s+each\b")


def _lead_in(piece: str, mark: str) -> bool:
    """A piece before a bare comma that asks nothing belongs to the question after it: "Under the 2001 Pact, is
    the Board entitled ...?", "When the chief attends, does she vote?", "...? and the other way round, can ...?"
    ("membership count, and since when ...?" asks for two things)."""
    return bool(BARE_MARK.fullmatch(mark)) and (not WH_WORD.search(piece) or bool(SCENE.match(piece)))


def _joined(pieces: list[str], marks: list[str]) -> list[str]:
    """The pieces after the first, each that asks nothing joined to the question after it: a lead-in, or a
    statement before a full stop ("I read about the pact. When was it signed?"; a question before it begins
    with a question word: "how many fled since 2011. how many in ...")."""
    out = pieces[:1]
    for position, (mark, piece) in enumerate(zip(marks, pieces[1:], strict=True)):
        before = out[-1]
        if mark.startswith(".") and not (LEADING_QUESTION.match(before) or "?" in before):
            out[-1] = f"{before}{mark.rstrip()} {piece}"
        elif position and _lead_in(before, mark):
            out[-1] = f"{before} {piece}"
        else:
            out.append(piece)
    return out


def _split_folded(folded: str) -> tuple[tuple[str, str], ...]:
    """(part, its own words) of each part: a part that says too little of its own gets the first part's subject."""
    if " each" in folded and (each := EACH.search(folded)):
        head, tail = folded[: each.start()], folded[each.end() :]
        return tuple(
            (part, part) for part in (f"{head}{each.group(1)}{tail}".strip(), f"{head}{each.group(2)}{tail}".strip())
        )
    body = folded.rstrip(" ?\t\n")  # a question mark at the end has nothing after it to split off
    if not any(mark in body for mark in PART_MARKS):  # nothing PART_SPLIT could split at
        return ((folded.strip(), folded.strip()),)
    split = PART_SPLIT.split(folded)
    pieces, marks = [piece.strip(" ,;?") for piece in split[::2]], split[1::2]
    if any(mark and LATER_LABEL_MARK.search(mark) for mark in marks):  # a numbered list: its first label too
        if OPTIONS.search(pieces[0]) and not any(WH_WORD.search(piece) for piece in pieces[1:]):
            return ((folded.strip(), folded.strip()),)  # "Which of these ...? (a) X (b) Y": one question's options
        pieces[0] = FIRST_LABEL.sub("", pieces[0])
    if pieces and not pieces[0]:
        del pieces[0], marks[:1]
    if len(pieces) > 1 and _lead_in(pieces[0], marks[0]):
        pieces[:2], marks[:1] = [" ".join(pieces[:2])], []
    elif len(pieces) > 1 and LATE_MARK.fullmatch(marks[0]) and not (OPENING.match(pieces[1]) or ASKS.search(pieces[0])):
        # "The pact was signed, and the heads of which bodies signed it?": a statement before a question whose
        # question word comes a few words in is part of that question.
        pieces[:2], marks[:1] = [f"{pieces[0]}{marks[0]}{pieces[1]}"], []
    elif len(pieces) > 1 and len(CONTENT_WORD.findall(WH_WORD.sub(" ", pieces[0]))) < 2:
        # "compare and explain the change": one ask
        pieces[:2], marks[:1] = [f"{pieces[0]} {marks[0].strip()} {pieces[1]}"], []
    pieces = [piece for piece in _joined(pieces, marks) if piece]
    if len(pieces) <= 1:
        return ((folded.strip(), folded.strip()),)
    parts: dict[str, str] = {}  # part -> its own words, in order, without repeats
    for piece in pieces:
        content = WH_WORD.sub(" ", piece)
        if parts and len(CONTENT_WORD.findall(content)) < 2:
            # "who signs it and when": the second part asks about the first part's subject.
            subject = LEADING_WH.sub("", next(iter(parts)))
            parts.setdefault(f"{piece} {subject}", piece)
        else:
            parts.setdefault(piece, piece)
    return tuple(parts.items())[:3]


MENTION = re.compile(r"<[@#][!&]?\d+>|@(?:everyone|here)\b|<a?:\w+:\d+>")
CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)  # pasted code is not part of a question in words


def strip_mentions(text: str) -> str:
    """Discord mentions and custom emoji are addressing, not content: drop them."""
    if "<" not in text and "@" not in text:  # every mention has one
        return text
    return MENTION.sub(" ", text)


def read_question(text: str, resolve_instrument: object = None) -> Question:
    """Analyse a question; resolve_instrument maps a phrase ("1996") to a symbol, or returns None."""
    if "```" in text:
        text = CODE_BLOCK.sub(" ", text)
    text = " ".join(strip_mentions(text).split())
    normalized = normalize(text)
    split = _split_folded(chat_fold(normalized))
    parts = tuple(part for part, _ in split)
    years = YEAR.findall(normalized)
    instrument = None
    if callable(resolve_instrument):
        for phrase in _instrument_phrases(normalized, years):
            instrument = resolve_instrument(phrase)
            if instrument:
                break
    return Question(
        text=text,
        parts=parts,
        wants=tuple(map(_wants, parts)),
        articles=tuple(dict.fromkeys(article_numbers(normalized))),
        instrument=instrument,
        years=tuple(dict.fromkeys(years)),
        own=tuple(own for _, own in split),
    )


def _instrument_phrases(normalized: str, years: list[str]) -> list[str]:
    """Candidate names of an instrument in a question: symbols, "old/new/previous agreement", its years."""
    phrases = SYMBOL.findall(normalized) if "/" in normalized else []
    if "agreement" in normalized:
        phrases += [f"{m} agreement" for m in NAMED_AGREEMENT.findall(normalized)]
    return phrases + years


def has_date(sentence: str) -> bool:
    lowered = sentence.lower()
    return bool(YEAR.search(lowered) or MONTH.search(lowered))


def has_number(sentence: str) -> bool:
    return bool(NUMBER_WORD_OR_DIGITS.search(sentence.lower()))
