"""The visits timeline as the bot serves it: built at index time, corrected by staff, used by /ask."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from bot.answering import Answerer, QueryError
from bot.services import Services
from bot.settings import Settings
from bot.timeline_answers import asks_about_visits


def test_index_stores_the_extracted_timeline(seed_services):
    events = seed_services.store.visit_events()
    sixth = [e for e in events if e.kind == "monitoring_visit" and e.ordinal == 6]
    assert len(sixth) == 1 and sixth[0].start == dt.date(2024, 11, 12) and sixth[0].status == "took_place"
    for event in events:
        for source in event.sources:
            chunk = seed_services.store.chunk(source.chunk_id)
            assert chunk is not None and " ".join(source.quote.split()) in " ".join(chunk.text.split())


def test_upcoming_depends_on_the_as_of_date(seed_services):
    before = seed_services.timeline(dt.date(2024, 3, 1))
    assert "mid-April" in [e.when_text for e in before.upcoming]
    after = seed_services.timeline(dt.date(2026, 11, 22))
    assert after.upcoming == []
    assert any(e.kind == "full_inspection" and e.status == "anticipated" for e in after.unconfirmed)


def test_curated_entries_override_and_bad_ones_are_reported(seed_services, tmp_path):
    (tmp_path / "visits.toml").write_text(
        '[[visit]]\nkind = "full_inspection"\ncouncil = "Nottingham City Council"\nstatus = "planned"\n'
        'when_text = "confirmed by phone for 3 March 2026"\nstart = 2026-03-03\nend = 2026-03-13\n'
        'precision = "day"\n\n'
        '[[visit]]\nkind = "monitoring_visit"\ncouncil = "Nottingham City Council"\nstatus = "planned"\n'
        'when_text = "never"\nstart = 2025-13-01\n',
        encoding="utf-8",
    )
    settings = Settings(corpus_dir=tmp_path, index_dir=seed_services.index_dir, _env_file=None)
    services = Services(settings, seed_services.embedder)
    events, errors = services.visit_events()
    assert len(errors) == 1 and "visits.toml line 15: visit 2 'start'" in errors[0]
    upcoming = services.timeline(dt.date(2026, 1, 1)).upcoming
    assert upcoming[0].curated and upcoming[0].start == dt.date(2026, 3, 3)


def test_visit_questions_are_recognised():
    assert asks_about_visits("When is the next monitoring visit?")
    assert asks_about_visits("Is a full inspection expected this year?")
    assert not asks_about_visits("How much can agency social workers earn?")
    assert asks_about_visits("When was Sefton last inspected?")
    assert asks_about_visits("When were the focused visits?")
    assert asks_about_visits("And the visit before that?")
    assert not asks_about_visits("What did inspectors find about care leavers at the last inspection?")


@pytest.mark.parametrize(("question", "past"), [
    ("When was Sefton last inspected?", True),
    ("Is there a record of when Sefton was last inspected?", True),
    ("When did inspectors last visit Bury?", True),
    ("When were the focused visits?", True),
    ("When is the next inspection?", False),
    ("When was the next inspection expected?", False),
    ("Will there be a monitoring visit in the spring?", False),
])
def test_tense_of_visit_questions(question, past):
    from bot.timeline_answers import asks_about_the_past

    assert asks_about_the_past(question) is past


def test_ask_leads_with_the_timeline(seed_services):
    answerer = Answerer(seed_services.searcher, timeline=seed_services.timeline, today=lambda: dt.date(2024, 3, 1))
    answer = answerer.ask("When is the next monitoring visit?")
    assert answer.found
    assert answer.answer.startswith("Next on the visits timeline (as known on 1 Mar 2024): Nottingham City Council: "
                                    "a monitoring visit (planned), 11–20 Apr 2024 (“mid-April”)")
    assert "The visit will take place in mid-April" in answer.citations[0].quote
    assert answer.citations[0].location == "para (a)"


def test_ask_says_when_nothing_is_upcoming(seed_services):
    answerer = Answerer(seed_services.searcher, timeline=seed_services.timeline, today=lambda: dt.date(2026, 11, 22))
    answer = answerer.ask("When is the next full Ofsted inspection expected?")
    assert answer.answer.startswith("No upcoming visit is recorded in the documents (as known on 22 Nov 2026).")
    assert "no later document confirms it took place" in answer.answer
    assert "second half of 2025" in answer.answer


def test_visits_command_json_shape(seed_services):
    from tests.bot.test_cli import run

    status, out, _ = run(seed_services, "visits", "--as-of", "2024-03-01", "--all", "--json")
    payload = json.loads(out)
    assert status == 0 and set(payload) == {"as_of", "upcoming", "past", "unconfirmed"}
    event_keys = {"id", "kind", "ordinal", "council", "status", "when_text", "start", "end", "precision", "focus",
                  "curated", "sources", "known_from", "earlier"}
    assert all(set(event) == event_keys for event in payload["upcoming"] + payload["past"])
    assert all(set(s) == {"chunk_id", "source", "title", "date", "quote", "known_from"} for e in payload["past"] for s in e["sources"])
    assert [e["start"] for e in payload["past"] if e["start"]] == sorted(e["start"] for e in payload["past"] if e["start"])
    status, out, _ = run(seed_services, "visits", "--as-of", "2024-03-01", "--json")
    assert "past" not in json.loads(out)


def test_visits_command_says_when_nothing_is_upcoming(seed_services):
    from tests.bot.test_cli import run

    _, out, _ = run(seed_services, "visits", "--as-of", "2026-11-22", "--council", "Nottingham")
    assert "No upcoming visit is recorded in the documents (as known on 22 Nov 2026)." in out
    assert "Expected, but no later document confirms it took place:" in out
    assert "“the second half of 2025”" in out


def test_visits_handler_and_console_show_the_same_timeline(seed_services, tmp_path):
    from bot.console import respond
    from bot.feedback import FeedbackStore
    from bot.handlers import Handlers

    handlers = Handlers(seed_services, FeedbackStore(tmp_path / "feedback.sqlite"))
    reply = handlers.visits("2024-03-01", "nottingham", False)
    assert reply.fields[0].name == "Upcoming as known on 1 Mar 2024, soonest first"
    assert "“mid-April”" in reply.fields[0].value and "(id " in reply.fields[0].value
    typed = respond(handlers, "/visits as_of:2024-03-01 council:nottingham", io.StringIO())
    assert typed == reply
    with pytest.raises(QueryError, match="YYYY-MM-DD"):
        handlers.visits("March 2024")


# --- Leads from the timeline alone (no index): tense, kind, council, order, as-of (issues 9 and 10) -----------

from index.visits import VisitEvent, build_timeline, extract_events  # noqa: E402
from bot.timeline_answers import describe, timeline_lead, visit_before  # noqa: E402

NOTTS = "Nottingham City Council"


@pytest.fixture(scope="module")
def seed_events(repo_root) -> list[VisitEvent]:
    from tests.index.test_visits import SEED_META, _by_paragraph, _chunks, _meta, _seed_text

    return extract_events([(_meta(d), _chunks(d, _by_paragraph(_seed_text(repo_root, d)))) for d in SEED_META])


def _lead(events, question, as_of, council=None):
    found = timeline_lead(question, build_timeline(events, as_of, council), council)
    assert found is not None, question
    return found


@pytest.mark.parametrize("question", [
    "When was the last monitoring visit?",
    "when did the last monitoring visit take place",
    "What was the most recent monitoring visit?",
])
def test_past_tense_questions_get_the_latest_past_event(seed_events, question):
    text, event = _lead(seed_events, question, dt.date(2025, 2, 1))
    assert (event.kind, event.ordinal, event.start) == ("monitoring_visit", 6, dt.date(2024, 11, 12))
    assert "Next on" not in text and "as known on 1 Feb 2025" in text
    assert "12–13 Nov 2024" in text and NOTTS in text


def test_plural_past_questions_list_every_past_event_of_the_kind_latest_first(seed_events):
    text, event = _lead(seed_events, "When were the monitoring visits?", dt.date(2025, 2, 1))
    assert event.ordinal == 6
    order = [text.index(words) for words in ("12–13 Nov 2024", "22–23 Nov 2023", "Jul 2023", "Feb 2023")]
    assert order == sorted(order)
    assert "during 2024" not in text  # an expectation, not a visit that took place


def test_last_inspected_is_the_full_inspection(seed_events):
    text, event = _lead(seed_events, "When was Nottingham last inspected?", dt.date(2025, 2, 1), "Nottingham")
    assert (event.kind, event.when_text) == ("full_inspection", "July 2022")
    assert "a full inspection (took place)" in text


def test_a_past_question_about_a_kind_never_told_gets_no_lead(seed_events):
    assert timeline_lead("When were the focused visits?", build_timeline(seed_events, dt.date(2025, 2, 1)), None) is None


def test_next_is_the_soonest_and_the_latest_expected_is_by_date(seed_events):
    text, event = _lead(seed_events, "When is the next Ofsted visit?", dt.date(2024, 3, 1), "Nottingham")
    assert event.when_text == "mid-April" and text.startswith("Next on the visits timeline (as known on 1 Mar 2024): ")
    text, event = _lead(seed_events, "When is the next Ofsted visit?", dt.date(2026, 11, 22), "Nottingham")
    assert event.when_text == "the second half of 2025"  # not mid-April 2024, the oldest of the unconfirmed
    assert "no later document confirms it took place" in text


def test_the_council_asked_about_is_used_and_every_event_names_its_council(seed_events):
    timeline = build_timeline(seed_events, dt.date(2025, 2, 1))  # both councils
    text, event = timeline_lead("When was Bury last inspected?", timeline, "Bury")
    assert event.council == "Bury Council" and "Bury Council" in text and "Nottingham" not in text
    text, event = timeline_lead("When was the last inspection?", timeline, None)
    assert event.council == NOTTS and text.count(NOTTS) == 1


def test_describe_names_the_council_uses_the_right_article_and_portable_dates(seed_events):
    sixth = next(e for e in seed_events if e.ordinal == 6)
    assert describe(sixth).startswith(f"{NOTTS}: the sixth monitoring visit (took place), 12–13 Nov 2024")
    other = sixth.model_copy(update={"kind": "other", "ordinal": None, "start": dt.date(2024, 6, 5), "end": dt.date(2024, 6, 5)})
    assert "an inspection or review (took place), 5 Jun 2024" in describe(other)
    half = next(e for e in seed_events if e.when_text == "the second half of 2025")
    assert "a full inspection (anticipated), Jul – Dec 2025 (“the second half of 2025”)" in describe(half)
    undated = next(e for e in seed_events if e.council == "Bury Council")
    assert describe(undated) == "Bury Council: a full inspection (took place), date not stated"


def test_the_visit_before_that_is_the_previous_one_of_its_kind(seed_events):
    timeline = build_timeline(seed_events, dt.date(2025, 2, 1), "Nottingham")
    sixth = next(e for e in seed_events if e.ordinal == 6)
    chain = []
    event = sixth
    while True:
        text, event = visit_before(event, timeline)
        if event is None:
            break
        chain.append(event.when_text)
    assert chain == ["November 22 and 23", "July", "February 2023"]
    assert text == "No earlier monitoring visit of Nottingham City Council is told in the documents (as known on 1 Feb 2025)."
    assert timeline_lead("And the visit before that?", timeline, "Nottingham") is None  # needs the event before
    text, earlier = visit_before(next(e for e in seed_events if e.when_text == "the second half of 2025"), timeline)
    assert earlier is not None and earlier.when_text == "July 2022" and text.startswith("Before that: Nottingham City Council: a full")


def _pdf_events(shared_dir, counter, names):
    from index.chunking import chunk_document
    from index.manifest import load_manifest
    from index.parsing import parse_file

    corpus = shared_dir / "corpora" / "ofsted-ilacs"
    manifest = load_manifest(corpus)
    documents = []
    for name in names:
        parsed = parse_file(corpus / name, name)
        meta = manifest.meta_for(name, parsed)
        documents.append((meta, chunk_document(parsed, meta.doc_id, meta.title, counter.count_tokens)))
    return extract_events(documents)


def test_sefton_last_inspected_comes_from_the_reports_front_matter(shared_dir, fake_embedder):
    """Chunked with the model's tokenizer (the fake embedder counts the same word pieces without the model)."""
    events = _pdf_events(shared_dir, fake_embedder, ["sefton_2022-05-09_ofsted-childrens-services-inspection.pdf",
                                                "sefton_2025-08-12_ofsted-childrens-services-inspection.pdf"])
    text, event = _lead(events, "When was Sefton last inspected?", dt.date(2026, 11, 29), "Sefton")
    assert (event.start, event.end, event.when_text) == (dt.date(2025, 6, 23), dt.date(2025, 7, 4), "23 June to 4 July 2025")
    assert "Sefton: a full inspection (took place), 23 Jun – 4 Jul 2025" in text
    assert any("Inspection dates: 23 June to 4 July 2025" in s.quote for s in event.sources)
    text, event = _lead(events, "When was Sefton last inspected?", dt.date(2025, 1, 1), "Sefton")
    assert event.when_text == "21 February to 4 March 2022" and "as known on 1 Jan 2025" in text
    assert "not stated" not in text and "a inspection" not in text


