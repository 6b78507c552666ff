"""BM25 scored from the saved arrays with numpy gives what bm25s itself gives, without importing it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from index import lexical
from index.lexical import LexicalIndex, analyse

TEXTS = [
    "Children in care wait too long for permanence decisions.",
    "Agency social workers fill a quarter of posts; the council converts agency staff to permanent contracts.",
    "The front door (MASH) responds to referrals quickly and thresholds are understood.",
    "",
    "Care leavers are supported by personal advisers; care leavers' accommodation is suitable.",
]


def test_scores_match_bm25s(tmp_path):
    import bm25s

    index = LexicalIndex.build(TEXTS, tmp_path / "lexical", k1=1.2, b=0.5)
    reference = bm25s.BM25.load(str(tmp_path / "lexical"))
    for query in ["agency staff permanent", "care leavers accommodation", "front door referrals children"]:
        terms = index.query_terms(query)
        assert np.allclose(index.scores(query), reference.get_scores(terms), atol=1e-6), query
    mask = np.array([1, 0, 1, 1, 0], dtype=np.float32)
    assert np.allclose(index.scores("care", mask), reference.get_scores(["care"], weight_mask=mask))
    assert index.parameters == {"k1": 1.2, "b": 0.5}


def test_unknown_words_score_nothing(tmp_path):
    index = LexicalIndex.build(TEXTS, tmp_path / "lexical")
    assert index.scores("zebra xylophone") is None and index.term_scores([]) is None
    assert index.idf("zebra") > index.idf(analyse("care")[0])


def test_answering_does_not_import_bm25s_or_scipy(tmp_path):
    LexicalIndex.build(TEXTS, tmp_path / "lexical")
    code = ("import sys; from pathlib import Path; from index.lexical import LexicalIndex; "
            f"LexicalIndex.load(Path({str(tmp_path / 'lexical')!r})).scores('care leavers'); "
            "print(sorted(m for m in ('bm25s', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_narrow_mask_gives_the_same_scores_as_masking_every_score(tmp_path, monkeypatch):
    texts = [f"Care leavers in {place} have personal advisers; children in care visit {place}." for place in
             ("Hull", "Leeds", "York", "Bury", "Luton", "Slough", "Derby", "Bolton")] * 6 + TEXTS
    index = LexicalIndex.build(texts, tmp_path / "lexical")
    looked_up = []
    look_up = lexical._allowed_in
    monkeypatch.setattr(lexical, "_allowed_in", lambda *args: looked_up.append(1) or look_up(*args))
    for allowed in ([3], [0, 17], [5, 40, len(texts) - 1], []):
        mask = np.zeros(len(texts), dtype=np.float32)
        mask[allowed] = 1.0
        for query in ["care leavers personal advisers Hull", "children visit York", "front door"]:
            assert np.array_equal(index.scores(query, mask), index.scores(query) * mask), (query, allowed)
    assert looked_up  # common words were looked up at the allowed passages, not added to all of them


def test_postings_out_of_order_are_noticed_and_scored_in_full(tmp_path):
    index = LexicalIndex.build(TEXTS * 10, tmp_path / "lexical")  # 20 passages say "care": looked up if sorted
    column = index._vocab[analyse("care")[0]]
    start, end = int(index._indptr[column]), int(index._indptr[column + 1])
    index._indices, index._data = index._indices.copy(), index._data.copy()
    index._indices[start:end], index._data[start:end] = index._indices[start:end][::-1], index._data[start:end][::-1]
    mask = np.zeros(index.size, dtype=np.float32)
    mask[4] = 1.0
    assert not index._postings_sorted()
    assert index.scores("care", mask)[4] == index.scores("care")[4] > 0
