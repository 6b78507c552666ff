"""Watched topics in a real SQLite file."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.answering import QueryError
from bot.watches import MAX_WATCHES, WatchStore


@pytest.fixture
def store(tmp_path: Path) -> WatchStore:
    return WatchStore(tmp_path / "var" / "watches.sqlite")


def test_add_list_remove_and_reopen(store: WatchStore):
    first, new = store.add("user", "42", "  agency   social workers ")
    assert new and first.topic == "agency social workers"
    again, new = store.add("user", "42", "Agency Social Workers")
    assert not new and again.watch_id == first.watch_id
    store.add("channel", "7", "care leavers")
    store.add("user", "43", "care leavers")
    assert [w.topic for w in store.list("user", "42")] == ["agency social workers"]
    assert len(WatchStore(store.path).list()) == 3  # kept on disk, every watch for posting

    with pytest.raises(QueryError, match="you have no watch"):
        store.remove("user", "43", str(first.watch_id))  # someone else's watch
    assert store.remove("user", "42", str(first.watch_id)).topic == "agency social workers"
    assert store.remove("channel", "7", "CARE leavers").subscriber == "7"
    assert [(w.kind, w.subscriber) for w in store.list()] == [("user", "43")]


@pytest.mark.parametrize(("topic", "message"), [
    ("", "the topic is empty"), ("  \n\t ", "the topic is empty"), ("x" * 101, "keep it under 100"),
])
def test_bad_topics_are_one_line(store: WatchStore, topic: str, message: str):
    with pytest.raises(QueryError, match=message):
        store.add("user", "42", topic)
    assert store.list() == []


def test_a_subscriber_cannot_fill_the_table(store: WatchStore):
    for n in range(MAX_WATCHES):
        store.add("channel", "9", f"topic {n}")
    with pytest.raises(QueryError, match="the most allowed"):
        store.add("channel", "9", "one more")
    assert store.add("channel", "9", "topic 3")[1] is False  # an existing topic is still fine
    assert store.add("channel", "10", "one more")[1] is True


def test_the_same_topic_added_at_once_is_kept_once(store: WatchStore):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: store.add("user", "5", "placements")[1], range(16)))
    assert results.count(True) == 1 and len(store.list()) == 1
