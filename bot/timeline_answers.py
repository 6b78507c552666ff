"""Questions about visits ("when is the next monitoring visit?", "when was Sefton last inspected?") answered
from the visits timeline.

The lead sentence only restates what the timeline holds, as the documents written by its as-of day told it,
naming the council of every event; the quotes that follow are the documents' own words, cited like any
other passage.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Callable

from bot.rendering import format_date
from index.visits import Timeline, VisitEvent, before, council_matches, latest, latest_first
from index.visits.models import due_by, ranges_overlap

_ABOUT_VISITS = re.compile(r"\b(visits?|visited|inspections?|inspected|inspectors?|JTAIs?)\b", re.IGNORECASE)
# 'last' alone is not enough: 'what did the last inspection find about care leavers?' asks about findings
_ABOUT_TIMING = re.compile(
    r"\b(when|next|upcoming|coming|expected|due|planned|anticipated|scheduled|what\s+date|how\s+long\s+ago"
    r"|before\s+that)\b",
    re.IGNORECASE,
)
_FUTURE = re.compile(
    r"\b(next|upcoming|coming|expected|expect|due|planned|anticipated|scheduled|will|forthcoming|going\s+to)\b",
    re.IGNORECASE,
)
_PAST = re.compile(
    r"\b(was|were|did|has\s+been|have\s+been|had|last|latest|most\s+recent|recent|previous|happened|took\s+place"
    r"|inspected|visited)\b",
    re.IGNORECASE,
)
_BEFORE_THAT = re.compile(r"\bbefore\s+(that|this|it|then)\b", re.IGNORECASE)
_ONE = re.compile(r"\b(last|latest|most\s+recent|previous)\b", re.IGNORECASE)
_PLURAL = re.compile(r"\b(visits|inspections|JTAIs)\b", re.IGNORECASE)
KIND_NAMES = {
    "full_inspection": "full inspection",
    "monitoring_visit": "monitoring visit",
    "focused_visit": "focused visit",
    "jtai": "joint targeted area inspection",
    "improvement_review": "improvement board or DfE review",
    "other": "inspection or review",
}
_KIND_WORDS = (
    ("monitoring_visit", re.compile(r"\bmonitoring\b", re.I)),
    ("focused_visit", re.compile(r"\bfocused\b", re.I)),
    ("jtai", re.compile(r"\bjoint\s+targeted|\bJTAIs?\b", re.I)),
    ("full_inspection", re.compile(r"\b(full|ILACS|inspections?|inspected)\b", re.I)),
)
_STATUS_WORDS = {"took_place": "took place", "planned": "planned", "anticipated": "anticipated"}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth"}


def asks_about_visits(question: str) -> bool:
    return bool(_ABOUT_VISITS.search(question) and _ABOUT_TIMING.search(question))


def asks_about_the_past(question: str) -> bool:
    """'When was Sefton last inspected?', 'When were the focused visits?'; 'next' or 'expected' wins."""
    return bool(_PAST.search(question)) and not _FUTURE.search(question)


def asks_before_that(question: str) -> bool:
    """'And the visit before that?': a follow-up about the event the previous answer named."""
    return bool(_BEFORE_THAT.search(question))


def _wanted_kind(question: str) -> str | None:
    """The kind named; 'inspection' or 'inspected' alone means the full inspection, 'visit' alone any visit."""
    return next((kind for kind, words in _KIND_WORDS if words.search(question)), None)


def _of_council(event: VisitEvent, council: str | None) -> bool:
    """Whether the event is of the council asked about (any event, when none was)."""
    return council is None or council_matches(council, event.council)


def _of_kind(events: list[VisitEvent], kind: str | None) -> list[VisitEvent]:
    """Events of the kind asked about, or all of them when none is of that kind (or none was named)."""
    return [e for e in events if e.kind == kind] or events


def _article(words: str) -> str:
    return "an" if words[:1].lower() in "aeiou" else "a"


def span_text(start: dt.date | None, end: dt.date | None) -> str:
    """'12–13 Nov 2024', 'Jul 2022', '2024', '23 Jun – 4 Jul 2025', 'from 1 Oct 2025', 'by 25 Nov 2016'."""
    if start is None and end is None:
        return "date not stated"
    if start is None:
        return f"by {format_date(end)}"  # type: ignore[arg-type]
    if end is None:
        return f"from {format_date(start)}"
    if start == end:
        return format_date(start)
    whole_month = start.day == 1 and (end + dt.timedelta(days=1)).day == 1
    if whole_month and (start.year, start.month) == (end.year, end.month):
        return format_date(start, "month")
    if whole_month and (start.month, end.month, start.year) == (1, 12, end.year):
        return format_date(start, "year")
    if whole_month:  # 'the second half of 2025': whole months, shown as months
        first = format_date(start, "month")
        return f"{first.split(' ')[0] if start.year == end.year else first} – {format_date(end, 'month')}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{format_date(end)}"
    if start.year == end.year:
        return f"{format_date(start).rsplit(' ', 1)[0]} – {format_date(end)}"
    return f"{format_date(start)} – {format_date(end)}"


def describe(event: VisitEvent) -> str:
    """'Nottingham City Council: the sixth monitoring visit (took place), 12–13 Nov 2024 (“12th and 13th
    November”), on …': the council first, then what, how it stands, and when as the documents put it."""
    kind = KIND_NAMES[event.kind]
    which = f"the {_ORDINALS[event.ordinal]}" if event.ordinal in _ORDINALS else _article(kind)
    when = span_text(event.start, event.end)
    if event.start or event.end:
        when += f" (“{event.when_text}”)"
    focus = f", on {event.focus}" if event.focus else ""
    council = f"{event.council}: " if event.council else ""
    return f"{council}{which} {kind} ({_STATUS_WORDS[event.status]}), {when}{focus}"


