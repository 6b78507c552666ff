"""The abstention bar: placed between what off-topic and in-scope questions score on the corpus itself."""

from __future__ import annotations

import numpy as np
import pytest

from index import calibration
from index.calibration import FLOOR, MARGIN, calibrate, in_scope_questions, in_scope_scores, off_topic_scores, place_bar
from index.lexical import analyse, terms_of


def test_bar_is_just_above_the_best_probe_when_in_scope_questions_clear_it_easily():
    in_scope = [0.8 + 0.01 * i for i in range(51)]
    assert place_bar([0.2, 0.55, 0.4], in_scope) == pytest.approx(0.55 + MARGIN)


def test_bar_is_halfway_to_the_low_end_of_in_scope_questions_when_they_come_close():
    in_scope = [0.8 + 0.01 * i for i in range(51)]  # 10th percentile 0.85
    assert place_bar([0.2, 0.78, 0.4], in_scope) == pytest.approx((0.78 + 0.85) / 2)


def test_overlapping_scores_put_the_bar_below_the_luckiest_probe():
    """A large corpus where one everyday question finds all its words: the bar gives up that probe rather than
    refusing the tenth of in-scope questions that score below it."""
    in_scope = list(np.linspace(0.9, 1.5, 41))
    bar = place_bar([0.5, 0.7, 1.13], in_scope)
    assert 0.9 < bar < 1.13


def test_without_in_scope_questions_the_bar_is_just_above_the_best_probe():
    assert place_bar([0.3, 0.6], []) == pytest.approx(0.6 + MARGIN)


@pytest.fixture(scope="module")
def searcher(seed_services):
    return seed_services.searcher


def test_in_scope_questions_are_a_few_words_of_one_sentence_of_the_corpus(searcher):
    questions = in_scope_questions(searcher)
    assert questions == in_scope_questions(searcher), "the same corpus must always give the same bar"
    assert len(questions) >= 0.8 * min(searcher.store.size, calibration.IN_SCOPE_QUESTIONS)
    corpus_terms = set().union(*(terms_of(c.text) for d in searcher.store.documents()
                                 for c in searcher.store.document_chunks(d.doc_id)))
    frame = "What do the reports say about "
    for question in questions:
        words = question.removeprefix(frame).removesuffix("?").split()
        assert question.startswith(frame) and len(words) == calibration.IN_SCOPE_WORDS, question
        assert all(analyse(word) and set(analyse(word)) <= corpus_terms for word in words), question


def test_built_index_records_the_bar_calibrate_measures(searcher):
    bar = searcher.store.manifest.relevance_threshold
    assert bar == calibrate(searcher), "the build must record what calibrate measures on the staged generation"
    best_probe = max(off_topic_scores(searcher))
    low_end = float(np.quantile(in_scope_scores(searcher), calibration.IN_SCOPE_LOW_END))
    assert best_probe < bar <= round(max(best_probe + MARGIN, FLOOR), 4) and bar < low_end
