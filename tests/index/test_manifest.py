"""Document metadata: manifest entries validated, SOURCES.tsv read, the rest inferred from the text."""

from __future__ import annotations

import datetime as dt
import shutil

from index.manifest import load_manifest
from index.parsing import parse_file


def test_seed_manifest_is_valid_and_complete(repo_root):
    manifest = load_manifest(repo_root / "corpus")
    assert manifest.errors == []
    assert sorted(manifest.entries) == sorted(p.name for p in (repo_root / "corpus").glob("*.txt"))
    report = manifest.entries["003_cd5dea8db04643bf.txt"]
    assert report.date == dt.date(2025, 1, 15)
    assert "2024" in report.date_note and "slip" in report.date_note


def test_bad_entry_gets_one_line_naming_file_and_field(tmp_path):
    (tmp_path / "manifest.toml").write_text(
        '[[document]]\nfile = "a.txt"\ntitle = "Fine"\n\n'
        '[[document]]\nfile = "b.txt"\ntitle = "Broken"\ndate = "15th of Smarch"\n\n'
        '[[document]]\nfile = "c.txt"\ntitle = "Wrong type"\ntype = "memo"\n',
        encoding="utf-8",
    )
    manifest = load_manifest(tmp_path)
    assert list(manifest.entries) == ["a.txt"]
    assert len(manifest.errors) == 2
    assert all("\n" not in error for error in manifest.errors)
    assert "b.txt" in manifest.errors[0] and "'date'" in manifest.errors[0]
    assert "c.txt" in manifest.errors[1] and "'type'" in manifest.errors[1]


def test_invalid_toml_is_reported_not_raised(tmp_path):
    (tmp_path / "manifest.toml").write_text("[[document]\nfile = ", encoding="utf-8")
    manifest = load_manifest(tmp_path)
    assert manifest.entries == {} and "manifest.toml line 1" in manifest.errors[0]


def test_one_toml_syntax_error_loses_only_its_own_entry(tmp_path):
    (tmp_path / "manifest.toml").write_text(
        '# staff notes\n\n[[document]]\nfile = "a.txt"\ntitle = "Fine"\n\n'
        '[[document]]\nfile = "b.txt"\ntitle = "Typo"\ndate = 2025-13-01\n\n'
        '[[document]]\nfile = "c.txt"\ntitle = "Also fine"\ndate = 2025-03-12\n\n'
        '[[council]]\nname = "Bury Council"\naliases = ["Bury MBC"]\n',
        encoding="utf-8",
    )
    manifest = load_manifest(tmp_path)
    assert sorted(manifest.entries) == ["a.txt", "c.txt"]
    assert manifest.entries["c.txt"].date == dt.date(2025, 3, 12)
    assert manifest.council_aliases == {"Bury Council": ["Bury MBC"]}
    [error] = manifest.errors
    assert error.startswith(f"{tmp_path / 'manifest.toml'} line 10: ")
    assert "field 'date'" in error and "2025-13-01" in error and "\n" not in error


def test_a_bad_value_is_named_with_its_line(tmp_path):
    (tmp_path / "manifest.toml").write_text('[[document]]\nfile = "a.txt"\ntitle = "Fine"\ntype = "memo"\n',
                                            encoding="utf-8")
    [error] = load_manifest(tmp_path).errors
    assert error.startswith(f"{tmp_path / 'manifest.toml'} line 4: ") and "'type'" in error and "a.txt" in error


def test_document_without_entry_is_described_from_its_text(tmp_path, repo_root):
    shutil.copy(repo_root / "corpus" / "003_cd5dea8db04643bf.txt", tmp_path / "report.txt")
    parsed = parse_file(tmp_path / "report.txt", "report.txt")
    meta = load_manifest(tmp_path).meta_for("report.txt", parsed)
    assert meta.inferred
    assert meta.title == "Ofsted monitoring visit"
    assert meta.body == "Children and Young People Scrutiny Committee"
    assert meta.date == dt.date(2024, 1, 15)  # what the text says; the manifest corrects it for the seed


def test_sources_table_describes_ofsted_reports(shared_dir):
    manifest = load_manifest(shared_dir / "corpora" / "ofsted-ilacs")
    assert manifest.errors == []
    entry = manifest.entries["blackpool_2019-01-17_ofsted-childrens-services-inspection.pdf"]
    assert entry.council == "Blackpool"
    assert entry.date == dt.date(2019, 1, 17)
    assert entry.type == "report"
    assert "Blackpool" in entry.title and "January 2019" in entry.title
    assert entry.url.startswith("https://files.ofsted.gov.uk/")


# --- documents added by hand, without an entry (issue 13) ---------------------------------------------------------

def _inferred(folder, name: str, text: str):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return load_manifest(folder).meta_for(name, parse_file(path, name))


