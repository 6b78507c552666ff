"""The timeline seen from a date: what is coming, what happened, and what was expected but never confirmed.

A view as of a day is the corpus as it stood that day: documents written later are not seen, so an event
told only by them is not shown, and an event is told as the documents known by then told it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from index.visits.models import (
    Timeline,
    VisitEvent,
    chronological,
    council_matches,
    council_words,
    finished_by,
    is_dated,
    ranges_overlap,
)


def _known_past(event: VisitEvent, as_of: dt.date) -> bool:
    """It took place, and either its dates are over or a document written by `as_of` (after it began) says so."""
    if event.status != "took_place":
        return False
    if event.end is not None and event.end < as_of:
        return True
    return any(s.date and s.date <= as_of and (event.start is None or s.date >= event.start) for s in event.sources)


def _fulfilled(event: VisitEvent, events: list[VisitEvent]) -> bool:
    """An expectation is met when an event of its kind and council took place within its dates."""
    return any(
        other.status == "took_place" and other.kind == event.kind
        and council_words(other.council) == council_words(event.council)
        and ranges_overlap(other.start, other.end, event.start, event.end)
        for other in events if other is not event
    )


def known_on(events: Iterable[VisitEvent], as_of: dt.date, council: str | None = None) -> list[VisitEvent]:
    """The council's events (all councils' when None) as the documents written by `as_of` told them."""
    known = (e.as_known_on(as_of) for e in events if council is None or council_matches(council, e.council))
    return [e for e in known if e is not None]


def build_timeline(events: Iterable[VisitEvent], as_of: dt.date, council: str | None = None,
                   include_past: bool = False) -> Timeline:
    """Upcoming soonest first; past oldest first (listed only when asked); unconfirmed most recent first.

    An event that took place but has no dates is past once a document says so, and otherwise left
    out: nothing says whether it was still to come.
    """
    chosen = known_on(events, as_of, council)
    upcoming: list[VisitEvent] = []
    past: list[VisitEvent] = []
    unconfirmed: list[VisitEvent] = []
    for event in chosen:
        if _known_past(event, as_of):
            past.append(event)
        elif event.status == "took_place":
            if event.start or event.end:
                upcoming.append(event)
        elif event.end is None or event.end >= as_of:
            upcoming.append(event)
        elif _fulfilled(event, chosen):
            past.append(event)
        else:
            unconfirmed.append(event)
    return Timeline(
        as_of=as_of,
        council=council,
        upcoming=sorted(upcoming, key=chronological),
        past=sorted(past, key=chronological),
        unconfirmed=sorted(unconfirmed, key=lambda e: (e.end, e.id), reverse=True),
        include_past=include_past,
    )


def _same_series(a: VisitEvent, b: VisitEvent) -> bool:
    return a.kind == b.kind and council_words(a.council) == council_words(b.council)


def latest(events: Iterable[VisitEvent]) -> VisitEvent | None:
    """The event that finished last, fuzzy ranges compared by their upper bounds. An event no document
    dates cannot be placed among dated ones, so it is the answer only when none is dated."""
    pool = list(events)
    dated = [e for e in pool if is_dated(e)]
    return max(dated or pool, key=lambda e: (finished_by(e), e.id), default=None)


def latest_first(events: Iterable[VisitEvent]) -> list[VisitEvent]:
    """Dated events latest first, then the undated ones (in the order their documents were written)."""
    pool = list(events)
    dated = sorted((e for e in pool if is_dated(e)), key=lambda e: (finished_by(e), e.id), reverse=True)
    return dated + [e for e in sorted(pool, key=chronological) if not is_dated(e)]


def before(event: VisitEvent, events: Iterable[VisitEvent]) -> VisitEvent | None:
    """The event of the same kind and council just before `event`: the latest one over before it began.

    Fuzzy ranges are compared by their bounds: '2022' is before 'March 2023', but not before 'March 2022',
    which it contains.
    """
    if not is_dated(event):
        return None
    begins = event.start or event.end
    earlier = [e for e in events if e.id != event.id and _same_series(e, event) and is_dated(e)
               and finished_by(e)[0] < begins]  # type: ignore[operator]
    return latest(earlier)
