"""Building and updating the index: incremental, atomic, refusing the wrong model, skipping broken files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from index import generations
from index import store as store_module
from index.chunking import ChunkerConfig
from index.errors import IndexUnavailable
from index.indexer import Indexer
from index.search import SearchConfig, recorded_config
from index.store import CURRENT, MANIFEST, PASSAGES, IndexStore

SEEDS = ["000_540197f7ec6ca2b3.txt", "001_48933fd4539bb840.txt", "002_8a488f655491fcdf.txt"]


@pytest.fixture(scope="module")
def embedder(fake_embedder):
    """Building and updating need vectors, not meaning: the deterministic fake, no model."""
    return fake_embedder


@pytest.fixture()
def corpus(tmp_path, repo_root) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in SEEDS:
        shutil.copy(repo_root / "corpus" / name, folder / name)
    return folder


@pytest.fixture()
def built(corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    report = Indexer(embedder).run(corpus, index_dir)
    return index_dir, report


def _chunk_ids(index_dir: Path) -> dict[str, set[str]]:
    store = IndexStore.open(index_dir)
    try:
        return {meta.source: {c.chunk_id for c in store.document_chunks(meta.doc_id)} for meta in store.documents()}
    finally:
        store.close()


def test_first_build_indexes_every_document(built):
    index_dir, report = built
    assert report.documents == 3 and report.errors == []
    assert report.embedded == report.passages > 0
    store = IndexStore.open(index_dir)
    assert store.vectors.size == store.lexical.size == store.size == report.passages


def test_unchanged_corpus_embeds_nothing(built, corpus, embedder):
    index_dir, _ = built
    report = Indexer(embedder).run(corpus, index_dir)
    assert report.embedded == 0 and report.unchanged == 3 and not report.changed


def test_changing_one_file_changes_only_its_passages(built, corpus, embedder):
    index_dir, _ = built
    before = _chunk_ids(index_dir)
    path = corpus / SEEDS[0]
    path.write_text(path.read_text(encoding="utf-8").replace("mid-April", "late April"), encoding="utf-8")
    report = Indexer(embedder).run(corpus, index_dir)
    after = _chunk_ids(index_dir)
    assert report.changed == [SEEDS[0]]
    assert report.embedded == len(after[SEEDS[0]] - before[SEEDS[0]]) == 1
    assert after[SEEDS[1]] == before[SEEDS[1]] and after[SEEDS[2]] == before[SEEDS[2]]
    store = IndexStore.open(index_dir)
    assert store.vectors.size == store.size == sum(len(ids) for ids in after.values())


def test_deleting_a_file_removes_its_passages(built, corpus, embedder):
    index_dir, _ = built
    gone = _chunk_ids(index_dir)[SEEDS[2]]
    (corpus / SEEDS[2]).unlink()
    report = Indexer(embedder).run(corpus, index_dir)
    assert report.removed == [SEEDS[2]] and report.embedded == 0
    store = IndexStore.open(index_dir)
    assert all(store.chunk(chunk_id) is None for chunk_id in gone)
    assert store.vectors.size == store.size


def test_index_built_with_another_model_is_refused(built):
    index_dir, _ = built
    with pytest.raises(IndexUnavailable, match="rebuild"):
        IndexStore.open(index_dir, model="some-other-model")


def test_failure_mid_build_leaves_the_old_index_usable(built, corpus, embedder, monkeypatch):
    index_dir, _ = built
    live = (index_dir / CURRENT).read_text()
    (corpus / "new.txt").write_text("(a) A new paper about fostering sufficiency.", encoding="utf-8")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store_module.LexicalIndex, "build", crash)
    with pytest.raises(OSError):
        Indexer(embedder).run(corpus, index_dir)
    assert (index_dir / CURRENT).read_text() == live
    assert [p.name for p in index_dir.iterdir() if p.name.startswith("gen-")] == [live]
    store = IndexStore.open(index_dir)
    assert len(store.documents()) == 3


def test_corrupted_index_file_is_detected(built):
    index_dir, _ = built
    folder = index_dir / (index_dir / CURRENT).read_text()
    with (folder / PASSAGES).open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00garbage\x00")
    with pytest.raises(IndexUnavailable, match="corrupted.*rebuild"):
        IndexStore.open(index_dir)


def test_unreadable_manifest_is_reported(built):
    index_dir, _ = built
    folder = index_dir / (index_dir / CURRENT).read_text()
    (folder / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexUnavailable, match="rebuild"):
        IndexStore.open(index_dir)


def test_missing_index_says_to_build_one(tmp_path):
    """The engine names no command of the bot's (each adapter adds its own: see tests/bot/test_rendering.py)."""
    with pytest.raises(IndexUnavailable, match="no index in .*; build one$") as raised:
        IndexStore.open(tmp_path / "nothing-here")
    assert raised.value.rebuild is False


