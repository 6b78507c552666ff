"""A glossary of children's social care and council terms: define a term, spot terms in text, expand searches.

Matching works on word tokens, not characters: a text is cut into words once and every run of words is
looked up in a dictionary of names, stopping as soon as no name starts with that run (a trie walk). So
"looked-after", "looked after" and "LOOKED AFTER" are one name, "S.114" is "section 114", and a plural or
possessive ("CPPs", "LAC's") still finds its entry. Acronyms (two or more capitals, e.g. "PA", "CP", "SEND")
match in running text only as written or in capitals, because "pa", "cp" and "send" are ordinary words.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field as dataclass_field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from index.errors import EngineError

# a word (possessive 's left out), or a run of punctuation that ends a phrase; spaces, hyphens and slashes do not
_PIECE = re.compile(
    r"([A-Za-z0-9]+(?:['\u2019](?![sS]\b)[A-Za-z]+)*)(?:['\u2019][sS]?)?"
    r"|([^\sA-Za-z0-9\-\u2010-\u2014/'\u2019]+)"
)
_SECTION_WORDS = frozenset({"s", "sec", "section"})
_QUALIFIER = re.compile(r"\s*\([^)]*\)\s*$")  # "good (Ofsted grade)": the bracket only disambiguates the headword
_ENTRY_HEADER = re.compile(r"^\s*\[\[\s*term\s*\]\]")


class GlossaryError(EngineError):
    """A glossary file that cannot be used; the message names the file, line, entry and field."""


class GlossaryEntry(BaseModel):
    """One term: how it is written, what it stands for, what it means, other names for it, and where that is said."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    term: str = Field(min_length=1, description="the headword as written, e.g. 'CLA' or 'good (Ofsted grade)'")
    expansion: str | None = Field(None, description="what an acronym stands for")
    definition: str = Field(min_length=1, description="one or two plain-English sentences")
    synonyms: tuple[str, ...] = Field((), description="other ways people say the same thing")
    source: str = Field(min_length=1, description="the public document the definition follows")

    @field_validator("term", "definition", "source", "expansion")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value is not None else None

    @field_validator("synonyms")
    @classmethod
    def _no_blank_synonym(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not name.strip() for name in value):
            raise ValueError("a synonym is blank")
        return tuple(name.strip() for name in value)

    @property
    def headword(self) -> str:
        """The term without its disambiguating bracket: what a person would type."""
        return _QUALIFIER.sub("", self.term) or self.term

    @property
    def names(self) -> tuple[str, ...]:
        """Every way of saying this term, headword first."""
        names = [self.headword, *([self.expansion] if self.expansion else []), *self.synonyms]
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class _Name:
    entry: int
    exact: tuple[frozenset[str] | None, ...]  # per word: the spellings an acronym allows, None for any case


@dataclass
class _Node:
    """A trie node: `ends` holds the names whose last word (made singular) is the key; `children` walks on."""

    children: dict[str, "_Node"] = dataclass_field(default_factory=dict)
    ends: dict[str, list[_Name]] = dataclass_field(default_factory=dict)


@dataclass
class _Run:
    """Words that can form one phrase: as written (for acronym case) and lower-cased (for lookup)."""

    written: list[str]
    keys: list[str]


def _runs(pieces: list[tuple[str, str]]) -> list[_Run]:
    """Words in runs that sentence punctuation ends; 'section 114', 's 114' and 'S.114' become the one word 's114'."""
    runs: list[_Run] = []
    broken = True  # the next word starts a new run
    dot_after_section = False
    for word, punctuation in pieces:
        last = runs[-1] if runs and not broken else None
        if punctuation:
            dot_after_section = punctuation == "." and last is not None and last.keys[-1] in _SECTION_WORDS
            broken = not dot_after_section
            continue
        if last is not None and last.keys[-1] in _SECTION_WORDS and word.isdigit():
            last.written[-1] = last.keys[-1] = "s" + word
        elif dot_after_section or last is None:
            runs.append(_Run([word], [word.lower()]))
        else:
            last.written.append(word)
            last.keys.append(word.lower())
        broken = dot_after_section = False
    return runs


