"""Markdown: the text verbatim, with ATX headings flagged so the chunker can use them."""

from __future__ import annotations

import re
from pathlib import Path

from index.models import Line
from index.parsing.common import decode, stripped_lines

FORMAT = "Markdown"
NO_TEXT = "no text: the file holds only whitespace"

_MD_HEADING = re.compile(r" {0,3}#{1,6}(?:\s|$)")
_MD_FENCE = re.compile(r" {0,3}(?:```|~~~)")


def parse(path: Path, data: bytes) -> list[Line]:
    """Flag ATX headings (`# Title`), but not `#` lines inside fenced code or `#hashtags`; text stays verbatim."""
    lines = []
    in_fence = False
    for text in stripped_lines(decode(path, data)):
        in_fence ^= bool(_MD_FENCE.match(text))
        lines.append(Line(text=text, heading=not in_fence and bool(_MD_HEADING.match(text))))
    return lines
