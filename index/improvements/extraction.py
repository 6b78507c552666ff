"""Areas for improvement read from the lists that state them, one item each, verbatim.

Ofsted reports list what the council must improve under a heading: "What needs to improve?" (ILACS,
2018 on), "Priority and immediate action", "Areas for improvement" and "Recommendations" (the 2013-2017
framework, for the council and for its safeguarding board); officers' reports end with
"Recommendation(s)". Items are bullets or numbered paragraphs; an item wrapped over several lines (or
over a page, where the parser has already dropped running headers and page numbers) is joined, and its
text is the exact slice of the document from after its marker to its end, with white space folded (and
without a page number or a footnote left inside it, as plain-text exports have). A numbered item keeps its
sub-points and every sentence of it, also one that starts on a line of its own; an introduction before the list
('The following recommendations are...') is passed over.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from index.improvements.models import ExtractionProblem, ImprovementArea
from index.models import Chunk, DocumentMeta

_SECTION = re.compile(
    r"(?:\*\*)?(?P<name>what needs to improve(?: in this local authority)?|what does the [\w ]{3,40}? need to improve"
    r"|areas? for priority action"
    r"|priority and immediate action|priority actions?|areas for improvement|recommendations?(?:\s?\(s\))?)"
    r"(?:\s*[?:.]\d{0,2}|\d{0,2})\s*:?(?:\*\*)?",  # a footnote mark may follow ('improve?1'), a page number not
    re.IGNORECASE,
)
_GLYPH = r"[•◼▪●■▫◦\uf0b7\uf06e\uf0a7\uf0d8\uf076\uf0fc\uf02d]"
_BULLET = re.compile(rf"\s*(?:{_GLYPH}\s*|[-*·–]\s+)")
_NUMBER = re.compile(r"\s*\(?(?P<n>\d{1,3})[.)]\s+")
_LETTER = re.compile(r"\s*\(?(?:[a-h]|i{1,3}|iv|v)\)\s+")
_LONE_NUMBER = re.compile(r"\d{1,3}")  # a page number or a footnote mark left on its own line
# what follows the list in every layout seen: the first judgement heading, or the report's closing sections
_AFTER_LIST = re.compile(
    r"(?:The experiences and progress of|The effectiveness of|Information about this|Summary\b|Key strengths"
    r"|Key findings|Inspection findings|Inspection judgement|The local authority$|Section \d:|Executive summary"
    r"|[A-Z][\w’' -]{0,40}\bstrengths:?$)"  # 'The local authority’s strengths' over the findings paragraphs
)
_NONE_FOUND = re.compile(
    r"did not (?:find|identify) any|\bno areas (?:for|of) (?:priority|improvement)|\bno priority actions?\b"
    r"|\bno areas were identified",
    re.IGNORECASE,
)
# a paragraph that introduces the list ('The following recommendations are those that inspectors considered...')
_INTRO = re.compile(r"\b(?:following|below)\b.*\brecommendations?\b|\brecommendations?\b.*\b(?:following|below)\b",
                    re.IGNORECASE)
_CONTEXT = re.compile(
    r"\(\s*(?P<context>(?:(?:outcome|enabler|principle)\b[^()]*framework|(?:pages?|paragraphs?|paras?)\.?\s+\d[^()]*))"
    r"\s*\)[.;]?\s*$",
    re.IGNORECASE,
)
_ENDS = ".!?;:)"
_DANGLING = frozenset("to the a an and of for in with that by on from or their its as at into".split())
# an item asking in a sentence rather than by its first word: 'A ... plan should be developed', 'The BSCB to ensure',
# 'When there are plans to return a child home, ensure that ...'
_ASKING_WORDS = re.compile(r"\b(?:should|must|needs? to|required to|to ensure)\b|,\s*ensure\b", re.IGNORECASE)
_SOMEONE_TO = re.compile(r"The(?: [A-Z][\w’'-]*){1,5} to (?P<verb>[a-z]+)\b")  # 'The Adoption Panel Chair to report'

_ASKING = frozenset(
    "ensure improve develop strengthen review take continue establish increase work provide make reduce implement "
    "introduce monitor undertake evaluate raise secure consider further promote embed extend build enable sustain "
    "put reinforce clarify agree address analyse use urgently prioritise complete identify assess engage challenge "
    "revise produce tackle publish bring maintain respond seek progress track record audit focus align expedite "
    "accelerate act set update devise scrutinise hold consolidate collate carry recruit re-establish integrate drive "
    "coordinate report receive enhance expand deliver create conduct refresh tighten streamline formalise "
    "explore give appoint prevent"
    .split()
)


@dataclass
class _Item:
    start: int
    end: int
    number: int | None
    group: str | None = None
    gaps: list[tuple[int, int]] = field(default_factory=list)  # page numbers inside the item, left out of its text
    points: bool = False  # it has sub-points, whose references are their own, not the whole item's context

    def text(self, document: str) -> str:
        """The item's words: its slice of the document without the page numbers it spans."""
        pieces, at = [], self.start
        for begin, end in (gap for gap in self.gaps if gap[1] <= self.end):
            pieces.append(document[at:begin])
            at = end
        return " ".join([*pieces, document[at : self.end]])


