"""Turn corpus files (.txt, .md, .html, .pdf, .docx) into clean lines, or say in one line why a file cannot be read.

Citations quote documents verbatim, so every parser keeps the author's words and order and only removes what is
not the document: navigation around a web page, running headers and page numbers on PDF pages.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import docx
import pypdf
from docx.document import Document as WordDocument
from docx.table import Table
from docx.text.paragraph import Paragraph
from selectolax.lexbor import LexborHTMLParser, LexborNode

from index.errors import DocumentError
from index.models import Line, ParsedDocument

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".html", ".htm", ".pdf", ".docx"})

_FORMAT_NAMES = {".txt": "text", ".md": "Markdown", ".html": "HTML", ".htm": "HTML", ".pdf": "PDF", ".docx": "DOCX"}
_NO_TEXT = {
    ".pdf": "no extractable text: the PDF may be scanned images, which need OCR first",
    ".html": "no text outside navigation and markup",
    ".htm": "no text outside navigation and markup",
    ".docx": "no text in the document body",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


def parse_file(path: Path, source: str, max_bytes: int = 20_000_000) -> ParsedDocument:
    """Parse one corpus file; every failure, including any library's, becomes a DocumentError naming the file."""
    suffix = path.suffix.lower()
    parser = _PARSERS.get(suffix)
    if parser is None:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        problem = f"unsupported file type {suffix or '(no suffix)'!r}"
        raise DocumentError(path, problem, hint=f"convert it to one of {supported} or remove it")
    data = _read_bytes(path, max_bytes)
    try:
        lines = parser(path, data)
    except DocumentError:
        raise
    except Exception as exc:  # on hostile input pypdf, python-docx, zipfile, lxml raise anything, even RecursionError
        problem = f"cannot read this {_FORMAT_NAMES[suffix]} file, it looks truncated or corrupt ({_describe(exc)})"
        raise DocumentError(path, problem) from exc
    if not any(line.text.strip() for line in lines):
        raise DocumentError(path, _NO_TEXT.get(suffix, "no text: the file holds only whitespace"))
    return ParsedDocument(source=source, lines=lines)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """Check the size before reading, so a huge file costs nothing and a FIFO or device is never opened."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            problem = f"file is {size:,} bytes, over the {max_bytes:,}-byte limit"
            raise DocumentError(path, problem, hint="split it or raise the limit, then re-run `index`")
        if size == 0:
            raise DocumentError(path, "empty file (0 bytes)")
        with path.open("rb") as handle:
            return handle.read(max_bytes)
    except OSError as exc:
        raise DocumentError(path, f"cannot read the file ({_describe(exc)})") from exc


def _describe(exc: BaseException) -> str:
    """A library's error squeezed onto one short line, so DocumentError messages stay single-line."""
    detail = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _collapse(text: str) -> str:
    """Runs of any whitespace (including no-break spaces and newlines) become one space."""
    return " ".join(text.split())


