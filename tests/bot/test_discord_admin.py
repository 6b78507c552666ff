"""Discord start-up and guards staff rely on (issue 13): commands synced only when they changed, a guild that
refuses named in one line, no commands offered in DMs unless allowed, and buttons under the DM rule and cooldown."""

from __future__ import annotations

import asyncio
import logging
from unittest.mock import MagicMock

import discord
import pytest
from discord.ext import commands

from bot.discord_adapter.client import ImprovementBot, command_plan
from bot.discord_adapter.cog import AnswersCog
from bot.discord_adapter.command_sync import sync_commands
from bot.feedback import FeedbackStore
from bot.handlers import Button, Handlers, Reply
from bot.services import Services
from bot.settings import Settings
from tests.bot.test_discord_cog import fake_interaction, sent


def _handlers(tmp_path, **overrides) -> tuple[Handlers, Settings]:
    settings = Settings(corpus_dir=tmp_path, index_dir=tmp_path / "index", _env_file=None, **overrides)
    return Handlers(Services(settings), FeedbackStore(tmp_path / "feedback.sqlite")), settings


async def _sync_round(tmp_path, state, calls: list, **overrides) -> list[int]:
    handlers, settings = _handlers(tmp_path, **overrides)
    bot = ImprovementBot(handlers, settings)
    await bot.add_cog(AnswersCog(bot, handlers, settings))
    bot._connection.application_id = 42

    async def fake_sync(*, guild=None):
        calls.append(guild.id)
        if guild.id == 2:
            raise discord.Forbidden(MagicMock(status=403, reason="Forbidden"), {"code": 50001,
                                                                                "message": "Missing Access"})
        return []

    bot.tree.sync = fake_sync
    return await sync_commands(bot.tree, [1, 2], state)


def test_commands_are_synced_only_when_they_changed_and_a_refusing_guild_is_named(tmp_path, caplog):
    state = tmp_path / "var" / "discord_commands.json"
    calls: list[int] = []
    with caplog.at_level(logging.INFO, logger="bot.discord_adapter.command_sync"):
        assert asyncio.run(_sync_round(tmp_path, state, calls)) == [2]
    assert calls == [1, 2]
    [refusal] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "guild 2 refused" in refusal and "Missing Access" in refusal and "BOT_GUILD_IDS" in refusal
    calls.clear()
    assert asyncio.run(_sync_round(tmp_path, state, calls)) == [2]
    assert calls == [2]  # guild 1 already has these commands; the refusing guild is tried again
    calls.clear()
    asyncio.run(_sync_round(tmp_path, state, calls, answer_dms=True))  # the commands' contexts changed
    assert calls == [1, 2]


def test_commands_are_not_offered_in_direct_messages_unless_allowed(tmp_path):
    handlers, settings = _handlers(tmp_path)
    plan = command_plan(handlers, settings)
    assert all(c["dm_permission"] is False and c["contexts"] == [0] for c in plan["commands"])
    handlers, settings = _handlers(tmp_path, answer_dms=True)
    ask = next(c for c in command_plan(handlers, settings)["commands"] if c["name"] == "ask")
    assert ask["dm_permission"] is True


def _cog(tmp_path, pressed: list, **overrides) -> AnswersCog:
    handlers, settings = _handlers(tmp_path, **overrides)
    handlers.press = lambda action, argument, user: pressed.append(action) or Reply(description="more results")
    bot = MagicMock(spec=commands.Bot)
    return AnswersCog(bot, handlers, settings)


def test_buttons_keep_the_direct_message_rule(tmp_path):
    pressed: list[str] = []
    interaction = fake_interaction(in_guild=False)
    asyncio.run(_cog(tmp_path, pressed).press(interaction, Button(label="More results", action="more", argument="x")))
    assert pressed == []
    assert "direct messages" in sent(interaction.response.send_message)["content"]


@pytest.mark.parametrize("action, throttled", [("more", True), ("docs", False)])
def test_more_results_is_under_the_cooldown(tmp_path, action, throttled):
    pressed: list[str] = []
    cog = _cog(tmp_path, pressed, cooldown_seconds=60)
    first, second = fake_interaction(user_id=1), fake_interaction(user_id=1)
    for interaction in (first, second):
        asyncio.run(cog.press(interaction, Button(label="More", action=action, argument="x")))
    assert pressed == [action] * (1 if throttled else 2)
    if throttled:
        kwargs = sent(second.response.send_message)
        assert kwargs["ephemeral"] is True and "please wait" in kwargs["content"]


async def _unavailable(self, token):
    raise discord.HTTPException(MagicMock(status=503, reason="Service Unavailable"), "upstream connect error")


def test_serve_when_discord_fails_at_login_is_one_line_and_status_2(tmp_path, monkeypatch, capfd):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)  # away from any developer's .env
    for name, value in {"BOT_DISCORD_TOKEN": "A" * 24 + ".Bcdefg." + "C" * 27, "BOT_INDEX_DIR": str(tmp_path / "i"),
                        "BOT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite"), "BOT_GUILD_IDS": "",
                        "BOT_QA_CHANNEL_IDS": ""}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(discord.http.HTTPClient, "static_login", _unavailable)
    assert main(["serve"]) == 2
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == ("error: Discord refused to start the bot (HTTP 503: upstream connect error); "
                                    "try again later")
