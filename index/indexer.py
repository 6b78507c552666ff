"""Bring the index in line with the corpus folder, re-embedding only what changed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from pydantic import BaseModel, Field
from tqdm import tqdm

from index.calibration import calibrate
from index.checkpoints import Checkpoint
from index.chunking import ChunkerConfig, chunk_document, embed_prefix
from index.embedding import TextEncoder
from index.errors import DocumentError, IndexUnavailable
from index.manifest import Manifest, load_manifest
from index.parsing import SUPPORTED_SUFFIXES, parse_file
from index.models import DocumentMeta, Line, ParsedDocument
from index.glossary import Glossary
from index.search import SearchConfig, Searcher
from index.visits import VisitEvent, extract_events
from index.improvements import AREAS_VERSION, AreasFile, ImprovementArea, extract_areas
from index.improvements.themes import themes
from index.generations import FORMAT, remove_stale_generations, write_generation
from index.store import (AREA_TEXTS, AREA_VECTORS, AREAS, COUNCILS, VECTORS, VISITS, IndexStore, StoredDocument,
                         faiss_id)
from index.vectors import VectorIndex

Progress = Callable[[str], None]
StoredIndex = dict[str, tuple[str, DocumentMeta]]  # source -> (file hash, metadata) of what the live index holds


class SkippedFile(BaseModel):
    """A corpus file that could not be read; `kept_older` when the version indexed before is still served."""

    source: str
    problem: str
    kept_older: bool = False


class IndexReport(BaseModel):
    """What a build did, for the command line and for /reindex; `errors` holds every problem as one full line."""

    documents: int
    passages: int
    added: list[str] = []
    changed: list[str] = []
    removed: list[str] = []
    unchanged: int = 0
    embedded: int = 0
    resumed: int = Field(0, description="vectors an interrupted build had computed, taken from its checkpoint")
    errors: list[str] = []
    skipped: list[SkippedFile] = []
    missing: list[str] = Field([], description="files manifest entries name that are not in the corpus")
    rebuilt: bool = False

    def problem_summary(self) -> str | None:
        """'2 skipped: a.pdf (empty file), b.txt (not valid UTF-8); 1 manifest problem': one line, or None."""
        parts = []
        dropped = [skip for skip in self.skipped if not skip.kept_older]
        older = [skip for skip in self.skipped if skip.kept_older]
        if dropped:
            parts.append(f"{len(dropped)} skipped: " + ", ".join(f"{s.source} ({_short(s.problem)})" for s in dropped))
        if older:
            parts.append(f"{len(older)} served from an older version, the new file cannot be read: "
                         + ", ".join(f"{s.source} ({_short(s.problem)})" for s in older))
        if self.missing:
            names = "entry names" if len(self.missing) == 1 else "entries name"
            parts.append(f"{len(self.missing)} manifest {names} a missing file: {', '.join(self.missing)}")
        other = len(self.errors) - len(self.skipped) - len(self.missing)
        if other > 0:
            parts.append(f"{other} manifest problem{'s' if other > 1 else ''} (see above)")
        return "; ".join(parts) or None


def _short(problem: str) -> str:
    """A DocumentError's problem without its library detail: 'empty file', 'PDF is encrypted with a password'."""
    return problem.split(" (")[0]


