"""Visit timeline over the five seed documents: extraction, merging, curated overrides, as-of views."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import NamedTuple

import pytest

from index.models import Chunk, DocumentMeta
from index.visits import build_timeline, extract_events, load_curated, merge_curated
from index.visits.dates import DateContext, find_spans
from index.visits.models import VisitEvent

NOTTS = "Nottingham City Council"
BURY = "Bury Council"
SCRUTINY = "Children and Young People Scrutiny Committee"
SEED_META = {
    "000_540197f7ec6ca2b3": dict(council=NOTTS, body=SCRUTINY, doc_type="minutes", date=dt.date(2024, 1, 1), date_precision="year"),
    "001_48933fd4539bb840": dict(council=NOTTS, body=SCRUTINY, doc_type="minutes", date=dt.date(2023, 1, 1), date_precision="year"),
    "002_8a488f655491fcdf": dict(council=NOTTS, body="Local Democracy Reporting Service", doc_type="news",
                                 date=dt.date(2023, 12, 1), date_precision="month"),
    "003_cd5dea8db04643bf": dict(council=NOTTS, body=SCRUTINY, doc_type="report", date=dt.date(2025, 1, 15), date_precision="day",
                                 title="Ofsted monitoring visit"),
    "004_a9e56c05149d4963": dict(council=BURY, body=SCRUTINY, doc_type="minutes", date=dt.date(2022, 1, 1), date_precision="year"),
}


def _meta(doc_id: str) -> DocumentMeta:
    fields = {"title": doc_id, **SEED_META[doc_id]}
    return DocumentMeta(doc_id=doc_id, source=f"{doc_id}.txt", **fields)


def _chunks(doc_id: str, pieces: list[str]) -> list[Chunk]:
    return [Chunk(chunk_id=f"{doc_id}-{i}", doc_id=doc_id, ordinal=i, location=f"para {i}", text=p) for i, p in enumerate(pieces)]


def _seed_text(repo_root: Path, doc_id: str) -> str:
    return (repo_root / "corpus" / f"{doc_id}.txt").read_text(encoding="utf-8")


def _by_paragraph(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


@pytest.fixture(scope="module")
def seeds(repo_root: Path) -> list[tuple[DocumentMeta, list[Chunk]]]:
    return [(_meta(d), _chunks(d, _by_paragraph(_seed_text(repo_root, d)))) for d in SEED_META]


@pytest.fixture(scope="module")
def events(seeds: list[tuple[DocumentMeta, list[Chunk]]]) -> list[VisitEvent]:
    return extract_events(seeds)


class Gold(NamedTuple):
    council: str
    kind: str
    ordinal: int | None
    status: str
    start: str | None  # month level, "YYYY-MM"
    end: str | None
    precision: str
    focus: str | None  # a phrase the focus must contain
    docs: frozenset[str]  # three-digit prefixes of the documents quoted
    after: str  # where the event sits in a timeline as of the day after it ends


def _docs(*prefixes: str) -> frozenset[str]:
    return frozenset(prefixes)


# Every visit or inspection the five documents describe, in date order (undated first).
GOLD = [
    # 004: "informed Cabinet of the findings of an Ofsted inspection of the Council's children's services.
    # The inspection found the services to be inadequate." The minutes never say when it happened.
    Gold(BURY, "full_inspection", None, "took_place", None, None, "year", None, _docs("004"), "past"),
    # 001 (a) "in July 2022 the local authority was deemed inadequate by Ofsted following a full inspection";
    # 002 "Ofsted rated ... children's services as 'inadequate' in 2022"; 003 summary and 1.1 "last full
    # inspection was in July 2022".
    Gold(NOTTS, "full_inspection", None, "took_place", "2022-07", "2022-07", "month", None, _docs("001", "002", "003"), "past"),
    # 001 (a) "The first visit was in February 2023 ... The first visit focused on the front door".
    Gold(NOTTS, "monitoring_visit", 1, "took_place", "2023-02", "2023-02", "month", "front door", _docs("001"), "past"),
    # 001 (a) "and the second in July" (the year comes from "February 2023" earlier in the sentence), "the
    # second visit focused on Children in Need and children with a Child Protection Plan"; (b), (g) "the July
    # monitoring visit".
    Gold(NOTTS, "monitoring_visit", 2, "took_place", "2023-07", "2023-07", "month", "Children in Need", _docs("001"), "past"),
    # 001 (h) anticipates "A further monitoring visit ... before the end of the year" (after the July visit it
    # reports); 002 reports "The latest visit took place on November 22 and 23, with a focus on the support for
    # children and young people who have left care". One event. No document calls it the third.
    Gold(NOTTS, "monitoring_visit", None, "took_place", "2023-11", "2023-11", "day", "who have left care", _docs("001", "002"), "past"),
    # 001 (h) "with a further 3-4 visits during 2024": several visits expected, kept apart from any single one;
    # once 2024 is over it is past, not unconfirmed, because the sixth visit took place within it.
    Gold(NOTTS, "monitoring_visit", None, "anticipated", "2024-01", "2024-12", "year", None, _docs("001"), "past"),
    # 000 (a) "preparatory work for the next one, which will focus on the Children in Care Service, is under
    # way. The visit will take place in mid-April": a 2024 document saying no visit happened since the last
    # update, so April 2024. No later document says it took place, so afterwards it is unconfirmed.
    Gold(NOTTS, "monitoring_visit", None, "planned", "2024-04", "2024-04", "month", "Children in Care", _docs("000"), "unconfirmed"),
    # 003 1.3 "Ofsted undertook their sixth monitoring visit on 12th and 13th November" in a January 2025 report,
    # which is November 2024, as Recommendation 1 says ("the final Ofsted Monitoring Visit in November 2024");
    # 2.1 "reviewed the support to children in care, with a focus on care planning and achieving permanence".
    Gold(NOTTS, "monitoring_visit", 6, "took_place", "2024-11", "2024-11", "day", "care planning and achieving permanence",
         _docs("003"), "past"),
    # 000 (e) "Ofsted will likely complete a full inspection ... anticipated after" September 2025; 003 1.3 "a
    # full inspection during the second half of 2025", 3.1 "full inspection during 2025 ... from July 2025
    # onwards". One event; the latest document's narrowest range wins.
    Gold(NOTTS, "full_inspection", None, "anticipated", "2025-07", "2025-12", "half-year", None, _docs("000", "003"), "unconfirmed"),
]
# Not events: the seventh monitoring visit (003 3.1: the framework allows it, but Ofsted "do not intend to
# undertake" it); the fourth and fifth visits (no document describes them; the mid-April one is probably
# the fourth, but nothing numbers it); report and letter publications (29 August 2023, mid-May, January);
# meetings (30 November); Bury's plan "to the Department for Education by 31st March 2022" (a deadline, not a review).


def _month(day: dt.date | None) -> str | None:
    return day.isoformat()[:7] if day else None


def _summary(event: VisitEvent) -> Gold:
    return Gold(
        event.council or "", event.kind, event.ordinal, event.status, _month(event.start), _month(event.end),
        event.precision, None, frozenset(s.chunk_id[:3] for s in event.sources), "",
    )


def _find(events: list[VisitEvent], gold: Gold) -> VisitEvent:
    matches = [e for e in events if e.kind == gold.kind and e.ordinal == gold.ordinal and e.council == gold.council
               and _month(e.start) == gold.start and e.status == gold.status]
    assert len(matches) == 1, f"{gold} matched {len(matches)} events"
    return matches[0]


def test_seed_timeline_matches_gold_event_by_event(events: list[VisitEvent]) -> None:
    assert len(events) == len(GOLD)
    for event, gold in zip(events, GOLD, strict=True):
        assert _summary(event) == gold._replace(focus=None, after=""), event.when_text
        if gold.focus is None:
            assert event.focus is None
        else:
            assert event.focus is not None and gold.focus in event.focus
        assert not event.curated


def test_when_text_is_as_the_documents_put_it(events: list[VisitEvent]) -> None:
    assert [e.when_text for e in events] == [
        "not stated", "July 2022", "February 2023", "July", "November 22 and 23", "during 2024", "mid-April",
        "12th and 13th November", "the second half of 2025",
    ]


def test_exact_days_and_fuzzy_ranges(events: list[VisitEvent]) -> None:
    by_text = {e.when_text: e for e in events}
    assert (by_text["12th and 13th November"].start, by_text["12th and 13th November"].end) == (dt.date(2024, 11, 12), dt.date(2024, 11, 13))
    assert (by_text["November 22 and 23"].start, by_text["November 22 and 23"].end) == (dt.date(2023, 11, 22), dt.date(2023, 11, 23))
    assert (by_text["mid-April"].start, by_text["mid-April"].end) == (dt.date(2024, 4, 11), dt.date(2024, 4, 20))
    assert (by_text["the second half of 2025"].start, by_text["the second half of 2025"].end) == (dt.date(2025, 7, 1), dt.date(2025, 12, 31))


def test_every_quote_is_verbatim_from_its_chunk(seeds: list[tuple[DocumentMeta, list[Chunk]]], events: list[VisitEvent]) -> None:
    chunks = {c.chunk_id: (meta, c) for meta, cs in seeds for c in cs}
    for event in events:
        assert event.sources
        for source in event.sources:
            meta, chunk = chunks[source.chunk_id]
            assert source.quote and source.quote in chunk.text
            assert (source.source, source.title, source.date) == (meta.source, meta.title, meta.date)


def test_quotes_carry_the_wording_that_dated_the_event(events: list[VisitEvent]) -> None:
    quotes = {e.when_text: " ".join(s.quote for s in e.sources) for e in events}
    assert "sixth monitoring visit on 12th and 13th November" in quotes["12th and 13th November"]
    assert "The visit will take place in mid-April" in quotes["mid-April"]
    assert "the second in July" in quotes["July"]
    assert "The inspection found the services to be inadequate." in quotes["not stated"]


def test_ids_are_stable_unique_and_derived_from_what_is_stated(seeds: list[tuple[DocumentMeta, list[Chunk]]], events: list[VisitEvent]) -> None:
    ids = [e.id for e in events]
    assert len(set(ids)) == len(ids)
    assert ids == [e.id for e in extract_events(seeds)]
    assert "nottingham-city-council:monitoring_visit:6" in ids
    assert "nottingham-city-council:full_inspection:2025-07-01" in ids


def test_year_resolution(events: list[VisitEvent]) -> None:
    """Days and months without a year take it from the document's date and the tense."""
    sixth = _find(events, GOLD[7])  # a January 2025 report: "undertook ... 12th and 13th November" is November 2024
    assert sixth.start == dt.date(2024, 11, 12)
    mid_april = _find(events, GOLD[6])  # a 2024 document: the next visit "will take place in mid-April"
    assert mid_april.start.year == 2024  # type: ignore[union-attr]
    second = _find(events, GOLD[3])  # a 2023 document: "the second in July"
    assert second.start == dt.date(2023, 7, 1)