def _known_on(timeline: Timeline) -> str:
    return f"as known on {format_date(timeline.as_of)}"


def _past_lead(question: str, kind: str | None, timeline: Timeline, events: list[VisitEvent],
               every: bool = True) -> tuple[str, VisitEvent] | None:
    """The latest event of the kind that took place, or (`every`) all of them latest first when the question
    asks for them all ('When were the focused visits?'). A kind the documents never tell of gets no lead."""
    happened = [e for e in events if e.status == "took_place"]
    chosen = [e for e in happened if e.kind == kind] if kind else happened
    if not chosen:
        return None
    if every and _PLURAL.search(question) and not _ONE.search(question) and len(chosen) > 1:
        ordered = latest_first(chosen)
        name = f"{KIND_NAMES[kind]}s" if kind else "inspections and visits"
        lines = "\n".join(f"- {describe(e)}" for e in ordered)
        return f"The {name} the documents tell of ({_known_on(timeline)}), latest first:\n{lines}", ordered[0]
    event = latest(chosen)
    assert event is not None
    which = "only" if every and len(chosen) == 1 and _PLURAL.search(question) else "last"
    return f"The {which} {KIND_NAMES[event.kind]} the documents tell of ({_known_on(timeline)}): {describe(event)}.", event


def timeline_lead(question: str, timeline: Timeline, council: str | None = None, since: dt.date | None = None,
                  until: dt.date | None = None) -> tuple[str, VisitEvent] | None:
    """The timeline's answer to a question about visits, and the event it rests on.

    `council` (named in the question or chosen by the person) narrows the timeline to that council, and
    `since`/`until` (a year or dates the question names) to the events whose dates meet that period; an
    event no document dates cannot be placed in one. Past tense ('when was it last inspected?') gets what
    took place; otherwise what is next, soonest first, or when nothing is, the latest expectation by date
    that no document written since confirms, or failing that, the last event of the kind that took place.
    'The visit before that' needs the event spoken of before, so it gets no lead here: see `visit_before`.
    """
    if asks_before_that(question):
        return None
    kind = _wanted_kind(question)
    period = since is not None or until is not None

    def mine(events: list[VisitEvent]) -> list[VisitEvent]:
        return [e for e in events if _of_council(e, council)
                and (not period or ranges_overlap(e.start, e.end, since or dt.date.min, until or dt.date.max))]

    if asks_about_the_past(question):
        return _past_lead(question, kind, timeline, mine(timeline.past))
    upcoming = _of_kind(mine(timeline.upcoming), kind)
    if upcoming:
        event = min(upcoming, key=lambda e: (due_by(e), e.id))
        return f"Next on the visits timeline ({_known_on(timeline)}): {describe(event)}.", event
    event = latest(_of_kind(mine(timeline.unconfirmed), kind))
    if event is not None:
        return (f"No upcoming visit is recorded in the documents ({_known_on(timeline)}). The latest expected was "
                f"{describe(event)} — no later document confirms it took place.", event)
    last = _past_lead(question, kind, timeline, mine(timeline.past), every=False)
    if last is not None:
        return f"No upcoming visit is recorded in the documents ({_known_on(timeline)}). {last[0]}", last[1]
    return None