def test_visits_as_of_a_day_sees_only_the_documents_written_by_then(seed_services):
    """Issue 10 defect 3: 'visits --as-of 2021-06-01' listed the July 2022 inspection as upcoming and 'took place'."""
    from tests.bot.test_cli import run

    status, out, _ = run(seed_services, "visits", "--as-of", "2021-06-01", "--all")
    assert status == 0 and "July 2022" not in out
    assert "No upcoming visit is recorded in the documents (as known on 1 Jun 2021)." in out
    _, out, _ = run(seed_services, "visits", "--as-of", "2024-03-01")
    assert "Nottingham City Council: a monitoring visit (planned), 11–20 Apr 2024 (“mid-April”)" in out
    assert "12th and 13th November" not in out  # told only by the report of 15 January 2025


def test_next_with_nothing_expected_says_so_and_names_the_last_one(seed_events):
    """Issue 10 defect 1: Bury's next inspection was answered with Nottingham's planned visit."""
    text, event = _lead(seed_events, "When is Bury's next inspection expected?", dt.date(2025, 2, 1), "Bury")
    assert text.startswith("No upcoming visit is recorded in the documents (as known on 1 Feb 2025). The last full inspection")
    assert event.council == "Bury Council" and "Nottingham" not in text


def test_a_plural_question_with_one_event_says_it_is_the_only_one(seed_events):
    text, _ = _lead(seed_events, "When were the full inspections?", dt.date(2025, 2, 1), "Nottingham")
    assert text.startswith("The only full inspection the documents tell of (as known on 1 Feb 2025): ")


