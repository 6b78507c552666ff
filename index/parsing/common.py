"""What every format's parser shares: decoding text files, tidying whitespace, joining blocks, and describing a
library's error on one line."""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from pathlib import Path

from index.errors import DocumentError
from index.models import Line

_BOMS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


def describe(exc: BaseException) -> str:
    """A library's error squeezed onto one short line, so DocumentError messages stay single-line."""
    detail = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def collapse(text: str) -> str:
    """Runs of any whitespace (including no-break spaces and newlines) become one space."""
    return " ".join(text.split())


def decode(path: Path, data: bytes) -> str:
    """UTF-8 (BOM optional), BOM-marked UTF-16, or Windows-1252 (what council PCs save "ANSI" text as).

    Windows-1252 is taken only for bytes that are not UTF-8 and hold no valid UTF-8 sequence at all: a UTF-8 file
    with one stray byte is refused rather than read as mojibake ("Childrenâ€™s"), which would misquote it.
    """
    marked = ((len(bom), encoding, label) for bom, encoding, label in _BOMS if data.startswith(bom))
    skip, encoding, label = next(marked, (0, "utf-8", "UTF-8"))
    nul = data.find(b"\x00") if encoding == "utf-8" else -1
    if nul >= 0:
        raise DocumentError(path, f"binary content, not text: NUL byte at offset {nul}")
    try:
        text = data[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        text = _windows_1252(data) if encoding == "utf-8" and not skip else None
        if text is None:
            offset = skip + exc.start
            either = " or Windows-1252" if encoding == "utf-8" and not _has_utf8_sequence(data) else ""
            problem = f"not valid {label}{either}: byte 0x{data[offset]:02X} at offset {offset}"
            raise DocumentError(path, problem, hint="re-save it as UTF-8, then index again") from exc
    if "\x00" in text:
        raise DocumentError(path, f"binary content, not text: NUL character in {label} text")
    return text


def _has_utf8_sequence(data: bytes) -> bool:
    """True when some non-ASCII bytes decode as UTF-8: then the file is UTF-8, damaged, not Windows-1252."""
    return any(char not in "\ufffd" and ord(char) > 127 for char in data.decode("utf-8", errors="replace"))


def _windows_1252(data: bytes) -> str | None:
    """The text if the bytes are Windows-1252 (every byte defined, no control characters, no UTF-8 in it)."""
    if _has_utf8_sequence(data):
        return None
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90 and 0x9D are undefined: not Windows-1252
        return None
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r\f\v")
    return None if controls else text


def stripped_lines(text: str) -> list[str]:
    """Lines without trailing whitespace and nothing else changed, so the text round-trips."""
    return [line.rstrip() for line in text.splitlines()]


def join_blocks(blocks: Iterable[list[Line]]) -> list[Line]:
    """One empty line between non-empty blocks, which is how the chunker sees paragraph ends."""
    lines: list[Line] = []
    for block in blocks:
        if not block:
            continue
        if lines:
            lines.append(Line(text=""))
        lines.extend(block)
    return lines
