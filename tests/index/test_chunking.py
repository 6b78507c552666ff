"""Chunking follows the documents' own numbering, stays inside the model's window and never rewrites text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.chunking import ChunkerConfig, chunk_document, embed_prefix
from index.models import Line, ParsedDocument
from index.parsing import parse_file


def _parsed(text: str) -> ParsedDocument:
    return ParsedDocument(source="doc.txt", lines=[Line(text=line) for line in text.split("\n")])


def _seed(repo_root: Path, name: str) -> ParsedDocument:
    return parse_file(repo_root / "corpus" / name, name)


@pytest.fixture(scope="module")
def seed_chunks(repo_root, embedder):
    chunks = {}
    for path in sorted((repo_root / "corpus").glob("*.txt")):
        parsed = parse_file(path, path.name)
        chunks[path.name] = (parsed, chunk_document(parsed, path.stem, "A title", embedder.count_tokens))
    return chunks


def test_lettered_paragraphs_become_locations(seed_chunks):
    _, chunks = seed_chunks["001_48933fd4539bb840.txt"]
    locations = [c.location for c in chunks]
    assert [f"para ({letter})" for letter in "abcdefghijklmn"] == [loc for loc in locations if re.fullmatch(r"para \([a-z]\)", loc)]
    assert "para (1)" in locations and "para (2)" in locations
    paragraph_m = next(c for c in chunks if c.location == "para (m)")
    assert paragraph_m.text.startswith("(m)Personal Advisors will develop a plan")


def test_letters_with_one_bracket_are_cited_like_the_others(seed_chunks):
    _, chunks = seed_chunks["000_540197f7ec6ca2b3.txt"]
    assert {"para (a)", "para (b)", "para (c)", "para (d)", "para (e)"} <= {c.location for c in chunks}


def test_numbered_paragraphs_keep_their_lists_whole(seed_chunks):
    _, chunks = seed_chunks["003_cd5dea8db04643bf.txt"]
    by_location = {c.location: c for c in chunks}
    assert {"para 1.1", "para 1.2", "para 1.3", "para 2.1", "para 2.2", "para 3.1", "para 3.2", "para 3.3"} <= set(by_location)
    areas = by_location["para 2.2"].text
    assert areas.startswith("2.2 Areas Covered:")
    assert "Quality of children's assessments, plans, and reviews." in areas
    assert "Performance and quality assurance oversight." in areas
    assert by_location["para 2.1"].heading == "2. Focus and headline findings"


def test_a_paragraph_broken_by_a_page_gap_is_joined(seed_chunks):
    _, chunks = seed_chunks["003_cd5dea8db04643bf.txt"]
    paragraph = next(c for c in chunks if c.location == "para 1.3")
    assert "lead inspector for most of the monitoring visits" in paragraph.text


def test_every_passage_is_an_exact_slice_of_its_document(seed_chunks):
    for parsed, chunks in seed_chunks.values():
        for chunk in chunks:
            assert chunk.text in parsed.text


def test_no_sentence_is_lost_between_passages(seed_chunks):
    """Headings become context; every line that is prose (ends like a sentence) is in some passage."""
    for parsed, chunks in seed_chunks.values():
        covered = " ".join(" ".join(c.text for c in chunks).split())
        for line in parsed.text.split("\n"):
            words = " ".join(line.split())
            if len(words.split()) > 6 and words[-1] in ".;?!":
                assert words in covered, words


def test_every_passage_fits_the_model_window(seed_chunks, embedder):
    for parsed, chunks in seed_chunks.values():
        for chunk in chunks:
            assert embedder.count_tokens(embed_prefix("A title", chunk.heading) + chunk.text) + 2 <= embedder.max_tokens


def test_long_paragraph_is_split_at_sentences(embedder):
    sentence = "The council agreed to recruit more permanent social workers to reduce caseloads. "
    text = "(a) " + sentence * 120
    chunks = chunk_document(_parsed(text), "long", "Title", embedder.count_tokens)
    assert len(chunks) > 3
    assert {c.location for c in chunks} == {"para (a)"}
    for chunk in chunks:
        assert chunk.text.rstrip().endswith("caseloads.")
        assert embedder.count_tokens(embed_prefix("Title", None) + chunk.text) <= ChunkerConfig().max_tokens
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")


def test_text_without_spaces_is_still_cut_to_fit(embedder):
    text = "x" * 20_000
    chunks = chunk_document(_parsed(text), "blob", "Title", embedder.count_tokens)
    assert "".join(c.text for c in chunks) == text
    assert all(embedder.count_tokens(c.text) <= ChunkerConfig().max_tokens for c in chunks)


def test_ids_are_stable_and_change_only_where_text_changes(embedder):
    original = "Heading one\n\n(a) First paragraph about visits.\n\n(b) Second paragraph about staffing."
    edited = original.replace("staffing", "agency staffing")
    first = chunk_document(_parsed(original), "doc", "T", embedder.count_tokens)
    again = chunk_document(_parsed(original), "doc", "T", embedder.count_tokens)
    changed = chunk_document(_parsed(edited), "doc", "T", embedder.count_tokens)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert first[0].chunk_id == changed[0].chunk_id
    assert first[1].chunk_id != changed[1].chunk_id
    assert all(len(c.chunk_id) == 12 and int(c.chunk_id, 16) >= 0 for c in first)


def test_one_line_per_paragraph_text_is_cited_by_paragraph(embedder):
    text = "Headline of the story\nFirst sentence of the article.\nSecond paragraph here.\nThird one, quoted: “yes”."
    chunks = chunk_document(_parsed(text), "news", "Headline of the story", embedder.count_tokens,
                            ChunkerConfig(merge_tokens=0))
    assert [c.location for c in chunks] == ["para 1", "para 2", "para 3"]


def test_heading_like_lines_in_a_row_keep_their_words_in_a_passage():
    """A cover page is a run of heading-like lines; only the last heads what follows, the others stay searchable."""
    lines = ["Middlesbrough Borough Council", "Inspection of children's social care services",
             "Inspection dates: 25 November 2019 to 6 December 2019", "Lead inspector: Jan Edwards",
             "Services for children in Middlesbrough are inadequate because of serious and widespread failures."]
    parsed = ParsedDocument(source="m.txt", lines=[Line(text=t, heading=n < 4) for n, t in enumerate(lines)])
    chunks = chunk_document(parsed, "m", "Ofsted inspection of Middlesbrough", lambda text: len(text.split()))
    text = " ".join(chunk.text for chunk in chunks)
    assert all(line in text for line in lines[:3])
    assert chunks[-1].heading == "Lead inspector: Jan Edwards" and chunks[-1].text.startswith("Services for children")
