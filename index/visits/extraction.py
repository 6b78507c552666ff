"""From mentions to events: group the tellings of one event within a document, then across documents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from index.models import Chunk, DocumentMeta
from index.visits.mentions import Mention, Where, document_mentions
from index.visits.models import (
    NOT_STATED,
    EventKey,
    EventState,
    Status,
    VisitEvent,
    VisitSource,
    chronological,
    council_words,
    event_id,
    same_event,
)


@dataclass
class _Group:
    """Mentions believed to tell of one event."""

    mentions: list[Mention] = field(default_factory=list)

    @property
    def first(self) -> Mention:
        return self.mentions[0]

    @property
    def documents(self) -> set[int]:
        return {m.where.doc_rank for m in self.mentions}

    @property
    def ordinal(self) -> int | None:
        return next((m.ordinal for m in self.mentions if m.ordinal is not None), None)

    @property
    def dating(self) -> Mention | None:
        """The mention whose dates the event takes."""
        dated = [m for m in self.mentions if m.span is not None]
        return max(dated, key=_dating_rank, default=None)

    @property
    def status(self) -> Status | None:
        """Took place if any telling says so; otherwise what the dating telling says."""
        statuses = [m.status for m in self.mentions if m.status]
        if "took_place" in statuses:
            return "took_place"
        return (self.dating.status if self.dating else None) or next(iter(statuses), None)

    @property
    def key(self) -> EventKey:
        return _mention_key(self.dating or self.first)._replace(ordinal=self.ordinal)

    @property
    def told(self) -> bool:
        """An event worth showing: it took place, or its expectation states a date or period. 'The next
        inspection' with no date is boilerplate about the framework, not an event."""
        return self.status == "took_place" or self.dating is not None

    @property
    def front(self) -> bool:
        return self.first.front


def _dating_rank(m: Mention) -> tuple[object, ...]:
    """Reports of what happened: the narrowest dates win. Expectations: the latest document wins (plans move)."""
    span = m.span
    assert span is not None
    bounded = span.start is not None and span.end is not None
    width = -((span.end - span.start).days) if bounded else 0  # type: ignore[operator]
    written = m.where.meta.date or dt.date.min
    if m.status == "took_place":
        return (True, bounded, width, written)
    return (False, written, bounded, width)


def _mention_key(m: Mention) -> EventKey:
    span = m.span
    return EventKey(council_words(m.where.meta.council), m.kind, m.ordinal,
                    span.start if span else None, span.end if span else None, m.plural)


def _tense_fits(group: _Group, m: Mention) -> bool:
    """A report of what happened does not complete an expectation in the same document, nor the reverse."""
    if group.status is None or m.status is None:
        return True
    return (group.status == "took_place") == (m.status == "took_place")


_DROP = _Group()  # a mention that belongs to no event of this document


def _home_in_report(m: Mention, groups: list[_Group]) -> _Group | None:
    """In a report whose front matter dates its own event, an undated 'this inspection' or 'during the
    inspection' is that event; an undated 'the last inspection' or 'a focused visit' is another one the
    report does not date, so it joins an earlier telling of its kind or is left out (a 'not stated'
    event beside a dated one says nothing)."""
    own = groups[0] if groups and groups[0].front else None
    if own is None or m.span is not None or m.ordinal is not None or m.fresh:
        return None
    if m.kind == own.first.kind and not m.earlier:
        return own
    return next((g for g in reversed(groups) if g is not own and g.first.kind == m.kind), _DROP)


def _home(m: Mention, groups: list[_Group], last: _Group | None) -> _Group | None:
    """The group in this document a mention belongs to, if any.

    The front matter starts the report's own event. Same ordinal or overlapping dates first ('a further
    visit' never joins one this document reports as past); then an undated back-reference ('the visit',
    'this inspection') joins the latest group of its kind; then dates complete an undated telling just
    before ('the next one ... The visit will take place in mid-April').
    """
    if m.front:
        return None
    in_report = _home_in_report(m, groups)
    if in_report is not None:
        return in_report
    key = _mention_key(m)
    for g in reversed(groups):
        if same_event(key, g.key) and not (m.fresh and g.status == "took_place") and not (m.earlier and g.front):
            return g
    if m.span is None and m.ordinal is None and (m.anaphoric or not m.can_start):
        return next((g for g in reversed(groups) if g.first.kind == m.kind), None)
    if (last is not None and (m.span or m.ordinal) and last.first.kind == m.kind and last.dating is None
            and not (last.first.plural or m.plural) and last.ordinal in (None, m.ordinal) and _tense_fits(last, m)):
        return last
    return None


