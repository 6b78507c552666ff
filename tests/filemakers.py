"""Writers of real files (text, HTML, PDF, DOCX, broken ones) for tests that parse what a council might publish.

Every function takes the folder and file name to write and returns the Path written, so parser tests and
fuzz tests can build any mix of well-formed and hostile inputs in `tmp_path` without shipping fixtures.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from pathlib import Path

import docx
from docx.document import Document as WordDocument
import pypdf

# A DOCX block: a str is a Normal paragraph, (style, text) a paragraph in that style, a list of rows a table.
DocxBlock = str | tuple[str, str] | Sequence[Sequence[str]]

_PAGE_TOP = 760
_LINE_STEP = 14


def write_bytes(folder: Path, name: str, data: bytes) -> Path:
    """Write raw bytes: the base of every other maker, and the way to make empty or binary files."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_text(folder: Path, name: str, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    """Write text in a chosen encoding, optionally with its byte-order mark (e.g. 'utf-16-le' + BOM)."""
    prefix = "\ufeff" if bom else ""
    return write_bytes(folder, name, (prefix + text).encode(encoding))


def make_html(folder: Path, name: str, body: str, head: str = "<title>Test page</title>") -> Path:
    """Wrap an HTML body fragment in a full UTF-8 document."""
    page = f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">{head}</head>\n<body>{body}</body></html>\n'
    return write_text(folder, name, page)


def nested_html(depth: int, text: str = "deep text", tag: str = "div") -> str:
    """A body fragment with `text` inside `depth` nested elements, to test parsers that must not recurse."""
    return f"<{tag}>" * depth + text + f"</{tag}>" * depth


def make_nested_html(folder: Path, name: str, depth: int, text: str = "deep text", tag: str = "div") -> Path:
    """Write a page whose text sits `depth` elements deep."""
    return make_html(folder, name, nested_html(depth, text, tag))


# Byte codes that cp1252 leaves undefined: a PDF may map them (via a ToUnicode CMap) to any other character,
# such as the private-use bullet glyphs (U+F06E) that symbol fonts put in real council PDFs.
_SPARE_CODES = (0x81, 0x8D, 0x8F, 0x90, 0x9D)


def _cp1252_code(char: str) -> int | None:
    try:
        return char.encode("cp1252")[0]
    except UnicodeEncodeError:
        return None


def _spare_code_map(pages: Sequence[Sequence[str]]) -> dict[str, int]:
    """Give each character that cp1252 cannot encode one of the spare codes."""
    extras = sorted({char for lines in pages for line in lines for char in line if _cp1252_code(char) is None})
    if len(extras) > len(_SPARE_CODES):
        raise ValueError(f"at most {len(_SPARE_CODES)} characters outside cp1252 per PDF, got {extras}")
    return dict(zip(extras, _SPARE_CODES))


def _pdf_string(text: str, spare: dict[str, int]) -> str:
    """Encode text as a PDF literal string in WinAnsi (cp1252) plus spare codes, escaping PDF's reserved bytes."""
    out = []
    for char in text:
        code = spare[char] if char in spare else char.encode("cp1252")[0]
        if chr(code) in "()\\":
            out.append("\\" + chr(code))
        elif 32 <= code < 127:
            out.append(chr(code))
        else:
            out.append(f"\\{code:03o}")
    return "(" + "".join(out) + ")"


def _page_content(lines: Sequence[str], spare: dict[str, int]) -> bytes:
    """Draw each line one step below the last (an empty one as a space, which extractors report as a blank line);
    a page with no lines gets only a drawn box, like a scan."""
    if not lines:
        return b"0.5 g 72 72 300 300 re f"
    ops = [f"BT /F1 11 Tf {_LINE_STEP} TL 72 {_PAGE_TOP} Td"]
    ops += [f"{_pdf_string(line or ' ', spare)} Tj T*" for line in lines]
    ops.append("ET")
    return "\n".join(ops).encode("ascii")


