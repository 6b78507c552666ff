"""Metadata read from a document's own words and its folder, for files no manifest entry describes.

Only what the text states is taken: a date with the precision it is written with ("12 March 2025" is a day,
"March 2025" a month), a council it names ("Nottingham City Council", "Bury Council", a letterhead, a
folder called "bury-council"), the committee its header names, and the kind of paper its own markers show
(a "Minutes" heading, "RESOLVED", a "Dear ..." line). Nothing is guessed from what the text leaves out.
Inference reads plain lines only (never the parser's heading flags), so the stored text gives the same answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import PurePosixPath

from index.models import DatePrecision, DocType, DocumentMeta, Line, council_matches

_HEAD_LINES = 80  # fields, titles and letterheads sit at the top of a paper
_LONGEST_LINE = 300  # longer lines are body text, and bounding them keeps every pattern cheap on hostile input
_LETTERHEAD_LINES = 15

_MONTHS = {name: number for number, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
    ("july", "jul"), ("august", "aug"), ("september", "sept", "sep"), ("october", "oct"),
    ("november", "nov"), ("december", "dec")), start=1) for name in names}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})\s*(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_DATE_FORMS: tuple[tuple[re.Pattern[str], DatePrecision], ...] = (
    (re.compile(rf"\b{_WEEKDAY}{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.I), "day"),
    (re.compile(rf"\b{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I), "day"),
    (re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<month>\d{2})-(?P<day>\d{2})\b"), "day"),
    (re.compile(r"\b(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>(?:19|20)\d{2})\b"), "day"),
    (re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b", re.I), "month"),
)
_YEAR_ONLY = re.compile(rf"^\s*{_YEAR}\s*$")

_MARKUP = r"[*_#>\s]*"
_DATE_FIELD = re.compile(
    rf"^{_MARKUP}(?:meeting date|date of (?:the )?meeting|date of publication|publication date|date published|"
    rf"date of issue|date|published(?: on)?|issued(?: on)?)(?:[*_]*\s*[:\t]|\s+(?=\d|[a-z]+\s+\d))[*_\s]*(?P<value>.+)$",
    re.I,
)
_PUBLISHED_PHRASE = re.compile(r"\b(?:published|issued)(?: on)?\s*:?\s+(?P<value>.{6,40})", re.I)
_BODY_FIELD = re.compile(rf"^{_MARKUP}(?:meeting title|meeting|committee|body)[*_]*\s*[:\t][*_\s]*(?P<value>.+)$", re.I)
_TITLE_FIELD = re.compile(rf"^{_MARKUP}(?:report title|title|subject)[*_]*\s*[:\t][*_\s]*(?P<value>.+)$", re.I)
_BODY_LINE = re.compile(
    r"^[A-Z][A-Za-z,'’&() -]{2,90}\b(?:Committee|Sub-Committee|Board|Cabinet|Panel|Partnership|Forum)$"
)
_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.+?)\s*#*\s*$")
_REPORT_LINE = re.compile(r"(?:report\b|.*\breport (?:of|to|from|by|author)\b)", re.I)
_EMPHASIS = re.compile(r"^[*_]+|[*_]+$")
_GENERIC_FIRST_LINES = {"agenda item", "minutes", "minutes:", "public", "open", "not protectively marked"}

# "Nottingham City Council", "Kingston upon Hull City Council", "London Borough of Hackney".
_NAME_WORD = r"(?!Council\b)[A-Z][A-Za-z'’.-]*"
_CONNECTORS = ("upon", "on", "with", "and", "&", "in", "le", "under")
_CONNECTOR = rf"(?:{'|'.join(_CONNECTORS)})"
_NAME = rf"{_NAME_WORD}(?:[ -](?:{_CONNECTOR}[ -])?{_NAME_WORD}){{0,5}}"
_COUNCIL_NAMED = re.compile(rf"(?<![\w'’])(?P<name>{_NAME})\s+Council\b")
_COUNCIL_OF = re.compile(rf"\b(?P<name>(?:London|Royal) Borough of {_NAME})")
_WRAPPED_CONNECTOR = re.compile(r"\b(?:and|&|of|upon|on|with)\s*$")
_AUTHORITY_FORM = re.compile(r"^(?:(?:London|Royal|Metropolitan) )?(?:Borough|City|County) of |\s+Council$")
_KIND_WORDS = {"City", "County", "Borough", "District", "Metropolitan", "Town", "Parish", "Unitary"}
# Councils that are not local authorities, and words that lead into a name without being part of it.
_NOT_A_NAME = {
    "Full", "Youth", "Care", "Cabinet", "Executive", "Children", "Childrens", "Children's", "Young", "People",
    "Schools", "Shadow", "Regional", "Privy", "Arts", "Research", "Medical", "General", "Social", "Leavers",
    "Health", "Security", "European", "Our", "The", "This", "That", "Their", "His", "Her", "Each", "Every",
    "Local", "Member", "Members", "Meeting", "Home", "Dear", "Leader", "Chair", "Chief", "Officer", "Trust",
    "Student", "Students", "Pupil", "Pupils", "Family", "Families", "Voice", "Participation", "Sports", "Faith",
    "Advisory", "Standing", "Safeguarding", "Partnership", "Committee", "Board", "A", "An", "By", "For", "From",
    "To", "At", "Of", "Ofsted", "Councillor", "Cllr", "Mr", "Mrs", "Ms", "Dr", "Report", "Minutes", "Us", "We",
    "Justice", "LAC", "CiC", "Leaver", "Children’s", "Looked", "After",
} | _KIND_WORDS

_TYPE_FOLDERS: dict[str, DocType] = {
    "minutes": "minutes", "reports": "report", "report": "report", "letters": "letter", "letter": "letter",
    "news": "news", "press": "news",
}


def infer_meta(doc_id: str, source: str, lines: list[Line]) -> DocumentMeta:
    """The title, date, council, body and type a document states about itself, marked as inferred."""
    head = [_plain(line.text) for line in lines[:_HEAD_LINES]]
    text_lines = [line.text[:_LONGEST_LINE] for line in lines]
    date, precision = infer_date(head)
    return DocumentMeta(
        doc_id=doc_id, source=source, title=(_title(head) or PurePosixPath(source).stem)[:200],
        council=infer_council(text_lines, source), body=_body(head), date=date, date_precision=precision,
        doc_type=_doc_type(head, source), inferred=True,
    )


def _plain(text: str) -> str:
    return text[:_LONGEST_LINE].strip()


def _title(head: list[str]) -> str | None:
    """A 'Report Title' field, else the first Markdown heading, else the first line that is not boilerplate or
    letterhead."""
    for line in head:
        if match := _TITLE_FIELD.match(line):
            return _EMPHASIS.sub("", match["value"]).strip() or None
    for line in head:
        if match := _MARKDOWN_HEADING.match(line):
            return _EMPHASIS.sub("", match["text"]).strip() or None
    lines = [_EMPHASIS.sub("", line).strip() for line in head]
    skip_next = False
    for number, cleaned in enumerate(lines):
        if skip_next or not cleaned or cleaned.lower() in _GENERIC_FIRST_LINES:
            skip_next = False
            continue
        whole = _with_wrapped_end(cleaned, lines[number + 1] if number + 1 < len(lines) else "")
        if not _is_letterhead(whole):
            return cleaned
        skip_next = whole != (cleaned.title() if cleaned.isupper() else cleaned)  # its second line is letterhead too
    return None


def _is_letterhead(line: str) -> bool:
    """A line that is only a council's name, a date or a 'Published ...' / 'Date:' field is not a title."""
    named = council_names(line)
    return (bool(named) and _bare(line) == _bare(named[0])) or parse_date_text(line, whole=True)[0] is not None \
        or bool(_DATE_FIELD.match(line))


