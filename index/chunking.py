"""Cut a parsed document into passages along its own structure.

Council papers number their paragraphs — `(a)`, `(m)`, `1.3`, `12.` — and readers cite those numbers,
so a labelled paragraph (with the bullet list it introduces) is one passage whose location is its label.
Unlabelled paragraphs are merged up to a modest size and cited by their place in their section.
Nothing is rewritten: every passage is an exact slice of the document text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from pydantic import BaseModel, ConfigDict

from index.models import Chunk, ParsedDocument
from index.sentences import sentences

TokenCounter = Callable[[str], int]

_LABEL = re.compile(
    r"""^(?:[-•◼▪●■*·–]\s+)?            # an optional bullet before the label ("- 1.1 Committee ...")
    (?P<label>
        \((?:[a-z]{1,4}|[A-Z]|\d{1,3})\)     # (a) (iv) (B) (12)
      | (?:[a-z]|[ivx]{1,4})\)              # a) iv)
      | \d{1,2}(?:\.\d{1,2}){1,2}\.?(?=\s+[A-Z(‘'"“*])   # 1.3  2.4.1  (followed by a capitalised word)
      | \d{1,3}\.(?=\s+[A-Z(‘'"“*])         # 12. Children ...
    )\s*""",
    re.VERBOSE,
)
_BULLET = re.compile(r"^[-•◼▪●■*·–]\s+")
_HEADING_MAX_CHARS = 110


class ChunkerConfig(BaseModel):
    """Settings recorded in the index manifest: changing them means re-chunking everything."""

    model_config = ConfigDict(frozen=True)

    version: int = 3  # bump when the chunking rules change, so the next build re-cuts every document
    max_tokens: int = 254
    merge_tokens: int = 120
    min_text_tokens: int = 64


@dataclass
class _Block:
    """Consecutive lines that belong together, as offsets into the document text."""

    start: int
    end: int
    label: str | None = None
    heading: bool = False
    bullet: bool = False
    lines: int = 1
    members: list["_Block"] = field(default_factory=list)


def _line_spans(document: ParsedDocument) -> Iterator[tuple[int, int, str, bool]]:
    offset = 0
    for line in document.lines:
        yield offset, offset + len(line.text), line.text, line.heading
        offset += len(line.text) + 1


_CLOSING = ".!?:;"
_QUOTES = "\"'”’)*"


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip().rstrip(_QUOTES)
    return bool(stripped) and stripped[-1] in _CLOSING


def _looks_like_heading(text: str, label: str | None) -> bool:
    """A lone short line without closing punctuation: 'What needs to improve', '1. **Background**', 'Minutes:'."""
    stripped = text.strip().strip("*#").strip()
    if not stripped or len(stripped) > _HEADING_MAX_CHARS or "\t" in text:
        return False
    if text.lstrip().startswith("#"):
        return True
    words = len(stripped.split())
    if label is not None:
        return label.isdigit() and words <= 8 and not _ends_sentence(stripped)
    if stripped.endswith(":"):
        return words <= 6
    return words <= 16 and not _ends_sentence(stripped) and not stripped[0].islower()


def _normalise_label(raw: str) -> str:
    """'a)', '(a)' and '(a' all cite as '(a)'; '12.' cites as '12'."""
    core = raw.strip("().")
    return core if core[0].isdigit() and "(" not in raw else f"({core})"


def _segment(document: ParsedDocument) -> list[_Block]:
    """Group lines into blocks.

    A label, a bullet or a marked heading starts a block; so does a line after one that ends a sentence
    (one-paragraph-per-line text) or after a blank line. A lower-case line after a blank continues a
    paragraph left unfinished, as happens across page breaks.
    """
    blocks: list[_Block] = []
    after_blank = True
    for start, end, text, marked_heading in _line_spans(document):
        if not text.strip():
            after_blank = True
            continue
        label_match = _LABEL.match(text)
        bullet = bool(_BULLET.match(text)) and label_match is None
        previous = blocks[-1] if blocks else None
        continues = (
            previous is not None
            and not (marked_heading or label_match or bullet or previous.heading)
            and not _ends_sentence(document.text[previous.start : previous.end])
            and (not after_blank or text.lstrip()[:1].islower())
        )
        if continues:
            previous.end = end
            previous.lines += 1
        else:
            label = _normalise_label(label_match.group("label")) if label_match else None
            blocks.append(_Block(start=start, end=end, label=label, heading=marked_heading, bullet=bullet))
        after_blank = False
    for block in blocks:
        if not block.heading and block.lines == 1 and not block.bullet:
            block.heading = _looks_like_heading(document.text[block.start : block.end], block.label)
    return blocks


def _group_lists(blocks: list[_Block], text: str) -> list[_Block]:
    """Attach bullets to the paragraph that introduces them so a list stays whole with its label."""
    grouped: list[_Block] = []
    for block in blocks:
        previous = grouped[-1] if grouped else None
        joins_list = block.bullet and previous is not None and not previous.heading and (
            previous.members or previous.bullet or text[previous.start : previous.end].rstrip().endswith(":")
        )
        if joins_list:
            if not previous.members:
                previous.members.append(_Block(previous.start, previous.end, previous.label, bullet=previous.bullet))
            previous.members.append(block)
            previous.end = block.end
        else:
            grouped.append(block)
    return grouped


@dataclass
class _Unit:
    """A passage before it is measured: its span, its section heading and how a citation names it."""

    start: int
    end: int
    heading: str | None
    location: str
    members: list[tuple[int, int]]
    labelled: bool


def _units(document: ParsedDocument, title: str) -> list[_Unit]:
    text = document.text
    units: list[_Unit] = []
    heading: str | None = None
    paragraph_in_section = 0
    blocks = _group_lists(_segment(document), text)
    pending: _Block | None = None  # a heading not yet followed by a paragraph, with the section it came in
    outer: str | None = None
    pending_paragraphs = 0

    def add(block: _Block, heading: str | None) -> None:
        nonlocal paragraph_in_section
        paragraph_in_section += 1
        if block.label:
            location = f"para {block.label}"
        elif heading and not _same_words(heading, title):
            location = f"{_short(heading)}, para {paragraph_in_section}"
        else:
            location = f"para {paragraph_in_section}"
        members = [(m.start, m.end) for m in block.members] or [(block.start, block.end)]
        units.append(_Unit(block.start, block.end, heading, location, members, block.label is not None))

    for block in blocks:
        if block.heading:
            if pending is not None:  # two heading-like lines in a row (a cover page): keep the first one's words
                paragraph_in_section = pending_paragraphs
                add(pending, outer)
                pending_paragraphs = 0  # the next pending line is the first under this one
            else:
                pending_paragraphs = paragraph_in_section
            pending, outer = block, heading
            heading = " ".join(text[block.start : block.end].replace("**", "").strip("#: \t").split())
            paragraph_in_section = 0
            continue
        pending = None
        add(block, heading)
    if not units and blocks:  # only heading-like lines (a cover page, a one-line notice): they are the document
        units.append(_Unit(blocks[0].start, blocks[-1].end, None, "para 1", [(b.start, b.end) for b in blocks], False))
    return units


def _same_words(a: str, b: str) -> bool:
    """A heading that only repeats the document's title (a news headline) adds nothing to a citation."""
    return re.sub(r"[\W_]+", "", a.casefold()) == re.sub(r"[\W_]+", "", b.casefold())


def _short(heading: str, limit: int = 60) -> str:
    return heading if len(heading) <= limit else heading[: limit - 1].rstrip() + "…"


def _merge_small(units: list[_Unit], fits: Callable[[int, int], bool]) -> list[_Unit]:
    """Merge neighbouring unlabelled paragraphs of one section while they fit the merge budget."""
    merged: list[_Unit] = []
    for unit in units:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and not unit.labelled
            and not previous.labelled
            and previous.heading == unit.heading
            and fits(previous.start, unit.end)
        ):
            first = previous.location.rsplit(" ", 1)[-1].split("–")[0]
            last = unit.location.rsplit(" ", 1)[-1]
            prefix = previous.location.rsplit("para", 1)[0]
            merged[-1] = _Unit(previous.start, unit.end, unit.heading, f"{prefix}paras {first}–{last}",
                               previous.members + unit.members, False)
        else:
            merged.append(unit)
    return merged


def _pieces(text: str, start: int, end: int, cuts_in: Callable[[str], list[int]]) -> list[tuple[int, int]]:
    """Split a span at the offsets `cuts_in` finds in it, keeping every character in some piece."""
    cuts = [start] + [start + cut for cut in cuts_in(text[start:end]) if cut > 0] + [end]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]


def _sentence_starts(text: str) -> list[int]:
    return [begin for begin, _ in sentences(text)]


def _word_starts(text: str) -> list[int]:
    return [match.end() for match in re.finditer(r"\s+", text)]


def _split_to_fit(text: str, spans: list[tuple[int, int]], fits: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """Pack spans greedily; a span that alone is too long is cut at sentences, then words, then characters."""
    packed: list[tuple[int, int]] = []
    for start, end in spans:
        if not fits(start, end):
            for finer in (_sentence_starts, _word_starts):
                pieces = _pieces(text, start, end, finer)
                if len(pieces) > 1:
                    packed.extend(_split_to_fit(text, pieces, fits))
                    break
            else:
                packed.extend(_split_characters(start, end, fits))
            continue
        if packed and fits(packed[-1][0], end):
            packed[-1] = (packed[-1][0], end)
        else:
            packed.append((start, end))
    return packed


def _split_characters(start: int, end: int, fits: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """Last resort for text with no spaces at all: halve until each piece fits."""
    if end - start <= 1 or fits(start, end):
        return [(start, end)]
    middle = (start + end) // 2
    return _split_characters(start, middle, fits) + _split_characters(middle, end, fits)


def embed_prefix(title: str, heading: str | None) -> str:
    """What is put before a passage when it is embedded, so it carries its document and section."""
    return f"{title}\n{heading}\n" if heading else f"{title}\n"


def chunk_document(
    document: ParsedDocument,
    doc_id: str,
    title: str,
    count_tokens: TokenCounter,
    config: ChunkerConfig = ChunkerConfig(),
) -> list[Chunk]:
    """Passages of one document, each within the model's window once its title and heading are prefixed."""
    text = document.text
    prefix_tokens: dict[str | None, int] = {}

    def budget(heading: str | None) -> int:
        if heading not in prefix_tokens:
            prefix_tokens[heading] = count_tokens(embed_prefix(title, heading))
        return max(config.max_tokens - prefix_tokens[heading], config.min_text_tokens)

    chunks: list[Chunk] = []
    seen: set[str] = set()
    for unit in _merge_small(_units(document, title), lambda a, b: count_tokens(text[a:b]) <= config.merge_tokens):
        limit = budget(unit.heading)
        spans = _split_to_fit(text, unit.members, lambda a, b: count_tokens(text[a:b]) <= limit)
        for start, end in spans:
            passage = text[start:end]
            chunk_id = _chunk_id(doc_id, unit.location, embed_prefix(title, unit.heading) + passage, seen)
            chunks.append(Chunk(chunk_id=chunk_id, doc_id=doc_id, ordinal=len(chunks),
                                location=unit.location, heading=unit.heading, text=passage))
    return chunks


def _chunk_id(doc_id: str, location: str, embedded: str, seen: set[str]) -> str:
    """A stable id: the same passage in the same place keeps its id, and its vector, across re-indexing."""
    salt = 0
    while True:
        digest = hashlib.sha1(f"{doc_id}\0{location}\0{embedded}\0{salt}".encode()).hexdigest()[:12]
        if digest not in seen:
            seen.add(digest)
            return digest
        salt += 1
