"""How search scores passages: meaning against shared words by how the question is worded, and phrases."""

from __future__ import annotations

import pytest

from index.lexical import analyse
from index.search import QueryWords, SearchConfig, pairs_of


@pytest.mark.parametrize("best_coverage", [0.5, 0.8, 1.0])
def test_a_question_in_the_documents_words_leans_on_them(best_coverage):
    config = SearchConfig()
    assert config.dense_share(best_coverage) == config.dense_weight


@pytest.mark.parametrize("best_coverage", [0.0, 0.3, 0.49])
def test_a_question_worded_unlike_every_passage_leans_on_meaning(best_coverage):
    config = SearchConfig()
    assert config.dense_share(best_coverage) == config.paraphrase_dense_weight > config.dense_weight


def test_the_paraphrase_weight_is_validated():
    with pytest.raises(ValueError, match="paraphrase_dense_weight"):
        SearchConfig(paraphrase_dense_weight=1.5)


def _words(query: str) -> QueryWords:
    return QueryWords(weights={term: 1.0 for term in analyse(query)}, pairs=pairs_of(query))


def test_a_phrase_said_as_the_report_says_it_scores_its_pairs():
    words = _words("not recording cases had become a pattern in many teams")
    said = "the absence of case recording has become a pattern in many teams"
    shuffled = "in many cases teams become a pattern of recording"
    assert words.pair_share(said) > words.pair_share(shuffled)
    assert words.pair_share(said) == pytest.approx(2 / 5)  # become-pattern, pattern-teams; "recording cases" is reversed


def test_a_one_word_query_has_no_pairs_to_share():
    assert _words("caseloads").pair_share("caseloads are high") == 0.0
    assert pairs_of("") == frozenset()
