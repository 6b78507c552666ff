"""Question understanding: councils by any of their names, dates, kinds of document; and what search does with them."""

from __future__ import annotations

import datetime as dt

import pytest

from index.models import Chunk, DocumentMeta
from index.query import finder_for, of_year, understand
from index.search import _overlap
from index.store import lexical_text

COUNCILS = ["Kingston Upon Hull", "Bournemouth, Christchurch & Poole", "North East Lincolnshire", "Solihull",
            "Stoke-On-Trent", "Nottingham City Council", "Bury Council", "St Helens", "Kingston Upon Thames"]


@pytest.fixture(scope="module")
def finder():
    return finder_for([DocumentMeta(doc_id=str(n), source=f"{n}.txt", title="t", council=c)
                       for n, c in enumerate(COUNCILS)])


@pytest.mark.parametrize("question, council", [
    ("What did Ofsted say about Hull in 2023?", "Kingston Upon Hull"),
    ("Hull's care leavers", "Kingston Upon Hull"),
    ("What did BCP's latest inspection find?", "Bournemouth, Christchurch & Poole"),
    ("Bournemouth, Christchurch and Poole front door", "Bournemouth, Christchurch & Poole"),
    ("How is NE Lincs doing?", "North East Lincolnshire"),
    ("north east lincolnshire workforce", "North East Lincolnshire"),
    ("Stoke on Trent permanence", "Stoke-On-Trent"),
    ("What about Nottingham?", "Nottingham City Council"),
    ("St. Helens improvement board", "St Helens"),
    ("Solihull's leaders", "Solihull"),
])
def test_a_council_is_found_by_its_full_name_short_form_or_abbreviation(finder, question, council):
    assert understand(question, finder).council == council


@pytest.mark.parametrize("question", ["What about bcp?", "How many children are in care?",
                                      "What do councils say about SEND?"])
def test_no_council_is_invented(finder, question):
    assert understand(question, finder).council is None


def test_hull_is_not_found_inside_solihull(finder):
    assert understand("Solihull 2019", finder).councils_named == ("Solihull",)


def test_two_councils_named_narrow_to_neither(finder):
    intent = understand("Compare Hull and Stoke on workforce", finder)
    assert intent.council is None and set(intent.councils_named) == {"Kingston Upon Hull", "Stoke-On-Trent"}
    assert intent.summary() == "Kingston Upon Hull and Stoke-On-Trent"


def test_years_and_bounds(finder):
    assert understand("What did Bradford's 2023 report say?", finder).years == (2023,)
    before = understand("What happened before 2019?", finder)
    assert before.date_to == dt.date(2018, 12, 31) and before.years == ()
    since = understand("What has changed since 2020?", finder)
    assert since.date_from == dt.date(2020, 1, 1) and since.years == ()
    after = understand("after 2020", finder)
    assert after.date_from == dt.date(2021, 1, 1)
    event = understand("What did Wakefield commit to after the 2018 inspection?", finder)
    assert event.date_from is None and event.years == (2018,)
    assert understand("since 2019's inspection", finder).date_from is None
    assert understand("What did the latest inspection say?", finder).latest
    assert not understand("What did the 2022 inspection say?", finder).latest


@pytest.mark.parametrize("question, latest", [
    ("How many children are in care now?", True),
    ("What is the position right now on caseloads", True),
    ("Where are caseloads at the moment?", True),
    ("What help do young people who now live outside the city get?", False),
])
def test_now_asks_for_the_present_only_at_the_end_or_as_right_now(finder, question, latest):
    assert understand(question, finder).latest is latest


def test_kinds_of_document(finder):
    assert understand("What do the scrutiny committee minutes say?", finder).doc_types == {"minutes"}
    assert understand("What did Ofsted's letter say?", finder).doc_types == {"letter"}


def test_summary_says_what_was_understood(finder):
    assert understand("What did Hull's 2023 inspection find?", finder).summary() == "Kingston Upon Hull · 2023"
    assert understand("What did BCP's latest report find?", finder).summary() == (
        "Bournemouth, Christchurch & Poole · latest papers")
    assert understand("What is a care leaver?", finder).summary() == ""


def test_explicit_filters_win_over_what_the_question_names(finder):
    from index.models import SearchFilters

    intent = understand("Hull before 2019", finder)
    filters = intent.filters(SearchFilters(council="Solihull"))
    assert filters.council == "Solihull" and filters.date_to == dt.date(2018, 12, 31)


def test_a_long_passage_is_not_a_duplicate_of_a_short_one_it_contains():
    heading = {"overal", "effect", "inadequ"}
    passage = heading | {"children", "wait", "too", "long", "assess", "plan", "review", "manag", "oversight"}
    assert _overlap(passage, heading) < 0.8
    assert _overlap(heading, set(heading)) == 1.0


def test_a_document_dated_to_the_year_gets_no_invented_month():
    meta = DocumentMeta(doc_id="d", source="d.txt", title="Update", date=dt.date(2024, 1, 1), date_precision="year")
    chunk = Chunk(chunk_id="0" * 12, doc_id="d", ordinal=0, location="para 1", text="Text.")
    assert "January" not in lexical_text(meta, chunk) and "2024" in lexical_text(meta, chunk)
    month = meta.model_copy(update={"date_precision": "month"})
    assert "January 2024" in lexical_text(month, chunk)


def test_a_report_published_early_next_year_counts_for_the_year_it_reports():
    assert of_year(dt.date(2023, 1, 31), 2022) and of_year(dt.date(2022, 6, 1), 2022)
    assert not of_year(dt.date(2023, 9, 1), 2022)


def test_a_corpus_manifest_adds_council_aliases(tmp_path):
    from index.manifest import load_manifest

    (tmp_path / "manifest.toml").write_text(
        '[[council]]\nname = "Bury Council"\naliases = ["Bury MBC", "Bury Metropolitan Borough"]\n\n'
        '[[council]]\nname = "Nowhere"\n', encoding="utf-8")
    manifest = load_manifest(tmp_path)
    assert manifest.council_aliases == {"Bury Council": ["Bury MBC", "Bury Metropolitan Borough"]}
    assert len(manifest.errors) == 1 and "council 2 field 'aliases'" in manifest.errors[0]
    finder = finder_for([DocumentMeta(doc_id="b", source="b.txt", title="t", council="Bury Council")],
                        manifest.council_aliases)
    assert understand("What did Bury MBC decide?", finder).council == "Bury Council"
