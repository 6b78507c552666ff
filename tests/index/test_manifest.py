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
    assert manifest.entries == {} and "not valid TOML" in manifest.errors[0]


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
