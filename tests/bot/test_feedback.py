"""The feedback store: votes kept with hashed voters, one vote per person per answer, and the staff summary."""

from __future__ import annotations

import hashlib
import json
import sqlite3

from bot.feedback import FeedbackStore


def test_votes_are_counted_and_the_unhelpful_ones_listed(tmp_path):
    store = FeedbackStore(tmp_path / "var" / "feedback.sqlite")
    store.record("a1", "When is the next inspection?", ["c1", "c2"], True, "111")
    store.record("a2", "Who chairs the board?", ["c3"], False, "222")
    store.record("a3", "What about parking?", [], False, "111")
    summary = store.summary()
    assert (summary.votes, summary.helpful, summary.not_helpful, summary.people) == (3, 1, 2, 2)
    assert [vote.question for vote in summary.recent_not_helpful] == ["What about parking?", "Who chairs the board?"]
    assert summary.recent_not_helpful[1].chunk_ids == ["c3"]
    text = summary.render()
    assert "3 votes from 2 people: 1 helpful (33%), 2 not helpful." in text
    assert "“Who chairs the board?” — showed c3" in text and "no passages (said not covered)" in text


def test_a_second_vote_on_the_same_answer_replaces_the_first(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    store.record("a1", "Q?", ["c1"], True, "111")
    store.record("a1", "Q?", ["c1"], False, "111")
    store.record("a1", "Q?", ["c1"], True, "222")
    summary = store.summary()
    assert (summary.votes, summary.helpful, summary.not_helpful) == (2, 1, 1)


def test_voters_are_stored_only_as_salted_hashes(tmp_path):
    path = tmp_path / "feedback.sqlite"
    user = "123456789012345678"
    FeedbackStore(path).record("a1", "Q?", ["c1"], True, user)
    stored = sqlite3.connect(path).execute("SELECT user_hash FROM votes").fetchone()[0]
    assert len(stored) == 64 and stored != hashlib.sha256(user.encode()).hexdigest()
    assert user.encode() not in path.read_bytes()


def test_summary_of_a_missing_database_creates_nothing(tmp_path):
    path = tmp_path / "none" / "feedback.sqlite"
    summary = FeedbackStore(path).summary()
    assert summary.votes == 0 and summary.render() == "No feedback yet."
    assert not path.exists()


def test_the_feedback_command_prints_the_summary(tmp_path, monkeypatch, capfd):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite"))
    assert main(["feedback"]) == 0 and capfd.readouterr().out == "No feedback yet.\n"
    FeedbackStore(tmp_path / "feedback.sqlite").record("a1", "Q?", ["c1"], False, "111")
    assert main(["feedback", "--json"]) == 0
    summary = json.loads(capfd.readouterr().out)
    assert summary["not_helpful"] == 1 and summary["recent_not_helpful"][0]["chunk_ids"] == ["c1"]
