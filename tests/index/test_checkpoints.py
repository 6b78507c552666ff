"""Embedding checkpoints (issue 12): a build stopped mid-embedding, by an exception or a real SIGKILL, leaves the
vectors it had committed in index_dir/checkpoint.sqlite and the next build embeds only the rest; a damaged
checkpoint costs one warning line, never the build; the live index never changes until a whole generation
replaces it."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from index.checkpoints import CHECKPOINT
from index.indexer import Indexer
from index.store import CURRENT, IndexStore
from tests.fakes import CountingEncoder, Interrupted
from tests.reliability.conftest import copy_corpus
from tests.reliability.test_crash_safety import Worker

EVERY = 8  # passages a batch: the 60 passages of the seed corpus make 8 batches
STOP_AT = 4  # the build stops as its 4th batch starts, with 3 batches committed
DONE = (STOP_AT - 1) * EVERY


@pytest.fixture()
def corpus(tmp_path, repo_root) -> Path:
    return copy_corpus(repo_root, tmp_path / "corpus")


@pytest.fixture(scope="module")
def clean(tmp_path_factory, repo_root, fake_embedder):
    """A build never interrupted: its report, its index and how many texts it encoded (passages and the
    calibration's probe questions)."""
    folder = tmp_path_factory.mktemp("clean")
    encoder = CountingEncoder(fake_embedder)
    report = Indexer(encoder, checkpoint_every=EVERY).run(copy_corpus(repo_root, folder / "corpus"), folder / "index")
    assert report.passages > STOP_AT * EVERY  # so the stop falls mid-embedding
    return report, folder / "index", encoder.texts


def interrupted(corpus: Path, index_dir: Path, fake_embedder, rebuild: bool = False, say=lambda _: None) -> None:
    with pytest.raises(Interrupted):
        Indexer(CountingEncoder(fake_embedder, stop_at=STOP_AT), checkpoint_every=EVERY).run(
            corpus, index_dir, rebuild=rebuild, say=say)


def resumed(corpus: Path, index_dir: Path, fake_embedder, rebuild: bool = False):
    """The next build: its report, the lines it said, and how many texts it encoded."""
    encoder, lines = CountingEncoder(fake_embedder), []
    report = Indexer(encoder, checkpoint_every=EVERY).run(corpus, index_dir, rebuild=rebuild, say=lines.append)
    return report, lines, encoder.texts


def stored_vectors(index_dir: Path) -> dict[str, np.ndarray]:
    store = IndexStore.open(index_dir)
    try:
        return store.vectors_for([c.chunk_id for meta in store.documents() for c in store.document_chunks(meta.doc_id)])
    finally:
        store.close()


def assert_same_vectors(index_dir: Path, reference: Path) -> None:
    mine, theirs = stored_vectors(index_dir), stored_vectors(reference)
    assert mine.keys() == theirs.keys()
    assert all(np.array_equal(mine[chunk_id], theirs[chunk_id]) for chunk_id in mine)


def checkpoint_rows(index_dir: Path) -> int:
    db = sqlite3.connect(index_dir / CHECKPOINT)
    try:
        return db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    finally:
        db.close()


def live_files(index_dir: Path) -> dict[str, bytes]:
    """CURRENT and every file of the generation it names, byte for byte."""
    live = index_dir / (index_dir / CURRENT).read_text()
    paths = [index_dir / CURRENT, *sorted(path for path in live.rglob("*") if path.is_file())]
    return {path.relative_to(index_dir).as_posix(): path.read_bytes() for path in paths}


def test_a_build_interrupted_mid_embedding_then_rerun_embeds_only_the_rest(corpus, tmp_path, fake_embedder, clean):
    full, reference, clean_texts = clean
    index_dir = tmp_path / "index"
    interrupted(corpus, index_dir, fake_embedder)
    assert not (index_dir / CURRENT).exists() and checkpoint_rows(index_dir) == DONE

    report, lines, texts = resumed(corpus, index_dir, fake_embedder)
    assert (report.resumed, report.embedded) == (DONE, full.passages - DONE)
    assert texts == clean_texts - DONE  # nothing committed is encoded again
    assert f"resuming: {DONE} passages were embedded by an interrupted build" in lines
    assert_same_vectors(index_dir, reference)  # the same index as a build never interrupted
    assert checkpoint_rows(index_dir) == 0  # forgotten once a live generation holds them


def test_the_live_index_is_untouched_by_an_interrupted_build(corpus, tmp_path, fake_embedder, clean):
    full, reference, _ = clean
    index_dir = tmp_path / "index"
    Indexer(fake_embedder).run(corpus, index_dir)
    before = live_files(index_dir)
    interrupted(corpus, index_dir, fake_embedder, rebuild=True)
    assert live_files(index_dir) == before
    assert sorted(path.name for path in index_dir.iterdir() if path.name.startswith("gen-")) == [before[CURRENT].decode()]
    store = IndexStore.open(index_dir)  # checksums verified
    assert store.size == full.passages
    store.close()

    report, _, _ = resumed(corpus, index_dir, fake_embedder, rebuild=True)
    assert (report.resumed, report.embedded) == (DONE, full.passages - DONE)
    assert live_files(index_dir)[CURRENT] != before[CURRENT]
    assert_same_vectors(index_dir, reference)


def _not_a_database(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.write(b"this is no SQLite header")


def _truncated(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 3)


def _a_vector_changed(path: Path) -> None:
    db = sqlite3.connect(path)
    with db:
        chunk_id, blob = db.execute("SELECT chunk_id, vector FROM vectors LIMIT 1").fetchone()
        db.execute("UPDATE vectors SET vector = ? WHERE chunk_id = ?", (bytes([blob[0] ^ 0x40]) + blob[1:], chunk_id))
    db.close()


@pytest.mark.parametrize("damage, kept", [(_not_a_database, 0), (_truncated, 0), (_a_vector_changed, DONE - 1)])
def test_a_damaged_checkpoint_costs_one_warning_line_and_is_rebuilt(corpus, tmp_path, fake_embedder, clean, damage,
                                                                    kept):
    full, reference, _ = clean
    index_dir = tmp_path / "index"
    interrupted(corpus, index_dir, fake_embedder)
    damage(index_dir / CHECKPOINT)

    lines: list[str] = []
    interrupted(corpus, index_dir, fake_embedder, say=lines.append)  # reads the damaged file, then checkpoints anew
    warnings = [line for line in lines if line.startswith("warning")]
    assert len(warnings) == 1 and "checkpoint" in warnings[0] and "\n" not in warnings[0], lines
    assert [line for line in lines if line.startswith("resuming")] == (
        [f"resuming: {kept} passages were embedded by an interrupted build"] if kept else [])
    db = sqlite3.connect(index_dir / CHECKPOINT)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()

    report, lines, _ = resumed(corpus, index_dir, fake_embedder)  # the checkpoint made after the damage serves
    assert not [line for line in lines if line.startswith("warning")]
    assert (report.resumed, report.embedded) == (kept + DONE, full.passages - kept - DONE)
    assert_same_vectors(index_dir, reference)


def test_a_build_killed_by_sigkill_mid_embedding_resumes_and_the_live_index_stays_whole(corpus, tmp_path,
                                                                                         fake_embedder, clean):
    full, reference, clean_texts = clean
    index_dir = tmp_path / "index"
    Indexer(fake_embedder).run(corpus, index_dir)
    before = live_files(index_dir)
    worker = Worker(tmp_path / "worker.log")
    try:
        result = worker.build(corpus=corpus, index_dir=index_dir, rebuild=True, kill_at_batch=STOP_AT,
                              checkpoint_every=EVERY)
    finally:
        worker.close()
    assert result.get("signal") == signal.SIGKILL, worker.tail()
    assert live_files(index_dir) == before
    assert checkpoint_rows(index_dir) == DONE  # committed batches survive the kill (from the WAL)

    report, lines, texts = resumed(corpus, index_dir, fake_embedder, rebuild=True)
    assert (report.resumed, report.embedded) == (DONE, full.passages - DONE)
    assert texts == clean_texts - DONE
    assert not [line for line in lines if line.startswith("warning")]
    assert_same_vectors(index_dir, reference)


def test_a_checkpoint_that_cannot_be_opened_never_fails_the_build(corpus, tmp_path, fake_embedder, clean):
    full, reference, _ = clean
    index_dir = tmp_path / "index"
    (index_dir / CHECKPOINT).mkdir(parents=True)  # no file can be made there
    report, lines, _ = resumed(corpus, index_dir, fake_embedder)
    assert report.embedded == full.passages
    assert [line for line in lines if line.startswith("warning")] == [
        f"warning: cannot read the embedding checkpoint {index_dir / CHECKPOINT} (unable to open database file); "
        "embedding without it",
        f"warning: cannot write the embedding checkpoint {index_dir / CHECKPOINT} (unable to open database file); "
        "this build goes on, but a kill now would lose its vectors"]
    assert_same_vectors(index_dir, reference)


def test_without_a_bar_reading_and_embedding_say_how_far_they_are(tmp_path, fake_embedder, monkeypatch):
    """/reindex shows no bar: it hears every 50 files read and every so many passages embedded."""
    import index.indexer as indexer_module

    monkeypatch.setattr(indexer_module, "_SAY_EVERY_PASSAGES", 40)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number in range(51):
        (corpus / f"note-{number:02d}.txt").write_text(f"Panel note {number}\n\n(a) The panel met on day {number}.\n")
    lines: list[str] = []
    report = Indexer(fake_embedder, checkpoint_every=EVERY).run(corpus, tmp_path / "index", say=lines.append)
    assert [line for line in lines if line.startswith("read")] == ["read 50 of 51 files", "read 51 of 51 files"]
    assert [line for line in lines if line.startswith("embedded")] == [f"embedded 40 of {report.embedded} passages"]
    assert report.embedded > 40
