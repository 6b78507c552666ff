"""The abstention threshold, measured on each corpus rather than fixed.

A passage's relevance is its cosine with the question plus the share of the question's rare words it
contains. How high questions reach depends on the corpus: a large corpus shares more everyday words with
unrelated questions (among 60,000 passages some passage holds 'next', 'local' and 'elections'), so the
best off-topic probe climbs with the corpus's size, and a bar set just above it alone came to refuse
half of the questions the corpus does answer. So after every build we measure both sides on the corpus
itself: everyday questions that no children's services paper answers, and questions the corpus does
answer, made from its own passages (a few content words of a sentence, as a person types them). The bar
sits just above the best probe, unless in-scope questions score near or below it: then halfway between.
"""

from __future__ import annotations

import random
import re

import numpy as np

from index.lexical import analyse
from index.search import Searcher

# Everyday questions a council's residents ask, none about children's services improvement. Some share
# words with the corpus on purpose ("adopt a dog", "pool", "plan"), as real off-topic questions do.
OFF_TOPIC_PROBES: tuple[str, ...] = (
    "What are the opening hours of the leisure centre?",
    "How do I pay a parking fine?",
    "When is my green waste collected?",
    "Which trains run to London on a Sunday?",
    "Will it rain this weekend?",
    "Who scored the winning goal in the cup final?",
    "How do I register a birth or a death?",
    "How much does a TV licence cost?",
    "Where can I recycle old batteries?",
    "What is the capital of France?",
    "How do I reset my email password?",
    "When does the Christmas market open?",
    "What films are showing at the cinema tonight?",
    "How do I apply for an older person's bus pass?",
    "What is the speed limit on a motorway?",
    "How do I object to a planning application for an extension?",
    "When are the next local elections?",
    "Do I need a licence to go fishing?",
    "What is the price of petrol today?",
    "Can I get a council tax refund after moving house?",
    "Where is the nearest post office?",
    "How do I adopt a dog from a rescue centre?",
    "What time does the swimming pool close?",
    "How do I book a tennis court in the park?",
    "Who won the general election?",
    "How do I report a broken street light?",
    "What are the rules for a street party?",
    "How can I get a bigger recycling bin?",
)
MARGIN = 0.05  # above the best probe, where in-scope questions clear it by more
FLOOR = 0.45
TOP_K = 5  # passages the answerer looks at for its quotes
IN_SCOPE_QUESTIONS = 150  # passages drawn for in-scope questions; their 10th percentile moves ~0.02 between draws
IN_SCOPE_WORDS = 4  # content words kept from a sentence: a typed question shares a few words with its answer
IN_SCOPE_LOW_END = 0.1  # the quantile of in-scope scores taken as their low end
_SEED = 0  # the same corpus always gets the same bar
_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W\d_]")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def calibrate(searcher: Searcher) -> float:
    """The bar between this corpus's off-topic and in-scope scores, never below a floor."""
    return round(max(place_bar(off_topic_scores(searcher), in_scope_scores(searcher)), FLOOR), 4)


def place_bar(off_topic: list[float], in_scope: list[float]) -> float:
    """Just above the best off-topic score, or, where in-scope questions reach no higher than that, halfway
    between it and their low end.

    The best probe alone is blind to what answerable questions score: on a corpus so large that some everyday
    question finds all its words, a bar above it refuses nearly half the questions the corpus answers; there
    the midpoint gives up a little on each side. The in-scope questions only ever lower the bar: they are made
    of the passage's own words, so real questions, which paraphrase, score lower still, and a bar raised to
    them would refuse paraphrases that clear every probe ('send' where the paper says 'submit')."""
    above_probes = max(off_topic) + MARGIN
    if not in_scope:
        return above_probes
    return min(above_probes, (max(off_topic) + float(np.quantile(in_scope, IN_SCOPE_LOW_END))) / 2)


def off_topic_scores(searcher: Searcher) -> list[float]:
    """The best relevance each off-topic probe reaches."""
    return [best_relevance(searcher, probe) for probe in OFF_TOPIC_PROBES]


def in_scope_scores(searcher: Searcher, count: int = IN_SCOPE_QUESTIONS, seed: int = _SEED) -> list[float]:
    """The best relevance of questions made from passages drawn at random from the corpus."""
    return [best_relevance(searcher, question) for question in in_scope_questions(searcher, count, seed)]


def in_scope_questions(searcher: Searcher, count: int = IN_SCOPE_QUESTIONS, seed: int = _SEED) -> list[str]:
    """'What do the reports say about foster carers adopters communication?': a few content words of one sentence
    of a random passage, in their order. Most words of a real question are not the answer's words, so keeping
    only a few (and none of the rest) scores like one, not like the passage quoted back to itself."""
    store = searcher.store
    rng = random.Random(seed)
    positions = rng.sample(range(store.size), min(count, store.size))
    questions = []
    for chunk in store.chunks_by_id(store.position_ids[positions].tolist()):
        sentences = [words for words in (_content_words(s) for s in _SENTENCE_END.split(" ".join(chunk.text.split())))
                     if len(words) >= 2 * IN_SCOPE_WORDS]
        if sentences:
            words = rng.choice(sentences)
            kept = sorted(rng.sample(range(len(words)), IN_SCOPE_WORDS))
            questions.append(f"What do the reports say about {' '.join(words[i] for i in kept)}?")
    return questions


def best_relevance(searcher: Searcher, question: str) -> float:
    return max((hit.relevance for hit in searcher.search(question, k=TOP_K)), default=0.0)


def _content_words(sentence: str) -> list[str]:
    return [word for word in _WORD.findall(sentence) if analyse(word)]
