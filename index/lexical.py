"""BM25 over passages on sparse matrices, with English stemming and stop words.

bm25s builds the index (and is imported only then); questions are scored here from its saved arrays with numpy
alone, since importing bm25s (and scipy with it) took half a second of every cold start.
"""

from __future__ import annotations

import functools
import json
import math
import re
from pathlib import Path

import numpy as np
import Stemmer

_WORD = re.compile(r"\w+", re.UNICODE)
# bm25s's English stop words, and question words, which carry no topic: passages that merely repeat them should not
# be pulled in
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
    "how", "what", "when", "where", "which", "who", "whom", "why", "much", "many", "can", "could", "did", "does", "do",
    "would", "should", "may", "might", "tell", "me", "us", "our", "has", "have",
})
_stemmer = Stemmer.Stemmer("english")
# b below the usual 0.75: long passages here are long because they say more (a whole numbered paragraph or a
# list), not because they ramble, so length is penalised less. Chosen on the held-out questions in eval/.
BM25_K1 = 1.5
BM25_B = 0.5
_ARRAYS = ("data", "indices", "indptr")
# a binary search per allowed passage costs about as much as adding a weight to this many passages of a column
_LOOKUP_COST = 8


@functools.lru_cache(maxsize=20_000)
def terms_of(text: str) -> frozenset[str]:
    """The distinct analysed words of a text, remembered: the same passages are measured question after question."""
    return frozenset(analyse(text))


def analyse(text: str) -> list[str]:
    """Lower-cased, stemmed words without stop words; numbers stay, so '£30' and '2016' still match."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]
    return _stemmer.stemWords(words)


class LexicalIndex:
    """Per term, the BM25 weight of every passage that has it (a column of a sparse matrix); positions are those of
    the passages in the store's passage table."""

    def __init__(self, folder: Path, mmap: bool = False):
        mode = "r" if mmap else None
        self._data, self._indices, self._indptr = (
            np.load(folder / f"{name}.csc.index.npy", mmap_mode=mode) for name in _ARRAYS)
        self._vocab: dict[str, int] = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        self.size = int(params["num_docs"])
        self.parameters = {"k1": float(params["k1"]), "b": float(params["b"])}
        self._sorted: bool | None = None

    @staticmethod
    def build(texts: list[str], folder: Path, k1: float = BM25_K1, b: float = BM25_B) -> "LexicalIndex":
        """Index the passages' texts into `folder` and load the result."""
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b)
        # an empty token list breaks bm25s, so an empty passage gets a placeholder that matches nothing
        retriever.index([analyse(text) or ["\u2400"] for text in texts], show_progress=False)
        retriever.save(str(folder), show_progress=False)
        return LexicalIndex(folder)

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> "LexicalIndex":
        return cls(folder, mmap)

    def idf(self, term: str) -> float:
        """Rarity of a term in the corpus; a term the corpus never uses is as rare as can be."""
        index = self._vocab.get(term)
        frequency = 0 if index is None else int(self._indptr[index + 1] - self._indptr[index])
        return math.log(1 + (self.size - frequency + 0.5) / (frequency + 0.5))

    def query_terms(self, query: str) -> list[str]:
        """The analysed query words the corpus knows; words it has never seen cannot score."""
        return [term for term in dict.fromkeys(analyse(query)) if term in self._vocab]

    def scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray | None:
        """BM25 score of every position for `query` (0 where masked out); None when no query word is known."""
        return self.term_scores(self.query_terms(query), mask)

    def term_scores(self, terms: list[str], mask: np.ndarray | None = None) -> np.ndarray | None:
        """BM25 score of every position for analysed terms; None when none of them is known.

        With a mask that lets few passages through (one council's papers), a common term's column is looked up at
        the allowed positions only, instead of adding its weight to every passage that has it: the scores are the
        same, summed in the same order."""
        columns = [self._vocab[term] for term in dict.fromkeys(terms) if term in self._vocab]
        if not columns or self.size == 0:
            return None
        scores = np.zeros(self.size, dtype=np.float32)
        allowed = np.flatnonzero(mask != 0) if mask is not None and self._postings_sorted() else None
        for column in columns:
            start, end = int(self._indptr[column]), int(self._indptr[column + 1])
            if allowed is not None and len(allowed) * _LOOKUP_COST < end - start:
                rows, found = _allowed_in(self._indices[start:end], allowed)
                scores[rows] += self._data[start + found]
            else:
                scores[self._indices[start:end]] += self._data[start:end]  # a passage appears once per column
        return scores * mask if mask is not None else scores

    def _postings_sorted(self) -> bool:
        """Whether every column lists its passages in ascending position (bm25s's sparse matrix does), which the
        lookup at allowed positions needs; checked once (milliseconds), and never assumed."""
        if self._sorted is None:
            rising = np.diff(self._indices) > 0
            last_of_column = np.asarray(self._indptr[1:-1]) - 1  # a column's last row may be above the next's first
            rising[last_of_column[(last_of_column >= 0) & (last_of_column < len(rising))]] = True
            self._sorted = bool(rising.all())
        return self._sorted

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k positions with a positive score, best first; `mask` (0/1 per position) restricts them."""
        scores = self.scores(query, mask)
        if scores is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return top_positions(scores, k)


def _allowed_in(column: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The allowed positions a column (ascending positions) holds, and where in the column each one is."""
    slots = np.minimum(np.searchsorted(column, allowed), len(column) - 1)
    held = column[slots] == allowed
    return allowed[held], slots[held]


def top_positions(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    keep = scores[top] > 0
    return top[keep].astype(np.int64), scores[top][keep].astype(np.float32)