@dataclass
class _Line:
    start: int
    end: int
    text: str

    @property
    def stripped(self) -> str:
        return self.text.strip()


def _continues(lines: list[_Line], at: int | None, style: str | None, current: _Item | None) -> bool:
    """Whether the list goes on after a sub-heading: line `at` starts its next item, and that item asks for
    something ('Ensure...'), unlike the findings paragraphs whose numbering carries on after the list."""
    marker = _marker(lines[at].text) if at is not None else None
    if marker is None or (style is not None and marker[0] != style):
        return False
    if marker[0] == "number" and current is not None and marker[2] != (current.number or 0) + 1:
        return False
    return _asks(_opening(lines, at, marker[1]))


def _lines(text: str) -> list[_Line]:
    lines, offset = [], 0
    for raw in text.split("\n"):
        lines.append(_Line(offset, offset + len(raw), raw))
        offset += len(raw) + 1
    return lines


def section_heading(line: str) -> str | None:
    """The heading's name when the whole line is one ('Recommendations 7' in a contents page is not)."""
    match = _SECTION.fullmatch(line.strip())
    return match.group("name") if match and match.group("name")[0].isupper() else None


def _marker(line: str) -> tuple[str, int, int | None] | None:
    """('bullet' | 'number' | 'letter', length of the marker, the item's number) for a line that starts an item."""
    for kind, pattern in (("number", _NUMBER), ("letter", _LETTER), ("bullet", _BULLET)):
        match = pattern.match(line)
        if match and match.end() < len(line.rstrip()):
            number = int(match.group("n")) if kind == "number" else None
            return kind, match.end(), number
    if _BULLET.fullmatch(line):  # a bullet alone on its line: the item starts on the next one
        return "bullet", len(line), None
    return None


def _ends_item(text: str) -> bool:
    return text.rstrip().endswith(tuple(_ENDS))


def _dangles(text: str) -> bool:
    """The item stops on a word that cannot end a sentence ('... is routinely given to'): the page broke inside it,
    so the next line carries on even after a blank line and with a capital ('Fostering to Adopt arrangements')."""
    words = text.split()
    return bool(words) and words[-1].casefold() in _DANGLING


def _subheading(line: str) -> bool:
    """A short title line inside a list ('Outcomes for care leavers') that groups the items after it."""
    stripped = line.strip()
    return len(stripped) <= 80 and stripped[0].isupper() and not _ends_item(stripped) and _marker(line) is None


def _asks(opening: str) -> bool:
    """An item that asks for something: 'Ensure...', 'Fully embed...', 'Better coordinate...', or its first sentence
    says what should be done ('... should be developed', 'The BSCB to ensure ...')."""
    words = [word.casefold().rstrip(",;:") for word in opening.split()[:2]]
    if not words:
        return False
    if words[0] in _ASKING or (len(words) == 2 and words[1] in _ASKING and (words[0].endswith("ly")
                                                                          or words[0] in ("better", "to"))):
        return True
    someone_to = _SOMEONE_TO.match(opening)
    if someone_to and someone_to.group("verb") in _ASKING:
        return True
    first_sentence = re.split(r"(?<=[.;])\s", opening[:300], maxsplit=1)[0]
    return bool(_ASKING_WORDS.search(first_sentence))


