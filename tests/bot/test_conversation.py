"""Follow-up questions carry the council, time and topic of the question before; contexts stay with their owner."""

from __future__ import annotations


from bot.conversation import Context, Conversations, follow_up
from index.models import DocumentMeta
from index.query import finder_for, understand

FINDER = finder_for([DocumentMeta(doc_id=str(n), source=f"{n}.txt", title="t", council=c)
                     for n, c in enumerate(["Nottingham City Council", "Bury Council"])])
BEFORE = Context(council="Nottingham City Council", years=(2024,), topic="What did Ofsted say about agency staff?")


def ask(question: str, context: Context | None = BEFORE):
    return follow_up(question, understand(question, FINDER), context)


def test_an_elliptical_question_carries_council_time_and_topic():
    asked = ask("And in Bury?")
    assert asked.intent.council == "Bury Council" and asked.intent.years == (2024,)
    assert asked.search_text == "What did Ofsted say about agency staff? And in Bury?"
    assert asked.topic == BEFORE.topic  # a chain of follow-ups carries the topic, not every question before it
    assert asked.carried == ["2024", "the same topic"]


def test_a_new_topic_keeps_the_council_and_time_but_not_the_old_topic():
    asked = ask("and care leavers?")
    assert asked.search_text == "and care leavers?"
    assert asked.intent.council == "Nottingham City Council" and asked.carried == ["Nottingham City Council", "2024"]


def test_a_new_year_replaces_the_old_one():
    asked = ask("What about 2023?")
    assert asked.intent.years == (2023,) and "2024" not in asked.carried
    assert asked.intent.council == "Nottingham City Council"


def test_without_a_context_nothing_is_carried():
    asked = ask("And in Bury?", context=None)
    assert asked.carried == [] and asked.search_text == "And in Bury?"


def test_contexts_are_per_key_bounded_in_number_and_forgotten_with_age():
    now = [0.0]
    conversations = Conversations(capacity=2, ttl_seconds=60, clock=lambda: now[0])
    conversations.remember("thread:alice", BEFORE)
    assert conversations.get("thread:bob") is None
    conversations.remember("thread:bob", Context(council="Bury Council"))
    conversations.remember("console", Context())
    assert conversations.get("thread:alice") is None  # the oldest went when a third arrived
    now[0] = 61
    assert conversations.get("thread:bob") is None
    conversations.remember("console", BEFORE)
    conversations.forget("console")
    assert conversations.get("console") is None


def test_the_visit_before_that_follows_the_visit_named_before(seed_services):
    answerer = seed_services.answerer
    first = answerer.ask("When was the last monitoring visit?")
    assert "12–13 Nov 2024" in first.lead and first.context.event_id
    second = answerer.ask("And the visit before that?", context=first.context)
    assert second.lead.startswith("Before that:") and "Nov 2023" in second.lead
    third = answerer.ask("And the one before that?", context=second.context)
    assert "Jul 2023" in third.lead


def test_a_follow_up_says_what_it_carried(seed_services):
    first = seed_services.answerer.ask("What did Bury say about agency staff?")
    second = seed_services.answerer.ask("and care leavers?", context=first.context)
    assert second.answer.startswith("Still about Bury Council.")
    assert all(c.council == "Bury Council" for c in second.citations)
    assert seed_services.answerer.ask("and care leavers?").understood is None


def test_the_visit_before_one_named_by_month_and_kind(seed_services):
    first = seed_services.answerer.ask("What did the July 2023 monitoring visit in Nottingham focus on?")
    assert first.context.event_id
    second = seed_services.answerer.ask("And the one before that?", context=first.context)
    assert second.lead.splitlines()[-1].startswith("Before that:") and "Feb 2023" in second.lead


def test_a_follow_up_naming_another_council_asks_the_timeline_for_that_council(seed_services):
    first = seed_services.answerer.ask("When is Bury's next inspection expected?")
    second = seed_services.answerer.ask("and in Nottingham?", context=first.context)
    assert second.lead.startswith("Searching Nottingham City Council. Still about the same topic.")
    assert "Nottingham City Council: a full inspection" in second.lead
    assert all(c.council == "Nottingham City Council" for c in second.citations)