def corpus_files(corpus: Path) -> list[Path]:
    """Documents in the corpus folder: supported formats, no hidden files, recursively."""
    if not corpus.is_dir():
        raise DocumentError(corpus, "corpus folder not found", "create it or pass --corpus DIR")
    return sorted(
        path for path in corpus.rglob("*")
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(corpus).parts)
    )


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Indexer:
    """Builds generations of the index for one corpus folder with one model."""

    def __init__(self, embedder: TextEncoder, chunker: ChunkerConfig = ChunkerConfig(), max_file_bytes: int = 20_000_000,
                 glossary: Glossary | None = None, checkpoint_every: int = 256,
                 search: SearchConfig = SearchConfig()):
        """`glossary` and `search` must be the ones questions will be searched with: the abstention threshold is
        measured here (and `search` is recorded in the manifest, so searches use it).
        `checkpoint_every` passages are embedded and committed to the checkpoint at a time (a kill loses at most
        that many)."""
        self.embedder = embedder
        self.chunker = chunker
        self.max_file_bytes = max_file_bytes
        self.glossary = glossary
        self.checkpoint_every = checkpoint_every
        self.search = search

    def run(self, corpus: Path, index_dir: Path, rebuild: bool = False, progress: bool = False,
            say: Progress = lambda _: None) -> IndexReport:
        previous = None if rebuild else self._previous(index_dir, say)
        try:
            return self._run(corpus, index_dir, previous, progress, say)
        finally:
            if previous is not None:
                previous.close()

    def _run(self, corpus: Path, index_dir: Path, previous: IndexStore | None, progress: bool,
             say: Progress) -> IndexReport:
        manifest = load_manifest(corpus)
        report = IndexReport(documents=0, passages=0, errors=list(manifest.errors), rebuilt=previous is None)
        stored = previous.stored_documents() if previous else {}
        # passages are reused only when cut by the same rules: the chunker settings and the index format (which is
        # bumped when chunking code changes)
        reusable = (stored if previous is not None and previous.manifest.chunker == self.chunker
                    and previous.manifest.format == FORMAT else {})
        documents: list[StoredDocument] = []
        files = corpus_files(corpus)
        for path in _reading(files, progress, say):
            source = path.relative_to(corpus).as_posix()
            document = self._document(path, source, manifest, previous, stored, reusable, report)
            if document is not None:
                documents.append(document)
        _report_missing(manifest, {path.relative_to(corpus).as_posix() for path in files}, corpus, report)
        report.removed = sorted(set(stored) - {doc.meta.source for doc in documents})
        report.documents = len(documents)
        report.passages = sum(len(doc.chunks) for doc in documents)
        stale_before = {source for source, (_, meta) in stored.items() if meta.stale_since}
        stale_now = {doc.meta.source for doc in documents if doc.meta.stale_since}
        unchanged = not (report.added or report.changed or report.removed or stale_now != stale_before)
        if (reusable and unchanged and previous.manifest.format == FORMAT
                and previous.improvement_areas().version == AREAS_VERSION
                and previous.council_aliases() == manifest.council_aliases
                and previous.manifest.search == self.search.model_dump()):
            remove_stale_generations(index_dir)  # what builds killed part-way left behind
            return report  # the live generation already says exactly this
        checkpoint = Checkpoint(index_dir, self.embedder.name, self.embedder.backend, self.embedder.dim, say)
        try:
            vectors = self._vectors(documents, previous, checkpoint, report, progress, say)
            dense = self._dense(documents, vectors, previous)
            events = extract_events((doc.meta, doc.chunks) for doc in documents)
            areas, problems = extract_areas((doc.meta, doc.text, doc.chunks) for doc in documents)
            area_texts, area_vectors = self._area_vectors(areas, previous, progress, say)
            write_generation(index_dir, documents, vectors, dense, self.embedder.name, self.chunker,
                             calibrate=lambda staged: calibrate(Searcher(staged, self.embedder, self.search,
                                                                         self.glossary)),
                             extra_files={VISITS: _events_json(events), AREAS: AreasFile(areas=areas, problems=problems).model_dump_json(),
                                          COUNCILS: json.dumps(manifest.council_aliases),
                                          AREA_TEXTS: json.dumps(area_texts, ensure_ascii=False),
                                          AREA_VECTORS: area_vectors},
                             embedder=self.embedder.backend, search=self.search.model_dump())
            checkpoint.forget(list(vectors))  # the live generation holds them now
        finally:
            checkpoint.close()
        return report

    def _previous(self, index_dir: Path, say: Progress) -> IndexStore | None:
        """The live index if it can be updated in place; otherwise None, meaning a full rebuild."""
        try:
            store = IndexStore.open(index_dir)
        except IndexUnavailable as error:
            if (index_dir / "CURRENT").exists():
                say(f"rebuilding from scratch: {error}")
            return None
        built = store.manifest
        if built.model != self.embedder.name or built.dim != self.embedder.dim:
            say("rebuilding from scratch: the model changed since the last build")
            store.close()
            return None
        if built.chunker != self.chunker:
            say("re-cutting every document: the chunking rules changed (unchanged passages keep their vectors)")
        return store

    def _document(self, path: Path, source: str, manifest: Manifest, previous: IndexStore | None,
                  stored: StoredIndex, reusable: StoredIndex, report: IndexReport) -> StoredDocument | None:
        """The document's passages: reused when neither its bytes, its metadata nor the chunking rules changed."""
        file_hash = _file_hash(path)
        if previous is not None and source in reusable and reusable[source][0] == file_hash:
            kept = previous.load_document(source)
            if manifest.meta_for(source, _as_parsed(source, kept.text)) == kept.meta:
                report.unchanged += 1
                return kept
        try:
            parsed = parse_file(path, source, max_bytes=self.max_file_bytes)
        except DocumentError as error:
            kept = previous is not None and source in stored
            report.skipped.append(SkippedFile(source=source, problem=error.problem, kept_older=kept))
            if kept:
                report.errors.append(f"{error} (kept the version indexed before)")
                return _marked_stale(previous.load_document(source), error.problem)
            report.errors.append(str(error))
            return None
        meta = manifest.meta_for(source, parsed)
        chunks = chunk_document(parsed, meta.doc_id, meta.title, self.embedder.count_tokens, self.chunker)
        (report.changed if source in stored else report.added).append(source)
        return StoredDocument(meta=meta, file_hash=file_hash, text=parsed.text, chunks=chunks)

    def _vectors(self, documents: list[StoredDocument], previous: IndexStore | None, checkpoint: Checkpoint,
                 report: IndexReport, progress: bool, say: Progress) -> dict[str, np.ndarray]:
        """Vectors for every passage: those the live index holds, then those an interrupted build left in the
        checkpoint; the rest are embedded a slice at a time, each slice committed to the checkpoint."""
        wanted = {chunk.chunk_id: (doc.meta.title, chunk) for doc in documents for chunk in doc.chunks}
        vectors = previous.vectors_for(list(wanted)) if previous else {}
        resumed = checkpoint.load(chunk_id for chunk_id in wanted if chunk_id not in vectors)
        if resumed:
            say(f"resuming: {len(resumed)} passages were embedded by an interrupted build")
        vectors.update(resumed)
        missing = [chunk_id for chunk_id in wanted if chunk_id not in vectors]
        if missing:
            say(f"embedding {len(missing)} passages")
            texts = {c: embed_prefix(wanted[c][0], wanted[c][1].heading) + wanted[c][1].text for c in missing}
            self._embed(texts, vectors, checkpoint, progress, say)
        report.embedded, report.resumed = len(missing), len(resumed)
        return vectors

    def _embed(self, texts: dict[str, str], vectors: dict[str, np.ndarray], checkpoint: Checkpoint, progress: bool,
               say: Progress) -> None:
        """Longest first, so each slice holds texts of like length (as the models batch them); one bar for all."""
        order = sorted(texts, key=lambda chunk_id: -len(texts[chunk_id]))
        with tqdm(total=len(order), desc="Embedding", unit="passage", disable=not progress) as bar:
            for start in range(0, len(order), self.checkpoint_every):
                ids = order[start : start + self.checkpoint_every]
                block = self.embedder.encode([texts[chunk_id] for chunk_id in ids])
                checkpoint.save(ids, block)
                vectors.update(zip(ids, block))
                bar.update(len(ids))
                done = start + len(ids)
                if not progress and done // _SAY_EVERY_PASSAGES > start // _SAY_EVERY_PASSAGES and done < len(order):
                    say(f"embedded {done} of {len(order)} passages")

    def _area_vectors(self, areas: list[ImprovementArea], previous: IndexStore | None, progress: bool,
                      say: Progress) -> tuple[list[str], np.ndarray]:
        """The vectors of the areas' texts and of the themes they list, reusing the previous generation's for texts
        it had: the tracker searches with them, and encoding them when `progress` is asked took most of its time."""
        texts = list(dict.fromkeys(text for area in areas for text in (area.text, *themes(area.text))))
        known = previous.area_vectors() if previous is not None else {}
        missing = [text for text in texts if text not in known]
        if missing:
            say(f"embedding {len(missing)} areas for improvement and the themes they list")
            known = {**known, **dict(zip(missing, self.embedder.encode(missing, progress=progress)))}
        matrix = np.stack([known[text] for text in texts]) if texts else np.zeros((0, self.embedder.dim), np.float32)
        return texts, matrix.astype(np.float32)

    def _dense(self, documents: list[StoredDocument], vectors: dict[str, np.ndarray],
               previous: IndexStore | None) -> VectorIndex:
        """Update the previous FAISS index by ids (remove gone passages, add new ones) or build afresh.

        A fresh index is of the kind the corpus size calls for (`choose_kind`: exact below a threshold,
        IVF-SQ4 above). When the corpus has grown or shrunk past what the previous index suits, it is
        rebuilt from the stored vectors (never re-embedded); the kind lands in the manifest.
        """
        wanted = {faiss_id(chunk.chunk_id): chunk.chunk_id for doc in documents for chunk in doc.chunks}
        if previous is not None:
            dense = VectorIndex.load(previous.folder / VECTORS, previous.manifest.vector_kind)  # a private copy
            if dense.suits(len(wanted)):
                existing = set(previous.position_ids.tolist())
                dense.remove(np.array(sorted(existing - set(wanted)), dtype=np.int64))
                new_ids = [i for i in wanted if i not in existing]
                if new_ids:
                    dense.add(np.array(new_ids, dtype=np.int64), np.stack([vectors[wanted[i]] for i in new_ids]))
                return dense
        ids = np.fromiter(wanted, dtype=np.int64, count=len(wanted))
        matrix = (np.stack([vectors[chunk_id] for chunk_id in wanted.values()]) if wanted
                  else np.zeros((0, self.embedder.dim), dtype=np.float32))
        return VectorIndex.build(ids, matrix, dim=self.embedder.dim)


