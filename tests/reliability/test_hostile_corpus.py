"""Hostile corpus: mutated PDFs, HTML pages, Word documents and text files through everything the indexer does
to one document (parse, metadata, chunking, visit extraction), then a real build over good files mixed with bad.

The fuzz is property-based (hypothesis): each input is a well-formed file of one format, or a structurally hostile
one (cyclic page trees, entity bombs, 20,000-deep arrays), put through up to five mutations: truncation, flipped
bytes, inserted noise or zero bytes, deleted or duplicated slices, splices from another format, huge lines,
re-encoding (Latin-1, UTF-16 without a mark, Shift-JIS, …), deep nesting, format keywords in the wrong place,
and for Word documents mutations of the XML inside the zip. Sometimes the file gets another format's suffix.

The property: every input either yields a document whose passages are exact slices of its text, or one
DocumentError whose message is a single line naming the file. Anything else is a crash; a parse slower than
HANG_SECONDS is a hang. Inputs that crash are saved under var/reliability/crashers/ to replay.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import logging
import os
import random
import shutil
import signal
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from index.chunking import chunk_document
from index.errors import DocumentError
from index.indexer import Indexer
from index.manifest import Manifest
from index.parsing import parse_file
from index.store import IndexStore
from index.visits import extract_events
from tests import filemakers as fm
from tests.reliability.conftest import copy_corpus
from tests.reliability.report import REPO_ROOT, by_scale

HANG_SECONDS = 30.0
CHUNK_LIMIT = 64_000  # chunking is linear but slow on huge texts (about 20 s a megabyte); bigger ones stop at parsing
CRASHERS = REPO_ROOT / "var" / "reliability" / "crashers"
SUFFIXES = {"txt": ".txt", "md": ".md", "html": ".html", "pdf": ".pdf", "docx": ".docx"}
RTL_AND_EMOJI = "مراجعة خدمات الأطفال — בדיקה \u202eevil\u202c 👩‍👧‍👦 🏳️‍🌈 e\u0301\u0301\u0301 \u200b\u200d\ufeff"


class Hang(Exception):
    """Raised by the alarm when one input takes longer than HANG_SECONDS."""


@contextlib.contextmanager
def deadline(seconds: float):
    """SIGALRM interrupts pure-Python loops (pypdf, python-docx); C code is interrupted when it returns."""
    def expire(signum, frame):
        raise Hang(f"over {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- well-formed and structurally hostile starting points ---------------------------------------------------------

def _bases() -> dict[str, list[tuple[str, bytes]]]:
    seed = (REPO_ROOT / "corpus" / "000_540197f7ec6ca2b3.txt").read_bytes()
    numbered = "Fostering panel\n\n1.1 Placement sufficiency was discussed at length.\n\n(a) Agency staff costs fell.\n"
    markdown = "# Improvement plan\n\n## Progress\n\n- item one\n- item two\n\n```\n# not a heading\n```\n\n1. First.\n"
    page = ('<nav>Home</nav><main><h1>Improvement update</h1><p>The second monitoring visit took place in July '
            '2023.</p><ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table></main>'
            '<footer>cookies</footer>')
    pdf_pages = [["Report header", "1.1 Placement sufficiency was discussed.", "", "Page 1"],
                 ["Report header", "(a) The next monitoring visit is planned for mid-April.", "Page 2"],
                 ["Report header", "• Agency staff costs fell. \uf06e bullet", "Page 3"]]
    docx_blocks = [("Heading 1", "Improvement update"), "The second monitoring visit took place in July 2023.",
                   ("List Bullet", "Placement sufficiency"), [["Area", "Judgement"], ["Care leavers", "Good"]]]
    return {
        "txt": [("seed", seed), ("numbered", numbered.encode()), ("rtl-emoji", RTL_AND_EMOJI.encode()),
                ("utf16-bom", codecs.BOM_UTF16_LE + numbered.encode("utf-16-le"))],
        "md": [("markdown", markdown.encode()), ("seed", seed)],
        "html": [("page", _page(page)),
                 ("nested-2000", _page(fm.nested_html(2000))), ("rtl-emoji", _page(f"<p>{RTL_AND_EMOJI}</p>"))],
        "pdf": [("pages", fm.pdf_bytes(pdf_pages))] + [(kind, fm.hostile_pdf_bytes(kind)) for kind in fm.HOSTILE_PDF_KINDS
                                                       if kind != "flate-bomb"],
        "docx": [("document", fm.docx_bytes(docx_blocks))] + [(kind, fm.hostile_docx_bytes(kind))
                                                            for kind in fm.HOSTILE_DOCX_KINDS if kind != "huge-paragraph"],
    }


def _page(body: str) -> bytes:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>t</title></head>\n<body>{body}'
            "</body></html>\n").encode()


BASES = _bases()
ALL_BASES = [data for bases in BASES.values() for _, data in bases]


# --- mutations: each takes the bytes, a seeded Random and the format, and returns new bytes -----------------------

TOKENS = {
    "pdf": [b"obj", b"endobj", b"stream", b"endstream", b"xref", b"trailer", b"startxref", b"<<", b">>", b"[" * 500,
            b"/Length 999999999", b"/Filter /FlateDecode", b"0 0 R", b"99999 0 R", b"/Kids [1 0 R]", b"%%EOF",
            b"/Encrypt 1 0 R", b"BT", b"ET", b"(\\", b"<FEFF", b"/Type /Page"],
    "html": [b"<div>" * 3000, b"<table>" * 500, b"<!--", b"<script>", b"<![CDATA[", b"&#0;", b"&#xD800;",
             b"<svg><math>", b"</", b"<p", b"<li>" * 1000, b"<main>", b"\x00", b"<ol start='-99999999999'>"],
    "text": [b"\r", b"\r\n\r\n", "\u2028".encode(), b"\xef\xbb\xbf", b"\x00", "\u202e".encode(), b"\xff\xfe",
             b"(a) ", b"1.1 ", "•\t".encode(), "👩‍👧‍👦".encode(), b"\xed\xa0\x80", b"\xc0\xaf", b"\t" * 1000],
}


def truncate(data: bytes, rnd: random.Random, kind: str) -> bytes:
    return data[: rnd.randrange(len(data) + 1)]


def flip_bytes(data: bytes, rnd: random.Random, kind: str) -> bytes:
    out = bytearray(data)
    for _ in range(rnd.randint(1, 16) if out else 0):
        out[rnd.randrange(len(out))] = rnd.randrange(256)
    return bytes(out)


def insert_noise(data: bytes, rnd: random.Random, kind: str) -> bytes:
    at = rnd.randrange(len(data) + 1)
    return data[:at] + rnd.randbytes(rnd.randint(1, 256)) + data[at:]


def insert_zeros(data: bytes, rnd: random.Random, kind: str) -> bytes:
    at = rnd.randrange(len(data) + 1)
    return data[:at] + b"\x00" * rnd.choice([1, 7, 4096]) + data[at:]


def delete_slice(data: bytes, rnd: random.Random, kind: str) -> bytes:
    a = rnd.randrange(len(data) + 1)
    return data[:a] + data[a + rnd.randint(1, 2048):]


def duplicate_slice(data: bytes, rnd: random.Random, kind: str) -> bytes:
    a = rnd.randrange(len(data) + 1)
    piece = data[a : a + rnd.randint(1, 4096)]
    return data[:a] + piece * rnd.randint(2, 20) + data[a:]


def splice_other(data: bytes, rnd: random.Random, kind: str) -> bytes:
    other = rnd.choice(ALL_BASES)
    at, start = rnd.randrange(len(data) + 1), rnd.randrange(len(other) + 1)
    return data[:at] + other[start : start + rnd.randint(16, 4096)] + data[at:]


def huge_line(data: bytes, rnd: random.Random, kind: str) -> bytes:
    at = rnd.randrange(len(data) + 1)
    unit = rnd.choice([b"A", b"word ", b"\xe2\x80\x94", b"<b>x</b>"])
    return data[:at] + unit * (rnd.choice([10_000, 200_000, 2_000_000]) // len(unit)) + data[at:]


def re_encode(data: bytes, rnd: random.Random, kind: str) -> bytes:
    text = data.decode("utf-8", errors="replace")
    return text.encode(rnd.choice(["latin-1", "cp1252", "utf-16-le", "utf-16-be", "utf-32", "shift_jis", "koi8-r",
                                   "utf-7", "mac-roman"]), errors="replace")


def inject_token(data: bytes, rnd: random.Random, kind: str) -> bytes:
    tokens = TOKENS.get(kind, TOKENS["text"])
    at = rnd.randrange(len(data) + 1)
    return data[:at] + rnd.choice(tokens) + data[at:]


def deep_nesting(data: bytes, rnd: random.Random, kind: str) -> bytes:
    depth = rnd.choice([500, 5_000, 50_000])
    tag = rnd.choice([b"div", b"span", b"table", b"li", b"b"])
    at = rnd.randrange(len(data) + 1)
    return data[:at] + (b"<" + tag + b">") * depth + b"text" + data[at:]


def mutate_zip_member(data: bytes, rnd: random.Random, kind: str) -> bytes:
    """Structure-aware: change one part inside a Word document and zip it up again, so the XML parser is reached."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        member = rnd.choice([name for name in names if name.endswith(".xml") or name.endswith(".rels")] or names)
        content = archive.read(member)
        fm.replace_zip_member(data, member, content)
    except Exception:  # noqa: BLE001 — not a (readable) zip any more: mutate the bytes instead
        return flip_bytes(data, rnd, kind)
    for _ in range(rnd.randint(1, 3)):
        content = rnd.choice([truncate, flip_bytes, insert_noise, delete_slice, duplicate_slice, inject_token])(
            content, rnd, "html")
    return fm.replace_zip_member(data, member, content)


