"""The improvement tracker over real Ofsted PDFs: the JSON shape, later evidence only, verbatim quotes, comparison,
staff corrections and one-line errors. The fake embedder stands in for the model: meaning is measured in eval/."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from bot.progress import PER_DOCUMENT, ProgressError, Tracker, negative_theme_relevances, themes
from bot.rendering import progress_sections
from index.improvements.curated import load_corrections
from index.indexer import Indexer
from index.models import SearchFilters
from index.search import Searcher
from index.store import AREAS, IndexStore
from tests.fakes import FakeEmbedder

PDFS = ("bradford_2018-10-29", "bradford_2023-01-31", "bradford_2026-05-21", "kingston-upon-hull_2019-05-17")
SUFFIX = "_ofsted-childrens-services-inspection.pdf"
B2018, B2023 = (f"bradford_{d}_ofsted-childrens-services-inspection" for d in ("2018-10-29", "2023-01-31"))


@pytest.fixture(scope="module")
def pdf_index(tmp_path_factory, shared_dir) -> tuple[Path, Path]:
    """Four real reports (three of Bradford, one of Hull) indexed once with the fake embedder."""
    source = shared_dir / "corpora" / "ofsted-ilacs"
    corpus = tmp_path_factory.mktemp("ilacs-four")
    for stem in PDFS:
        shutil.copy(source / f"{stem}{SUFFIX}", corpus)
    rows = (source / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()
    kept = [row for row in rows if row.split("\t")[0][: -len(SUFFIX)] in PDFS]
    (corpus / "SOURCES.tsv").write_text("\n".join([rows[0], *kept]), encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("ilacs-four-index")
    Indexer(FakeEmbedder()).run(corpus, index_dir)
    return corpus, index_dir


@pytest.fixture(scope="module")
def store(pdf_index):
    opened = IndexStore.open(pdf_index[1])
    yield opened
    opened.close()


@pytest.fixture
def tracker(store) -> Tracker:
    return Tracker(Searcher(store, FakeEmbedder()), bar=0.0)


def _fold(text: str) -> str:
    return " ".join(text.split())


def test_areas_are_stored_in_the_generation_and_checksummed(store):
    assert AREAS in store.manifest.checksums
    areas = store.improvement_areas().areas
    by_doc = {doc_id: [a for a in areas if a.doc_id == doc_id] for doc_id in {a.doc_id for a in areas}}
    assert {doc_id: len(found) for doc_id, found in by_doc.items()} == {
        B2018: 10, B2023: 14, "bradford_2026-05-21_ofsted-childrens-services-inspection": 5,
        "kingston-upon-hull_2019-05-17_ofsted-childrens-services-inspection": 10}
    for area in areas:  # each item is in its document and in the passage named as its source
        assert _fold(area.text) in _fold(store.document_text(area.doc_id))
        assert _fold(area.text) in _fold(store.chunk(area.chunk_id).text)
        assert area.date == store.document(area.doc_id).date and area.council == store.document(area.doc_id).council


def test_progress_json_has_exactly_the_documented_shape_and_only_later_evidence(tracker, store):
    report = tracker.progress("Bradford", "2018")
    data = json.loads(report.model_dump_json())
    assert set(data) == {"council", "inspection", "areas"}
    assert data["inspection"] == {"doc_id": B2018, "title": store.document(B2018).title, "date": "2018-10-29"}
    assert len(data["areas"]) == 10 and any(area["evidence"] for area in data["areas"])
    for area in data["areas"]:
        assert set(area) == {"id", "text", "context", "source", "evidence", "latest_evidence_date"}
        assert set(area["source"]) == {"chunk_id", "location"}
        docs = [e["doc_id"] for e in area["evidence"]]
        assert all(docs.count(d) <= PER_DOCUMENT for d in docs)
        assert [e["date"] for e in area["evidence"]] == sorted(e["date"] for e in area["evidence"])
        assert area["latest_evidence_date"] == max((e["date"] for e in area["evidence"]), default=None)
        for e in area["evidence"]:
            assert set(e) == {"doc_id", "title", "date", "chunk_id", "location", "quote", "score"}
            assert e["date"] > "2018-10-29" and store.document(e["doc_id"]).council == "Bradford"
            assert e["quote"] in _fold(store.chunk(e["chunk_id"]).text)  # verbatim, white space folded


def test_the_default_is_the_latest_inspection_and_an_area_without_evidence_says_so(tracker):
    report = tracker.progress("bradford")
    assert report.inspection.date == "2026-05-21" and all(not area.evidence for area in report.areas)
    sections = progress_sections(report, list(enumerate(report.areas, start=1)), tracker.store.document)
    assert [lines[1:] for _, lines in sections] == [["no later evidence in the documents since 21 May 2026"]] * 5
    assert tracker.warm() == 4  # every inspection's evidence found ahead, for a background thread


def test_since_moves_the_start_of_the_evidence(tracker):
    report = tracker.progress("Bradford", B2018, since=dt.date(2024, 1, 1))
    assert all(e.date >= "2024-01-01" for area in report.areas for e in area.evidence)


def test_a_council_or_year_without_an_inspection_gets_one_line_naming_what_there_is(tracker):
    with pytest.raises(ProgressError, match=r"^no inspection of Leeds is in the documents; councils with one: "
                                            r"Bradford, Kingston Upon Hull$"):
        tracker.progress("Leeds")
    with pytest.raises(ProgressError, match=r"^no inspection of Bradford in 2020; the documents have 2018, 2023, 2026"):
        tracker.progress("Bradford", "2020")
    with pytest.raises(ProgressError, match="^name a council: inspections in the documents are of Bradford, Kingston"):
        tracker.progress()


def test_compare_sets_the_earlier_areas_beside_the_later_document(tracker, store):
    comparison = tracker.compare(B2023, B2018)  # either order: the earlier one's areas lead
    assert (comparison.earlier.doc_id, comparison.later.doc_id) == (B2018, B2023)
    assert len(comparison.themes) == 10 and any(theme.later for theme in comparison.themes)
    for theme in comparison.themes:
        assert _fold(theme.area.text) in _fold(store.document_text(B2018))
        if theme.later:
            assert theme.later.doc_id == B2023 and theme.later.quote in _fold(store.chunk(theme.later.chunk_id).text)
    with pytest.raises(ProgressError, match="^no document 'nope' in the index"):
        tracker.compare(B2018, "nope")


@pytest.mark.parametrize("bar", [0.0, 0.5])
def test_quoting_only_passages_that_can_still_be_chosen_changes_no_link_or_quote(store, monkeypatch, bar):
    lazy, eager = (Tracker(Searcher(store, FakeEmbedder()), bar=bar) for _ in range(2))
    quoted: dict[Tracker, list[str]] = {lazy: [], eager: []}
    for tracker, made in quoted.items():
        quote = tracker._quote
        monkeypatch.setattr(tracker, "_quote",
                            lambda chunk, *rest, q=quote, m=made: m.append(chunk.chunk_id) or q(chunk, *rest))
    monkeypatch.setattr(eager, "_share_bound", lambda chunk, rare: float("inf"))  # every candidate quoted
    for doc_id in (B2018, B2023, "kingston-upon-hull_2019-05-17_ofsted-childrens-services-inspection"):
        assert lazy.progress(None, doc_id) == eager.progress(None, doc_id)
    assert lazy.compare(B2018, B2023) == eager.compare(B2018, B2023)
    assert 0 < len(quoted[lazy]) < len(quoted[eager])


@pytest.mark.parametrize("area, listed", [
    ("The response to children with specific vulnerabilities, including disabled children, children in private "
     "fostering arrangements, and homeless 16-year-olds.",
     ["disabled children", "children in private fostering arrangements", "homeless 16-year-olds"]),
    ("The identification of and response to risk, particularly in relation to long-standing concerns of chronic "
     "neglect and wider exploitation.",
     ["in relation to long-standing concerns of chronic neglect", "wider exploitation"]),
    ("The strategic relationship with health services, and operational delivery across a range of health functions.",
     ["The strategic relationship with health services", "operational delivery across a range of health functions"]),
    ("Social work practice, including the quality of assessments and plans and their implementation", []),
    ("The quality of children’s assessments and plans.", []),
    ("Staffing capacity; caseloads", []),
])
def test_an_area_that_lists_themes_is_cut_into_verbatim_pieces(area, listed):
    assert themes(area) == listed and all(theme in area for theme in listed)


def test_a_theme_links_a_later_document_only_where_the_whole_area_has_none(store, monkeypatch):
    area = next(a for a in store.improvement_areas().areas if a.text.startswith("multi-agency child protection work"))
    assert len(themes(area.text)) == 4
    shown, scored = {}, []
    for theme_bar in (0.0, float("inf")):
        tracker = Tracker(Searcher(store, FakeEmbedder()), bar=0.0, theme_bar=theme_bar)
        best_quoted, own = tracker._best_quoted, tracker._weights(area.text)
        monkeypatch.setattr(tracker, "_best_quoted", lambda hits, scores, weights, n, b=best_quoted: (
            [] if weights == own else b(hits, scores, weights, n)))  # the whole area clears the bar nowhere
        relevance = tracker.relevance
        monkeypatch.setattr(tracker, "relevance",
                            lambda text, chunks, r=relevance: scored.append(text) or r(text, chunks))
        shown[theme_bar] = next(a for a in tracker.progress("Bradford", B2018).areas if a.id == area.id).evidence
    assert themes(area.text)[0] in scored  # the first theme scored (the next only for documents still without one)
    docs = [e.doc_id for e in shown[0.0]]
    assert docs and len(docs) == len(set(docs)) and B2018 not in docs  # one passage per later document at most
    assert all(e.quote in _fold(store.chunk(e.chunk_id).text) for e in shown[0.0])
    assert shown[float("inf")] == []  # a theme's passage that does not speak to the whole area is not shown

    tracker, scored = Tracker(Searcher(store, FakeEmbedder()), bar=0.0), []
    relevance = tracker.relevance
    monkeypatch.setattr(tracker, "relevance", lambda text, chunks: scored.append(text) or relevance(text, chunks))
    found = next(a for a in tracker.progress("Bradford", B2018).areas if a.id == area.id).evidence
    assert {e.doc_id for e in found} == {B2023, "bradford_2026-05-21_ofsted-childrens-services-inspection"}
    assert not set(themes(area.text)) & set(scored)  # every later document has the area's own link: no theme scored


def test_a_document_with_no_link_shows_only_its_first_candidate_above_the_document_bar(store):
    searcher = Searcher(store, FakeEmbedder())
    area = store.improvement_areas().areas[0]
    meta = store.document(area.doc_id)
    shown = {}
    for document_bar in (0.0, float("inf")):
        tracker = Tracker(searcher, bar=float("inf"), theme_bar=float("inf"), document_bar=document_bar)
        shown[document_bar] = next(a for a in tracker.progress(None, meta.doc_id).areas if a.id == area.id).evidence
    assert shown[float("inf")] == []
    hits = searcher.search(area.text, k=12, filters=SearchFilters(council=meta.council,
                                                                  date_from=meta.date + dt.timedelta(days=1)))
    first = {}
    for hit in hits:
        first.setdefault(hit.document.doc_id, hit.chunk.chunk_id)
    assert shown[0.0] and all(first[e.doc_id] == e.chunk_id for e in shown[0.0])  # never a document's later candidate


def test_theme_negatives_score_a_theme_and_its_area_against_a_passage_found_for_another_council(store):
    scores = negative_theme_relevances(Searcher(store, FakeEmbedder()), store.improvement_areas().areas, pairs=40)
    assert 0 < len(scores) <= 40 and all(len(pair) == 2 and -1.0 <= min(pair) <= max(pair) <= 2.0 for pair in scores)


def test_curated_corrections_hide_add_pin_and_unpin(store, tmp_path):
    searcher = Searcher(store, FakeEmbedder())
    before = Tracker(searcher, bar=0.0).progress("Bradford", "2018")
    hidden, kept = before.areas[0], before.areas[1]
    evidence = next(area for area in before.areas[1:] if area.evidence)
    unpinned = evidence.evidence[0]
    pin = next(c for c in store.document_chunks(B2023) if c.chunk_id not in {e.chunk_id for e in kept.evidence})
    added = "Services for children in need of help and protection in Bradford are inadequate"
    path = tmp_path / "progress.toml"
    path.write_text(f'[[hide]]\narea = "{hidden.id}"\n\n[[area]]\ninspection = "{B2018}"\ntext = "{added}"\n\n'
                    f'[[pin]]\narea = "{kept.id}"\nchunk_id = "{pin.chunk_id}"\n\n'
                    f'[[unpin]]\narea = "{evidence.id}"\nchunk_id = "{unpinned.chunk_id}"\n\n'
                    f'[[area]]\ninspection = "{B2018}"\ntext = "Words the report never used"\n', encoding="utf-8")
    tracker = Tracker(searcher, load_corrections(path), bar=0.0)
    after = {area.id: area for area in tracker.progress("Bradford", "2018").areas}
    assert hidden.id not in after
    assert any(area.text == added for area in after.values())
    assert pin.chunk_id in {e.chunk_id for e in after[kept.id].evidence}
    assert unpinned.chunk_id not in {e.chunk_id for e in after[evidence.id].evidence}
    assert tracker.problems("Bradford") == [
        f"progress.toml: [[area]] 'text': 'Words the report never used' is not in {store.document(B2018).title}"]


def test_seed_officers_report_is_not_an_inspection_but_can_be_chosen_by_id(repo_root, tmp_path):
    index_dir = tmp_path / "seed-index"
    Indexer(FakeEmbedder()).run(repo_root / "corpus", index_dir)
    store = IndexStore.open(index_dir)
    try:
        tracker = Tracker(Searcher(store, FakeEmbedder()))
        with pytest.raises(ProgressError, match="^no inspection of Nottingham is in the documents; councils with one: "
                                                "none"):
            tracker.progress("Nottingham")
        report_id = next(m.doc_id for m in store.documents() if m.source.startswith("003_"))
        report = tracker.progress(inspection=report_id)
        assert [area.text[:53] for area in report.areas] == [
            "Children and Young People Scrutiny Committee consider",
            "Children and Young People Scrutiny Committee note the",
            "Children and Young People Scrutiny Committee confirm ",
        ]
        assert report.council == "Nottingham City Council" and all(not area.evidence for area in report.areas)
    finally:
        store.close()


def test_a_progress_question_is_answered_from_the_tracker_first(tracker, store):
    """'Has Bradford improved placement sufficiency since the 2018 inspection?': the area quoted, then its evidence."""
    from bot.answering import Answerer

    answerer = Answerer(tracker.searcher, min_relevance=0.0,
                        progress=lambda council, inspection: tracker.progress(council, inspection))
    answer = answerer.ask("Has Bradford improved placement sufficiency since the 2018 inspection?")
    area = answer.citations[0]
    assert "sufficiency of local placements" in area.quote and area.date.startswith("2018")
    assert answer.lead.splitlines()[-1].startswith("Ofsted's inspection of 29 Oct 2018 asked Bradford to improve this [1].")
    assert all(c.date > area.date for c in answer.citations[1:])
    assert all(c.council == "Bradford" for c in answer.citations)


def test_a_progress_question_on_no_listed_area_is_answered_from_passages(tracker):
    from bot.answering import Answerer

    answerer = Answerer(tracker.searcher, min_relevance=0.0,
                        progress=lambda council, inspection: tracker.progress(council, inspection))
    answer = answerer.ask("Has Bradford improved its dog walking rota since the 2018 inspection?")
    assert "asked Bradford to improve" not in (answer.lead or "")


def test_a_visit_is_tied_to_the_areas_its_focus_speaks_to(tracker):
    from bot.rendering import areas_line

    found = tracker.areas_looked_at("Bradford", dt.date(2019, 6, 1), "the sufficiency of placements for children in care")
    assert found is not None
    inspection, numbers = found
    areas = tracker.progress("Bradford", B2018).areas
    assert inspection.doc_id == B2018 and numbers
    assert all("sufficiency" in areas[n - 1].text for n in numbers)
    assert areas_line(inspection, [2, 5]) == "looked at areas 2 and 5 of the 29 Oct 2018 inspection (/progress)"
    assert tracker.areas_looked_at("Bradford", dt.date(2018, 1, 1), "sufficiency") is None  # no inspection before
    assert tracker.areas_looked_at("Bradford", dt.date(2019, 6, 1), None) is None


def test_a_fresh_progress_encodes_no_area_or_theme_the_index_holds(store):
    """The areas' and themes' vectors were computed at index time: asking encodes nothing for them."""
    encoded: list[str] = []

    class Counting(FakeEmbedder):
        def encode(self, texts, progress=False):
            encoded.extend(texts)
            return super().encode(texts, progress)

    tracker = Tracker(Searcher(store, Counting()), bar=0.0)
    report = tracker.progress("Bradford", B2018)
    assert report.areas and not set(encoded) & set(store.area_vectors())
    assert encoded == []
