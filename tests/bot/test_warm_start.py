"""Warm start: the console's prompt comes at once while the model loads, and says when it is ready; the Discord bot
warms the model before its first question; a /reindex that outlives its interaction token reports in the channel."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from unittest.mock import AsyncMock, MagicMock

import discord

from bot.console import run_console
from bot.discord_adapter import cog as cog_module
from bot.discord_adapter.client import warm
from bot.feedback import FeedbackStore
from bot.handlers import Handlers
from tests.bot.test_discord_cog import assert_safe, fake_interaction, make_cog, sent

QUESTION = "When is the next full Ofsted inspection expected?"


def test_the_console_prompt_comes_at_once_and_a_question_waits_for_the_model(seed_services, tmp_path, monkeypatch):
    handlers = Handlers(seed_services, FeedbackStore(tmp_path / "feedback.sqlite"))
    loading, release = threading.Event(), threading.Event()

    def slow_warm() -> None:
        loading.set()
        assert release.wait(10)

    monkeypatch.setattr(handlers, "warm", slow_warm)
    out = io.StringIO()
    stdin_lines = iter(["/help\n", f"{QUESTION}\n", ""])

    class Stdin(io.StringIO):
        def readline(self, *_):
            line = next(stdin_lines)
            if line == f"{QUESTION}\n":  # by now the greeting and /help were answered while the model loads
                assert loading.wait(10) and not release.is_set()
                assert "Asking about the improvement journey" in out.getvalue()
                threading.Timer(0.2, release.set).start()
            return line

    assert run_console(handlers, Stdin(), out, warm=True) == 0
    text = out.getvalue()
    assert text.startswith("Improvement bot:") and "The model is loading; it says when it is ready." in text
    waiting = text.index("… the model is still loading; your question is answered as soon as it is ready.")
    ready = text.index("(The model is ready.)")
    answer = text.index(handlers.ask(QUESTION).as_text())
    assert text.index("Asking about the improvement journey") < waiting < ready < answer


def test_the_console_says_in_one_line_when_the_model_cannot_load(seed_services, tmp_path, monkeypatch):
    handlers = Handlers(seed_services, FeedbackStore(tmp_path / "feedback.sqlite"))
    monkeypatch.setattr(handlers, "warm", lambda: (_ for _ in ()).throw(RuntimeError("no model here")))
    out = io.StringIO()
    lines = iter(["/define CLA\n", "", ""])

    class Stdin(io.StringIO):
        def readline(self, *_):
            line = next(lines)
            for _ in range(100):  # at the end, wait for the loading thread to have said its piece
                if line or "(The model" in out.getvalue():
                    break
                time.sleep(0.05)
            return line

    run_console(handlers, Stdin(), out, warm=True)
    assert "(The model is not ready. Sorry: something went wrong on my side." in out.getvalue()


def test_the_discord_bot_warms_the_model_off_the_event_loop(seed_services, tmp_path, caplog):
    handlers = Handlers(seed_services, FeedbackStore(tmp_path / "feedback.sqlite"))
    threads: list[str] = []
    handlers.warm = lambda: threads.append(threading.current_thread().name)
    asyncio.run(warm(handlers))
    assert threads and threads[0] != threading.main_thread().name

    def broken() -> None:
        raise RuntimeError("no index")

    handlers.warm = broken
    with caplog.at_level(logging.WARNING):
        asyncio.run(warm(handlers))  # the bot still starts
    assert "could not warm the model: no index" in caplog.text


def test_a_reindex_that_outlives_its_token_reports_in_a_fresh_channel_message(seed_services, tmp_path, monkeypatch):
    monkeypatch.setattr(cog_module, "TOKEN_SECONDS", 0)
    cog = make_cog(seed_services, tmp_path)
    interaction = fake_interaction(manage_guild=True)
    interaction.channel = MagicMock(spec=discord.TextChannel)
    interaction.channel.send = AsyncMock()

    async def go():
        await cog.reindex.callback(cog, interaction)
        await cog.reindexing

    asyncio.run(go())
    assert interaction.edit_original_response.await_count == 0  # the token is gone: no edit is tried
    posted = sent(interaction.channel.send)
    assert posted["embed"].title.startswith("Indexed 5 documents")
    assert_safe(posted)
