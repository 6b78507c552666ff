"""Parsers turn real files into the lines the chunker needs, and refuse broken files with one clear line."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from index import parsing
from index.errors import DocumentError
from index.models import Line
from index.parsing import SUPPORTED_SUFFIXES, parse_file
from tests import filemakers as fm

OFSTED = "corpora/ofsted-ilacs"
PAGE_NUMBER_ONLY = re.compile(r"\s*(page\s*)?\d{1,4}(\s*of\s*\d{1,4})?\s*", re.IGNORECASE)
PRIVATE_USE = re.compile("[\uf000-\uf8ff]")


def texts(path: Path) -> list[str]:
    return [line.text for line in parse_file(path, path.name).lines]


def headings(path: Path) -> list[str]:
    return [line.text for line in parse_file(path, path.name).lines if line.heading]


def test_supported_suffixes_are_the_six_formats() -> None:
    assert SUPPORTED_SUFFIXES == {".txt", ".md", ".html", ".htm", ".pdf", ".docx"}


# --- text and Markdown -------------------------------------------------------------------------------------------


def test_txt_keeps_every_line_and_strips_only_trailing_whitespace(tmp_path: Path) -> None:
    path = fm.write_text(tmp_path, "minutes.txt", "Agenda item  \r\n\r\n  (a) first point\t\r\nwraps here\n")
    parsed = parse_file(path, "council/minutes.txt")
    assert parsed.source == "council/minutes.txt"
    assert parsed.lines == [
        Line(text="Agenda item"),
        Line(text=""),
        Line(text="  (a) first point"),
        Line(text="wraps here"),
    ]


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("utf-16-le", True), ("utf-16-be", True)]
)
def test_txt_accepts_utf8_and_bom_marked_utf16(tmp_path: Path, encoding: str, bom: bool) -> None:
    path = fm.write_text(tmp_path, "letter.txt", "Children’s services\n£5,000 café", encoding=encoding, bom=bom)
    assert texts(path) == ["Children’s services", "£5,000 café"]


@pytest.mark.parametrize(("name", "wrap"), [("memo.txt", str), ("memo.md", str),
                                            ("memo.html", lambda text: f"<html><body><p>{text}</p></body></html>")])
def test_windows_1252_files_from_council_pcs_are_read(tmp_path: Path, name: str, wrap: Callable[[str], str]) -> None:
    text = "Children’s services – a “good” rating, £5,000 café"
    path = fm.write_bytes(tmp_path, name, wrap(text).encode("cp1252"))
    assert texts(path) == [text]


def test_seed_documents_round_trip(repo_root: Path) -> None:
    seeds = sorted((repo_root / "corpus").glob("*.txt"))
    assert len(seeds) == 5
    for seed in seeds:
        raw = seed.read_text(encoding="utf-8").replace("\r\n", "\n")
        expected = re.sub(r"[^\S\n]+$", "", raw, flags=re.MULTILINE).removesuffix("\n")  # no-break spaces too
        parsed = parse_file(seed, seed.name)
        assert parsed.text == expected, seed.name
        assert not any(line.heading for line in parsed.lines)


def test_md_flags_atx_headings_but_not_code_or_hashtags(tmp_path: Path) -> None:
    source = "# Improvement plan\n\nBody text #1\n#hashtag\n```\n# a comment in code\n```\n  ## Progress  \n"
    path = fm.write_text(tmp_path, "plan.md", source)
    parsed = parse_file(path, "plan.md")
    assert parsed.text == "# Improvement plan\n\nBody text #1\n#hashtag\n```\n# a comment in code\n```\n  ## Progress"
    assert [line.text for line in parsed.lines if line.heading] == ["# Improvement plan", "  ## Progress"]


# --- HTML ----------------------------------------------------------------------------------------------------------

CHROME = """
<a class="skip-link" href="#main">Skip to main content</a>
<div id="cookie-banner">We use cookies</div>
<header><p>Testshire Council</p></header>
<nav><ul><li>Home</li><li>Meetings</li></ul></nav>
<ul class="breadcrumbs"><li>Committees</li></ul>
<div class="mainMenu">Services A-Z</div>
<div role="banner">Banner text</div>
<script>var tracking = "Script text";</script><style>p { color: red }</style>
<noscript>Enable JavaScript</noscript><template><p>Template text</p></template>
<svg><text>Logo text</text></svg>
<form><label>Search this site</label></form>
<aside>Related links</aside>
<div role="contentinfo">Contact us</div>
<footer>Copyright Testshire</footer>
"""


def test_html_drops_page_chrome(tmp_path: Path) -> None:
    path = fm.make_html(tmp_path, "item.html", CHROME + "<h1>Agenda item 5</h1><p>Minutes of the meeting.</p>")
    assert texts(path) == ["Agenda item 5", "", "Minutes of the meeting."]
    assert headings(path) == ["Agenda item 5"]


@pytest.mark.parametrize("wrapper", ['<main>{}</main>', '<div role="main">{}</div>', '<div id="content">{}</div>'])
def test_html_prefers_the_main_content_region(tmp_path: Path, wrapper: str) -> None:
    body = "<div>Sidebar promotion</div>" + wrapper.format("<p>Decision: approved.</p>") + "<div>Footer blurb</div>"
    assert texts(fm.make_html(tmp_path, "page.htm", body)) == ["Decision: approved."]


def test_html_blocks_become_lines_with_collapsed_whitespace(tmp_path: Path) -> None:
    body = """<main>
      <h2>Children’s   services
        update</h2>
      <p>Officers   reported <b>good</b>&nbsp;progress.<br>Second line of the paragraph.</p>
      <div>Direct div text<p>Inner paragraph</p>tail text</div>
      <blockquote>A quote</blockquote>
      <dl><dt>DCS</dt><dd>Director of Children’s Services</dd></dl>
      <pre>kept   as
      one line</pre>
      <article><header><h3>Article heading</h3></header><p>Article body</p></article>
    </main>"""
    assert texts(fm.make_html(tmp_path, "update.html", body)) == [
        "Children’s services update",
        "",
        "Officers reported good progress.",
        "Second line of the paragraph.",
        "",
        "Direct div text",
        "",
        "Inner paragraph",
        "",
        "tail text",
        "",
        "A quote",
        "",
        "DCS",
        "",
        "Director of Children’s Services",
        "",
        "kept as one line",
        "",
        "Article heading",
        "",
        "Article body",
    ]


def test_html_list_items_are_marked(tmp_path: Path) -> None:
    body = """<ul><li>First bullet</li><li><p>Second bullet</p><ul><li>Nested bullet</li></ul></li>
    <li><div></div>After an empty block</li></ul>
    <ol><li>One</li><li>Two</li></ol><ol start="4"><li>Four</li></ol><p>Not a list item</p>"""
    non_blank = [text for text in texts(fm.make_html(tmp_path, "lists.html", body)) if text]
    assert non_blank == [
        "• First bullet",
        "• Second bullet",
        "• Nested bullet",
        "• After an empty block",
        "1. One",
        "2. Two",
        "4. Four",
        "Not a list item",
    ]


def test_html_table_rows_join_cells(tmp_path: Path) -> None:
    body = """<table><caption>Recorded vote</caption>
      <thead><tr><th>Councillor</th><th>Vote</th></tr></thead>
      <tbody><tr><td><p>Cllr  Smith</p><p>(Chair)</p></td><td></td><td>For</td></tr></tbody></table>"""
    assert texts(fm.make_html(tmp_path, "votes.html", body)) == [
        "Recorded vote",
        "",
        "Councillor | Vote",
        "",
        "Cllr Smith (Chair) | For",
    ]


def test_html_10000_deep_nesting_parses(tmp_path: Path) -> None:
    assert texts(fm.make_nested_html(tmp_path, "deep.html", 10_000)) == ["deep text"]


def test_html_that_would_stall_the_tree_builder_is_refused_quickly(tmp_path: Path) -> None:
    path = fm.make_html(tmp_path, "hostile.html", "<span>" * 50_000 + "</div>" * 500_000)
    started = time.monotonic()
    with pytest.raises(DocumentError, match="nests elements too deeply"):
        parse_file(path, path.name)
    assert time.monotonic() - started < 5


# --- PDF -----------------------------------------------------------------------------------------------------------

HEADER = "Inspection of Testshire local authority children’s services"


def with_furniture(bodies: list[list[str]]) -> list[list[str]]:
    """Pages laid out like an Ofsted report: a running header with the page number, and a page-number footer."""
    return [[HEADER, f"5 to 16 May 2024 {n}", "", *body, "", str(n)] for n, body in enumerate(bodies, start=1)]


def test_pdf_drops_running_headers_and_page_numbers_and_marks_bullets(tmp_path: Path) -> None:
    pages = with_furniture(
        [
            ["What needs to improve", "\uf06e The timeliness of assessments for children in need.", "",
             "1. Leaders have a clear understanding of the strengths and weaknesses of", "their services."],
            [
                "2. Social workers know their children well and develop strong relationships",
                "with them and this paragraph",
                "runs on across the page break without any blank line between the pages and",
                "ends here.",
            ],
            ["3. Care leavers are well supported by personal advisers who know them well."],
        ]
    )
    assert texts(fm.make_pdf(tmp_path, "report.pdf", pages)) == [
        "What needs to improve",
        "• The timeliness of assessments for children in need.",
        "",
        "1. Leaders have a clear understanding of the strengths and weaknesses of",
        "their services.",
        "",
        "2. Social workers know their children well and develop strong relationships",
        "with them and this paragraph",
        "runs on across the page break without any blank line between the pages and",
        "ends here.",
        "",
        "3. Care leavers are well supported by personal advisers who know them well.",
    ]


def test_pdf_paragraph_broken_by_a_page_break_joins_up(tmp_path: Path) -> None:
    pages = with_furniture(
        [
            [
                "1. The local authority has strengthened its front door so that most children",
                "receive a timely response and",
            ],
            ["the right help. Managers provide clear direction to social workers about next", "steps for children."],
            ["2. Children in care live in stable homes with carers who meet their needs well."],
        ]
    )
    assert texts(fm.make_pdf(tmp_path, "continued.pdf", pages))[:4] == [
        "1. The local authority has strengthened its front door so that most children",
        "receive a timely response and",
        "the right help. Managers provide clear direction to social workers about next",
        "steps for children.",
    ]


def test_pdf_with_two_pages_keeps_repeated_lines_but_drops_page_numbers(tmp_path: Path) -> None:
    pages = [["Agenda", "Item one", "1"], ["Agenda", "Item two", "2"]]
    assert texts(fm.make_pdf(tmp_path, "agenda.pdf", pages)) == ["Agenda", "Item one", "Agenda", "Item two"]


def test_pdf_encrypted_with_an_empty_user_password_opens(tmp_path: Path) -> None:
    path = fm.make_encrypted_pdf(tmp_path, "locked-for-editing.pdf", [["Open to read."]], user_password="")
    assert texts(path) == ["Open to read."]


def test_pdf_suffix_is_case_insensitive(tmp_path: Path) -> None:
    assert texts(fm.make_pdf(tmp_path, "SCAN0001.PDF", [["Report text"]])) == ["Report text"]


@pytest.mark.parametrize(
    "name",
    [
        "blackpool_2019-01-17_ofsted-childrens-services-inspection.pdf",
        "blackpool_2023-02-01_ofsted-childrens-services-inspection.pdf",
        "sefton_2025-08-12_ofsted-childrens-services-inspection.pdf",
    ],
)
def test_real_ofsted_report_gives_clean_numbered_paragraphs(shared_dir: Path, name: str) -> None:
    lines = texts(shared_dir / OFSTED / name)
    numbers = [int(match[1]) for line in lines if (match := re.match(r"(\d+)\. [A-Z]", line))]
    assert numbers[:20] == list(range(1, 21))
    assert "What needs to improve" in {line.rstrip("?1") for line in lines}
    assert not [line for line in lines if PAGE_NUMBER_ONLY.fullmatch(line)]
    assert not [line for line in lines if re.fullmatch(r"Inspection of .+ local authority children’s services", line)]
    assert not [line for line in lines if re.fullmatch(r"\d+ to \d+ \w+ \d{4}( \d+)?", line)]
    assert not [line for line in lines if PRIVATE_USE.search(line)]
    assert "" not in (lines[0], lines[-1]) and "\n".join(lines).count("\n\n\n") == 0


def test_old_style_ofsted_bullets_become_bullet_points(shared_dir: Path) -> None:
    lines = texts(shared_dir / OFSTED / "blackpool_2019-01-17_ofsted-childrens-services-inspection.pdf")
    assert "• The identification of and response to risk, particularly in relation to long-standing" in lines


def test_every_real_ofsted_pdf_parses_cleanly(shared_dir: Path) -> None:
    pdfs = sorted((shared_dir / OFSTED).glob("*.pdf"))
    assert len(pdfs) >= 40
    for pdf in pdfs:
        lines = texts(pdf)
        assert sum(bool(re.match(r"\d+\. ", line)) for line in lines) >= 20, pdf.name
        assert not [line for line in lines if PAGE_NUMBER_ONLY.fullmatch(line) or PRIVATE_USE.search(line)], pdf.name


# --- DOCX ----------------------------------------------------------------------------------------------------------


def test_docx_paragraphs_headings_lists_and_tables_in_order(tmp_path: Path) -> None:
    blocks: list[fm.DocxBlock] = [
        ("Title", "Improvement plan"),
        ("Heading 1", "1. Summary"),
        "The plan   sets out\tsix priorities.\nA second line after a break.",
        ("List Bullet", "Recruit permanent social workers"),
        ("List Number", "Reduce caseloads"),
        [["Action", "Owner", "Due"], ["Audit", "", "June"]],
        "",
        "Closing paragraph.",
    ]
    path = fm.make_docx(tmp_path, "plan.docx", blocks)
    assert texts(path) == [
        "Improvement plan",
        "",
        "1. Summary",
        "",
        "The plan sets out six priorities.",
        "A second line after a break.",
        "",
        "• Recruit permanent social workers",
        "",
        "• Reduce caseloads",
        "",
        "Action | Owner | Due",
        "",
        "Audit | June",
        "",
        "Closing paragraph.",
    ]
    assert headings(path) == ["Improvement plan", "1. Summary"]


def test_docx_direct_numbering_marks_a_list_item_and_merged_cells_count_once(tmp_path: Path) -> None:
    blocks: list[fm.DocxBlock] = ["Typed as a list item", [["Merged heading", ""], ["left", "right"]]]
    path = fm.make_docx(tmp_path, "numbered.docx", blocks)
    document = docx.Document(str(path))
    paragraph_properties = document.paragraphs[0]._p.get_or_add_pPr()
    numbering = OxmlElement("w:numPr")
    for tag in ("w:ilvl", "w:numId"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), "1" if tag == "w:numId" else "0")
        numbering.append(element)
    paragraph_properties.append(numbering)
    table = document.tables[0]
    table.cell(0, 0).merge(table.cell(0, 1))
    document.save(str(path))
    assert texts(path) == ["• Typed as a list item", "", "Merged heading", "", "left | right"]


# --- broken files ------------------------------------------------------------------------------------------------

REAL_PDF = "blackpool_2019-01-17_ofsted-childrens-services-inspection.pdf"
Maker = Callable[[Path, Path], Path]

BROKEN: dict[str, tuple[Maker, str]] = {
    "empty": (lambda d, s: fm.write_bytes(d, "empty.txt", b""), "empty file (0 bytes)"),
    "whitespace only": (lambda d, s: fm.write_text(d, "blank.md", " \n\t\n   \n"), "only whitespace"),
    "NUL bytes in text": (lambda d, s: fm.write_bytes(d, "binary.txt", b"Agenda\x00\x01\x02"), "NUL byte at offset 6"),
    "neither UTF-8 nor Windows-1252": (
        lambda d, s: fm.write_bytes(d, "odd.txt", b"Caf\x81 menu"),
        "not valid UTF-8 or Windows-1252: byte 0x81 at offset 3",
    ),
    "UTF-8 with a stray byte": (
        lambda d, s: fm.write_bytes(d, "mixed.txt", "Children’s services".encode() + b" caf\xe9"),
        "not valid UTF-8: byte 0xE9 at offset 25",
    ),
    "bad UTF-16": (lambda d, s: fm.write_bytes(d, "bad16.txt", b"\xff\xfeA\x00\x00\xd8"), "not valid UTF-16"),
    "NUL in UTF-16": (
        lambda d, s: fm.write_text(d, "nul16.txt", "a\x00b", encoding="utf-16-le", bom=True),
        "NUL character",
    ),
    "truncated PDF": (lambda d, s: fm.truncated_copy(s / OFSTED / REAL_PDF, d, "cut.pdf"), "truncated or corrupt"),
    "random bytes as PDF": (lambda d, s: fm.make_random_file(d, "noise.pdf"), "truncated or corrupt"),
    "encrypted PDF": (lambda d, s: fm.make_encrypted_pdf(d, "locked.pdf", [["Secret"]]), "encrypted with a password"),
    "scanned PDF": (lambda d, s: fm.make_pdf(d, "scan.pdf", [[], []]), "no extractable text"),
    "random bytes as DOCX": (lambda d, s: fm.make_random_file(d, "noise.docx", seed=1), "truncated or corrupt"),
    "truncated DOCX": (
        lambda d, s: fm.truncated_copy(fm.make_docx(d, "whole.docx", ["Some text"]), d, "cut.docx"),
        "truncated or corrupt",
    ),
    "empty DOCX": (lambda d, s: fm.make_docx(d, "blank.docx", ["", "   "]), "no text in the document body"),
    "HTML of only navigation": (lambda d, s: fm.make_html(d, "nav.html", CHROME), "no text outside navigation"),
    "unsupported suffix": (lambda d, s: fm.write_text(d, "budget.xlsx", "a,b"), "unsupported file type '.xlsx'"),
    "no suffix": (lambda d, s: fm.write_text(d, "README", "text"), "unsupported file type '(no suffix)'"),
    "directory": (lambda d, s: _mkdir(d / "folder.txt"), "cannot read the file"),
}


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_file_raises_one_line_error_naming_it(tmp_path: Path, shared_dir: Path, case: str) -> None:
    make, problem = BROKEN[case]
    path = make(tmp_path, shared_dir)
    with pytest.raises(DocumentError) as raised:
        parse_file(path, path.name)
    message = str(raised.value)
    assert message.startswith(f"{path}: ")
    assert problem in raised.value.problem
    assert "\n" not in message and "\r" not in message


def test_oversize_file_names_its_size_and_the_limit(tmp_path: Path) -> None:
    path = fm.write_text(tmp_path, "huge.txt", "x" * 1_001)
    with pytest.raises(DocumentError, match=r"huge\.txt: file is 1,001 bytes, over the 1,000-byte limit"):
        parse_file(path, path.name, max_bytes=1_000)
    assert texts(fm.write_text(tmp_path, "fits.txt", "x" * 1_000)) == ["x" * 1_000]


def test_docx_that_expands_past_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing.docx, "_DOCX_EXPANDED_LIMIT", 1_000)
    path = fm.make_docx(tmp_path, "bomb.docx", ["text"])
    with pytest.raises(DocumentError, match="expands to"):
        parse_file(path, path.name)


def test_library_failures_never_escape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_: object) -> None:
        raise RecursionError("maximum recursion depth exceeded\nwhile reading")

    monkeypatch.setattr(parsing.pdf.pypdf, "PdfReader", explode)
    path = fm.make_pdf(tmp_path, "fine.pdf", [["text"]])
    expected = r"RecursionError: maximum recursion depth exceeded while reading"
    with pytest.raises(DocumentError, match=expected) as raised:
        parse_file(path, path.name)
    assert "\n" not in str(raised.value)


def test_pypdf_warnings_never_reach_the_terminal(tmp_path: Path, repo_root: Path) -> None:
    """pypdf logs 'EOF marker not found' for a cut PDF; with no logging set up Python would print it bare."""
    import subprocess
    import sys

    whole = fm.make_pdf(tmp_path, "whole.pdf", [["Minutes of the meeting"] * 5]).read_bytes()
    fm.write_bytes(tmp_path, "cut.pdf", whole[:-10])
    script = ("import sys; from pathlib import Path; from index.errors import DocumentError; "
              "from index.parsing import parse_file\n"
              "try: parse_file(Path(sys.argv[1]), 'cut.pdf')\nexcept DocumentError as error: print(error)")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "cut.pdf")], capture_output=True,
                            text=True, timeout=120, cwd=repo_root)
    assert result.stderr == ""
    assert result.stdout.count("\n") == 1 and "cut.pdf: cannot read this PDF file" in result.stdout
