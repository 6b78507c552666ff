"""Data that crosses module boundaries inside the engine and out of it."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DocType = Literal["minutes", "report", "letter", "news", "other"]
DOC_TYPES: tuple[str, ...] = ("minutes", "report", "letter", "news", "other")
DatePrecision = Literal["day", "month", "year"]


class DocumentMeta(BaseModel):
    """What a citation says about a document: from the manifest, or inferred from its text."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    source: str = Field(description="path of the file relative to the corpus folder")
    title: str
    council: str | None = None
    body: str | None = Field(None, description="committee or body the document belongs to")
    date: dt.date | None = None
    date_precision: DatePrecision = Field("day", description="how much of `date` the evidence supports")
    doc_type: DocType = "other"
    url: str | None = None
    date_note: str | None = Field(None, description="why this date was chosen where the text disagrees")
    inferred: bool = Field(False, description="true when no manifest entry described the document")
    grade: str | None = Field(None, description="the overall effectiveness judgement an inspection report states")
    stale_since: dt.date | None = Field(
        None, description="the file changed after this version was indexed and its new version cannot be read "
        "(first seen that day): this older version is what is served until the file is fixed",
    )
    stale_reason: str | None = Field(None, description="why the new version of the file could not be read")


class Line(BaseModel):
    """One line of extracted text; `heading` is set only when the file format marks it (HTML h1-h6, DOCX styles)."""

    model_config = ConfigDict(frozen=True)

    text: str
    heading: bool = False


class ParsedDocument(BaseModel):
    """A file turned into plain lines; its `text` is what quotes must be found in."""

    source: str
    lines: list[Line]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class Chunk(BaseModel):
    """A passage: verbatim text from one document with the location a citation names."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    doc_id: str
    ordinal: int = Field(description="position of the passage within its document, from 0")
    location: str = Field(description="e.g. 'para 3.1', 'para (e)', 'paras 4-6'")
    heading: str | None = None
    text: str


class SearchFilters(BaseModel):
    """Restrictions a user can put on a search; None means no restriction."""

    model_config = ConfigDict(frozen=True)

    council: str | None = None
    doc_types: frozenset[str] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def is_empty(self) -> bool:
        return self.council is None and self.doc_types is None and self.date_from is None and self.date_to is None


class SearchHit(BaseModel):
    """One ranked passage with the scores that put it there."""

    chunk: Chunk
    document: DocumentMeta
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    coverage: float = Field(0.0, description="share of the query's rare words found in the passage and its titles")

    @property
    def relevance(self) -> float:
        """Meaning plus word evidence: calibrated so that unrelated questions score well below related ones."""
        return (self.dense_score or 0.0) + self.coverage


_GENERIC_COUNCIL_WORDS = frozenset(
    {"council", "city", "borough", "county", "metropolitan", "district", "of", "the", "and", "london", "royal"}
)


@functools.lru_cache(maxsize=4096)  # a few hundred councils, compared for every candidate of every question
def council_words(name: str | None) -> frozenset[str]:
    """Distinctive words of a council name, so 'Nottingham' and 'Nottingham City Council' compare equal."""
    words = frozenset(re.findall(r"[a-z0-9]+", (name or "").casefold().replace("&", " and ")))
    return (words - _GENERIC_COUNCIL_WORDS) or words


def council_matches(query: str | None, council: str | None) -> bool:
    """Case-insensitive and tolerant of the 'City Council' suffixes people leave off."""
    wanted, have = council_words(query), council_words(council)
    return bool(wanted and have) and (wanted <= have or have <= wanted)
