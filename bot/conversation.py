"""Follow-up questions: what the previous question was about, carried into an elliptical next one.

"And care leavers?", "what about 2023?", "and in Bury?" and "the visit before that" mean little alone. A
`Context` records what an answered question was about (council, time, topic, the visit its lead named);
the answering core fills in what the next question leaves out and says so ("Still about Nottingham ·
2024"). Contexts are kept per conversation key (a console session, or one person in one Discord thread or
DM: never shared between people), bounded in number and in age.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from typing import Callable

from pydantic import BaseModel, ConfigDict

from index.lexical import analyse
from index.query import QueryIntent

_GENERIC = frozenset(analyse("about say said tell find found happen happened what is was were latest new there "
                             "council councils ofsted year inspection report reports document documents"))


class Context(BaseModel):
    """What one answered question was about, for the question after it."""

    model_config = ConfigDict(frozen=True)

    council: str | None = None
    years: tuple[int, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    topic: str = ""
    event_id: str | None = None


class FollowUp(BaseModel):
    """The question as it will be searched, the intent with what was carried filled in, and what was carried."""

    search_text: str
    topic: str  # what the next follow-up carries: the last question that named a topic, never a growing chain
    intent: QueryIntent
    carried: list[str] = []


def follow_up(question: str, intent: QueryIntent, context: Context | None) -> FollowUp:
    """Fill in from `context` what an elliptical question leaves out: the council, the time, and, when the
    question names no topic of its own ('and in Bury?', 'what about 2023?'), the previous topic."""
    if context is None:
        return FollowUp(search_text=question, topic=question, intent=intent)
    carried: list[str] = []
    update: dict[str, object] = {}
    if intent.council is None and not intent.councils_named and context.council:
        update["council"] = context.council
        carried.append(context.council)
    if not (intent.years or intent.date_from or intent.date_to or intent.latest) and (
            context.years or context.date_from or context.date_to):
        update |= {"years": context.years, "date_from": context.date_from, "date_to": context.date_to}
        carried.append(", ".join(map(str, context.years)) or _bounds(context))
    search_text, topic = question, question
    if context.topic and not _own_topic(question, intent):
        search_text, topic = f"{context.topic} {question}", context.topic
        carried.append("the same topic")
    return FollowUp(search_text=search_text, topic=topic, intent=intent.model_copy(update=update), carried=carried)


def _own_topic(question: str, intent: QueryIntent) -> bool:
    """Whether the question names something to search for besides a council, a time and question words."""
    named = set(analyse(" ".join(filter(None, (intent.council_as_typed, *intent.councils_named)))))
    words = [w for w in analyse(question) if w not in named and w not in _GENERIC and not w.isdigit()]
    return bool(words)


def _bounds(context: Context) -> str:
    if context.date_to:
        return f"before {context.date_to.year + 1}"
    return f"since {context.date_from.year}" if context.date_from else ""


def carried_line(carried: list[str]) -> str | None:
    """'Still about Nottingham City Council · 2024 · the same topic.': what a follow-up took from before."""
    return f"Still about {' · '.join(carried)}." if carried else None


class Conversations:
    """Contexts by conversation key, at most `capacity` of them and none older than `ttl_seconds`."""

    def __init__(self, capacity: int = 1000, ttl_seconds: float = 1800,
                 clock: Callable[[], float] = time.monotonic):
        self.capacity = capacity
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, Context]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Context | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or self.clock() - item[0] > self.ttl_seconds:
                self._items.pop(key, None)
                return None
            return item[1]

    def remember(self, key: str, context: Context) -> None:
        with self._lock:
            self._items[key] = (self.clock(), context)
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)