# --- plain text and Markdown ---------------------------------------------------------------------------------------


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (BOM optional) or BOM-marked UTF-16 only: guessing a legacy encoding would misquote characters."""
    marked = ((len(bom), encoding, label) for bom, encoding, label in _BOMS if data.startswith(bom))
    skip, encoding, label = next(marked, (0, "utf-8", "UTF-8"))
    nul = data.find(b"\x00") if encoding == "utf-8" else -1
    if nul >= 0:
        raise DocumentError(path, f"binary content, not text: NUL byte at offset {nul}")
    try:
        text = data[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        problem = f"not valid {label}: byte 0x{data[offset]:02X} at offset {offset}"
        raise DocumentError(path, problem, hint="re-save it as UTF-8, then re-run `index`") from exc
    if "\x00" in text:
        raise DocumentError(path, f"binary content, not text: NUL character in {label} text")
    return text


def _stripped_lines(text: str) -> list[str]:
    """Lines without trailing whitespace and nothing else changed, so the text round-trips."""
    return [line.rstrip() for line in text.splitlines()]


def _parse_txt(path: Path, data: bytes) -> list[Line]:
    return [Line(text=line) for line in _stripped_lines(_decode(path, data))]


_MD_HEADING = re.compile(r" {0,3}#{1,6}(?:\s|$)")
_MD_FENCE = re.compile(r" {0,3}(?:```|~~~)")


def _parse_md(path: Path, data: bytes) -> list[Line]:
    """Flag ATX headings (`# Title`), but not `#` lines inside fenced code or `#hashtags`; text stays verbatim."""
    lines = []
    in_fence = False
    for text in _stripped_lines(_decode(path, data)):
        in_fence ^= bool(_MD_FENCE.match(text))
        lines.append(Line(text=text, heading=not in_fence and bool(_MD_HEADING.match(text))))
    return lines


# --- HTML ----------------------------------------------------------------------------------------------------------

_DROPPED_TAGS = frozenset({"head", "script", "style", "noscript", "template", "svg", "nav", "aside", "form"})
_PAGE_CHROME_TAGS = frozenset({"header", "footer"})
_SECTIONING_TAGS = frozenset({"main", "article", "section"})
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo"})
_CHROME_NAMES = re.compile(r"breadcrumb|skip|cookie|menu", re.IGNORECASE)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_CELL_TAGS = frozenset({"td", "th"})
_LIST_TAGS = frozenset({"ul", "ol", "menu", "dir"})
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "hgroup", "hr", "legend", "li", "main", "p", "pre", "section",
        "summary", "table", "tbody", "tfoot", "thead", "tr",
    }
) | _HEADING_TAGS | _CELL_TAGS | _LIST_TAGS
_CONTENT_SELECTORS = ("main", "[role=main]", "#content")

# The HTML tree builder scans its stack of open elements for many tags, so deep nesting costs depth x tags;
# this bounds that product (10,000-deep nesting costs about 5e7) so a hostile page cannot stall the parser.
_HTML_WORK_LIMIT = 400_000_000
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_SIBLING_CLOSES = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "option"})


def _check_html_cost(path: Path, text: str) -> None:
    """Estimate the tree builder's work with a linear tag scan and refuse pages that would take minutes to parse."""
    stack: list[str] = []
    open_counts: Counter[str] = Counter()
    work = 0
    for match in _TAG.finditer(text):
        name = match[2].lower()
        if name in _VOID_TAGS:
            continue
        if match[1] and open_counts[name]:
            while (top := stack.pop()) != name:
                open_counts[top] -= 1
            open_counts[name] -= 1
            continue
        work += len(stack)
        if work > _HTML_WORK_LIMIT:
            raise DocumentError(path, f"HTML nests elements too deeply to parse safely ({len(stack):,} open elements)")
        if match[1]:
            continue
        if name in _SIBLING_CLOSES and stack and stack[-1] == name:
            continue
        stack.append(name)
        open_counts[name] += 1


def _parse_html(path: Path, data: bytes) -> list[Line]:
    text = _decode(path, data)
    _check_html_cost(path, text)
    root = _content_root(LexborHTMLParser(text))
    if root is None:
        return []
    return _HtmlLines(inside_section=root.tag != "body").read(root)


def _content_root(tree: LexborHTMLParser) -> LexborNode | None:
    """The page's main content region when it marks one, else the whole body."""
    for selector in _CONTENT_SELECTORS:
        node = tree.css_first(selector)
        if node is not None:
            return node
    return tree.body or tree.root