def nothing_on_the_timeline(question: str, timeline: Timeline, council: str | None) -> str | None:
    """The plain statement for a question about when the next visit is, when the timeline holds none of the kind
    asked (any kind, if none is named) for the council, past or planned; None when it holds one."""
    if not asks_about_visits(question) or asks_about_the_past(question) or asks_before_that(question):
        return None
    kind = _wanted_kind(question)
    councils = [e for e in timeline.events if _of_council(e, council)]
    if any(kind is None or e.kind == kind for e in councils):
        return None
    whose = f" of {council}" if council else ""
    line = (f"The documents record no {KIND_NAMES[kind] if kind else 'inspection or visit'}{whose}, past or planned "
            f"({_known_on(timeline)}), so they cannot say when the next one is.")
    other = latest([e for e in councils if e.status == "took_place"])
    return f"{line} The last event they record: {describe(other)}." if other else line


_MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"), start=1)}
_MONTH = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b", re.IGNORECASE)


def names_a_visit(question: str, years: tuple[int, ...]) -> bool:
    """Whether a question names a kind of visit and a year: only then is the timeline built to find it."""
    return bool(years) and _wanted_kind(question) is not None


def event_named(question: str, years: tuple[int, ...], timeline: Timeline,
                council: str | None = None) -> VisitEvent | None:
    """The visit a question names by kind and time ('the July 2023 monitoring visit'), so that 'and the one before
    that?' can follow it even when the question was not about timing; None unless exactly that is clear."""
    kind = _wanted_kind(question)
    if kind is None or not years:
        return None
    months = [_MONTHS[m.lower()] for m in _MONTH.findall(question)] or [None]
    wanted = [(dt.date(year, month or 1, 1),
               dt.date(year, month, calendar.monthrange(year, month)[1]) if month else dt.date(year, 12, 31))
              for year in years for month in months]
    named = [e for e in timeline.events if e.kind == kind and _of_council(e, council)
             and e.start and e.end and any(ranges_overlap(e.start, e.end, start, end) for start, end in wanted)]
    return latest(named) if len(named) == 1 or months != [None] else None


def visit_before(event: VisitEvent, timeline: Timeline) -> tuple[str, VisitEvent | None]:
    """'And the visit before that?': the event of the same kind and council just before `event`, among those
    the timeline knows (before one that took place, only those that took place: an expectation no document
    confirms is not 'the visit before'); the text says so when there is none."""
    known = timeline.events
    if event.status == "took_place":
        known = [e for e in known if e.status == "took_place"]
    earlier = before(event, known)
    if earlier is None:
        council = f" of {event.council}" if event.council else ""
        return (f"No earlier {KIND_NAMES[event.kind]}{council} is told in the documents ({_known_on(timeline)}).",
                None)
    return f"Before that: {describe(earlier)}.", earlier


def event_sources(event: VisitEvent, dated: Callable[[str], str]) -> str:
    """Where an event is told, one entry per document: 'Ofsted monitoring visit, 15 Jan 2025 (ids 1a2b…, 3c4d…)'."""
    passages: dict[tuple[str, str], list[str]] = {}
    for source in event.sources:
        ids = passages.setdefault((source.title, dated(source.chunk_id)), [])
        ids += [] if source.chunk_id in ids else [source.chunk_id]
    return "; ".join(f"{title}, {date} (id{'s' if len(ids) > 1 else ''} {', '.join(ids)})"
                     for (title, date), ids in passages.items()) or "added by staff in visits.toml"


def timeline_sections(timeline: Timeline, dated: Callable[[str], str],
                      looked_at: Callable[[VisitEvent], str | None] = lambda _: None) -> list[tuple[str, list[str]]]:
    """The timeline as titled lists of lines, the same for the console, Discord and the command line.

    `dated(chunk_id)` gives the date of the document a passage is from, as precisely as it is known; `looked_at`
    names the areas for improvement an event looked at, where its stated focus says so. Every line names its
    event's council; titles say the view is of the documents as known on the as-of day.
    """
    as_of = format_date(timeline.as_of)

    def line(e: VisitEvent) -> str:
        areas = looked_at(e)
        return (f"{describe(e)}{' [curated]' if e.curated else ''}{f' ({areas})' if areas else ''} — "
                f"{event_sources(e, dated)}")

    sections = []
    if timeline.include_past:
        sections.append((f"Before {as_of}, oldest first", [line(e) for e in timeline.past]))
    if timeline.upcoming:
        sections.append((f"Upcoming as known on {as_of}, soonest first", [line(e) for e in timeline.upcoming]))
    else:
        sections.append((f"Upcoming as known on {as_of}",
                         [f"No upcoming visit is recorded in the documents (as known on {as_of})."]))
    if timeline.unconfirmed:
        sections.append(("Expected, but no later document confirms it took place",
                         [line(e) for e in timeline.unconfirmed]))
    return sections
