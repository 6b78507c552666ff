"""Sentences of a passage as offsets, so every quote and every split is a verbatim slice of the text."""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "cllr", "no", "e.g", "i.e", "etc", "vs", "approx"})
_GAP = re.compile(r"\s+")
_WRAP_WIDTH = 60  # a shorter line ending without punctuation is a heading or a table cell, not a wrapped sentence
_LIST_MARKER = re.compile(r"(?:[-•·*]\s+)?(?:\(?(?:[a-z]|[ivx]+|\d+)\)|\d+(?:\.\d+)+|\d+\.)?\s*")


def _ends_sentence(text: str, gap: re.Match[str]) -> bool:
    """A blank line always ends a sentence. A line break does unless it wraps a long line mid-sentence
    (PDF text); a full stop does unless an abbreviation ends with it. Lower case after either runs on.
    """
    following = text[gap.end() : gap.end() + 1]
    if not following or gap.group().count("\n") > 1:
        return bool(following)
    if following.islower():
        return False
    before = text[: gap.start()].rstrip("’”\"')]")
    if "\n" in gap.group():
        line = before.rsplit("\n", 1)[-1]
        return len(line) < _WRAP_WIDTH or before.endswith((".", "!", "?", ":", ";")) or not following.isalnum()
    if not before.endswith((".", "!", "?")):
        return False
    last_word = before[:-1].rsplit(None, 1)[-1].casefold() if before[:-1].strip() else ""
    return last_word not in _ABBREVIATIONS


def sentences(text: str) -> list[tuple[int, int]]:
    """(begin, end) of each sentence, without surrounding space or a leading list marker like '(a)' or '1.3'."""
    cuts = [0] + [gap.start() for gap in _GAP.finditer(text) if _ends_sentence(text, gap)] + [len(text)]
    out: list[tuple[int, int]] = []
    for begin, end in zip(cuts, cuts[1:]):
        piece = text[begin:end]
        lead = len(piece) - len(piece.lstrip())
        begin += lead + _LIST_MARKER.match(text, begin + lead).end() - (begin + lead)  # type: ignore[union-attr]
        end = begin + len(text[begin:end].rstrip())
        if end > begin:
            out.append((begin, end))
    return out