def _doc(text: str, date: dt.date, precision: str = "day", doc_id: str = "t0", council: str = "Testshire Council") -> tuple[DocumentMeta, list[Chunk]]:
    meta = DocumentMeta(doc_id=doc_id, source=f"{doc_id}.txt", title=doc_id, council=council, date=date, date_precision=precision)  # type: ignore[arg-type]
    return meta, _chunks(doc_id, _by_paragraph(text))


@pytest.mark.parametrize(
    ("text", "date", "precision", "start", "status"),
    [
        ("Ofsted carried out a monitoring visit in November.", dt.date(2025, 1, 15), "day", dt.date(2024, 11, 1), "took_place"),
        ("The next monitoring visit will take place in February.", dt.date(2024, 10, 10), "day", dt.date(2025, 2, 1), "planned"),
        ("The next monitoring visit will take place in December.", dt.date(2023, 12, 1), "month", dt.date(2023, 12, 1), "planned"),
        ("The monitoring visit took place on 3 and 4 October.", dt.date(2024, 3, 1), "year", dt.date(2024, 10, 3), "took_place"),
        ("A focused visit is expected in the spring.", dt.date(2024, 11, 20), "day", dt.date(2025, 3, 1), "anticipated"),
    ],
)
def test_year_resolution_from_date_and_tense(text: str, date: dt.date, precision: str, start: dt.date, status: str) -> None:
    [event] = extract_events([_doc(text, date, precision)])
    assert (event.start, event.status) == (start, status)


