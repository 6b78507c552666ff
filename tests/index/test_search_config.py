"""How fusion weighs meaning against shared words, from how the question is worded."""

from __future__ import annotations

import pytest

from index.search import SearchConfig


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
