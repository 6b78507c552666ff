"""The presentation layer: dates and source lines read the same everywhere, on any platform."""

from __future__ import annotations

import datetime as dt

from bot.answering import Answer, Citation
from bot.rendering import citation_line, display_date, render_answer, source_line
from index.models import DocumentMeta

META = DocumentMeta(doc_id="d1", source="a.pdf", title="Ofsted monitoring visit", council="Nottingham City Council",
                    body="Children and Young People Scrutiny Committee", date=dt.date(2025, 1, 5))


def test_dates_show_only_the_precision_the_evidence_allows():
    assert display_date(META) == "5 Jan 2025"
    assert display_date(META.model_copy(update={"date_precision": "month"})) == "Jan 2025"
    assert display_date(META.model_copy(update={"date_precision": "year"})) == "2025"
    assert display_date(META.model_copy(update={"date": None})) is None


def test_a_source_line_names_the_council_first_and_leaves_out_what_is_missing():
    assert source_line(META, "para 3.1") == ("Nottingham City Council · Children and Young People Scrutiny Committee"
                                             " · Ofsted monitoring visit · 5 Jan 2025 · para 3.1")
    bare = META.model_copy(update={"council": None, "body": None, "date": None})
    assert source_line(bare, "") == "Ofsted monitoring visit"
    assert citation_line(2, bare, "p. 4", "abc") == "[2] Ofsted monitoring visit · p. 4 · id abc"


def test_the_answer_text_is_lead_then_numbered_quotes_then_sources():
    citation = Citation(n=1, chunk_id="c1", doc_id="d1", source="a.pdf", title=META.title, council=META.council,
                        date="2025-01-05", location="para 3.1", quote="The visit took place.")
    answer = Answer(question="q", found=True, answer="", lead="Next on the timeline.", citations=[citation])
    assert render_answer(answer, {"d1": META}.__getitem__) == (
        "Next on the timeline.\n\n“The visit took place.” [1]\n\nSources:\n[1] " + source_line(META, "para 3.1"))


def test_an_index_error_gets_the_command_that_builds_or_rebuilds_the_index():
    from bot.rendering import error_text
    from index.errors import IndexUnavailable

    assert error_text(IndexUnavailable("no index in var/index; build one", rebuild=False)) == (
        "no index in var/index; build one (`python -m bot index`, or /reindex in Discord)")
    assert error_text(IndexUnavailable("the index in var/index is incomplete; rebuild it")).endswith(
        "(`python -m bot index --rebuild`, or /reindex in Discord)")
    assert error_text(ValueError("plain")) == "plain"