_SAY_EVERY_FILES = 50  # a line for /reindex while a big corpus is read (the 493 reports: about ten)
_SAY_EVERY_PASSAGES = 5000


def _reading(files: list[Path], progress: bool, say: Progress) -> Iterator[Path]:
    """The files in turn, with a bar, or without one a line every so many files (for /reindex): reading a big
    corpus takes minutes."""
    for number, path in enumerate(tqdm(files, desc="Reading", unit="file", disable=not progress), start=1):
        yield path
        if not progress and (number % _SAY_EVERY_FILES == 0 or number == len(files)):
            say(f"read {number} of {len(files)} files")


def _marked_stale(document: StoredDocument, problem: str) -> StoredDocument:
    """The older version, recorded as served in place of a newer file that cannot be read (since when, and why)."""
    since = document.meta.stale_since or dt.date.today()
    meta = document.meta.model_copy(update={"stale_since": since, "stale_reason": problem})
    return document.model_copy(update={"meta": meta})


def _report_missing(manifest: Manifest, present: set[str], corpus: Path, report: IndexReport) -> None:
    """A manifest entry naming no file is a typo or a deleted paper: staff should hear of it."""
    for name in sorted(set(manifest.entries) - present):
        report.missing.append(name)
        report.errors.append(f"manifest entry for '{name}': no such file in {corpus}; fix its 'file' or remove it")


def _as_parsed(source: str, text: str) -> ParsedDocument:
    """A stored text in the shape metadata inference reads, so an unchanged file need not be parsed again."""
    return ParsedDocument(source=source, lines=[Line(text=line) for line in text.split("\n")])


def _events_json(events: list[VisitEvent]) -> str:
    return json.dumps([event.model_dump(mode="json") for event in events], ensure_ascii=False, indent=1)
