"""The visit timeline's data, and the identity rules every stage shares (ids, councils, same-event)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from index.models import council_matches, council_words

Kind = Literal["full_inspection", "monitoring_visit", "focused_visit", "jtai", "improvement_review", "other"]
Status = Literal["took_place", "planned", "anticipated"]
Precision = Literal["day", "month", "season", "half-year", "year"]

NOT_STATED = "not stated"


class VisitSource(BaseModel):
    """One passage that tells of the event; `quote` is verbatim from the chunk so it can be cited."""

    chunk_id: str
    source: str
    title: str
    date: dt.date | None
    quote: str
    known_from: dt.date | None = None  # earliest day the document can have been written, as its date and text prove


class EventState(BaseModel):
    """How the documents known by `known_from` told an event, before a later document changed the telling."""

    known_from: dt.date | None
    ordinal: int | None
    status: Status
    when_text: str
    start: dt.date | None
    end: dt.date | None
    precision: Precision
    focus: str | None


class VisitEvent(BaseModel):
    """One inspection or visit, merged from every passage that mentions it."""

    id: str
    kind: Kind
    ordinal: int | None
    council: str | None
    status: Status
    when_text: str
    start: dt.date | None
    end: dt.date | None
    precision: Precision
    focus: str | None
    curated: bool
    sources: list[VisitSource]
    known_from: dt.date | None = None  # when the latest document telling it (as it now stands) was written
    earlier: list[EventState] = []  # how documents written before that told it, oldest first

    def as_known_on(self, as_of: dt.date) -> VisitEvent | None:
        """The event as the documents written by `as_of` told it, or None when none of them did.

        Curated events and events from undated documents have no `known_from` and hold in every view.
        """
        if self.known_from is None or self.known_from <= as_of:
            return self
        states = [s for s in self.earlier if s.known_from is None or s.known_from <= as_of]
        if not states:
            return None
        state = states[-1]
        sources = [s for s in self.sources if s.known_from is None or s.known_from <= as_of]
        return self.model_copy(update={**state.model_dump(), "sources": sources, "earlier": states[:-1]})


class Timeline(BaseModel):
    """What is coming, what happened and what was expected but never confirmed, as the documents written
    by `as_of` tell it (later documents are not seen), for one council or all."""

    as_of: dt.date
    council: str | None = None
    upcoming: list[VisitEvent]
    past: list[VisitEvent] = []
    unconfirmed: list[VisitEvent]
    include_past: bool = Field(False, exclude=True)

    @property
    def events(self) -> list[VisitEvent]:
        """Every event it tells of: past, coming and expected but unconfirmed."""
        return self.past + self.upcoming + self.unconfirmed

    @model_serializer(mode="wrap")
    def _omit_past_unless_asked(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """`past` is only part of the listing when the caller asked for it; answers use it either way."""
        data = handler(self)
        if not self.include_past:
            data.pop("past", None)
        if self.council is None:
            data.pop("council", None)
        return data


class EventKey(NamedTuple):
    """What decides whether two tellings are the same event."""

    council: frozenset[str]
    kind: str
    ordinal: int | None
    start: dt.date | None
    end: dt.date | None
    plural: bool = False


def ranges_overlap(a_start: dt.date | None, a_end: dt.date | None, b_start: dt.date | None, b_end: dt.date | None) -> bool:
    """Open ends reach forever; a range with neither end overlaps nothing."""
    if (a_start is None and a_end is None) or (b_start is None and b_end is None):
        return False
    return (a_start or dt.date.min) <= (b_end or dt.date.max) and (b_start or dt.date.min) <= (a_end or dt.date.max)


def same_event(a: EventKey, b: EventKey) -> bool:
    """Same council and kind, and either the same ordinal or overlapping dates without clashing ordinals."""
    if a.council != b.council or a.kind != b.kind or a.plural != b.plural:
        return False
    if a.ordinal is not None and b.ordinal is not None:
        return a.ordinal == b.ordinal
    return ranges_overlap(a.start, a.end, b.start, b.end)


def key_of(event: VisitEvent) -> EventKey:
    return EventKey(council_words(event.council), event.kind, event.ordinal, event.start, event.end)


def event_id(council: str | None, kind: str, ordinal: int | None, start: dt.date | None) -> str:
    """Built from what the documents state, not from positions, so re-indexing gives the same id."""
    slug = re.sub(r"[^a-z0-9]+", "-", (council or "unknown").casefold()).strip("-")
    tail = str(ordinal) if ordinal is not None else start.isoformat() if start else "undated"
    return f"{slug}:{kind}:{tail}"


def chronological(event: VisitEvent) -> tuple[dt.date, dt.date, str]:
    """Sort key: when it (starts to) happen; an undated event sits at the date of its earliest source."""
    source_dates = [s.date for s in event.sources if s.date]
    when = event.start or event.end or min(source_dates, default=dt.date.max)
    return when, event.end or dt.date.max, event.id


def is_dated(event: VisitEvent) -> bool:
    return event.start is not None or event.end is not None


def finished_by(event: VisitEvent) -> tuple[dt.date, dt.date]:
    """Order of what happened: a fuzzy range is over by its upper bound ('2022' ends after 'March 2022')."""
    return event.end or event.start or dt.date.max, event.start or event.end or dt.date.min


def due_by(event: VisitEvent) -> tuple[dt.date, dt.date]:
    """Order of what is expected: the one that must happen soonest ('mid-April' before 'during 2024')."""
    return event.end or event.start or dt.date.max, event.start or dt.date.min