def test_merging_an_anticipation_with_the_report_that_it_took_place(seeds: list[tuple[DocumentMeta, list[Chunk]]], events: list[VisitEvent]) -> None:
    """001 only expects a visit 'before the end of the year'; 002 says it took place on 22-23 November."""
    only_001 = extract_events([d for d in seeds if d[0].doc_id.startswith("001")])
    [expected] = [e for e in only_001 if e.when_text == "before the end of the year"]
    assert expected.status == "anticipated"
    assert expected.start == dt.date(2023, 8, 1)  # after the July visit this document reports as past
    assert expected.end == dt.date(2023, 12, 31)

    merged = _find(events, GOLD[4])
    assert merged.status == "took_place" and merged.when_text == "November 22 and 23"
    quotes = {doc: " ".join(s.quote for s in merged.sources if s.chunk_id.startswith(doc)) for doc in ("001", "002")}
    assert "before the end of the year" in quotes["001"]
    assert "took place on November 22 and 23" in quotes["002"]


def test_distinct_events_stay_distinct(events: list[VisitEvent]) -> None:
    novembers = [e for e in events if e.kind == "monitoring_visit" and e.start and e.start.month == 11]
    assert sorted(e.start.year for e in novembers) == [2023, 2024]  # type: ignore[union-attr]
    assert not [e for e in events if e.ordinal == 7]  # "do not intend to undertake a seventh monitoring visit"


def test_a_further_visit_is_not_the_one_just_reported() -> None:
    text = "The second monitoring visit took place in September. A further monitoring visit is anticipated before the end of the year."
    found = extract_events([_doc(text, dt.date(2023, 9, 15))])
    assert [(e.ordinal, e.status, e.start) for e in found] == [
        (2, "took_place", dt.date(2023, 9, 1)), (None, "anticipated", dt.date(2023, 9, 15)),
    ]


