"""The timeline seen from a date: what is coming, what happened, and what was expected but never confirmed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from index.visits.models import Timeline, VisitEvent, chronological, council_words, council_matches, ranges_overlap


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


def build_timeline(events: Iterable[VisitEvent], as_of: dt.date, council: str | None = None,
                   include_past: bool = False) -> Timeline:
    """Upcoming soonest first; past (when asked) oldest first; unconfirmed most recent first.

    An event that took place but has no dates is past once a document says so, and otherwise left
    out: nothing says whether it was still to come.
    """
    chosen = [e for e in events if council is None or council_matches(council, e.council)]
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
        upcoming=sorted(upcoming, key=chronological),
        past=sorted(past, key=chronological) if include_past else None,
        unconfirmed=sorted(unconfirmed, key=lambda e: (e.end, e.id), reverse=True),
    )