def _next_text(lines: list[_Line], after: int) -> int | None:
    """The index of the next line with words on it (not a page number)."""
    return next((index for index in range(after + 1, len(lines))
                 if lines[index].stripped and not _LONE_NUMBER.fullmatch(lines[index].stripped)), None)


def _opening(lines: list[_Line], at: int, marker_length: int) -> str:
    """An item's first two lines, enough to tell whether it asks for something."""
    following = _next_text(lines, at)
    return lines[at].text[marker_length:] + " " + (lines[following].text if following is not None else "")


def _titles(lines: list[_Line], index: int, blank: bool, current: _Item | None, text: str) -> bool:
    """Line `index` is a title (a sub-heading in the list, or the next section's) rather than more of the current
    item: a short capitalised line before the first item, or after a finished one, that does not run straight on
    into prose; after a blank line, anything but the rest of an item broken off on 'to', 'the'..."""
    if not _subheading(lines[index].text):
        return False
    if current is None:
        return True
    words = current.text(text)
    if blank:
        return not (_dangles(words) and _runs_on(lines, index))
    return _ends_item(words) and not _runs_on(lines, index)


def _runs_on(lines: list[_Line], index: int) -> bool:
    """The line's words go straight on in the next line (prose, not an item, a page number or a blank line): a
    sentence of an item that starts on a line of its own ('Reviews of ... should be clearly recorded and retained
    with' / 'the child’s other records.'), not a sub-heading."""
    following = lines[index + 1] if index + 1 < len(lines) else None
    return (following is not None and bool(following.stripped) and _marker(following.text) is None
            and not _LONE_NUMBER.fullmatch(following.stripped))


def _footnote_follows(lines: list[_Line], index: int) -> bool:
    """A footnote's number on its own line, its text on the next starting with a space (' These are residential
    special schools...'), as the plain-text exports print a page's footnotes."""
    following = lines[index + 1] if index + 1 < len(lines) else None
    return (following is not None and following.text[:1].isspace() and bool(following.stripped)
            and following.stripped[0].isupper())


def _list_items(lines: list[_Line], first: int, text: str) -> list[_Item]:
    """The items of the list that starts at line `first` (just after a heading); empty when none follows."""
    items: list[_Item] = []
    style: str | None = None
    blank = False
    passing = False  # inside a footnote or the list's introduction, up to the next blank line
    group: str | None = None
    for index in range(first, len(lines)):
        line = lines[index]
        stripped = line.stripped
        if not stripped:
            blank, passing = True, False
            continue
        if passing or _LONE_NUMBER.fullmatch(stripped):
            if items:
                items[-1].gaps.append((line.start, line.end))
            passing = passing or _footnote_follows(lines, index)
            continue
        if section_heading(stripped) or _AFTER_LIST.match(stripped):
            break
        marker = _marker(line.text)
        current = items[-1] if items else None
        if current is None and marker is None and _INTRO.search(" ".join(l.text for l in lines[index : index + 2])):
            passing = True
            continue
        if marker is None and _titles(lines, index, blank, current, text):
            if not _continues(lines, _next_text(lines, index), style, current):
                if current is not None:
                    break  # a title line after a finished item: the next section
            else:
                group, blank = _fold(stripped), False
                continue
        following = _next_text(lines, index)
        if marker and marker[0] == "number" and _subheading(line.text[marker[1]:]) and following is not None \
                and (_marker(lines[following].text) or ("", 0, None))[0] == "bullet" \
                and not _asks(line.text[marker[1]:]):
            group, style, blank = _fold(line.text[marker[1]:]), "bullet", False
            continue  # a numbered theme ('1. Quality of practice') over bullet items
        if marker and style is None:
            style = marker[0]
            if style == "number" and marker[2] != 1 and not _asks(_opening(lines, index, marker[1])):
                break  # the report's own numbered paragraphs, not a list of what to do
        if marker and marker[0] == style:
            if style == "number" and current is not None and marker[2] != (current.number or 0) + 1:
                break  # the numbering restarted: the report's own paragraphs, not the list
            items.append(_Item(line.start + marker[1], line.end, marker[2], group))
        elif current is None:
            break  # the heading is not followed by a list
        elif marker and style == "number":
            current.end, current.points = line.end, True  # a sub-point (bullet or letter) belongs to its item
        elif marker and style == "bullet" and marker[0] == "number":
            break
        elif blank and (_ends_item(current.text(text)) or not (stripped[0].islower() or _dangles(current.text(text)))):
            break  # after a blank line, only a lower-case line can carry on an unfinished item
        else:
            current.end = line.end
        blank = False
    return items