def _to_unicode_cmap(spare: dict[str, int]) -> bytes:
    """A CMap that tells text extractors which character each spare code stands for."""
    entries = "\n".join(f"<{code:02X}> <{ord(char):04X}>" for char, code in spare.items())
    return (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Spare def /CMapType 2 def\n"
        f"1 begincodespacerange <00> <FF> endcodespacerange\n{len(spare)} beginbfchar\n{entries}\nendbfchar\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode("ascii")


def _stream(data: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def pdf_bytes(pages: Sequence[Sequence[str]]) -> bytes:
    """A minimal valid PDF: one page per item, each line drawn in Helvetica.

    Lines may use cp1252 characters and up to five others (e.g. "\\uf06e"), which extract back unchanged.
    """
    count = len(pages)
    spare = _spare_code_map(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    to_unicode = f" /ToUnicode {4 + 2 * count} 0 R" if spare else ""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        f"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding{to_unicode} >>".encode(),
    ]
    for i, lines in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(_stream(_page_content(lines, spare)))
    if spare:
        objects.append(_stream(_to_unicode_cmap(spare)))
    return assemble_pdf(objects)


def make_pdf(folder: Path, name: str, pages: Sequence[Sequence[str]]) -> Path:
    """Write a PDF whose pages hold the given lines; an empty page has no text layer at all."""
    return write_bytes(folder, name, pdf_bytes(pages))


def make_encrypted_pdf(
    folder: Path,
    name: str,
    pages: Sequence[Sequence[str]],
    user_password: str = "secret",
    owner_password: str = "owner",
) -> Path:
    """Write a password-protected PDF; an empty user password makes one that opens without asking (RC4, no extras)."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_bytes(pages)))
    writer.encrypt(user_password=user_password, owner_password=owner_password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return write_bytes(folder, name, buffer.getvalue())


def make_docx(folder: Path, name: str, blocks: Sequence[DocxBlock]) -> Path:
    """Write a Word document from blocks: str → Normal paragraph, (style, text) → styled one, rows → table."""
    return write_bytes(folder, name, docx_bytes(blocks))


def _add_table(document: WordDocument, rows: Sequence[Sequence[str]]) -> None:
    """Add a table as wide as its widest row; short rows leave their last cells empty."""
    table = document.add_table(rows=len(rows), cols=max(len(row) for row in rows))
    for row, values in zip(table.rows, rows):
        for cell, value in zip(row.cells, values):
            cell.text = value


def truncated_copy(source: Path, folder: Path, name: str, fraction: float = 0.5) -> Path:
    """Copy the first `fraction` of a file, as an interrupted download would leave it."""
    data = source.read_bytes()
    return write_bytes(folder, name, data[: int(len(data) * fraction)])


def random_bytes(size: int, seed: int = 0) -> bytes:
    """Reproducible noise, for files whose name promises a format their content does not have."""
    return random.Random(seed).randbytes(size)


def make_random_file(folder: Path, name: str, size: int = 4096, seed: int = 0) -> Path:
    """Write `size` bytes of reproducible noise under any name."""
    return write_bytes(folder, name, random_bytes(size, seed))


# --- hostile files, for the reliability suite's fuzzing ------------------------------------------------------------


def make_large_file(folder: Path, name: str, size: int, line: bytes = b"The panel met and discussed placements. ") -> Path:
    """Write exactly `size` real bytes (not a sparse file) by repeating `line`, a megabyte at a time."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    block = line * max(1, (1 << 20) // len(line))
    with path.open("wb") as handle:
        left = size
        while left > 0:
            handle.write(block[:left])
            left -= min(left, len(block))
    return path


def assemble_pdf(objects: Sequence[bytes], root: int = 1) -> bytes:
    """Number raw object bodies from 1 and give them a correct cross-reference table and trailer, so a test can
    build PDFs whose structure is hostile (cycles, deep nesting, bad streams) while the file itself is well-formed."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref_at)
    return bytes(out)


def _one_page_pdf(content: bytes, stream_dict: bytes = b"") -> bytes:
    return assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Length %d%s >>\nstream\n" % (len(content), stream_dict) + content + b"\nendstream",
    ])


def hostile_pdf_bytes(kind: str) -> bytes:
    """Small PDFs whose structure attacks a reader: each kind names what it does."""
    import zlib

    text = b"BT /F1 11 Tf 72 760 Td (Placement sufficiency was discussed.) Tj ET"
    if kind == "cyclic-page-tree":
        return assemble_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                             b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"])
    if kind == "self-parent-page":
        return assemble_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"])
    if kind == "deep-arrays":
        return _one_page_pdf(b"[" * 20_000 + text)
    if kind == "deep-dictionaries":
        return _one_page_pdf(b"<< /A " * 5_000 + text)
    if kind == "huge-page-count":
        return _one_page_pdf(text).replace(b"/Count 1", b"/Count 2147483647")
    if kind == "wrong-stream-length":
        return _one_page_pdf(text).replace(b"/Length %d" % len(text), b"/Length 99999999")
    if kind == "garbage-flate":
        return _one_page_pdf(random_bytes(512, seed=7), b" /Filter /FlateDecode")
    if kind == "flate-bomb":
        return _one_page_pdf(zlib.compress(b" " * 60_000_000, 9), b" /Filter /FlateDecode")
    if kind == "unknown-filter":
        return _one_page_pdf(text, b" /Filter /NoSuchDecode")
    if kind == "missing-objects":
        return assemble_pdf([b"<< /Type /Catalog /Pages 9 0 R >>"])
    if kind == "no-root":
        return assemble_pdf([b"<< /Type /Pages /Kids [] /Count 0 >>"], root=7)
    if kind == "text-then-garbage":
        return pdf_bytes([["Placement sufficiency was discussed."]]) + random_bytes(256, seed=3)
    raise ValueError(f"unknown hostile PDF kind {kind!r}")


HOSTILE_PDF_KINDS = (
    "cyclic-page-tree", "self-parent-page", "deep-arrays", "deep-dictionaries", "huge-page-count",
    "wrong-stream-length", "garbage-flate", "flate-bomb", "unknown-filter", "missing-objects", "no-root",
    "text-then-garbage",
)


def docx_bytes(blocks: Sequence[DocxBlock]) -> bytes:
    """The bytes `make_docx` would write, for tests that mutate a document before it reaches the disk."""
    document = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
        elif isinstance(block, tuple):
            document.add_paragraph(block[1], style=block[0])
        else:
            _add_table(document, block)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def replace_zip_member(data: bytes, member: str, content: bytes | None) -> bytes:
    """A copy of a zip (a DOCX) with one member's bytes replaced, or removed when `content` is None."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != member:
                target.writestr(info, source.read(info.filename))
        if content is not None:
            target.writestr(member, content)
    return buffer.getvalue()


def hostile_docx_bytes(kind: str) -> bytes:
    """Word documents whose parts attack a reader: each kind names what it does."""
    base = docx_bytes(["Placement sufficiency was discussed.", ("Heading 1", "Fostering"), [["a", "b"], ["c", "d"]]])
    body = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>%s</w:body></w:document>'
    run = b"<w:p><w:r><w:t>%s</w:t></w:r></w:p>"
    if kind == "entity-expansion":
        laughs = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
        ) + b"]>"
        return replace_zip_member(base, "word/document.xml", laughs + body % (run % b"&lol9;"))
    if kind == "external-entity":
        xxe = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        return replace_zip_member(base, "word/document.xml", xxe + body % (run % b"&xxe;"))
    if kind == "deep-nesting":
        deep = b"<w:sdt><w:sdtContent>" * 5_000 + run % b"deep text" + b"</w:sdtContent></w:sdt>" * 5_000
        return replace_zip_member(base, "word/document.xml", body % deep)
    if kind == "malformed-xml":
        return replace_zip_member(base, "word/document.xml", body % b"<w:p><w:r><w:t>unclosed")
    if kind == "missing-document-part":
        return replace_zip_member(base, "word/document.xml", None)
    if kind == "missing-content-types":
        return replace_zip_member(base, "[Content_Types].xml", None)
    if kind == "huge-paragraph":
        return replace_zip_member(base, "word/document.xml", body % (run % (b"word " * 400_000)))
    if kind == "not-a-zip":
        return b"PK\x03\x04" + random_bytes(2048, seed=11)
    raise ValueError(f"unknown hostile DOCX kind {kind!r}")


HOSTILE_DOCX_KINDS = ("entity-expansion", "external-entity", "deep-nesting", "malformed-xml", "missing-document-part",
                      "missing-content-types", "huge-paragraph", "not-a-zip")
