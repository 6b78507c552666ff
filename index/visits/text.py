"""Clauses of a sentence as offsets: tense, negation and dates are read clause by clause."""

from __future__ import annotations

import re

_CLAUSE_BREAK = re.compile(
    r";|:\s"
    r"|,\s+(?=(?:and|but|however|instead|although|whilst|while|so|they|we|it|he|she|there|this|these|those)\b)"
    r"|\s(?=(?:however|although|whilst|so)\s)",
    re.IGNORECASE,
)


def clauses(sentence: str) -> list[tuple[int, int]]:
    """(begin, end) of each clause: tense, negation and dates are read clause by clause."""
    cuts = [0] + [m.end() for m in _CLAUSE_BREAK.finditer(sentence)] + [len(sentence)]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