def test_a_year_in_the_question_narrows_the_lead_to_that_year(seed_events):
    year = dict(since=dt.date(2023, 1, 1), until=dt.date(2023, 12, 31))
    timeline = build_timeline(seed_events, dt.date(2025, 2, 1), "Nottingham")
    text, event = timeline_lead("When was the monitoring visit in 2023?", timeline, "Nottingham", **year)
    assert event.start == dt.date(2023, 11, 22)  # the latest of 2023, not the sixth of November 2024
    text, _ = timeline_lead("When were the monitoring visits in 2023?", timeline, "Nottingham", **year)
    assert [w in text for w in ("22–23 Nov 2023", "Jul 2023", "Feb 2023", "12–13 Nov 2024")] == [True, True, True, False]
    assert timeline_lead("When was the last inspection in 2021?", timeline, "Nottingham",
                         since=dt.date(2021, 1, 1), until=dt.date(2021, 12, 31)) is None
    text, event = timeline_lead("Is a full inspection expected in 2025?", build_timeline(seed_events, dt.date(2024, 6, 1)),
                                "Nottingham", since=dt.date(2025, 1, 1), until=dt.date(2025, 12, 31))
    assert event.kind == "full_inspection" and text.startswith("Next on the visits timeline")


def test_next_visit_of_a_kind_never_recorded_is_declined_plainly(seed_services):
    answer = seed_services.answerer.ask("When is Bury Council's next Ofsted monitoring visit?")
    assert not answer.found and answer.citations == []
    assert "The documents record no monitoring visit of Bury Council, past or planned" in answer.answer
    assert "The last event they record: Bury Council: a full inspection" in answer.answer


def test_a_kind_the_council_has_is_answered_from_the_timeline(seed_services):
    answer = seed_services.answerer.ask("When is Bury's next full inspection?")
    assert answer.found and "The last full inspection the documents tell of" in answer.lead
