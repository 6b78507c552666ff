"""Plain text: UTF-8 (or BOM-marked UTF-16) lines, kept verbatim but for trailing spaces."""

from __future__ import annotations

from pathlib import Path

from index.models import Line
from index.parsing.common import decode, stripped_lines

FORMAT = "text"
NO_TEXT = "no text: the file holds only whitespace"


def parse(path: Path, data: bytes) -> list[Line]:
    return [Line(text=line) for line in stripped_lines(decode(path, data))]