def test_markdown_paper_gives_its_title_date_and_council(tmp_path):
    meta = _inferred(tmp_path, "update.md", "# Children's services improvement update\n\n**Date:** 12 March 2025\n\n"
                     "Nottingham City Council's children's services were judged inadequate in 2022.\n")
    assert meta.inferred
    assert meta.title == "Children's services improvement update"
    assert (meta.date, meta.date_precision) == (dt.date(2025, 3, 12), "day")
    assert meta.council == "Nottingham City Council"


def test_published_line_letterhead_and_committee_are_read(tmp_path):
    meta = _inferred(tmp_path, "news.txt", "BURY COUNCIL\n\nChildren's Scrutiny Committee\n\nPublished 20 June 2023\n\n"
                     "Leaders met Manchester City Council and Bolton Council officers.\n")
    assert (meta.date, meta.date_precision) == (dt.date(2023, 6, 20), "day")
    assert meta.council == "Bury Council"  # the letterhead, not a council named further down
    assert meta.title == "Children's Scrutiny Committee"  # the letterhead is not the title
    assert meta.body == "Children's Scrutiny Committee"


def test_a_date_given_to_the_month_keeps_that_precision_and_a_letter_is_a_letter(tmp_path):
    meta = _inferred(tmp_path, "visit.txt", "Ofsted\n\nMarch 2024\n\nJane Smith\nDirector of Children's Services\n"
                     "London Borough of Hackney\n\nDear Ms Smith\n\nMonitoring visit to Hackney children's services\n")
    assert (meta.date, meta.date_precision) == (dt.date(2024, 3, 1), "month")
    assert meta.council == "London Borough of Hackney"
    assert meta.doc_type == "letter"


def test_the_folder_names_the_council_when_the_text_does_not(tmp_path):
    meta = _inferred(tmp_path, "bury-council/minutes/item.txt", "Minutes\n\nThe Children in Care Council and the Full "
                     "Council heard the update.\n")
    assert meta.council == "Bury Council"  # 'Children in Care Council' and 'Full Council' are not councils
    assert meta.doc_type == "minutes"


def test_a_council_name_wrapped_over_two_lines_is_read_whole_and_councils_that_are_not_authorities_are_not(tmp_path):
    meta = _inferred(tmp_path, "report.txt", "London Borough of Barking and\nDagenham\n\nInspection of services\n\n"
                     "The Care 4 Us Council, the Family Justice Council and the Children in Care Council met.\n")
    assert meta.council == "London Borough of Barking and Dagenham"
    assert meta.title == "Inspection of services"  # a letterhead over two lines is not the title either
    meta = _inferred(tmp_path, "other.txt", "Metropolitan Borough of Barnsley\nCouncil\n\nThe Care 4 Us Council met.\n")
    assert meta.council == "Barnsley Council"


def test_nothing_is_invented_where_the_text_is_silent(tmp_path):
    meta = _inferred(tmp_path, "note.txt", "Agenda item\n\nPlacement sufficiency\n\nThe council's plan for 2024 "
                     "was agreed.\n")
    assert meta.title == "Placement sufficiency"
    assert meta.date is None and meta.council is None and meta.body is None


def test_a_manifest_entry_overrides_what_is_inferred(tmp_path):
    (tmp_path / "manifest.toml").write_text('[[document]]\nfile = "update.md"\ntitle = "Curated"\n'
                                            'council = "Bury Council"\ndate = 2024-01-01\ndate_precision = "year"\n',
                                            encoding="utf-8")
    meta = _inferred(tmp_path, "update.md", "# Update\n\n**Date:** 12 March 2025\n\nNottingham City Council.\n")
    assert not meta.inferred
    assert (meta.title, meta.council, meta.date, meta.date_precision) == ("Curated", "Bury Council",
                                                                          dt.date(2024, 1, 1), "year")


def test_a_question_naming_the_council_finds_a_paper_added_without_an_entry(tmp_path, fake_embedder):
    from index.indexer import Indexer
    from index.models import SearchFilters
    from index.search import Searcher
    from index.store import IndexStore

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "update.md").write_text("# Placement sufficiency update\n\n**Date:** 12 March 2025\n\nNottingham City "
                                      "Council opened two new children's homes in Clifton.\n", encoding="utf-8")
    Indexer(fake_embedder).run(corpus, tmp_path / "index")
    store = IndexStore.open(tmp_path / "index")
    try:
        hits = Searcher(store, fake_embedder).search("new children's homes", filters=SearchFilters(council="Nottingham"))
        assert hits and {hit.document.source for hit in hits} == {"update.md"}
        assert hits[0].document.date == dt.date(2025, 3, 12) and hits[0].document.inferred
    finally:
        store.close()
