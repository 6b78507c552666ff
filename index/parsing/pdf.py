"""PDF: the pages' text in order, without running headers, footers and page numbers, and with paragraphs that
run across a page break joined up again."""

from __future__ import annotations

import functools
import io
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from collections import Counter
from pathlib import Path

import pypdf

from index.errors import DocumentError
from index.models import Line
from index.parsing.common import collapse

log = logging.getLogger(__name__)

FORMAT = "PDF"
NO_TEXT = "no extractable text: the PDF may be scanned images, which need OCR first"

_EDGE_LINES = 3  # how many non-blank lines at each end of a page may be a running header, footer or page number
_PAGE_NUMBER = re.compile(r"\s*(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?\s*(?:(?:of|/)\s*\d{1,4}\s*)?", re.I)
_PRIVATE_USE_BULLET = re.compile(r"^(\s*)[\uf000-\uf8ff]")
_SENTENCE_END = re.compile(r"[.?!:;][\"'’”)\]]*$")


def parse(path: Path, data: bytes) -> list[Line]:
    """The page lines; what pypdf logs while reading (repairs, 'EOF marker not found') goes to the debug log, not
    the terminal: a file it cannot read gets parse_file's one-line error, and one it repaired needs no words."""
    with _pypdf_notes() as notes:
        try:
            return _parse(path, data)
        finally:
            for note in notes:
                log.debug("%s: pypdf: %s", path, note)


def _parse(path: Path, data: bytes) -> list[Line]:
    """Empty password first: many council PDFs are 'encrypted' only to stop editing, and open without one."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        hint = "save a copy without the password, then index again"
        raise DocumentError(path, "PDF is encrypted with a password", hint=hint)
    pages = [_page_lines(page.extract_text()) for page in reader.pages]
    return [Line(text=text) for text in _join_pages(_without_furniture(pages))]


class _NoteCatcher(logging.Handler):
    """Keeps pypdf's messages for the PDF this thread is parsing; others go on to the root logger as before."""

    def emit(self, record: logging.LogRecord) -> None:
        notes = getattr(_parsing, "notes", None)
        if notes is None:
            logging.getLogger().handle(record)
        else:
            notes.append(record.getMessage())


_parsing = threading.local()


@functools.cache
def _catch_pypdf_logs() -> None:
    """Once per process: with no logging set up, Python would print pypdf's warnings bare on standard error."""
    logger = logging.getLogger("pypdf")
    logger.addHandler(_NoteCatcher())
    logger.propagate = False


@contextmanager
def _pypdf_notes() -> Iterator[list[str]]:
    _catch_pypdf_logs()
    _parsing.notes = notes = []
    try:
        yield notes
    finally:
        _parsing.notes = None


def _page_lines(text: str) -> list[str]:
    """A page's lines with trailing spaces gone and symbol-font bullet glyphs turned into '•'."""
    return [_PRIVATE_USE_BULLET.sub(r"\1•", line.rstrip()) for line in text.splitlines()]


def _edge_indices(lines: list[str]) -> set[int]:
    filled = [i for i, line in enumerate(lines) if line]
    return set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:])


def _furniture_key(line: str) -> str:
    """Compare lines with numbers blanked, so 'Report, 5 to 16 May 2022 3' matches the same header on page 4."""
    return re.sub(r"\d+", "#", collapse(line)).casefold()


def _running_keys(pages: list[list[str]]) -> set[str]:
    """Lines at the top or bottom of at least half the pages of a 3+ page document are headers or footers."""
    if len(pages) < 3:
        return set()
    counts = Counter(key for page in pages for key in {_furniture_key(page[i]) for i in _edge_indices(page)})
    return {key for key, count in counts.items() if 2 * count >= len(pages)}


def _without_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Drop page numbers and running headers/footers, but only near page edges, where they are printed."""
    running = _running_keys(pages)

    def is_furniture(line: str) -> bool:
        return bool(_PAGE_NUMBER.fullmatch(line)) or _furniture_key(line) in running

    kept = []
    for page in pages:
        edges = _edge_indices(page)
        lines = [line for i, line in enumerate(page) if i not in edges or not is_furniture(line)]
        if edges and is_furniture(page[max(edges)]):
            _drop_trailing_blanks(lines)  # blanks above a footer are layout, not the end of a paragraph
        kept.append(lines)
    return kept


def _drop_trailing_blanks(lines: list[str]) -> None:
    while lines and not lines[-1]:
        lines.pop()


def _join_pages(pages: list[list[str]]) -> list[str]:
    """Concatenate pages, keeping single blank lines as paragraph ends.

    A page break is not a paragraph break: blank lines at the top of a page go, so a paragraph split across pages
    joins up again. pypdf shows no blank where a paragraph ends exactly at a page end, so one is added when the
    page's last line looks like a paragraph's last line: ending a sentence well short of the usual line width.
    """
    width = _usual_width(pages)
    lines: list[str] = []
    for page in pages:
        start = next((i for i, line in enumerate(page) if line), len(page))
        if start < len(page) and lines and _ends_paragraph(lines[-1], width):
            lines.append("")
        for line in page[start:]:
            if line or (lines and lines[-1]):
                lines.append(line)
    _drop_trailing_blanks(lines)
    return lines


def _usual_width(pages: list[list[str]]) -> int:
    """The length of a full line of body text: the 90th percentile of line lengths."""
    lengths = sorted(len(line) for page in pages for line in page if line)
    return lengths[len(lengths) * 9 // 10] if lengths else 0


def _ends_paragraph(line: str, width: int) -> bool:
    return len(line) < 0.8 * width and bool(_SENTENCE_END.search(line))
