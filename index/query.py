"""Question understanding: which council, which time and which kind of document a question is about.

One `QueryIntent` is made per question and shared by search (which narrows and boosts by it), the
answerer (which leads visit answers with that council) and every adapter (which shows it, so a wrong
guess is visible and can be corrected with the explicit options).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Iterable

from pydantic import BaseModel, ConfigDict

from index.errors import EngineError
from index.models import DocumentMeta, SearchFilters, council_words

_YEAR = re.compile(r"\b(19[89]\d|20\d\d)\b")
# 'before 2019' bounds the papers' dates; 'after the 2018 inspection' names an event whose own report may answer
_EVENT = r"(?!\s*(?:'s\s+)?(?:ofsted\s+)?(?:inspections?|reports?|visits?|judgements?|letters?)\b)"
_BEFORE = re.compile(rf"\b(?:before|prior to|until|up to|earlier than)\s+(?:the\s+end of\s+)?(19[89]\d|20\d\d)\b{_EVENT}", re.I)
_SINCE = re.compile(rf"\b(since|after|from|later than)\s+(?:the\s+start of\s+)?(19[89]\d|20\d\d)\b{_EVENT}", re.I)
# 'now' asks for the present only at the end of a question or as 'right now'/'as of now': 'young people who now live
# outside the city' is about where they live, not about the newest papers
_LATEST = re.compile(r"\b(latest|most recent(?:ly)?|current(?:ly)?|newest|last|recent|today|this year|at the moment"
                     r"|(?:right|as of) now|now(?=\W*$))\b", re.I)
_TYPE_WORDS: dict[str, str] = {
    r"\bminutes?\b|\bscrutiny (?:committee|meeting)\b|\bcommittee meeting\b": "minutes",
    r"\bletters?\b": "letter",
    r"\bnews\b|\bpress\b|\barticles?\b|\breported in\b": "news",
}


class QueryIntent(BaseModel):
    """What a question names besides its topic. Empty fields mean the question did not say."""

    model_config = ConfigDict(frozen=True)

    council: str | None = None
    council_as_typed: str | None = None
    councils_named: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    latest: bool = False
    doc_types: frozenset[str] = frozenset()

    def filters(self, given: SearchFilters | None) -> SearchFilters | None:
        """The person's explicit filters, completed with the council and date bounds the question names."""
        base = given.model_dump() if given is not None else {}
        narrowed = {
            "council": base.get("council") or self.council,
            "date_from": base.get("date_from") or self.date_from,
            "date_to": base.get("date_to") or self.date_to,
            "doc_types": base.get("doc_types"),
        }
        filters = SearchFilters(**narrowed)
        return None if filters.is_empty() else filters

    def summary(self) -> str:
        """'Bradford · 2023', 'Hull · latest', 'before 2019': what the search was narrowed to or leaned towards."""
        parts = []
        if self.council:
            parts.append(self.council)
        elif len(self.councils_named) > 1:
            parts.append(" and ".join(self.councils_named))
        if self.years:
            parts.append(", ".join(str(year) for year in self.years))
        if self.date_to and not self.years:
            parts.append(f"before {self.date_to.year + 1}")
        if self.date_from and not self.years:
            parts.append(f"since {self.date_from.year}")
        if self.latest and not self.years:
            parts.append("latest papers")
        parts += sorted(self.doc_types)
        return " · ".join(parts)

    def is_empty(self) -> bool:
        return not self.summary()


class CouncilAliases(BaseModel):
    """Other names for councils: the packaged table plus what a corpus's manifest adds."""

    aliases: dict[str, tuple[str, ...]] = {}

    @classmethod
    def packaged(cls, extra: dict[str, list[str]] | None = None) -> "CouncilAliases":
        text = resources.files("index").joinpath("data/councils.toml").read_text(encoding="utf-8")
        return cls.from_toml(text, "index/data/councils.toml").extended(extra or {})

    @classmethod
    def from_toml(cls, text: str, where: str) -> "CouncilAliases":
        try:
            table = tomllib.loads(text).get("aliases", {})
        except tomllib.TOMLDecodeError as error:
            raise EngineError(f"{where}: not valid TOML ({error}); fix the council aliases table") from error
        return cls(aliases={name: tuple(names) for name, names in table.items()})

    def extended(self, extra: dict[str, list[str]]) -> "CouncilAliases":
        merged = dict(self.aliases)
        for name, names in extra.items():
            merged[name] = tuple(dict.fromkeys([*merged.get(name, ()), *names]))
        return CouncilAliases(aliases=merged)

    def for_council(self, council: str) -> tuple[str, ...]:
        words = council_words(council)
        return tuple(alias for name, names in self.aliases.items() if council_words(name) == words for alias in names)