def _bare(name: str) -> str:
    """'Metropolitan Borough of Barnsley Council' and 'Barnsley Council' -> 'Barnsley'."""
    return _AUTHORITY_FORM.sub("", name).strip()


def infer_date(head: list[str]) -> tuple[dt.date | None, DatePrecision]:
    """A date field ('Meeting Date', '**Date:**', 'Published'), else a 'published ...' phrase, else a date
    standing alone on a line (a letter's date); the precision is what the words give."""
    for line in head:
        if match := _DATE_FIELD.match(line):
            found = parse_date_text(match["value"])
            if found[0] is not None:
                return found
    for line in head:
        for match in _PUBLISHED_PHRASE.finditer(line):
            found = parse_date_text(match["value"], anchored=True)
            if found[0] is not None:
                return found
    for line in head:
        stripped = _EMPHASIS.sub("", line).strip()
        if 6 <= len(stripped) <= 40:
            found = parse_date_text(stripped, whole=True)
            if found[0] is not None:
                return found
    return None, "day"


def parse_date_text(text: str, anchored: bool = False, whole: bool = False) -> tuple[dt.date | None, DatePrecision]:
    """The first date written in `text`, with its precision; `anchored` needs it at the start, `whole` to be all.

    A year alone counts only as a whole field value ('Date: 2024'), never inside a sentence.
    """
    for pattern, precision in _DATE_FORMS:
        match = pattern.search(text)
        if match is None or (anchored and match.start() > 0) or (whole and match.group(0) != text.strip(" .,")):
            continue
        day = int(match["day"]) if precision == "day" else 1
        month = match["month"]
        month_number = int(month) if month.isdigit() else _MONTHS[month.lower()]
        try:
            return dt.date(int(match["year"]), month_number, day), precision
        except ValueError:
            continue
    if not whole and not anchored and (year := _YEAR_ONLY.match(text)):
        return dt.date(int(year["year"]), 1, 1), "year"
    return None, "day"