class _HtmlLines:
    """Turns an element tree into lines, one block element per line, walking sibling and parent links.

    The walk is a loop, not recursion, because hostile or generated pages nest elements thousands deep.
    Table rows collect their cells and come out as one line; inside a row, block boundaries are just spaces.
    """

    def __init__(self, inside_section: bool) -> None:
        self._blocks: list[list[Line]] = [[]]
        self._buffer: list[str] = []
        self._prefix = ""
        self._heading = False
        self._lists: list[int | None] = []  # next number for each open <ol>, None for <ul>
        self._sections = int(inside_section)
        self._cells: list[str] | None = None
        self._row_depth = 0

    def read(self, root: LexborNode) -> list[Line]:
        for node, entering in _walk(root, self._keep):
            if entering:
                self._enter(node)
            else:
                self._exit(node.tag)
        self._boundary()
        return _join_blocks(self._blocks)

    def _keep(self, node: LexborNode) -> bool:
        """Text, and elements that are not page chrome; a header or footer counts as chrome outside a section."""
        tag = node.tag
        if tag == "-text":
            return True
        if not node.is_element_node or tag in _DROPPED_TAGS:
            return False
        if tag in _PAGE_CHROME_TAGS and not self._sections:
            return False
        attributes = node.attributes
        if attributes.get("role") in _CHROME_ROLES:
            return False
        return not any(_CHROME_NAMES.search(attributes.get(name) or "") for name in ("id", "class"))

    def _enter(self, node: LexborNode) -> None:
        tag = node.tag
        if tag == "-text":
            self._buffer.append(node.text_content or "")
        elif tag == "br":
            self._line_break()
        elif tag == "tr":
            self._start_row()
        elif tag in _CELL_TAGS:
            self._end_cell()
        elif tag in _BLOCK_TAGS:
            self._boundary()
            self._start_block(node)
        self._sections += tag in _SECTIONING_TAGS

    def _start_block(self, node: LexborNode) -> None:
        """Set what the block's first line carries: a heading flag, a bullet or an ordered-list number."""
        tag = node.tag
        if tag in _HEADING_TAGS:
            self._heading = True
        elif tag == "li":
            self._prefix = self._list_marker()
        elif tag == "ol":
            self._lists.append(_int_attribute(node, "start", 1))
        elif tag in _LIST_TAGS:
            self._lists.append(None)

    def _list_marker(self) -> str:
        number = self._lists[-1] if self._lists else None
        if number is None:
            return "• "
        self._lists[-1] = number + 1
        return f"{number}. "

    def _exit(self, tag: str) -> None:
        self._sections -= tag in _SECTIONING_TAGS
        if tag == "tr":
            self._end_row()
        elif tag in _CELL_TAGS:
            self._end_cell()
        elif tag in _BLOCK_TAGS:
            self._boundary()
            self._end_block(tag)

    def _end_block(self, tag: str) -> None:
        """Undo what `_start_block` set, in case the block had no text to carry it."""
        if tag in _HEADING_TAGS:
            self._heading = False
        elif tag == "li":
            self._prefix = ""
        elif tag in _LIST_TAGS and self._lists:
            self._lists.pop()

    def _flush(self) -> None:
        """Emit the buffered text as a line of the current block; the list marker goes on its first line only."""
        text = _collapse("".join(self._buffer))
        self._buffer.clear()
        if text:
            self._blocks[-1].append(Line(text=self._prefix + text, heading=self._heading))
            self._prefix = ""

    def _line_break(self) -> None:
        if self._cells is None:
            self._flush()
        else:
            self._buffer.append(" ")

    def _boundary(self) -> None:
        """End the current block; within a table row a block boundary only separates words."""
        if self._cells is not None:
            self._buffer.append(" ")
            return
        self._flush()
        if self._blocks[-1]:
            self._blocks.append([])

    def _start_row(self) -> None:
        if self._row_depth == 0:
            self._boundary()
            self._cells = []
        self._row_depth += 1

    def _end_cell(self) -> None:
        if self._cells is not None:
            text = _collapse("".join(self._buffer))
            self._buffer.clear()
            if text:
                self._cells.append(text)

    def _end_row(self) -> None:
        self._row_depth = max(self._row_depth - 1, 0)
        if self._row_depth or self._cells is None:
            return
        self._end_cell()
        row, self._cells = " | ".join(self._cells), None
        self._buffer.append(row)
        self._boundary()


