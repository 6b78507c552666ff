"""The themes an area for improvement lists, each a verbatim piece of it: a later passage on one theme ('..., including
disabled children, ...') rarely matches the wording of the whole list, so the tracker also looks for each theme.
"""

from __future__ import annotations

import re

from index.lexical import analyse

_THEME_WORDS = 2  # a listed theme is scored alone when it has this many words that are not stop words
_LEAD = re.compile(r",?\s*\b(?:including|particularly|in particular|such as|especially)\b,?\s*", re.IGNORECASE)
_LIST_CUT = re.compile(r"\s*;\s*|,\s*(?:and\s+|or\s+)?")
_LAST_AND = re.compile(r"\s+(?:and|or)\s+(?!.*\s(?:and|or)\s)")
_CLAUSE_CUT = re.compile(r"\s*;\s*|,\s+and\s+")


def themes(text: str) -> list[str]:
    """The themes an area lists, each a verbatim piece of it, or none for an area that lists nothing.

    After a lead phrase ('The response to children with specific vulnerabilities, including disabled children,
    children in private fostering arrangements, and homeless 16-year-olds'), the list is cut at commas and
    semicolons, and its last item from the one before at its last 'and' ('neglect and wider exploitation');
    without one, an area is cut only where it joins asks with a semicolon or ', and' ('The strategic relationship
    with health services, and operational delivery across a range of health functions'). Pieces of fewer than
    _THEME_WORDS words that are not stop words are left out, and a single piece is no list."""
    lead = _LEAD.search(text)
    if lead is None:
        items = _CLAUSE_CUT.split(text.rstrip(" ."))
    else:
        items = [item for item in _LIST_CUT.split(text[lead.end():].rstrip(" .")) if item]
        items[-1:] = _LAST_AND.split(items[-1], maxsplit=1) if items else []
    kept = [item.strip() for item in items if len(analyse(item)) >= _THEME_WORDS]
    return kept if len(kept) > 1 else []
