"""Sentence boundaries: exact slices, abbreviations and wrapped lines respected, list labels left out."""

from __future__ import annotations

from index.sentences import sentences


def _split(text: str) -> list[str]:
    return [text[a:b] for a, b in sentences(text)]


def test_sentences_are_exact_slices():
    text = "In July 2022 it was judged inadequate. The first visit was in February 2023; the second in July.  Done!"
    assert _split(text) == [
        "In July 2022 it was judged inadequate.", "The first visit was in February 2023; the second in July.", "Done!",
    ]


def test_abbreviations_do_not_end_a_sentence():
    assert _split("Cllr. Barnard spoke to Mr. Jones. He agreed.") == ["Cllr. Barnard spoke to Mr. Jones.", "He agreed."]


def test_a_wrapped_line_runs_on_and_a_label_is_left_out():
    text = "(a) The identification of and response to risk, particularly in relation to long-\nstanding concerns."
    assert _split(text) == ["The identification of and response to risk, particularly in relation to long-\nstanding concerns."]
