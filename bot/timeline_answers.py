"""Questions about visits ("when is the next monitoring visit?") answered from the visits timeline.

The lead sentence only restates what the timeline holds, with the dates as the documents put them; the
quotes that follow are the documents' own words, cited like any other passage.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Callable

from index.visits import Timeline, VisitEvent

_ABOUT_VISITS = re.compile(r"\b(visits?|inspections?|inspected|inspectors?)\b", re.IGNORECASE)
_ABOUT_TIMING = re.compile(r"\b(when|next|upcoming|coming|expected|due|planned|anticipated|scheduled)\b", re.IGNORECASE)
KIND_NAMES = {
    "full_inspection": "full inspection",
    "monitoring_visit": "monitoring visit",
    "focused_visit": "focused visit",
    "jtai": "joint targeted area inspection",
    "improvement_review": "improvement board or DfE review",
    "other": "inspection or review",
}
_STATUS_WORDS = {"took_place": "took place", "planned": "planned", "anticipated": "anticipated"}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth"}


def asks_about_visits(question: str) -> bool:
    return bool(_ABOUT_VISITS.search(question) and _ABOUT_TIMING.search(question))


def _wanted_kind(question: str) -> str | None:
    lowered = question.lower()
    if "monitoring" in lowered:
        return "monitoring_visit"
    if "focused" in lowered:
        return "focused_visit"
    if "full" in lowered or "ilacs" in lowered:
        return "full_inspection"
    return None


def _of_kind(events: list[VisitEvent], kind: str | None) -> list[VisitEvent]:
    """Events of the kind asked about, or all of them when none is of that kind (or none was named)."""
    return [e for e in events if e.kind == kind] or events


def describe(event: VisitEvent) -> str:
    """'the sixth monitoring visit (took place), “12th and 13th November” (12 Nov 2024 – 13 Nov 2024)'."""
    ordinal = f"the {_ORDINALS[event.ordinal]} " if event.ordinal in _ORDINALS else "a "
    when = f"“{event.when_text}”"
    if event.start and event.end:
        span = event.start.strftime("%-d %b %Y") if event.start == event.end else (
            f"{event.start:%-d %b %Y} – {event.end:%-d %b %Y}")
        when += f" ({span})"
    focus = f", on {event.focus}" if event.focus else ""
    return f"{ordinal}{KIND_NAMES[event.kind]} ({_STATUS_WORDS[event.status]}), {when}{focus}"


def _finishes_first(event: VisitEvent) -> tuple[dt.date, dt.date]:
    """'Next' is the event that must happen soonest: mid-April comes before 'sometime during 2024'."""
    return event.end or event.start or dt.date.max, event.start or dt.date.min


def timeline_lead(question: str, timeline: Timeline) -> tuple[str, VisitEvent] | None:
    """The timeline's answer to a question about the next visit, and the event it rests on."""
    kind = _wanted_kind(question)
    as_of = timeline.as_of.strftime("%-d %b %Y")
    upcoming = _of_kind(timeline.upcoming, kind)
    if upcoming:
        event = min(upcoming, key=_finishes_first)
        return f"Next on the visits timeline (as of {as_of}): {describe(event)}.", event
    unconfirmed = _of_kind(timeline.unconfirmed, kind)
    if unconfirmed:
        event = unconfirmed[-1]
        return (f"No upcoming visit is recorded in the documents as of {as_of}. The latest expected was "
                f"{describe(event)} — no later document confirms it took place.", event)
    return None


def event_sources(event: VisitEvent, dated: Callable[[str], str]) -> str:
    """Where an event is told, one entry per document: 'Ofsted monitoring visit, 15 Jan 2025 (ids 1a2b…, 3c4d…)'."""
    passages: dict[tuple[str, str], list[str]] = {}
    for source in event.sources:
        ids = passages.setdefault((source.title, dated(source.chunk_id)), [])
        ids += [] if source.chunk_id in ids else [source.chunk_id]
    return "; ".join(f"{title}, {date} (id{'s' if len(ids) > 1 else ''} {', '.join(ids)})"
                     for (title, date), ids in passages.items()) or "added by staff in visits.toml"


def timeline_sections(timeline: Timeline, dated: Callable[[str], str]) -> list[tuple[str, list[str]]]:
    """The timeline as titled lists of lines, the same for the console, Discord and the command line.

    `dated(chunk_id)` gives the date of the document a passage is from, as precisely as it is known.
    """
    as_of = timeline.as_of.strftime("%-d %b %Y")
    line = lambda e: f"{describe(e)}{' [curated]' if e.curated else ''} — {event_sources(e, dated)}"  # noqa: E731
    sections = []
    if timeline.include_past:
        sections.append((f"Before {as_of}, oldest first", [line(e) for e in timeline.past]))
    if timeline.upcoming:
        sections.append((f"Upcoming as of {as_of}, soonest first", [line(e) for e in timeline.upcoming]))
    else:
        sections.append((f"Upcoming as of {as_of}", [f"No upcoming visit is recorded in the documents as of {as_of}."]))
    if timeline.unconfirmed:
        sections.append(("Expected, but no later document confirms it took place",
                         [line(e) for e in timeline.unconfirmed]))
    return sections
