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


def test_ask_leads_with_the_timeline(seed_services):
    answerer = Answerer(seed_services.searcher, timeline=seed_services.timeline, today=lambda: dt.date(2024, 3, 1))
    answer = answerer.ask("When is the next monitoring visit?")
    assert answer.found
    assert answer.answer.startswith("Next on the visits timeline (as of 1 Mar 2024): a monitoring visit (planned)")
    assert "The visit will take place in mid-April" in answer.citations[0].quote
    assert answer.citations[0].location == "para (a)"


def test_ask_says_when_nothing_is_upcoming(seed_services):
    answerer = Answerer(seed_services.searcher, timeline=seed_services.timeline, today=lambda: dt.date(2026, 11, 22))
    answer = answerer.ask("When is the next full Ofsted inspection expected?")
    assert answer.answer.startswith("No upcoming visit is recorded in the documents as of 22 Nov 2026.")
    assert "no later document confirms it took place" in answer.answer
    assert "second half of 2025" in answer.answer


def test_visits_command_json_shape(seed_services):
    from tests.bot.test_cli import run

    status, out, _ = run(seed_services, "visits", "--as-of", "2024-03-01", "--all", "--json")
    payload = json.loads(out)
    assert status == 0 and set(payload) == {"as_of", "upcoming", "past", "unconfirmed"}
    event_keys = {"id", "kind", "ordinal", "council", "status", "when_text", "start", "end", "precision", "focus",
                  "curated", "sources"}
    assert all(set(event) == event_keys for event in payload["upcoming"] + payload["past"])
    assert all(set(s) == {"chunk_id", "source", "title", "date", "quote"} for e in payload["past"] for s in e["sources"])
    assert [e["start"] for e in payload["past"] if e["start"]] == sorted(e["start"] for e in payload["past"] if e["start"])
    status, out, _ = run(seed_services, "visits", "--as-of", "2024-03-01", "--json")
    assert "past" not in json.loads(out)


def test_visits_command_says_when_nothing_is_upcoming(seed_services):
    from tests.bot.test_cli import run

    _, out, _ = run(seed_services, "visits", "--as-of", "2026-11-22", "--council", "Nottingham")
    assert "No upcoming visit is recorded in the documents as of 22 Nov 2026." in out
    assert "Expected, but no later document confirms it took place:" in out
    assert "“the second half of 2025”" in out


def test_visits_handler_and_console_show_the_same_timeline(seed_services, tmp_path):
    from bot.console import respond
    from bot.feedback import FeedbackStore
    from bot.handlers import Handlers

    handlers = Handlers(seed_services, FeedbackStore(tmp_path / "feedback.sqlite"))
    reply = handlers.visits("2024-03-01", "nottingham", False)
    assert reply.fields[0].name == "Upcoming as of 1 Mar 2024, soonest first"
    assert "“mid-April”" in reply.fields[0].value and "(id " in reply.fields[0].value
    typed = respond(handlers, "/visits as_of:2024-03-01 council:nottingham", io.StringIO())
    assert typed == reply
    with pytest.raises(QueryError, match="YYYY-MM-DD"):
        handlers.visits("March 2024")