def test_same_month_in_different_years_from_different_documents() -> None:
    docs = [
        _doc("Ofsted undertook a monitoring visit on 5 and 6 November 2023.", dt.date(2023, 12, 1), doc_id="a"),
        _doc("Ofsted undertook a monitoring visit on 5 and 6 November 2024.", dt.date(2024, 12, 1), doc_id="b"),
        _doc("The monitoring visit on 5 and 6 November 2024 focused on care leavers.", dt.date(2025, 1, 1), doc_id="c"),
    ]
    found = extract_events(docs)
    assert [(e.start, {s.chunk_id[0] for s in e.sources}) for e in found] == [
        (dt.date(2023, 11, 5), {"a"}), (dt.date(2024, 11, 5), {"b", "c"}),
    ]
    assert found[1].focus == "care leavers"


@pytest.mark.parametrize("split", ["lines", "sentences", "whole"])
def test_extraction_does_not_depend_on_chunk_boundaries(repo_root: Path, events: list[VisitEvent], split: str) -> None:
    def pieces(text: str) -> list[str]:
        if split == "whole":
            return [text]
        parts = text.splitlines() if split == "lines" else re.split(r"(?<=[.;])\s+", text)
        return [p for p in parts if p.strip()]

    rechunked = extract_events([(_meta(d), _chunks(d, pieces(_seed_text(repo_root, d)))) for d in SEED_META])
    assert [_summary(e) for e in rechunked] == [_summary(e) for e in events]
    assert [e.focus for e in rechunked] == [e.focus for e in events]


@pytest.mark.parametrize(
    ("phrase", "date", "precision", "start", "end", "label"),
    [
        ("mid-April", dt.date(2024, 1, 1), "year", dt.date(2024, 4, 11), dt.date(2024, 4, 20), "month"),
        ("early May 2025", dt.date(2025, 1, 1), "day", dt.date(2025, 5, 1), dt.date(2025, 5, 10), "month"),
        ("the second half of 2025", dt.date(2025, 1, 15), "day", dt.date(2025, 7, 1), dt.date(2025, 12, 31), "half-year"),
        ("from July 2025 onwards", dt.date(2025, 1, 15), "day", dt.date(2025, 7, 1), None, "month"),
        ("before the end of the year", dt.date(2023, 9, 1), "day", dt.date(2023, 9, 1), dt.date(2023, 12, 31), "half-year"),
        ("later this year", dt.date(2023, 11, 1), "day", dt.date(2023, 11, 1), dt.date(2023, 12, 31), "season"),
        ("during 2024", dt.date(2023, 9, 1), "day", dt.date(2024, 1, 1), dt.date(2024, 12, 31), "year"),
        ("spring 2025", dt.date(2024, 9, 1), "day", dt.date(2025, 3, 1), dt.date(2025, 5, 31), "season"),
        ("early next year", dt.date(2024, 9, 1), "day", dt.date(2025, 1, 1), dt.date(2025, 3, 31), "season"),
        ("by the end of March 2025", dt.date(2024, 11, 1), "day", dt.date(2024, 11, 1), dt.date(2025, 3, 31), "half-year"),
        ("from 3 June to 14 July 2019", dt.date(2019, 9, 1), "day", dt.date(2019, 6, 3), dt.date(2019, 7, 14), "day"),
    ],
)
def test_fuzzy_periods_become_ranges(phrase: str, date: dt.date, precision: str, start: dt.date, end: dt.date | None, label: str) -> None:
    [span] = find_spans(f"A visit is expected {phrase}.", DateContext(date, precision), lambda _: "future")
    assert (span.text, span.start, span.end, span.precision) == (phrase, start, end, label)


def test_after_that_point_takes_the_date_before_it() -> None:
    sentence = "The monitoring period is likely to continue until September 2025 so a full inspection would be anticipated after that point."
    spans = find_spans(sentence, DateContext(dt.date(2024, 1, 1), "year"), lambda _: "future")
    assert (spans[-1].text, spans[-1].start, spans[-1].end) == ("after September 2025", dt.date(2025, 10, 1), None)


def test_report_and_letter_dates_are_not_visit_dates() -> None:
    [event] = extract_events([_doc(
        "Regular Ofsted visits are taking place. The latest visit took place on November 22 and 23. "
        "An Ofsted report into the latest visit is expected to be published in January.",
        dt.date(2023, 12, 1), "month",
    )])
    assert (event.start, event.end, event.status) == (dt.date(2023, 11, 22), dt.date(2023, 11, 23), "took_place")
    assert [s.quote for s in event.sources] == [
        "The latest visit took place on November 22 and 23. An Ofsted report into the latest visit is expected to be published in January."
    ]


def test_home_visits_by_social_workers_are_not_inspections() -> None:
    text = "Social workers visit children regularly.\n\nA home visit took place on 3 May 2024."
    assert extract_events([_doc(text, dt.date(2024, 6, 1))]) == []


