"""The abstention threshold, measured on each corpus rather than fixed.

A passage's relevance is its cosine with the question plus the share of the question's rare words it
contains. How high unrelated questions reach depends on the corpus (a large corpus shares more
everyday words with them), so after every build we ask everyday questions that no children's services
paper answers and set the bar just above the best of them.
"""

from __future__ import annotations

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
MARGIN = 0.05
FLOOR = 0.45


def calibrate(searcher: Searcher) -> float:
    """The best relevance any off-topic probe reaches on this corpus, plus a margin, never below a floor."""
    best = 0.0
    for probe in OFF_TOPIC_PROBES:
        hits = searcher.search(probe, k=3)
        best = max([best] + [hit.relevance for hit in hits])
    return round(max(best + MARGIN, FLOOR), 4)
