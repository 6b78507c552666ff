"""Land fetched papers in the corpus folder: recognise the format, check the indexer can read the file,
recognise bytes already held (by SHA-256), and only then rename the file into place.

A paper is written to `.sync/incoming/` first and checked with the indexer's own parser there, so a truncated
or unreadable download never replaces a good file and never reaches the corpus; it is reported and, being
absent from the sync state, tried again next time.
"""

from __future__ import annotations

import os
import re
import uuid
import zipfile
from pathlib import Path

from index.errors import DocumentError
from index.hashing import sha256_file
from index.indexer import corpus_files
from index.parsing import SUPPORTED_SUFFIXES, parse_file
from index.sync.state import STATE_DIR, HeldPaper
from index.sync.models import Paper

INCOMING_DIR = "incoming"
_CONTENT_TYPES = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
}


class LandingError(Exception):
    """A downloaded paper that cannot go into the corpus; the message is the reason."""


def incoming_dir(corpus: Path) -> Path:
    folder = corpus / STATE_DIR / INCOMING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def incoming_file(corpus: Path) -> Path:
    return incoming_dir(corpus) / uuid.uuid4().hex


def clear_incoming(corpus: Path) -> None:
    """What a killed sync left half-downloaded."""
    folder = corpus / STATE_DIR / INCOMING_DIR
    if folder.is_dir():
        for leftover in folder.iterdir():
            leftover.unlink(missing_ok=True)


def file_suffix(path: Path, content_type: str, url: str) -> str:
    """The format, from the bytes first, then what the server said, then the address."""
    with path.open("rb") as handle:
        head = handle.read(512)
    if head.startswith(b"%PDF"):
        return ".pdf"
    if head.startswith(b"PK\x03\x04") and _is_docx(path):
        return ".docx"
    declared = _CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
    if declared:
        return declared
    named = Path(url.split("?", 1)[0]).suffix.lower()
    if named in SUPPORTED_SUFFIXES:
        return named
    raise LandingError(f"not a format the bot reads (served as {content_type or 'no content type'!r}); "
                       f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False  # damaged: what the server said or the address decides, then the parser says what is wrong


def checked(path: Path, suffix: str, source: str, max_bytes: int) -> Path:
    """Give the download its suffix and parse it as the indexer will; unreadable files are refused here."""
    named = path.with_suffix(suffix)
    os.replace(path, named)
    try:
        parse_file(named, source, max_bytes=max_bytes)
    except DocumentError as error:
        named.unlink(missing_ok=True)
        raise LandingError(error.problem) from None
    return named


def write_incoming(corpus: Path, data: bytes) -> Path:
    path = incoming_file(corpus)
    path.write_bytes(data)
    return path


class Holdings:
    """Which bytes the corpus already holds, by hash, so the same paper under another address is not stored twice.

    The corpus is hashed only when the first new paper arrives, so a sync with nothing new reads no files.
    """

    def __init__(self, corpus: Path, held: dict[str, HeldPaper]):
        self.corpus = corpus
        self.held = held
        self._by_hash: dict[str, str] | None = None

    def source_with(self, sha256: str) -> str | None:
        if self._by_hash is None:
            self._by_hash = {paper.sha256: paper.source for paper in self.held.values()
                             if (self.corpus / paper.source).is_file()}
            for path in corpus_files(self.corpus):
                self._by_hash.setdefault(sha256_file(path), path.relative_to(self.corpus).as_posix())
        return self._by_hash.get(sha256)

    def add(self, sha256: str, source: str) -> None:
        if self._by_hash is not None:
            self._by_hash[sha256] = source


def target_source(paper: Paper, suffix: str) -> str:
    return f"{paper.folder}/{paper.stem}{suffix}"


def predicted_source(paper: Paper) -> str:
    """Where a paper would land, for --dry-run: the suffix is known only when its address names one."""
    named = ".html" if paper.content is not None else Path(paper.url.split("?", 1)[0]).suffix.lower()
    return target_source(paper, named if named in SUPPORTED_SUFFIXES else "")


def move_into_corpus(corpus: Path, checked_file: Path, source: str, replaces: str | None) -> None:
    """Rename into place (atomic on one file system); a replaced version with another suffix is removed."""
    target = corpus / source
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(checked_file, target)
    if replaces and replaces != source:
        (corpus / replaces).unlink(missing_ok=True)


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, limit: int = 50) -> str:
    return _SLUG.sub("-", text.casefold()).strip("-")[:limit].strip("-") or "paper"
