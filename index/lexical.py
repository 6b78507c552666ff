"""BM25 over passages on sparse matrices (bm25s), with English stemming and stop words."""

from __future__ import annotations

import math
import re
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

_WORD = re.compile(r"\w+", re.UNICODE)
# question words carry no topic, so they should not pull in passages that merely repeat them
_QUESTION_WORDS = {"how", "what", "when", "where", "which", "who", "whom", "why", "much", "many", "can", "could",
                   "did", "does", "do", "would", "should", "may", "might", "tell", "me", "us", "our", "has", "have"}
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN) | _QUESTION_WORDS
_stemmer = Stemmer.Stemmer("english")
# b below the usual 0.75: long passages here are long because they say more (a whole numbered paragraph or a
# list), not because they ramble, so length is penalised less. Chosen on the held-out questions in eval/.
BM25_K1 = 1.5
BM25_B = 0.5


def analyse(text: str) -> list[str]:
    """Lower-cased, stemmed words without stop words; numbers stay, so '£30' and '2016' still match."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]
    return _stemmer.stemWords(words)


class LexicalIndex:
    """Positions in this index are the positions of passages in the store's passage table."""

    def __init__(self, retriever: bm25s.BM25):
        self._retriever = retriever
        self._vocab = retriever.vocab_dict
        self.size = int(retriever.scores["num_docs"])
        self._indptr = retriever.scores["indptr"]

    @property
    def parameters(self) -> dict[str, float]:
        """k1 and b as built: recorded in the index manifest with the rest of the search configuration."""
        return {"k1": float(self._retriever.k1), "b": float(self._retriever.b)}

    @classmethod
    def build(cls, texts: list[str], k1: float = BM25_K1, b: float = BM25_B) -> "LexicalIndex":
        retriever = bm25s.BM25(k1=k1, b=b)
        # an empty token list breaks bm25s, so an empty passage gets a placeholder that matches nothing
        retriever.index([analyse(text) or ["\u2400"] for text in texts], show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> "LexicalIndex":
        return cls(bm25s.BM25.load(str(folder), mmap=mmap))

    def idf(self, term: str) -> float:
        """Rarity of a term in the corpus; a term the corpus never uses is as rare as can be."""
        index = self._vocab.get(term)
        frequency = 0 if index is None else int(self._indptr[index + 1] - self._indptr[index])
        return math.log(1 + (self.size - frequency + 0.5) / (frequency + 0.5))

    def coverage(self, query: str, text: str) -> float:
        """Share of the query's weight (by rarity) whose words the text contains: 1.0 means all of them."""
        terms = list(dict.fromkeys(analyse(query)))
        total = sum(self.idf(term) for term in terms)
        if total == 0:
            return 0.0
        present = set(analyse(text))
        return sum(self.idf(term) for term in terms if term in present) / total

    def query_terms(self, query: str) -> list[str]:
        """The analysed query words the corpus knows; words it has never seen cannot score."""
        return [term for term in dict.fromkeys(analyse(query)) if term in self._vocab]

    def scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray | None:
        """BM25 score of every position for `query` (0 where masked out); None when no query word is known."""
        return self.term_scores(self.query_terms(query), mask)

    def term_scores(self, terms: list[str], mask: np.ndarray | None = None) -> np.ndarray | None:
        """BM25 score of every position for analysed terms; None when none of them is known."""
        terms = [term for term in terms if term in self._vocab]
        if not terms or self.size == 0:
            return None
        return self._retriever.get_scores(terms, weight_mask=mask)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k positions with a positive score, best first; `mask` (0/1 per position) restricts them."""
        scores = self.scores(query, mask)
        if scores is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return top_positions(scores, k)


def top_positions(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    keep = scores[top] > 0
    return top[keep].astype(np.int64), scores[top][keep].astype(np.float32)