def _bucket(timeline_json: dict[str, object], event_id: str) -> str | None:
    for name in ("upcoming", "past", "unconfirmed"):
        if any(e["id"] == event_id for e in timeline_json.get(name) or []):  # type: ignore[union-attr]
            return name
    return None


class AsOf(NamedTuple):
    gold: int  # index into GOLD
    as_of: dt.date
    bucket: str | None  # None: no document written by then tells of it
    when_text: str | None = None  # as the documents known then put it, where that differs from today


# A view as of a day sees only the documents written by then. 001 is dated only "2023" but reports the July
# 2023 visit as past, so it was written from August 2023; 002 is dated December 2023; 000 is dated 2024; 003
# is 15 January 2025. From the reading of the documents, on both sides of each event and of its documents:
AS_OF = [
    AsOf(1, dt.date(2022, 6, 30), None), AsOf(1, dt.date(2022, 8, 1), None), AsOf(1, dt.date(2023, 8, 1), "past"),
    AsOf(2, dt.date(2023, 1, 31), None), AsOf(2, dt.date(2023, 8, 1), "past"),
    AsOf(3, dt.date(2023, 6, 30), None), AsOf(3, dt.date(2023, 8, 1), "past"),
    # 001 expects it "before the end of the year"; only 002 (December) says it took place on 22-23 November
    AsOf(4, dt.date(2023, 11, 21), "upcoming", "before the end of the year"),
    AsOf(4, dt.date(2023, 11, 24), "upcoming", "before the end of the year"),
    AsOf(4, dt.date(2023, 12, 1), "past", "November 22 and 23"),
    # "a further 3-4 visits during 2024": nothing written by 1 January 2025 reports one; 003 reports the sixth
    AsOf(5, dt.date(2023, 12, 31), "upcoming"), AsOf(5, dt.date(2025, 1, 1), "unconfirmed"), AsOf(5, dt.date(2025, 1, 15), "past"),
    AsOf(6, dt.date(2024, 4, 10), "upcoming"), AsOf(6, dt.date(2024, 4, 21), "unconfirmed"), AsOf(6, dt.date(2026, 1, 1), "unconfirmed"),
    AsOf(7, dt.date(2024, 11, 11), None), AsOf(7, dt.date(2024, 11, 14), None), AsOf(7, dt.date(2025, 1, 15), "past"),
    # 000 (2024) anticipates it "after" September 2025; 003 (January 2025) narrows it to the second half of 2025
    AsOf(8, dt.date(2024, 6, 1), "upcoming", "after September 2025"),
    AsOf(8, dt.date(2025, 6, 30), "upcoming", "the second half of 2025"), AsOf(8, dt.date(2026, 1, 1), "unconfirmed"),
]


@pytest.mark.parametrize("case", AS_OF, ids=lambda c: f"{GOLD[c.gold].kind}-{GOLD[c.gold].start}-as-of-{c.as_of}")
def test_as_of_sees_only_the_documents_written_by_then(events: list[VisitEvent], case: AsOf) -> None:
    event = _find(events, GOLD[case.gold])
    timeline = build_timeline(events, case.as_of, include_past=True)
    assert timeline.as_of == case.as_of
    assert _bucket(timeline.model_dump(mode="json"), event.id) == case.bucket
    shown = [e for e in timeline.upcoming + timeline.past + timeline.unconfirmed if e.id == event.id]
    if shown:
        assert shown[0].when_text == (case.when_text or event.when_text)
        assert all(s.known_from is None or s.known_from <= case.as_of for s in shown[0].sources)


def test_a_later_view_shows_each_event_where_its_gold_says(events: list[VisitEvent]) -> None:
    timeline = build_timeline(events, dt.date(2030, 1, 1), include_past=True).model_dump(mode="json")
    assert [_bucket(timeline, _find(events, g).id) for g in GOLD] == [g.after for g in GOLD]


def test_unconfirmed_lists_expectations_no_later_document_confirms(events: list[VisitEvent]) -> None:
    in_may = build_timeline(events, dt.date(2024, 5, 1), council="Nottingham")
    assert [e.when_text for e in in_may.unconfirmed] == ["mid-April"]
    # the sixth visit and the narrower "second half of 2025" are told only by 003, written in January 2025
    assert [e.when_text for e in in_may.upcoming] == ["during 2024", "after September 2025"]
    later = build_timeline(events, dt.date(2026, 1, 1), council="Nottingham")
    assert [e.when_text for e in later.unconfirmed] == ["the second half of 2025", "mid-April"]  # most recent first
    assert later.upcoming == []


def test_past_is_the_whole_timeline_before_as_of_oldest_first(events: list[VisitEvent]) -> None:
    timeline = build_timeline(events, dt.date(2025, 2, 1), council="nottingham city", include_past=True)
    assert [e.when_text for e in timeline.past or []] == [
        "July 2022", "February 2023", "July", "November 22 and 23", "during 2024", "12th and 13th November",
    ]
    assert [e.when_text for e in timeline.upcoming] == ["the second half of 2025"]