def _words(text: str) -> list[str]:
    return [key for run in _runs(_PIECE.findall(text)) for key in run.keys]


@lru_cache(maxsize=1 << 16)
def _singular(word: str) -> str:
    """Crude but symmetric: names and text go through the same rule, so only consistency matters."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) >= 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _key(words: Sequence[str]) -> tuple[str, ...]:
    return (*words[:-1], _singular(words[-1])) if words else ()


def _phrase(pieces: list[tuple[str, str]]) -> str:
    """Words as typed but comparable, space-delimited, so `in` tests whole words ('cp' is not in 'icpc').

    Unlike matching, 'section 114' and 's114' stay apart here: a search needs both spellings.
    """
    return " " + " ".join(_singular(word.lower()) for word, _ in pieces if word) + " "


def _is_acronym(word: str) -> bool:
    return sum(char.isupper() for char in word) >= 2


def _spellings(word: str) -> frozenset[str] | None:
    return frozenset({word, word.upper()}) if _is_acronym(word) else None


def _written(text: str, last: bool) -> str:
    """The word as typed, a plural 's' after an acronym dropped ('CPPs' -> 'CPP')."""
    return text[:-1] if last and len(text) > 2 and text.endswith("s") and text[-2].isupper() else text


class Glossary:
    """Terms loaded once; lookups and scans are dictionary walks over the words of the text."""

    def __init__(self, entries: Sequence[GlossaryEntry], origin: str = "glossary", lines: Sequence[int] = ()):
        """`origin` and `lines` (each entry's first line in the file) only make error messages point at the entry."""
        self.entries: tuple[GlossaryEntry, ...] = tuple(entries)
        self._origin, self._lines = origin, lines
        self._lookup: dict[tuple[str, ...], int] = {}  # every name, for `lookup`
        self._trie = _Node()  # names spotted in running text, word by word
        self._phrases: list[list[tuple[str, str]]] = []  # per entry: (name, comparable phrase) for `expansions`
        for number, entry in enumerate(self.entries):
            # a bracketed headword ("good (Ofsted grade)") is too common a word to spot in text; it is only looked up
            scanned = entry.names if entry.term == entry.headword else entry.names[1:]
            for name in dict.fromkeys((entry.term, *entry.names)):
                self._add(number, name, scan=name in scanned)
            self._phrases.append([(name, _phrase(_PIECE.findall(name))) for name in entry.names])

    def _where(self, number: int) -> str:
        line = f" line {self._lines[number]}" if number < len(self._lines) else ""
        return f"{self._origin}{line}: term {number + 1} ({self.entries[number].term!r})"

    def _add(self, number: int, name: str, scan: bool) -> None:
        written = [word for run in _runs(_PIECE.findall(name)) for word in run.written]
        words = [word.lower() for word in written]
        if not words:
            raise GlossaryError(f"{self._where(number)} name {name!r} has no words; write it with letters or digits")
        key = _key(words)
        owner = self._lookup.setdefault(key, number)
        if owner != number:
            raise GlossaryError(
                f"{self._where(number)} name {name!r} is already a name of term {owner + 1} "
                f"({self.entries[owner].term!r}); give each name to one entry"
            )
        if scan:
            node = self._trie
            for word in words[:-1]:
                node = node.children.setdefault(word, _Node())
            node.ends.setdefault(key[-1], []).append(_Name(number, tuple(_spellings(word) for word in written)))

    @classmethod
    def load(cls, path: Path | None = None) -> "Glossary":
        """From `path`, or from the file shipped inside the package."""
        if path is None:
            resource = resources.files("index").joinpath("data", "glossary.toml")
            return cls._parse(resource.read_text(encoding="utf-8"), str(resource))
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise GlossaryError(f"{path}: cannot read the glossary ({error}); check the path") from None
        return cls._parse(text, str(path))

    @classmethod
    def _parse(cls, text: str, origin: str) -> "Glossary":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            line = re.search(r"at line (\d+)", str(error))
            where = f" line {line.group(1)}" if line else ""
            problem = str(error).split(" (at line")[0]
            raise GlossaryError(f"{origin}{where}: not valid TOML ({problem}); fix the file") from None
        raw_entries = data.get("term")
        if not isinstance(raw_entries, list) or not raw_entries:
            raise GlossaryError(f"{origin}: no [[term]] tables found; each entry starts with [[term]]")
        starts = [number for number, line in enumerate(text.splitlines(), start=1) if _ENTRY_HEADER.match(line)]
        entries = []
        for number, raw in enumerate(raw_entries):
            try:
                entries.append(GlossaryEntry.model_validate(raw))
            except ValidationError as error:
                first = error.errors()[0]
                field = str(first["loc"][0]) if first["loc"] else "entry"
                term = raw.get("term", "?") if isinstance(raw, dict) else "?"
                line = _field_line(text, starts, number, field)
                raise GlossaryError(
                    f"{origin} line {line}: term {number + 1} ({term!r}) field '{field}': "
                    f"{first['msg'].removeprefix('Value error, ')}; fix the entry"
                ) from None
        return cls(entries, origin, starts)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[GlossaryEntry]:
        return iter(self.entries)

    def lookup(self, term: str) -> GlossaryEntry | None:
        """The entry named by `term` in any case, by headword, expansion or synonym; None when unknown."""
        words = _words(term)
        if not words:
            return None
        for key in (_key(words), (*words[:-1], words[-1] + "s")):
            if key in self._lookup:
                return self.entries[self._lookup[key]]
        return None

    def entries_in(self, text: str) -> list[GlossaryEntry]:
        """Entries named in `text` as whole words, in order of first mention."""
        return [self.entries[number] for number in self._found(_runs(_PIECE.findall(text)))]

    def expansions(self, text: str) -> list[str]:
        """Other names of the terms in `text` that it does not already use: extra, lower-weighted search words."""
        pieces = _PIECE.findall(text)
        typed = _phrase(pieces)
        extra: dict[str, str] = {}
        for number in self._found(_runs(pieces)):
            for name, phrase in self._phrases[number]:
                if phrase not in typed:
                    extra.setdefault(phrase, name)
        return list(extra.values())

    def _found(self, runs: list[_Run]) -> list[int]:
        """Entry numbers of the leftmost-longest, non-overlapping names in the runs, first mention first."""
        found: dict[int, None] = {}
        root = self._trie
        for run in runs:
            keys = run.keys
            singular = [_singular(key) for key in keys]
            start = 0
            while start < len(keys):
                if keys[start] not in root.children and singular[start] not in root.ends:
                    start += 1
                    continue
                best: tuple[int, int] | None = None
                node: _Node | None = root
                stop = start
                while node is not None and stop < len(keys):
                    names = node.ends.get(singular[stop])
                    entry = self._accepted(names, run.written[start:stop + 1]) if names else None
                    best = (entry, stop + 1) if entry is not None else best
                    node = node.children.get(keys[stop])
                    stop += 1
                if best:
                    found.setdefault(best[0])
                    start = best[1]
                else:
                    start += 1
        return list(found)

    @staticmethod
    def _accepted(names: Iterable[_Name], written: list[str]) -> int | None:
        """The entry of the first name whose acronyms the text writes as the name does (or in capitals)."""
        for name in names:
            if all(
                allowed is None or _written(word, last=index == len(written) - 1) in allowed
                for index, (allowed, word) in enumerate(zip(name.exact, written))
            ):
                return name.entry
        return None


def _field_line(text: str, starts: list[int], number: int, field: str) -> int:
    """File line of `field` in entry `number`, else the entry's [[term]] header."""
    if number >= len(starts):
        return 1
    lines = text.splitlines()
    stop = starts[number + 1] - 1 if number + 1 < len(starts) else len(lines)
    pattern = re.compile(rf"^\s*[\"']?{re.escape(field)}[\"']?\s*=")
    return next((line for line in range(starts[number], stop + 1) if pattern.match(lines[line - 1])), starts[number])