def _walk(root: LexborNode, keep: Callable[[LexborNode], bool]) -> Iterator[tuple[LexborNode, bool]]:
    """Yield (node, True) on entering and (element, False) on leaving, in document order, skipping unkept subtrees.

    `keep` is asked as each node is reached, so it may depend on what the consumer has seen so far.
    """
    root_id = root.mem_id
    node = root.child
    while node is not None:
        if keep(node):
            yield node, True
            if node.is_element_node:
                if node.child is not None:
                    node = node.child
                    continue
                yield node, False
        while node.next is None:
            node = node.parent
            if node is None or node.mem_id == root_id:
                return
            yield node, False
        node = node.next


def _int_attribute(node: LexborNode, name: str, default: int) -> int:
    try:
        return int(node.attributes.get(name) or default)
    except ValueError:
        return default


def _join_blocks(blocks: Iterable[list[Line]]) -> list[Line]:
    """One empty line between non-empty blocks, which is how the chunker sees paragraph ends."""
    lines: list[Line] = []
    for block in blocks:
        if not block:
            continue
        if lines:
            lines.append(Line(text=""))
        lines.extend(block)
    return lines


# --- PDF -----------------------------------------------------------------------------------------------------------

_EDGE_LINES = 3  # how many non-blank lines at each end of a page may be a running header, footer or page number
_PAGE_NUMBER = re.compile(r"\s*(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?\s*(?:(?:of|/)\s*\d{1,4}\s*)?", re.I)
_PRIVATE_USE_BULLET = re.compile(r"^(\s*)[\uf000-\uf8ff]")
_SENTENCE_END = re.compile(r"[.?!:;][\"'’”)\]]*$")


def _parse_pdf(path: Path, data: bytes) -> list[Line]:
    """Empty password first: many council PDFs are 'encrypted' only to stop editing, and open without one."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        hint = "save a copy without the password, then re-run `index`"
        raise DocumentError(path, "PDF is encrypted with a password", hint=hint)
    pages = [_page_lines(page.extract_text()) for page in reader.pages]
    return [Line(text=text) for text in _join_pages(_without_furniture(pages))]


def _page_lines(text: str) -> list[str]:
    """A page's lines with trailing spaces gone and symbol-font bullet glyphs turned into '•'."""
    return [_PRIVATE_USE_BULLET.sub(r"\1•", line.rstrip()) for line in text.splitlines()]


def _edge_indices(lines: list[str]) -> set[int]:
    filled = [i for i, line in enumerate(lines) if line]
    return set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:])


def _furniture_key(line: str) -> str:
    """Compare lines with numbers blanked, so 'Report, 5 to 16 May 2022 3' matches the same header on page 4."""
    return re.sub(r"\d+", "#", _collapse(line)).casefold()


def _running_keys(pages: list[list[str]]) -> set[str]:
    """Lines at the top or bottom of at least half the pages of a 3+ page document are headers or footers."""
    if len(pages) < 3:
        return set()
    counts = Counter(key for page in pages for key in {_furniture_key(page[i]) for i in _edge_indices(page)})
    return {key for key, count in counts.items() if 2 * count >= len(pages)}