def test_undated_event_is_past_once_a_document_reports_it(events: list[VisitEvent]) -> None:
    bury = _find(events, GOLD[0])
    assert [e.id for e in build_timeline(events, dt.date(2022, 6, 1), council="Bury", include_past=True).past or []] == [bury.id]
    early = build_timeline(events, dt.date(2021, 6, 1), council="Bury", include_past=True)
    assert (early.upcoming, early.past, early.unconfirmed) == ([], [], [])


@pytest.mark.parametrize(("query", "councils"), [
    ("Nottingham", {NOTTS}), ("NOTTINGHAM CITY COUNCIL", {NOTTS}), ("bury", {BURY}), ("Nottinghamshire", set()), (None, {NOTTS, BURY}),
])
def test_council_matching_is_case_insensitive_and_tolerant(events: list[VisitEvent], query: str | None, councils: set[str]) -> None:
    timeline = build_timeline(events, dt.date(2030, 1, 1), council=query, include_past=True)
    assert {e.council for e in timeline.upcoming + (timeline.past or []) + timeline.unconfirmed} == councils


EVENT_KEYS = ["id", "kind", "ordinal", "council", "status", "when_text", "start", "end", "precision", "focus", "curated", "sources",
              "known_from", "earlier"]
SOURCE_KEYS = ["chunk_id", "source", "title", "date", "quote", "known_from"]


def test_timeline_json_shape(events: list[VisitEvent]) -> None:
    plain = build_timeline(events, dt.date(2024, 5, 1)).model_dump(mode="json")
    assert list(plain) == ["as_of", "upcoming", "unconfirmed"]
    full = build_timeline(events, dt.date(2024, 5, 1), include_past=True).model_dump(mode="json")
    assert list(full) == ["as_of", "upcoming", "past", "unconfirmed"]
    assert full["as_of"] == "2024-05-01"
    json.dumps(full)
    for event in full["upcoming"] + full["past"] + full["unconfirmed"]:
        assert list(event) == EVENT_KEYS
        assert event["start"] is None or re.fullmatch(r"\d{4}-\d\d-\d\d", event["start"])
        for source in event["sources"]:
            assert list(source) == SOURCE_KEYS
    later = build_timeline(events, dt.date(2025, 2, 1), include_past=True).model_dump(mode="json")
    sixth = next(e for e in later["past"] if e["ordinal"] == 6)
    assert (sixth["start"], sixth["end"], sixth["precision"], sixth["status"]) == ("2024-11-12", "2024-11-13", "day", "took_place")


CURATED = """\
# Corrections to what extraction made of the documents.
[[visit]]
kind = "monitoring_visit"
council = "Nottingham City Council"
status = "took_place"
when_text = "16 and 17 April 2024"
start = 2024-04-16
end = "2024-04-17"
precision = "day"
ordinal = 4
note = "Letter published 20 May 2024."

[[visit]]
kind = "monitoring_visit"
council = "nottingham"
status = "took_place"
when_text = "12 and 13 November 2024"
start = 2024-11-12
ordinal = 6
focus = "children in care: care planning and permanence"

[[visit]]
kind = "jtai"
council = "Bury Council"
status = "planned"
when_text = "March 2026"
start = 2026-03-01
precision = "month"
"""


def test_curated_entries_replace_the_events_they_match(tmp_path: Path, events: list[VisitEvent]) -> None:
    path = tmp_path / "visits.toml"
    path.write_text(CURATED, encoding="utf-8")
    curated, errors = load_curated(path)
    assert errors == []
    merged = merge_curated(events, curated)
    assert len(merged) == len(events) + 1  # two replaced, the JTAI added

    april = _find(events, GOLD[6])
    [replaced] = [e for e in merged if e.id == april.id]  # same id, so links to it survive
    assert (replaced.curated, replaced.status, replaced.ordinal, replaced.start, replaced.end) == (
        True, "took_place", 4, dt.date(2024, 4, 16), dt.date(2024, 4, 17))
    assert replaced.sources == april.sources and replaced.focus == april.focus

    [sixth] = [e for e in merged if e.ordinal == 6]
    assert sixth.curated and sixth.focus == "children in care: care planning and permanence" and sixth.end == dt.date(2024, 11, 12)

    [jtai] = [e for e in merged if e.kind == "jtai"]
    assert (jtai.id, jtai.end, jtai.sources) == ("bury-council:jtai:2026-03-01", dt.date(2026, 3, 31), [])

    assert build_timeline(merged, dt.date(2024, 5, 1)).unconfirmed == []  # April is now confirmed


BAD_CURATED = """\
[[visit]]
kind = "monitoring_visit"
council = "Nottingham City Council"
status = "took_place"
when_text = "March 2025"
[[visit]]
start = "2025-13-01"
kind = "inspection"
council = "Nottingham City Council"
status = "took_place"
when_text = "x"
colour = "red"

[[visit]]
kind = "focused_visit"
council = "Bury Council"
when_text = "June 2025"
start = 2025-06-10
end = 2025-06-01
"""


