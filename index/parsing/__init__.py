"""Turn corpus files (.txt, .md, .html, .pdf, .docx) into clean lines, or say in one line why a file cannot be read.

Citations quote documents verbatim, so every parser keeps the author's words and order and only removes what is
not the document: navigation around a web page, running headers and page numbers on PDF pages.

One module per format (`txt`, `md`, `html`, `pdf`, `docx`), each with `parse(path, data) -> list[Line]`, the
`FORMAT` name its errors use and the `NO_TEXT` reason given when it finds no text; `parse_file` picks the module by
suffix, reads the bytes safely and turns every failure into a one-line DocumentError. A new format is a module
and one entry in `_FORMATS`.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from index.errors import DocumentError
from index.models import ParsedDocument
from index.parsing import docx, html, md, pdf, txt
from index.parsing.common import describe

_FORMATS: dict[str, ModuleType] = {".txt": txt, ".md": md, ".html": html, ".htm": html, ".pdf": pdf, ".docx": docx}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_FORMATS)


def parse_file(path: Path, source: str, max_bytes: int = 20_000_000) -> ParsedDocument:
    """Parse one corpus file; every failure, including any library's, becomes a DocumentError naming the file."""
    suffix = path.suffix.lower()
    file_format = _FORMATS.get(suffix)
    if file_format is None:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        problem = f"unsupported file type {suffix or '(no suffix)'!r}"
        raise DocumentError(path, problem, hint=f"convert it to one of {supported} or remove it")
    data = _read_bytes(path, max_bytes)
    try:
        lines = file_format.parse(path, data)
    except DocumentError:
        raise
    except Exception as exc:  # on hostile input pypdf, python-docx, zipfile, lxml raise anything, even RecursionError
        problem = f"cannot read this {file_format.FORMAT} file, it looks truncated or corrupt ({describe(exc)})"
        raise DocumentError(path, problem) from exc
    if not any(line.text.strip() for line in lines):
        raise DocumentError(path, file_format.NO_TEXT)
    return ParsedDocument(source=source, lines=lines)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """Check the size before reading, so a huge file costs nothing and a FIFO or device is never opened."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            problem = f"file is {size:,} bytes, over the {max_bytes:,}-byte limit"
            raise DocumentError(path, problem, hint="split it or raise the limit, then index again")
        if size == 0:
            raise DocumentError(path, "empty file (0 bytes)")
        with path.open("rb") as handle:
            return handle.read(max_bytes)
    except OSError as exc:
        raise DocumentError(path, f"cannot read the file ({describe(exc)})") from exc
