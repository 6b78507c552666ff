"""Coverage gaps: the questions the documents did not answer well, grouped by the nearest topic they cover.

A question's topic is the heading (or, without one, the title) of the passage search ranks first for it, however
weakly: so staff see "12 questions near 'Care leavers'" and know which papers to add.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from bot.feedback import GapQuestion
from index.search import Searcher

NO_TOPIC = "nothing in the documents"


class Gap(BaseModel):
    topic: str
    questions: list[GapQuestion]


def nearest_topic(searcher: Searcher) -> Callable[[str], str]:
    def topic(question: str) -> str:
        hits = searcher.search(question, k=1)
        return (hits[0].chunk.heading or hits[0].document.title) if hits else NO_TOPIC

    return topic


def group_gaps(questions: list[GapQuestion], topic_of: Callable[[str], str]) -> list[Gap]:
    """Questions by nearest topic, the topic asked about most first; the same question asked twice is searched once."""
    topics = {text: topic_of(text) for text in dict.fromkeys(q.question for q in questions)}
    groups: dict[str, list[GapQuestion]] = {}
    for question in questions:
        groups.setdefault(topics[question.question], []).append(question)
    return [Gap(topic=topic, questions=found)
            for topic, found in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))]
