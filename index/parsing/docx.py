"""DOCX: body paragraphs and table rows in document order, headings and list items marked as Word marks them."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.document import Document as WordDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from index.errors import DocumentError
from index.models import Line
from index.parsing.common import collapse, join_blocks

FORMAT = "DOCX"
NO_TEXT = "no text in the document body"

# python-docx holds every part in memory: a 20 MB text-only DOCX expands to ~200 MB of XML, a zip bomb to far more.
_DOCX_EXPANDED_LIMIT = 300_000_000
_WORD_HEADING_STYLE = re.compile(r"Heading \d+|Title")


def parse(path: Path, data: bytes) -> list[Line]:
    """Body paragraphs and tables in document order; headers, footers and comments are not the document."""
    _check_docx_expansion(path, data)
    return join_blocks(_docx_blocks(docx.Document(io.BytesIO(data))))


def _docx_blocks(document: WordDocument) -> Iterator[list[Line]]:
    """Each paragraph is a block, and so is each table row, as in HTML."""
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            yield _paragraph_lines(block)
        else:
            yield from ([line] for line in _row_lines(block))


def _check_docx_expansion(path: Path, data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        expanded = sum(info.file_size for info in archive.infolist())
    if expanded > _DOCX_EXPANDED_LIMIT:
        problem = f"DOCX expands to {expanded:,} bytes, over the {_DOCX_EXPANDED_LIMIT:,}-byte limit"
        raise DocumentError(path, problem)


def _paragraph_lines(paragraph: Paragraph) -> list[Line]:
    """A paragraph's lines (split at manual line breaks); list paragraphs get a '•' on their first line."""
    style = (paragraph.style.name if paragraph.style is not None else None) or ""
    heading = bool(_WORD_HEADING_STYLE.fullmatch(style))
    texts = [text for text in map(collapse, paragraph.text.split("\n")) if text]
    if texts and not heading and _is_list_paragraph(paragraph, style):
        texts[0] = "• " + texts[0]
    return [Line(text=text, heading=heading) for text in texts]


def _is_list_paragraph(paragraph: Paragraph, style: str) -> bool:
    """A 'List …' style, or direct numbering properties (how Word marks bullets typed into a Normal paragraph)."""
    properties = paragraph._p.pPr
    return style.startswith("List") or (properties is not None and properties.numPr is not None)


def _row_lines(table: Table) -> list[Line]:
    """One line per row, cells joined by ' | '; a merged cell repeats in python-docx, so it is taken once."""
    lines = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is not previous:
                cells.append(collapse(cell.text))
            previous = cell._tc
        text = " | ".join(cell for cell in cells if cell)
        if text:
            lines.append(Line(text=text))
    return lines