def _group_document(mentions: list[Mention]) -> list[_Group]:
    groups: list[_Group] = []
    last: _Group | None = None
    for m in mentions:
        home = _home(m, groups, last)
        if home is _DROP:
            continue
        if home is None:
            if not m.can_start:
                continue
            home = _Group()
            groups.append(home)
        home.mentions.append(m)
        last = home
    return groups


def _cluster(groups: list[_Group]) -> list[_Group]:
    """Join the same event told by different documents, oldest document first; within one document the
    grouping has already decided what is one event."""
    clusters: list[_Group] = []
    for g in sorted(groups, key=lambda g: (g.first.where.meta.date or dt.date.max, g.first.where.doc_rank)):
        match = next((c for c in clusters if same_event(c.key, g.key) and not c.documents & g.documents), None)
        if match is None:
            clusters.append(_Group(list(g.mentions)))
        else:
            match.mentions.extend(g.mentions)
    return clusters


def _sources(mentions: list[Mention]) -> list[VisitSource]:
    """One source per run of neighbouring sentences in a chunk, so each quote is a verbatim slice."""
    places = sorted({(m.where.meta.date or dt.date.max, m.where.doc_rank, m.where.seq): m.where for m in mentions}.items())
    runs: list[list[Where]] = []
    for _, where in places:
        prev = runs[-1][-1] if runs else None
        if prev and prev.chunk.chunk_id == where.chunk.chunk_id and prev.seq + 1 == where.seq:
            runs[-1].append(where)
        else:
            runs.append([where])
    return [
        VisitSource(
            chunk_id=run[0].chunk.chunk_id, source=run[0].meta.source, title=run[0].meta.title,
            date=run[0].meta.date, quote=run[0].quote_source[run[0].begin : run[-1].end], known_from=run[0].written,
        )
        for run in runs
    ]


def _state(group: _Group) -> EventState:
    """What the group's tellings say of when and how the event happened."""
    span = group.dating.span if group.dating else None
    focuses = [m.focus for m in group.mentions if m.focus]
    written = [m.where.written for m in group.mentions if m.where.written]
    return EventState(
        known_from=max(written, default=None),
        ordinal=group.ordinal,
        status=group.status or "took_place",
        when_text=" ".join(span.text.split()).rstrip(" .,;") if span else NOT_STATED,
        start=span.start if span else None,
        end=span.end if span else None,
        precision=span.precision if span else "year",
        focus=max(focuses, key=len, default=None),
    )


def _earlier_states(group: _Group) -> list[EventState]:
    """The event as the documents written by each earlier day told it, for views of the corpus as it stood.

    Documents are clustered oldest first and never split, so the tellings written by a day form the
    event as extraction over only those documents would make it. A day whose tellings make no event
    (an undated expectation) gives no state: the event was not known then.
    """
    days = sorted({m.where.written for m in group.mentions if m.where.written})
    states: list[EventState] = []
    for day in days[:-1]:
        known = _Group([m for m in group.mentions if m.where.written is None or m.where.written <= day])
        if known.told:
            state = _state(known)
            if not states or state.model_dump(exclude={"known_from"}) != states[-1].model_dump(exclude={"known_from"}):
                states.append(state)
    return states


def _event(group: _Group) -> VisitEvent:
    state = _state(group)
    council = group.first.where.meta.council
    return VisitEvent(
        id=event_id(council, group.first.kind, group.ordinal, state.start),
        kind=group.first.kind,
        council=council,
        curated=False,
        sources=_sources(group.mentions),
        earlier=_earlier_states(group),
        **state.model_dump(),
    )


def unique_ids(events: list[VisitEvent]) -> list[VisitEvent]:
    """Suffix '-2', '-3' to ids that would otherwise collide, in chronological order so it is repeatable."""
    seen: dict[str, int] = {}
    out: list[VisitEvent] = []
    for event in sorted(events, key=chronological):
        seen[event.id] = seen.get(event.id, 0) + 1
        out.append(event if seen[event.id] == 1 else event.model_copy(update={"id": f"{event.id}-{seen[event.id]}"}))
    return out


def extract_events(documents: Iterable[tuple[DocumentMeta, list[Chunk]]]) -> list[VisitEvent]:
    """Every inspection or visit the documents tell of, merged across documents, in date order."""
    groups = [g for rank, (meta, chunks) in enumerate(documents) for g in _group_document(document_mentions(meta, chunks, rank))]
    return unique_ids([_event(c) for c in _cluster(groups) if c.told])
