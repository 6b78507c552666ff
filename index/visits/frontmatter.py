"""A report's own front matter: 'Inspection dates: 11 to 22 July 2022' dates the event the report is about.

Ofsted reports and letters open with a title that says what they report (an inspection of local authority
children's services, a focused visit, a monitoring visit, a joint targeted area inspection) and a line
with its dates; older reports give 'Report published: DATE' as well. The body then says 'this inspection'
and 'the last inspection' without dates, so the front matter is what dates the report's own event.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from index.models import Chunk, DocumentMeta
from index.visits.dates import DateContext, Span, find_spans
from index.visits.models import Kind

_FRONT_CHUNKS = 3  # the front matter sits in the first passages
_FRONT_CHARS = 1500
_DATES_LINE = re.compile(
    r"^[ \t]*(?P<label>(?:Inspection|Visit)\s+dates?|Dates?\s+of\s+(?:the\s+)?(?:inspection|visit))[ \t]*:[ \t]*(?P<value>\S[^\n]*?)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_PUBLISHED_LINE = re.compile(
    r"^[ \t]*(?P<label>Report\s+published|Publication\s+date|Date\s+of\s+publication)[ \t]*:[ \t]*(?P<value>\S[^\n]*?)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_NUMERIC_DAY = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)\b")
_KINDS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("focused_visit", re.compile(r"\bfocused\s+(?:assurance\s+)?visit", re.I)),
    ("monitoring_visit", re.compile(r"\bmonitoring\s+visit", re.I)),
    ("jtai", re.compile(r"\bjoint\s+targeted\s+area\s+inspection|\bJTAI\b", re.I)),
)


@dataclass(frozen=True)
class FrontMatter:
    """The report's own event as its front matter states it, and where the stating line is."""

    kind: Kind
    span: Span
    chunk: Chunk
    begin: int
    end: int
    in_heading: bool  # the line became the passage's heading, so the quote is the heading


def _numeric_days(value: str) -> list[dt.date]:
    days = []
    for d, m, y in _NUMERIC_DAY.findall(value):
        try:
            days.append(dt.date(int(y), int(m), int(d)))
        except ValueError:
            continue
    return days


def _span(value: str, meta: DocumentMeta) -> Span | None:
    """'21 February to 4 March 2022', '26 November 2018 to 7 December 2018', '01/02/2016 – 25/02/2016': the
    range from the first day named to the last."""
    numeric = _numeric_days(value)
    spans = [] if numeric else find_spans(value, DateContext(meta.date, meta.date_precision), lambda _: "past")
    starts = [s.start for s in spans if s.start] + numeric
    ends = [s.end for s in spans if s.end] + numeric
    if not starts or not ends or max(ends) < min(starts):
        return None
    return Span(value, (0, len(value)), min(starts), max(ends), "day")


def _published(value: str, meta: DocumentMeta) -> Span | None:
    """A report published on a day reports an event over by then; when it began is not stated."""
    day = _span(value, meta)
    return Span(value, (0, len(value)), None, day.end, "day") if day else None


def _kind(opening: str, label: str) -> Kind:
    for kind, pattern in _KINDS:
        if pattern.search(opening):
            return kind
    return "monitoring_visit" if "visit" in label.casefold() else "full_inspection"


def _places(chunks: list[Chunk]) -> list[tuple[Chunk, str, bool]]:
    """The texts of the first passages in reading order: each one's heading, then its text."""
    places: list[tuple[Chunk, str, bool]] = []
    for chunk in sorted(chunks, key=lambda c: c.ordinal)[:_FRONT_CHUNKS]:
        if chunk.heading:
            places.append((chunk, chunk.heading, True))
        places.append((chunk, chunk.text[:_FRONT_CHARS], False))
    return places


def front_matter(meta: DocumentMeta, chunks: list[Chunk]) -> FrontMatter | None:
    """The event the document reports, when its opening states the dates; the dates line wins over the
    publication line, which only bounds the event from above."""
    places = _places(chunks)
    for pattern, read in ((_DATES_LINE, _span), (_PUBLISHED_LINE, _published)):
        opening = ""
        for chunk, text, in_heading in places:
            line = pattern.search(text)
            if line is None:
                opening += text[:_FRONT_CHARS] + "\n"
                continue
            span = read(line["value"], meta)
            if span is None:
                break
            opening += text[: line.start()]
            return FrontMatter(_kind(opening, line["label"]), span, chunk, line.start() if not in_heading else 0,
                               line.end() if not in_heading else len(text), in_heading)
    return None