def _normal(text: str) -> str:
    """Lower case, '&' as 'and', possessives and punctuation gone: 'BCP's' and 'Stoke-on-Trent' compare as words."""
    text = re.sub(r"['’]s\b", "", text.casefold()).replace("&", " and ")
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _is_acronym(alias: str) -> bool:
    return alias.isupper() and len(alias.replace("&", "")) <= 5


class CouncilFinder:
    """Finds the councils of one index in a question, by full name, distinctive words or alias."""

    def __init__(self, councils: Iterable[str], aliases: CouncilAliases):
        self._variants: dict[str, str] = {}  # normalised phrase -> council
        self._acronyms: dict[str, str] = {}  # case-sensitive alias -> council
        for council in sorted(set(councils)):
            names = [council, " ".join(sorted(council_words(council), key=council.casefold().find))]
            for alias in aliases.for_council(council):
                (self._acronyms.__setitem__(alias, council) if _is_acronym(alias) else names.append(alias))
            for name in names:
                self._variants.setdefault(_normal(name), council)

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        phrases = sorted((p for p in self._variants if p), key=len, reverse=True)
        return re.compile(r"\b(" + "|".join(map(re.escape, phrases)) + r")\b") if phrases else None

    def find(self, question: str) -> list[tuple[str, str]]:
        """(council, as typed) for each council named, in the order named, each once."""
        found: dict[str, str] = {}
        for alias, council in self._acronyms.items():
            if re.search(rf"(?<![\w&]){re.escape(alias)}(?![\w&])", question):
                found.setdefault(council, alias)
        if self._pattern is not None:
            for match in self._pattern.finditer(_normal(question)):
                found.setdefault(self._variants[match.group(1)], match.group(1))
        return list(found.items())


def understand(question: str, finder: CouncilFinder) -> QueryIntent:
    """The council, dates and document kinds a question names."""
    named = finder.find(question)
    date_from = date_to = None
    before, since = _BEFORE.search(question), _SINCE.search(question)
    if before:
        date_to = dt.date(int(before.group(1)) - 1, 12, 31)
    if since:
        year = int(since.group(2))
        date_from = dt.date(year + 1 if since.group(1).lower() in {"after", "later than"} else year, 1, 1)
    bounded = {int(m.group(1)) for m in (before,) if m} | {int(m.group(2)) for m in (since,) if m}
    years = tuple(sorted({int(y) for y in _YEAR.findall(question)} - bounded))
    doc_types = frozenset(kind for pattern, kind in _TYPE_WORDS.items() if re.search(pattern, question, re.I))
    return QueryIntent(
        council=named[0][0] if len(named) == 1 else None,
        council_as_typed=named[0][1] if len(named) == 1 else None,
        councils_named=tuple(council for council, _ in named),
        years=years, date_from=date_from, date_to=date_to,
        latest=bool(_LATEST.search(question)) and not years,
        doc_types=doc_types,
    )


_REPORTING_LAG = dt.timedelta(days=120)


def of_year(date: dt.date, year: int) -> bool:
    """A document of that year, or published early the next year about it (reports follow visits by weeks)."""
    return dt.date(year, 1, 1) <= date <= dt.date(year, 12, 31) + _REPORTING_LAG


def finder_for(documents: Iterable[DocumentMeta], extra_aliases: dict[str, list[str]] | None = None,
               alias_file: Path | None = None) -> CouncilFinder:
    """A finder over the councils of these documents, with the packaged aliases (or a given table)."""
    aliases = (CouncilAliases.from_toml(alias_file.read_text(encoding="utf-8"), str(alias_file)) if alias_file
               else CouncilAliases.packaged()).extended(extra_aliases or {})
    return CouncilFinder((meta.council for meta in documents if meta.council), aliases)