def test_broken_files_are_skipped_and_the_rest_indexes(corpus, tmp_path, embedder):
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02 binary \x00")
    (corpus / "truncated.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<")
    report = Indexer(embedder).run(corpus, tmp_path / "index")
    assert report.documents == 3
    assert len(report.errors) == 3
    for name in ("empty.txt", "binary.txt", "truncated.pdf"):
        assert any(name in error and "\n" not in error for error in report.errors)


def test_a_file_that_breaks_keeps_its_previous_version(built, corpus, embedder):
    index_dir, _ = built
    before = _chunk_ids(index_dir)[SEEDS[1]]
    (corpus / SEEDS[1]).write_bytes(b"\xff\xfe\x00\x00 broken")
    report = Indexer(embedder).run(corpus, index_dir)
    assert any(SEEDS[1] in error and "kept the version indexed before" in error for error in report.errors)
    assert _chunk_ids(index_dir)[SEEDS[1]] == before


def test_manifest_records_what_the_index_was_built_with(built, embedder):
    index_dir, _ = built
    folder = index_dir / (index_dir / CURRENT).read_text()
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["model"] == embedder.name and manifest["dim"] == 384
    assert manifest["embedder"] == embedder.backend
    assert manifest["chunker"]["max_tokens"] == 254
    assert set(manifest["file_hashes"]) == set(SEEDS)
    assert PASSAGES in manifest["checksums"]
    assert manifest["search"] == SearchConfig().model_dump() and manifest["bm25"]["b"] == 0.5


def test_a_changed_search_configuration_is_recorded_and_searched_with(built, corpus, embedder):
    index_dir, _ = built
    chosen = SearchConfig(dense_weight=0.35)
    Indexer(embedder, search=chosen).run(corpus, index_dir)  # no file changed: only the configuration
    store = IndexStore.open(index_dir)
    try:
        assert store.manifest.search == chosen.model_dump() and recorded_config(store) == chosen
    finally:
        store.close()


def test_new_chunking_rules_recut_every_document_but_reuse_vectors(built, corpus, embedder):
    index_dir, first = built
    before = set().union(*_chunk_ids(index_dir).values())
    report = Indexer(embedder, ChunkerConfig(merge_tokens=60)).run(corpus, index_dir)
    after = set().union(*_chunk_ids(index_dir).values())
    assert sorted(report.changed) == sorted(SEEDS) and not report.rebuilt
    assert report.embedded == len(after - before) < report.passages


def test_a_new_index_format_recuts_every_document_but_embeds_only_new_passages(built, corpus, embedder, monkeypatch):
    """Chunking code changes come with a format bump: the next build must cut again, not reuse the old passages."""
    from index import indexer as indexer_module
    from index import chunking

    index_dir, _ = built
    before = _chunk_ids(index_dir)
    cut = chunking._units

    def one_more_passage(document, title):
        units = cut(document, title)
        last = units[-1]
        return units + [chunking._Unit(last.start, last.end, "Again", "para extra", last.members, False)]

    monkeypatch.setattr(chunking, "_units", one_more_passage)
    monkeypatch.setattr(indexer_module, "FORMAT", generations.FORMAT + 1)
    monkeypatch.setattr(generations, "FORMAT", generations.FORMAT + 1)
    report = Indexer(embedder).run(corpus, index_dir)
    after = _chunk_ids(index_dir)
    assert report.changed == sorted(before) and report.unchanged == 0
    assert all(before[source] < after[source] for source in before)
    assert report.embedded == sum(len(after[s] - before[s]) for s in before)
