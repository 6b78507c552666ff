"""A meeting's inline minutes (`minutesnonemptyhtmlbody` per agenda item) made into one HTML document.

The items keep the meeting's order and numbering, each under its own heading, so passages are cut and cited
along the minutes' own numbers. The council's HTML is kept, minus what the corpus parser would take for page
chrome (`main`, `nav`, `header` ... and id/class/role attributes), so no minute can hide another.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from selectolax.lexbor import LexborHTMLParser

from index.sync.models import AgendaItem, Meeting

_UNWRAPPED = ["main", "article", "section", "header", "footer", "nav", "aside", "form", "html", "body"]
_STRIPPED_ATTRIBUTES = ("id", "class", "role")


def minutes_title(committee: str, date: dt.date | None) -> str:
    if date is None:
        return f"{committee}: minutes"
    return f"{committee}: minutes of the meeting on {date.day} {date:%B %Y}"


def minuted_items(meeting: Meeting) -> list[AgendaItem]:
    """Items with published, public minute text, in the meeting's order; none unless minutes are published."""
    if not meeting.minutes_published:
        return []
    return [item for item in meeting.items if not item.restricted and _has_text(item.minutes_html)]


def minutes_html(meeting: Meeting, items: list[AgendaItem]) -> bytes:
    """The minutes document: a title heading, then each item as 'number. title' and its minute text."""
    title = minutes_title(meeting.committee_title, meeting.date)
    parts = [f"<h1>{escape(title)}</h1>"]
    for item in items:
        number = (item.number or "").strip().rstrip(".")
        heading = f"{number}. {item.title}" if number else item.title
        parts.append(f"<h2>{escape(heading)}</h2>\n{_clean(item.minutes_html or '')}")
    body = "\n".join(parts)
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>\n'
            f"<body>\n{body}\n</body></html>\n")
    return page.encode("utf-8")


def _clean(fragment: str) -> str:
    tree = LexborHTMLParser(fragment)
    tree.unwrap_tags(_UNWRAPPED)
    if tree.body is None:
        return escape(fragment)
    for node in tree.body.traverse():
        for name in _STRIPPED_ATTRIBUTES:
            if name in node.attrs:
                del node.attrs[name]
    return tree.body.inner_html


def _has_text(fragment: str | None) -> bool:
    if not fragment:
        return False
    tree = LexborHTMLParser(fragment)
    return bool(tree.body and tree.body.text(strip=True))