def test_bad_curated_entries_are_reported_one_line_each_and_the_rest_load(tmp_path: Path) -> None:
    path = tmp_path / "visits.toml"
    path.write_text(BAD_CURATED, encoding="utf-8")
    curated, errors = load_curated(path)
    assert [e.when_text for e in curated] == ["March 2025"]
    assert errors == [
        f"{path} line 7: visit 2 'start': invalid date '2025-13-01'",
        f"{path} line 8: visit 2 'kind': 'inspection' is not one of 'full_inspection', 'monitoring_visit', 'focused_visit', 'jtai', 'improvement_review' or 'other'",
        f"{path} line 12: visit 2 'colour': unknown field",
        f"{path} line 14: visit 3 'status': missing required field",
        f"{path} line 19: visit 3 'end': 2025-06-01 is before start 2025-06-10 (got datetime.date(2025, 6, 1))",
    ]
    assert all("\n" not in e for e in errors)


def test_unreadable_curated_files(tmp_path: Path) -> None:
    assert load_curated(tmp_path / "missing.toml") == ([], [])
    broken = tmp_path / "broken.toml"
    broken.write_text('[[visit]]\nkind = "jtai"\nstart = 2025-13-01\n', encoding="utf-8")
    curated, errors = load_curated(broken)
    assert curated == [] and len(errors) == 1 and errors[0].startswith(f"{broken} line 3: ")


# --- False events (issue 10, defect 4) and a report's own front matter ---------------------------------------


@pytest.mark.parametrize("text", [
    "The next inspection will be carried out under the ILACS framework.",
    "Ofsted will plan the next inspection once the monitoring period ends. The next monitoring visit will look at care leavers.",
    "Leaders are preparing for the next full inspection.",
])
def test_boilerplate_about_a_future_inspection_makes_no_event(text: str) -> None:
    assert extract_events([_doc(text, dt.date(2024, 6, 1))]) == []


def test_a_future_inspection_with_a_stated_period_is_an_event() -> None:
    [event] = extract_events([_doc("The next inspection is expected in spring 2026.", dt.date(2024, 6, 1))])
    assert (event.kind, event.status, event.start, event.end) == ("full_inspection", "anticipated", dt.date(2026, 3, 1), dt.date(2026, 5, 31))


@pytest.mark.parametrize("text", [
    "Focused visit to Testshire children’s services\nLetter dated 5 June 2024",
    "The focused visit letter dated 5 June 2024 set out two areas for priority action.",
    "Ofsted’s monitoring visit letter of 5 June 2024 was reported to the committee.",
])
def test_correspondence_dates_are_not_visit_dates(text: str) -> None:
    found = extract_events([_doc(text, dt.date(2024, 7, 1))])
    assert [(e.kind, e.start) for e in found if e.start] == []


def test_a_letter_date_beside_the_visit_date_leaves_the_visit_date() -> None:
    text = "The focused visit took place on 7 and 8 May 2024; the letter dated 5 June 2024 set out two areas for priority action."
    [event] = extract_events([_doc(text, dt.date(2024, 7, 1))])
    assert (event.kind, event.status, event.start, event.end) == ("focused_visit", "took_place", dt.date(2024, 5, 7), dt.date(2024, 5, 8))


REPORT = """\
Inspection of Testshire local authority
children’s services
{dates_line}
Lead inspector: Jo Bloggs, His Majesty’s Inspector

Since the last inspection in 2016, there has been a significant deterioration in services.

This inspection has identified serious and widespread failures. During the inspection, leaders took action.
"""


@pytest.mark.parametrize(("dates_line", "start", "end", "when_text"), [
    ("Inspection dates: 21 February to 4 March 2022", dt.date(2022, 2, 21), dt.date(2022, 3, 4), "21 February to 4 March 2022"),
    ("Inspection date: 11 – 22 July 2022", dt.date(2022, 7, 11), dt.date(2022, 7, 22), "11 – 22 July 2022"),
    ("Inspection dates: 3 to 14 October 2022", dt.date(2022, 10, 3), dt.date(2022, 10, 14), "3 to 14 October 2022"),
    ("Inspection dates: 26 November 2018 to 7 December 2018", dt.date(2018, 11, 26), dt.date(2018, 12, 7),
     "26 November 2018 to 7 December 2018"),
    ("Inspection dates: 10 to 21 July 2023 and 31 July to 4 August 2023", dt.date(2023, 7, 10), dt.date(2023, 8, 4),
     "10 to 21 July 2023 and 31 July to 4 August 2023"),
    ("Inspection date: 01/02/2016 – 25/02/2016", dt.date(2016, 2, 1), dt.date(2016, 2, 25), "01/02/2016 – 25/02/2016"),
])
def test_front_matter_dates_the_inspection_the_report_is_about(dates_line: str, start: dt.date, end: dt.date, when_text: str) -> None:
    found = extract_events([_doc(REPORT.format(dates_line=dates_line), dt.date(2023, 9, 4), council="Sefton")])
    own = [e for e in found if e.start == start]
    assert len(own) == 1, [(e.when_text, e.start) for e in found]
    [event] = own
    assert (event.kind, event.status, event.end, event.precision, event.council) == ("full_inspection", "took_place", end, "day", "Sefton")
    assert event.when_text == when_text
    quotes = " ".join(s.quote for s in event.sources)
    assert dates_line in quotes and "This inspection has identified" in quotes
    [previous] = [e for e in found if e is not event]
    assert (previous.start, previous.status) == (dt.date(2016, 1, 1), "took_place")
    assert "This inspection" not in " ".join(s.quote for s in previous.sources)