def _without_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Drop page numbers and running headers/footers, but only near page edges, where they are printed."""
    running = _running_keys(pages)

    def is_furniture(line: str) -> bool:
        return bool(_PAGE_NUMBER.fullmatch(line)) or _furniture_key(line) in running

    kept = []
    for page in pages:
        edges = _edge_indices(page)
        lines = [line for i, line in enumerate(page) if i not in edges or not is_furniture(line)]
        if edges and is_furniture(page[max(edges)]):
            _drop_trailing_blanks(lines)  # blanks above a footer are layout, not the end of a paragraph
        kept.append(lines)
    return kept


def _drop_trailing_blanks(lines: list[str]) -> None:
    while lines and not lines[-1]:
        lines.pop()


def _join_pages(pages: list[list[str]]) -> list[str]:
    """Concatenate pages, keeping single blank lines as paragraph ends.

    A page break is not a paragraph break: blank lines at the top of a page go, so a paragraph split across pages
    joins up again. pypdf shows no blank where a paragraph ends exactly at a page end, so one is added when the
    page's last line looks like a paragraph's last line: ending a sentence well short of the usual line width.
    """
    width = _usual_width(pages)
    lines: list[str] = []
    for page in pages:
        start = next((i for i, line in enumerate(page) if line), len(page))
        if start < len(page) and lines and _ends_paragraph(lines[-1], width):
            lines.append("")
        for line in page[start:]:
            if line or (lines and lines[-1]):
                lines.append(line)
    _drop_trailing_blanks(lines)
    return lines


def _usual_width(pages: list[list[str]]) -> int:
    """The length of a full line of body text: the 90th percentile of line lengths."""
    lengths = sorted(len(line) for page in pages for line in page if line)
    return lengths[len(lengths) * 9 // 10] if lengths else 0


def _ends_paragraph(line: str, width: int) -> bool:
    return len(line) < 0.8 * width and bool(_SENTENCE_END.search(line))


# --- DOCX ----------------------------------------------------------------------------------------------------------

# python-docx holds every part in memory: a 20 MB text-only DOCX expands to ~200 MB of XML, a zip bomb to far more.
_DOCX_EXPANDED_LIMIT = 300_000_000
_WORD_HEADING_STYLE = re.compile(r"Heading \d+|Title")


def _parse_docx(path: Path, data: bytes) -> list[Line]:
    """Body paragraphs and tables in document order; headers, footers and comments are not the document."""
    _check_docx_expansion(path, data)
    return _join_blocks(_docx_blocks(docx.Document(io.BytesIO(data))))


def _docx_blocks(document: WordDocument) -> Iterator[list[Line]]:
    """Each paragraph is a block, and so is each table row, as in HTML."""
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            yield _paragraph_lines(block)
        else:
            yield from ([line] for line in _row_lines(block))


def _check_docx_expansion(path: Path, data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        expanded = sum(info.file_size for info in archive.infolist())
    if expanded > _DOCX_EXPANDED_LIMIT:
        problem = f"DOCX expands to {expanded:,} bytes, over the {_DOCX_EXPANDED_LIMIT:,}-byte limit"
        raise DocumentError(path, problem)


def _paragraph_lines(paragraph: Paragraph) -> list[Line]:
    """A paragraph's lines (split at manual line breaks); list paragraphs get a '•' on their first line."""
    style = (paragraph.style.name if paragraph.style is not None else None) or ""
    heading = bool(_WORD_HEADING_STYLE.fullmatch(style))
    texts = [text for text in map(_collapse, paragraph.text.split("\n")) if text]
    if texts and not heading and _is_list_paragraph(paragraph, style):
        texts[0] = "• " + texts[0]
    return [Line(text=text, heading=heading) for text in texts]


def _is_list_paragraph(paragraph: Paragraph, style: str) -> bool:
    """A 'List …' style, or direct numbering properties (how Word marks bullets typed into a Normal paragraph)."""
    properties = paragraph._p.pPr
    return style.startswith("List") or (properties is not None and properties.numPr is not None)


def _row_lines(table: Table) -> list[Line]:
    """One line per row, cells joined by ' | '; a merged cell repeats in python-docx, so it is taken once."""
    lines = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is not previous:
                cells.append(_collapse(cell.text))
            previous = cell._tc
        text = " | ".join(cell for cell in cells if cell)
        if text:
            lines.append(Line(text=text))
    return lines


_PARSERS: dict[str, Callable[[Path, bytes], list[Line]]] = {
    ".txt": _parse_txt,
    ".md": _parse_md,
    ".html": _parse_html,
    ".htm": _parse_html,
    ".pdf": _parse_pdf,
    ".docx": _parse_docx,
}