def infer_council(lines: list[str], source: str) -> str | None:
    """The council the paper names: in its letterhead (first lines) if there, else the one it names most (the
    earliest on a tie); the folder's name decides between several and stands in when the text names none."""
    mentions: list[str] = []
    letterhead: list[str] = []
    for number, line in enumerate(lines):
        if "ouncil" not in line and "OUNCIL" not in line and "orough" not in line and "OROUGH" not in line and not (
                number + 1 < len(lines) and lines[number + 1].lstrip().startswith(("Council", "COUNCIL"))):
            continue  # most lines name no council: skip the patterns
        found = council_names(_with_wrapped_end(line, lines[number + 1] if number + 1 < len(lines) else ""))
        mentions.extend(found)
        if number < _LETTERHEAD_LINES:
            letterhead.extend(found)
    folder = _folder_council(source)
    if folder and any(council_matches(folder, name) for name in mentions):
        return next(name for name in mentions if council_matches(folder, name))
    if letterhead:
        return letterhead[0]
    if mentions:
        counts = Counter(mentions)
        return max(dict.fromkeys(mentions), key=lambda name: counts[name])
    return folder


def _with_wrapped_end(line: str, following: str) -> str:
    """A name wrapped onto the next line ('London Borough of Barking and' / 'Dagenham', 'Metropolitan Borough of
    Barnsley' / 'Council') is read whole; all-capital letterheads are read in title case."""
    line, following = (text.title() if text.isupper() else text for text in (line, following.strip()))
    if following and (_WRAPPED_CONNECTOR.search(line) or following.split()[0] in ("Council", "Council's")):
        return f"{line} {following}"
    return line


def council_names(text: str) -> list[str]:
    """Local authorities named in one line, as written ('Bury Council', 'London Borough of Hackney')."""
    names = [_council_name(match["name"]) for match in _COUNCIL_NAMED.finditer(text)]
    names += [_borough_name(match["name"]) for match in _COUNCIL_OF.finditer(text)]
    return [name for name in names if name]


def _borough_name(captured: str) -> str | None:
    """'London Borough of Hackney Children's Services' -> 'London Borough of Hackney'; a name cut off after
    'Barking and' is no name."""
    words = captured.split()
    end = next((i for i, word in enumerate(words[3:], start=3) if word in _NOT_A_NAME), len(words))
    if end > 3 and words[end - 1] in _CONNECTORS:
        return None
    return " ".join(words[:end]).rstrip(".,;:")


def _council_name(captured: str) -> str | None:
    """'Labour-run Nottingham City' -> 'Nottingham City Council'; 'Full', 'Children in Care' -> None."""
    words = [word.rstrip("'’") for word in captured.split()]
    if any(word.endswith(".") and word != "St." for word in words):
        return None  # 'Fi. Council': a sentence's end, not a name
    while words and (words[0] in _NOT_A_NAME - _KIND_WORDS or words[0].rsplit("-", 1)[-1].islower()):
        words.pop(0)
    name_words = [word for word in words if word not in _KIND_WORDS]
    if not name_words or name_words[0][0].islower() or name_words[-1] in _NOT_A_NAME or words[0] in _KIND_WORDS:
        return None
    if any(word in _NOT_A_NAME - _KIND_WORDS for word in name_words):
        return None
    return " ".join(words).replace(" - ", "-") + " Council"


def _folder_council(source: str) -> str | None:
    """A folder named for a council: 'bury-council', 'Nottingham City Council', 'london-borough-of-hackney'."""
    for part in reversed(PurePosixPath(source).parts[:-1]):
        spoken = " ".join(re.split(r"[-_\s]+", part)).strip()
        if re.search(r"\bcouncil\b|\bborough of\b", spoken, re.I):
            names = council_names(" ".join(word if word.lower() in {"upon", "on", "with", "and", "in", "le", "of"}
                                           else word.capitalize() for word in spoken.split()))
            if names:
                return names[0]
    return None


def _body(head: list[str]) -> str | None:
    """A 'Meeting Title' / 'Committee:' field, else a header line naming a committee, board or panel."""
    for line in head:
        if match := _BODY_FIELD.match(line):
            return _EMPHASIS.sub("", match["value"]).strip()[:200] or None
    for line in head[:_LETTERHEAD_LINES]:
        cleaned = _EMPHASIS.sub("", line).strip().lstrip("#").strip()
        if _BODY_LINE.match(cleaned):
            return cleaned
    return None


def _doc_type(head: list[str], source: str) -> DocType:
    """From the paper's own markers; a folder called 'minutes', 'reports', 'letters' or 'news' also says it."""
    for part in reversed(PurePosixPath(source).parts[:-1]):
        if part.lower() in _TYPE_FOLDERS:
            return _TYPE_FOLDERS[part.lower()]
    stripped = [_EMPHASIS.sub("", line).strip().lstrip("#").strip() for line in head]
    if any(line.lower() in {"minutes", "minutes:", "present:", "present"} or line.startswith("RESOLVED")
           or re.match(r"minutes of (?:the |a )?(?:meeting|proceedings)", line, re.I) for line in stripped):
        return "minutes"
    if any(re.match(r"dear\s+\S", line, re.I) for line in stripped):
        return "letter"
    if any(_TITLE_FIELD.match(line) or _REPORT_LINE.match(line) for line in stripped[:_LETTERHEAD_LINES]):
        return "report"
    if any(re.search(r"local democracy reporter|press release|news release", line, re.I) for line in stripped):
        return "news"
    return "other"
