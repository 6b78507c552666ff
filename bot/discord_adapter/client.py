"""The Discord client: the bot that loads the cog and syncs its commands, `serve --check`'s plan, and `serve`.

Intents: channel questions need message content. Discord sends it for messages that mention the bot and for
DMs without the privileged intent, so it is only requested when Q&A channels are configured
(BOT_QA_CHANNEL_IDS); then "Message Content Intent" must be switched on in the Developer Portal.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from bot.discord_adapter.cog import AnswersCog, ReplyButton
from bot.discord_adapter.command_sync import sync_commands
from bot.discord_adapter.render import NO_PINGS
from bot.handlers import Handlers
from bot.settings import Settings
from index.errors import EngineError

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}")


class ImprovementBot(commands.Bot):
    """The Discord client: loads the cog, routes buttons, and syncs commands at start when they changed."""

    def __init__(self, handlers: Handlers, settings: Settings):
        intents = discord.Intents.default()
        intents.message_content = bool(settings.qa_channel_ids)
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, allowed_mentions=NO_PINGS,
                         help_command=None)
        self.handlers = handlers
        self.settings = settings

    async def setup_hook(self) -> None:
        cog = AnswersCog(self, self.handlers, self.settings)
        await self.add_cog(cog)
        self.add_dynamic_items(ReplyButton)
        cog.start_schedule()
        await warm(self.handlers)
        await sync_commands(self.tree, self.settings.guild_ids, self.settings.discord_state_file)

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: the cog's listener answers questions, so mentions are not parsed as commands."""


async def warm(handlers: Handlers) -> None:
    """Load the index and the model before the first question (in a worker thread: the loop keeps running), so the
    first /ask is as fast as the hundredth; a failure is logged in one line and every question then says why."""
    try:
        await asyncio.to_thread(handlers.warm)
        log.info("the model is loaded and warm")
    except Exception as error:  # noqa: BLE001 — the bot still starts: /docs, /help and /reindex need no model
        log.warning("could not warm the model: %s", error)


def command_plan(handlers: Handlers, settings: Settings) -> dict[str, Any]:
    """What `serve --check` prints: the commands that would be synced, and where; never the token."""
    bot = ImprovementBot(handlers, settings)
    asyncio.run(bot.add_cog(AnswersCog(bot, handlers, settings)))
    return {
        "sync": {"guilds": settings.guild_ids} if settings.guild_ids else "global",
        "token": "set" if settings.discord_token else "missing",
        "intents": {"message_content": bot.intents.message_content},
        "qa_channel_ids": settings.qa_channel_ids, "answer_dms": settings.answer_dms,
        "cooldown_seconds": settings.cooldown_seconds,
        "scheduled_sync": {"interval_minutes": settings.sync_interval_minutes or None,
                           "channel_id": settings.sync_channel_id},
        "commands": [command.to_dict(bot.tree) for command in bot.tree.get_commands()],
    }


def checked_token(settings: Settings) -> str | None:
    """The token if it looks like one Discord issues; a malformed one is refused without echoing it."""
    if settings.discord_token is None:
        return None
    token = settings.discord_token.get_secret_value().strip()
    if not _TOKEN.fullmatch(token):
        raise EngineError("the Discord token (BOT_DISCORD_TOKEN) is malformed: copy the bot's token from the "
                          "Developer Portal's Bot page, without quotes or a 'Bot ' prefix")
    return token


def serve(handlers: Handlers, settings: Settings) -> None:
    """Run the bot until stopped; a missing, malformed or rejected token, or no way to reach Discord, is one
    EngineError line (exit status 2), never a traceback."""
    token = checked_token(settings)
    if token is None:
        raise EngineError("no Discord token: set BOT_DISCORD_TOKEN (or DISCORD_TOKEN) in the environment or .env")
    bot = ImprovementBot(handlers, settings)
    try:
        bot.run(token, log_level=logging.INFO, root_logger=True)
    except discord.LoginFailure:
        raise EngineError("Discord rejected the token (BOT_DISCORD_TOKEN); reset it in the Developer Portal") from None
    except discord.PrivilegedIntentsRequired:
        raise EngineError("Q&A channels need the Message Content Intent: switch it on in the Developer Portal "
                          "(Bot page), or unset BOT_QA_CHANNEL_IDS") from None
    except discord.HTTPException as error:
        raise EngineError(f"Discord refused to start the bot (HTTP {error.status}: {error.text or 'no reason'}); "
                          "try again later") from None
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError, discord.GatewayNotFound,
            discord.ConnectionClosed) as error:
        raise EngineError(f"cannot reach Discord ({_one_line(error)}); check the network connection, "
                          "then run `serve` again") from None


def _one_line(error: BaseException) -> str:
    detail = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__