def _fold(text: str) -> str:
    return " ".join(text.split())


def _area_text(slice_: str, points: bool) -> tuple[str, str | None]:
    """The item's words and, where it ends with one (and not its last sub-point), its judgement context without the
    brackets."""
    folded = _fold(slice_)
    match = None if points else _CONTEXT.search(folded)
    if match is None:
        return folded, None
    return folded[: match.start()].rstrip(" ,;"), _fold(match.group("context"))


def area_id(doc_id: str, text: str) -> str:
    """Stable across builds: the same item in the same document always gets the same id."""
    return hashlib.sha1(f"{doc_id}\n{text.casefold()}".encode("utf-8")).hexdigest()[:12]


def _containing_chunk(text: str, chunks: list[Chunk]) -> Chunk | None:
    """The passage holding the item: whole if one does, else the one holding its opening words."""
    folded = [_fold(chunk.text) for chunk in chunks]
    for probe in (text, " ".join(text.split()[:8]), " ".join(text.split()[:4])):
        for chunk, chunk_text in zip(chunks, folded):
            if probe and probe in chunk_text:
                return chunk
    return None


def document_areas(meta: DocumentMeta, text: str,
                   chunks: list[Chunk]) -> tuple[list[ImprovementArea], str | None]:
    """A document's areas, and a one-line reason when it has an improvement section that yields no items."""
    lines = _lines(text)
    areas: dict[str, ImprovementArea] = {}
    unread: list[tuple[int, str]] = []
    for number, line in enumerate(lines):
        name = section_heading(line.text)
        if name is None:
            continue
        items = _list_items(lines, number + 1, text)
        following = " ".join(l.stripped for l in lines[number + 1 : number + 4])
        if not items and not _NONE_FOUND.search(following):
            unread.append((number + 1, line.stripped))
        for item in items:
            words, context = _area_text(item.text(text), item.points)
            context = context or item.group
            if not words or _NONE_FOUND.search(words):
                continue
            chunk = _containing_chunk(words, chunks)
            area = ImprovementArea(
                id=area_id(meta.doc_id, words), doc_id=meta.doc_id, council=meta.council, date=meta.date,
                section=_fold(name), text=words, context=context,
                chunk_id=chunk.chunk_id if chunk else None, location=chunk.location if chunk else None,
            )
            areas.setdefault(area.id, area)
    if areas or not unread:
        return list(areas.values()), None
    line_number, heading = unread[0]
    return [], f"'{heading}' at line {line_number} is not followed by a list of items the extractor can read"


def extract_areas(
    documents: Iterable[tuple[DocumentMeta, str, list[Chunk]]],
) -> tuple[list[ImprovementArea], list[ExtractionProblem]]:
    """Every document's areas, and the documents whose improvement section could not be read."""
    areas: list[ImprovementArea] = []
    problems: list[ExtractionProblem] = []
    for meta, text, chunks in documents:
        found, reason = document_areas(meta, text, chunks)
        areas += found
        if reason:
            problems.append(ExtractionProblem(doc_id=meta.doc_id, source=meta.source, reason=reason))
    return areas, problems