def test_front_matter_of_a_heading_only_chunk_is_read() -> None:
    """A PDF's dates line can end up as a passage's heading, outside its text: it still dates the report."""
    meta, _ = _doc("", dt.date(2019, 1, 17), council="Blackpool")
    chunk = Chunk(chunk_id="t0-0", doc_id="t0", ordinal=0, location="para 1", text="Lead inspector: Lorna Schlechte",
                  heading="Inspection dates: 26 November 2018 to 7 December 2018")
    [event] = extract_events([(meta, [chunk])])
    assert (event.start, event.end, event.kind) == (dt.date(2018, 11, 26), dt.date(2018, 12, 7), "full_inspection")
    assert event.sources[0].quote == "Inspection dates: 26 November 2018 to 7 December 2018"


@pytest.mark.parametrize(("heading", "kind"), [
    ("Focused visit to Testshire local authority children’s services", "focused_visit"),
    ("Monitoring visit to Testshire local authority children’s services", "monitoring_visit"),
    ("Joint targeted area inspection of the multi-agency response to children in Testshire", "jtai"),
    ("Inspection of services for children in need of help and protection, children looked after and care leavers",
     "full_inspection"),
])
def test_the_report_says_what_kind_of_event_it_reports(heading: str, kind: str) -> None:
    text = f"{heading}\nInspection dates: 7 to 8 May 2024\n\nLeaders have made progress."
    found = extract_events([_doc(text, dt.date(2024, 6, 20))])
    assert [(e.kind, e.start, e.status) for e in found] == [(kind, dt.date(2024, 5, 7), "took_place")]


def test_report_published_line_bounds_the_report_own_inspection() -> None:
    text = "Birmingham\nRe-inspection of services for children in need of help and protection\n\nReport published: 25 November 2016\n\nLeaders have made progress."
    [event] = extract_events([_doc(text, dt.date(2016, 11, 25))])
    assert (event.kind, event.status, event.start, event.end) == ("full_inspection", "took_place", None, dt.date(2016, 11, 25))


def test_a_year_before_inspection_is_one_inspection_not_several() -> None:
    """'the 2022 inspection' names one inspection; '3-4 visits' are several."""
    text = ("Inspection dates: 23 June to 4 July 2025\n\nServices have improved since the 2022 inspection. "
            "Following the inspection in 2022, leaders changed. Since the last inspection, care leavers are better supported.")
    found = extract_events([_doc(text, dt.date(2025, 8, 12), council="Sefton")])
    assert [e.when_text for e in found] == ["2022", "23 June to 4 July 2025"]
    quoted = " ".join(s.quote for s in found[0].sources)
    assert all(words in quoted for words in ("since the 2022 inspection", "Following the inspection in 2022", "Since the last inspection"))


@pytest.mark.parametrize(("text", "kind"), [
    ("Despite changes since the last inspection in 2022, improvements were made in private fostering arrangements.",
     "full_inspection"),
    ("The previous inspection of Hartlepool’s adoption service was in January 2012.", "other"),
    ("Safeguarding improved following Ofsted’s thematic inspection in November 2014.", "other"),
    ("The fostering inspection in March 2015 judged the service good.", "other"),
])
def test_a_single_service_inspected_is_named_beside_the_inspection(text: str, kind: str) -> None:
    """'fostering' far along the sentence does not make the council's inspection a fostering one."""
    [event] = extract_events([_doc(text, dt.date(2025, 7, 15))])
    assert event.kind == kind


def test_front_matter_dates_still_to_come_are_planned() -> None:
    text = "Monitoring visit to Testshire children’s services\nVisit dates: 3 and 4 March 2026\n\nThe visit will look at care leavers."
    [event] = extract_events([_doc(text, dt.date(2026, 1, 20))])
    assert (event.kind, event.status, event.start, event.end) == ("monitoring_visit", "planned", dt.date(2026, 3, 3), dt.date(2026, 3, 4))
