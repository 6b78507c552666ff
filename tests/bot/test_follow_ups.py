"""Follow-up questions wired through the adapters: one conversation per console session (forgotten by /new), and
per person per Discord thread or DM, never across people; a new thread starts afresh."""

from __future__ import annotations

import asyncio
from unittest.mock import create_autospec

import discord
import pytest

from bot.feedback import FeedbackStore
from bot.handlers import Handlers
from tests.bot.test_console import chat
from tests.bot.test_discord_cog import fake_interaction, fake_message, make_cog

FIRST = "When was the last monitoring visit?"
FOLLOW_UP = "And the visit before that?"


@pytest.fixture()
def handlers(seed_services, tmp_path) -> Handlers:
    return Handlers(seed_services, FeedbackStore(tmp_path / "feedback.sqlite"))


def test_the_console_carries_the_visit_into_the_next_question_until_new(handlers):
    _, replies = chat(handlers, FIRST, FOLLOW_UP, "/new", FOLLOW_UP)
    first, follow_up, new, afresh = [reply.split("\n\n", 1)[-1] for reply in replies[:4]]  # after the title
    assert "The last monitoring visit the documents tell of" in first and "12–13 Nov 2024" in first
    assert follow_up.startswith("Before that: Nottingham City Council: a monitoring visit")
    assert "12–13 Nov 2024" not in follow_up.split("\n")[0]
    assert new == "Starting afresh: the next question is not read as a follow-up."
    assert not afresh.startswith("Before that:")  # nothing to follow any more
    _, [alone, *_] = chat(handlers, FOLLOW_UP)  # another session shares nothing
    assert not alone.split("\n\n", 1)[-1].startswith("Before that:")


def _thread_message(content: str, author: int, thread_id: int = 500) -> discord.Message:
    message = fake_message(content, channel_type=discord.Thread, channel_id=thread_id)
    message.author.id = author
    message.channel.parent_id = 77  # the Q&A channel of make_cog's settings
    return message


def test_two_people_in_one_thread_do_not_share_context(seed_services, tmp_path, monkeypatch):
    cog = make_cog(seed_services, tmp_path)
    seen: list[object] = []
    answerer_class = type(seed_services.answerer)
    real_ask = answerer_class.ask

    def spying_ask(self, question, filters=None, context=None):
        seen.append(context)
        return real_ask(self, question, filters, context)

    monkeypatch.setattr(answerer_class, "ask", spying_ask)
    for message in (_thread_message(FIRST, author=1), _thread_message(FOLLOW_UP, author=2),
                    _thread_message(FOLLOW_UP, author=1)):
        asyncio.run(cog.on_message(message))
    assert seen[0] is None and seen[1] is None  # the second person starts afresh in the same thread
    assert seen[2] is not None and seen[2].event_id  # the first person's follow-up carries their visit
    assert cog.handlers.conversations.get("500:2") is not None and cog.handlers.conversations.get("600:1") is None
    answer = cog.handlers.channel_question(FOLLOW_UP, conversation="600:1")  # a new thread: afresh
    assert not answer.description.startswith("Before that:")


def test_a_channel_question_keys_the_thread_it_opens_and_ask_in_a_thread_follows_up(seed_services, tmp_path):
    cog = make_cog(seed_services, tmp_path)
    message = fake_message(FIRST, channel_type=discord.TextChannel, channel_id=77)
    message.id, message.author.id = 900, 3
    asyncio.run(cog.on_message(message))
    assert cog.handlers.conversations.get("900:3") is not None  # the thread opened on message 900 has id 900
    interaction = fake_interaction(user_id=3)
    interaction.channel = create_autospec(discord.Thread, instance=True)
    interaction.channel.id = interaction.channel_id = 900
    asyncio.run(cog.ask.callback(cog, interaction, FOLLOW_UP))
    embed = interaction.followup.send.await_args.kwargs["embed"]
    assert embed.description.startswith("Before that:")


def test_more_results_of_a_follow_up_search_the_topic_it_carried(handlers, monkeypatch):
    handlers.ask("How much can agency social workers earn?", conversation="c")
    follow_up = handlers.ask("And in 2016?", conversation="c")
    searched: list[str] = []
    real_search = handlers.services.searcher.search
    monkeypatch.setattr(type(handlers.services.searcher), "search",
                        lambda self, text, **kw: searched.append(text) or real_search(text, **kw))
    handlers.press("more", next(b.argument for b in follow_up.buttons if b.action == "more"), "u1")
    assert "agency social workers" in searched[-1] and "2016" in searched[-1]