MUTATIONS = [truncate, flip_bytes, insert_noise, insert_zeros, delete_slice, duplicate_slice, splice_other,
             huge_line, re_encode, inject_token, deep_nesting, mutate_zip_member]


def mutant(rnd: random.Random, kind: str, data: bytes, steps: list) -> bytes:
    for step in steps:
        data = step(data, rnd, kind)
    return data


# --- one input through the per-document pipeline ------------------------------------------------------------------

@dataclass
class Tally:
    tried: int = 0
    distinct: set[str] = field(default_factory=set)
    by_format: dict[str, int] = field(default_factory=dict)
    indexed: int = 0
    refused: int = 0
    chunked: int = 0
    crashes: list[str] = field(default_factory=list)
    unclear: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    slowest: float = 0.0
    largest: int = 0


def check_one(path: Path, source: str, count_tokens, tally: Tally, label: str) -> None:
    """Parse, infer metadata, chunk and extract visits, as Indexer.run does per document; tally what happened."""
    started = time.perf_counter()
    try:
        with deadline(HANG_SECONDS):
            try:
                parsed = parse_file(path, source)
            except DocumentError as error:
                message = str(error)
                if "\n" in message or not message.startswith(f"{path}: ") or len(message) > 600 or not error.problem:
                    tally.unclear.append(f"{label}: {message[:300]!r}")
                tally.refused += 1
                return
            meta = Manifest().meta_for(source, parsed)
            text = parsed.text
            if len(text) <= CHUNK_LIMIT:
                chunks = chunk_document(parsed, meta.doc_id, meta.title, count_tokens)
                assert chunks, "a document with text gave no passages"
                assert all(chunk.text and chunk.text in text for chunk in chunks), "a passage is not a slice"
                assert len({chunk.chunk_id for chunk in chunks}) == len(chunks), "passage ids repeat"
                extract_events([(meta, chunks)])
                tally.chunked += 1
            tally.indexed += 1
    except Hang as error:
        tally.hangs.append(f"{label}: {error}")
        _keep(path, label)
    except Exception as error:  # noqa: BLE001 — that is what is counted
        tally.crashes.append(f"{label}: {type(error).__name__}: {str(error)[:200]}")
        _keep(path, label)
    finally:
        tally.slowest = max(tally.slowest, time.perf_counter() - started)


