"""The knowledge base's glossary file: domain synonyms and the instruments it knows by name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import yamltext
from .documents import SourceError, check_inside, shown
from .text import Synonyms, normalize

GLOSSARY_FILE = "glossary.yaml"
GLOSSARY_KEYS = frozenset({"default_instrument", "instruments", "terms", "not_people"})
GLOSSARY_MAX_BYTES = 1_000_000  # the bundled one is 2 KB; a large one is a mistake (and slow to parse)


@dataclass(frozen=True, slots=True)
class Instrument:
    symbol: str  # its document symbol, e.g. "A/1/2"
    name: str  # "2016 Agreement"
    year: int | None
    aliases: tuple[str, ...]  # normalised phrases that name it in a question
    titles: tuple[str, ...] = ()  # how a full citation names it, when it does not give the symbol
    url: str | None = None  # where to read it


@dataclass(frozen=True, slots=True)
class GlossaryFile:
    synonyms: Synonyms  # the 'terms' groups
    instruments: tuple[Instrument, ...]
    default_instrument: str | None
    sha256: str
    not_people: frozenset[str] = frozenset()  # capitalised words that name places or events, never a person

    def instrument(self, symbol: str | None) -> Instrument | None:
        return next((i for i in self.instruments if i.symbol == symbol), None)

    def resolve_instrument(self, name: str | None) -> str | None:
        """A symbol for a year, a name or an alias ("2001", "old treaty", "A/1/2"; any case), or None."""
        if not name:
            return None
        wanted = " ".join(normalize(name).split())
        for instrument in self.instruments:
            if wanted in {instrument.symbol.casefold(), normalize(instrument.name), *instrument.aliases}:
                return instrument.symbol
        return None


EMPTY_GLOSSARY = GlossaryFile(Synonyms(), (), None, "")


def load_glossary(directory: Path) -> GlossaryFile:
    """Load directory/glossary.yaml, or an empty glossary when there is none."""
    import hashlib

    path = Path(directory) / GLOSSARY_FILE
    if not path.exists():
        if path.is_symlink():
            raise SourceError(path, "not a regular file (a dangling or looping link?)")
        return EMPTY_GLOSSARY
    check_inside(Path(directory), path)
    try:
        text = yamltext.read_text(path, GLOSSARY_MAX_BYTES)
        data = yamltext.parse(text)
    except yamltext.YamlError as error:
        raise SourceError(path, error.problem, error.line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError(path, "must be a mapping with 'terms' and 'instruments'")
    unknown = sorted(set(map(str, data)) - GLOSSARY_KEYS)
    if unknown:
        raise SourceError(path, f"unknown key {unknown[0]!r}")
    groups = _terms(path, data.get("terms") or {})
    instruments = _instruments(path, data.get("instruments") or {})
    default = data.get("default_instrument")
    if default is not None and (not isinstance(default, str) or default not in {i.symbol for i in instruments}):
        raise SourceError(path, f"default_instrument {shown(default)} is not one of the instruments")
    not_people = data.get("not_people") or []
    if not isinstance(not_people, list) or not all(isinstance(w, str) for w in not_people):
        raise SourceError(path, "'not_people' must be a list of words")
    return GlossaryFile(
        Synonyms.from_groups(groups),
        instruments,
        default,
        hashlib.sha256(text.encode()).hexdigest(),  # the file's bytes: they decoded as UTF-8
        frozenset(w for phrase in not_people for w in phrase.split()),
    )


def _terms(path: Path, terms: Any) -> list[tuple[str, list[str]]]:
    if not isinstance(terms, dict):
        raise SourceError(path, "'terms' must map a concept to a list of phrases")
    groups = []
    for concept, phrases in terms.items():
        if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise SourceError(path, f"terms.{concept}: must be a list of phrases")
        groups.append((str(concept), phrases))
    return groups


def _instruments(path: Path, instruments: Any) -> tuple[Instrument, ...]:
    if not isinstance(instruments, dict):
        raise SourceError(path, "'instruments' must map a document symbol to its name, year and aliases")
    out = []
    for symbol, spec in instruments.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise SourceError(path, f"instruments.{symbol}: needs a 'name'")
        extra = set(spec) - {"name", "year", "aliases", "titles", "url"}
        if extra:
            raise SourceError(path, f"instruments.{symbol}: unknown key {sorted(map(str, extra))[0]!r}")
        aliases = spec.get("aliases") or []
        if not isinstance(aliases, list):
            raise SourceError(path, f"instruments.{symbol}.aliases: must be a list")
        year = spec.get("year")
        if year is not None and not isinstance(year, int):
            raise SourceError(path, f"instruments.{symbol}.year: must be a whole number")
        names = tuple(" ".join(normalize(str(a)).split()) for a in aliases)
        titles = spec.get("titles") or []
        url = spec.get("url")
        if not isinstance(titles, list) or not all(isinstance(t, str) for t in titles):
            raise SourceError(path, f"instruments.{symbol}.titles: must be a list of strings")
        if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
            raise SourceError(path, f"instruments.{symbol}.url: must be an http(s) address")
        out.append(Instrument(str(symbol), spec["name"], year, names, tuple(titles), url))
    return tuple(out)
