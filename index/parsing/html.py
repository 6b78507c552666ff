"""HTML: one line per block element, without the page's navigation, banners and other chrome."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from index.errors import DocumentError
from index.models import Line
from index.parsing.common import collapse, decode, join_blocks

FORMAT = "HTML"
NO_TEXT = "no text outside navigation and markup"

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


def parse(path: Path, data: bytes) -> list[Line]:
    text = decode(path, data)
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
        return join_blocks(self._blocks)

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
        text = collapse("".join(self._buffer))
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
            text = collapse("".join(self._buffer))
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