def _keep(path: Path, label: str) -> None:
    CRASHERS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, CRASHERS / f"{hashlib.sha1(path.read_bytes()).hexdigest()[:12]}{path.suffix}")


@contextlib.contextmanager
def quiet_libraries():
    """pypdf logs a warning for every oddity it repairs; thousands of inputs would fill the captured log."""
    loggers = [logging.getLogger(name) for name in ("pypdf", "docx", "dateparser")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


@pytest.fixture(scope="module")
def embedder(fake_embedder):
    """Hostile files need the real tokenizer (which the fake counts with) and vectors, not meaning."""
    return fake_embedder


# --- the tests ----------------------------------------------------------------------------------------------------

def test_fuzzed_files_are_indexed_or_refused_in_one_line(tmp_path_factory, embedder, scale, record):
    folder = tmp_path_factory.mktemp("fuzz")
    tally = Tally()
    examples = by_scale(1000, 20000)
    all_suffixes = sorted(set(SUFFIXES.values()) | {".htm"})

    @st.composite
    def hostile_files(draw):
        kind = draw(st.sampled_from(sorted(BASES)))
        label, data = draw(st.sampled_from(BASES[kind]))
        steps = draw(st.lists(st.sampled_from(MUTATIONS), max_size=5))
        rnd = draw(st.randoms(use_true_random=False))
        suffix = SUFFIXES[kind] if draw(st.integers(0, 9)) else draw(st.sampled_from(all_suffixes))
        name = f"{kind}:{label}:{'+'.join(step.__name__ for step in steps) or 'as-is'}->{suffix}"
        return name, kind, suffix, mutant(rnd, "text" if kind in ("txt", "md") else kind, data, steps)

    @settings(max_examples=examples, deadline=None, derandomize=scale == "normal", database=None,
              suppress_health_check=list(HealthCheck))
    @given(hostile_files())
    def one(sample):
        name, kind, suffix, data = sample
        tally.tried += 1
        tally.distinct.add(hashlib.sha1(suffix.encode() + data).hexdigest())
        tally.by_format[suffix] = tally.by_format.get(suffix, 0) + 1
        tally.largest = max(tally.largest, len(data))
        path = fm.write_bytes(folder, f"{tally.tried:05d}{suffix}", data)
        check_one(path, path.name, embedder.count_tokens, tally, name)
        path.unlink()

    started = time.perf_counter()
    with quiet_libraries():
        one()
    record("hostile_corpus", {
        "fuzz inputs tried": tally.tried,
        "distinct inputs": len(tally.distinct),
        "inputs by suffix": ", ".join(f"{s} {n}" for s, n in sorted(tally.by_format.items())),
        "largest input (bytes)": tally.largest,
        "parsed and chunked / parsed (text over 64 KB: parse only)": f"{tally.chunked} / {tally.indexed}",
        "refused with one clear error": tally.refused,
        "crashes": len(tally.crashes),
        "unclear errors": len(tally.unclear),
        f"hangs (over {HANG_SECONDS:.0f} s)": len(tally.hangs),
        "slowest input (s)": round(tally.slowest, 2),
        "fuzz time (s)": round(time.perf_counter() - started, 1),
    })
    assert tally.tried >= examples * 0.9
    assert tally.indexed > 0 and tally.refused > 0, "the fuzz should reach both outcomes"
    assert not tally.crashes, tally.crashes[:10]
    assert not tally.unclear, tally.unclear[:10]
    assert not tally.hangs, tally.hangs


@dataclass
class Planted:
    name: str
    expect: str  # "indexed", "refused", "ignored" (not a regular file) or "either" (a mutant: one or the other)


def plant_corpus(corpus: Path, rnd: random.Random, mutants: int, huge_line_bytes: int) -> list[Planted]:
    """Good files of every format and bad files of every kind the issue names, plus seeded mutants, beside the seeds."""
    planted = [Planted(path.name, "indexed") for path in corpus.iterdir() if path.suffix == ".txt"]

    def put(name: str, data: bytes, expect: str) -> None:
        fm.write_bytes(corpus, name, data)
        planted.append(Planted(name, expect))

    # good ones
    put("good/page.html", BASES["html"][0][1], "indexed")
    put("good/report.pdf", BASES["pdf"][0][1], "indexed")
    put("good/update.docx", BASES["docx"][0][1], "indexed")
    put("good/plan.md", BASES["md"][0][1], "indexed")
    put("good/utf16.txt", BASES["txt"][3][1], "indexed")
    put("good/rtl-emoji.txt", RTL_AND_EMOJI.encode(), "indexed")
    put("good/one-line-notice.txt", b"Ofsted rates Nottingham children's services Good", "indexed")  # all heading
    put("good/nested-10000.html", _page(fm.nested_html(10_000, "Deep but fine.")), "indexed")
    put("good/huge-line.txt", b"Placement sufficiency " + b"x" * huge_line_bytes + b" was discussed.", "indexed")
    put("good/no-password.pdf", fm.make_encrypted_pdf(corpus / "good", "tmp.pdf", [["Opens without one."]],
                                                      user_password="").read_bytes(), "indexed")
    (corpus / "good" / "tmp.pdf").unlink()
    # bad ones
    put("bad/empty.txt", b"", "refused")
    put("bad/zero-bytes.txt", b"\x00" * 4096, "refused")
    put("good/windows-1252.txt", "Café minutes: £30 for the crèche – “Good”".encode("cp1252"), "indexed")
    put("bad/not-windows-1252.txt", b"Caf\x81 minutes: \x8d30 for the cr\x9dche", "refused")
    put("bad/binary.md", fm.random_bytes(8192, seed=1), "refused")
    put("bad/random.pdf", fm.random_bytes(8192, seed=2), "refused")
    put("bad/random.docx", fm.random_bytes(8192, seed=3), "refused")
    put("bad/random.html", fm.random_bytes(8192, seed=4), "refused")
    put("bad/truncated.pdf", BASES["pdf"][0][1][:400], "refused")
    put("bad/truncated.docx", BASES["docx"][0][1][:3000], "refused")
    put("bad/password.pdf", fm.make_encrypted_pdf(corpus / "bad", "tmp.pdf", [["Secret."]]).read_bytes(), "refused")
    (corpus / "bad" / "tmp.pdf").unlink()
    put("bad/scanned.pdf", fm.pdf_bytes([[]]), "refused")
    put("bad/nav-only.html", _page("<nav>Home</nav><footer>cookies</footer>"), "refused")
    put("bad/nested-1000000.html", _page(fm.nested_html(1_000_000)), "refused")
    for kind in ("cyclic-page-tree", "deep-arrays", "missing-objects"):
        put(f"bad/{kind}.pdf", fm.hostile_pdf_bytes(kind), "refused")
    for kind in ("entity-expansion", "deep-nesting", "missing-document-part", "not-a-zip"):
        put(f"bad/{kind}.docx", fm.hostile_docx_bytes(kind), "refused")
    fm.make_large_file(corpus / "bad", "fifty-mb.txt", 50_000_000)
    planted.append(Planted("bad/fifty-mb.txt", "refused"))
    fm.make_large_file(corpus / "bad", "fifty-mb.pdf", 50_000_000, line=BASES["pdf"][0][1])
    planted.append(Planted("bad/fifty-mb.pdf", "refused"))
    os.mkfifo(corpus / "bad" / "fifo.txt")  # not a regular file: never opened (reading it would block for ever)
    planted.append(Planted("bad/fifo.txt", "ignored"))
    # mutants: whichever outcome, as long as it is exactly one
    small = [step for step in MUTATIONS if step is not huge_line]
    for i in range(mutants):
        kind = rnd.choice(sorted(BASES))
        _, data = rnd.choice(BASES[kind])
        steps = [rnd.choice(small) for _ in range(rnd.randint(1, 4))]
        put(f"mutants/{i:04d}{SUFFIXES[kind]}", mutant(rnd, "text" if kind in ("txt", "md") else kind, data, steps),
            "either")
    return planted


def test_a_corpus_of_good_and_bad_files_indexes_every_good_one(tmp_path, embedder, repo_root, scale, record):
    from bot.answering import Answerer
    from index.search import Searcher

    corpus = copy_corpus(repo_root, tmp_path / "corpus")
    planted = plant_corpus(corpus, random.Random(20240501), mutants=by_scale(30, 300),
                           huge_line_bytes=by_scale(50_000, 1_000_000))
    started = time.perf_counter()
    with quiet_libraries():
        report = Indexer(embedder).run(corpus, tmp_path / "index")
    took = time.perf_counter() - started
    store = IndexStore.open(tmp_path / "index")
    indexed = {meta.source for meta in store.documents() if store.document_chunks(meta.doc_id)}  # with passages
    wrong, unclear = [], []
    for item in planted:
        path = corpus / item.name
        errors = [error for error in report.errors if error.startswith(f"{path}: ")]
        unclear += [error for error in errors if "\n" in error]
        outcome = "indexed" if item.name in indexed and not errors else "refused" if len(errors) == 1 and (
            item.name not in indexed) else "ignored" if item.name not in indexed and not errors else (
            f"indexed={item.name in indexed}, errors={len(errors)}")
        if outcome != item.expect and not (item.expect == "either" and outcome in ("indexed", "refused")):
            wrong.append(f"{item.name}: expected {item.expect}, got {outcome}")
    stray = [e for e in report.errors if not any(e.startswith(f"{corpus / item.name}: ") for item in planted)]
    answer = Answerer(Searcher(store, embedder)).ask("When was the second monitoring visit and what did it cover?")
    good = sum(item.expect == "indexed" for item in planted)
    mutants = [item for item in planted if item.expect == "either"]
    record("hostile_corpus", {
        "corpus build: files (good / bad / mutants / a FIFO)":
            f"{len(planted)} ({good} / {sum(item.expect == 'refused' for item in planted)} / {len(mutants)} / 1)",
        "corpus build: good files indexed": f"{len(indexed & {i.name for i in planted if i.expect == 'indexed'})} / {good}",
        "corpus build: bad files with exactly one one-line error":
            sum(1 for item in planted if item.expect == "refused" and item.name not in indexed),
        "corpus build: mutants indexed / refused":
            f"{sum(i.name in indexed for i in mutants)} / {sum(i.name not in indexed for i in mutants)}",
        "corpus build: files misjudged or with stray errors": len(wrong) + len(stray) + len(unclear),
        "corpus build: time with a 50 MB text and a 50 MB PDF (s)": round(took, 1),
    })
    assert not wrong, wrong
    assert not stray and not unclear, stray + unclear
    assert answer.found and "second" in answer.answer.lower()
