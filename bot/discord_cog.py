"""Discord adapter: slash commands, buttons and channel questions, all over `bot.handlers`.

Nothing here decides what to answer; it defers every interaction at once, runs the handler in a worker
thread, and renders the `Reply` through `message_kwargs`, the one place that escapes text and enforces
Discord's limits. Nothing the bot sends can ping anyone.

Intents: channel questions need message content. Discord sends it for messages that mention the bot and for
DMs without the privileged intent, so it is only requested when Q&A channels are configured
(BOT_QA_CHANNEL_IDS); then "Message Content Intent" must be switched on in the Developer Portal.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import re
from typing import Any, Callable, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.handlers import COMMANDS, IN_PLACE_ACTIONS, Button, Choice, Cooldown, Handlers, Reply, failure, too_soon
from bot.settings import Settings
from index.sentences import sentences
from index.errors import EngineError

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
TITLE, DESCRIPTION, FIELD_NAME, FIELD_VALUE, FOOTER = 256, 4096, 256, 1024, 2048
MAX_FIELDS, EMBED_TOTAL, CONTENT, LABEL, THREAD_NAME, CHOICE_NAME = 25, 6000, 2000, 80, 100, 100
MAX_BUTTONS = 25  # 5 rows of 5
_STYLES = {name: getattr(discord.ButtonStyle, name) for name in ("primary", "secondary", "success", "danger")}
_SAFE_URL = re.compile(r"https?://[^\s<>]+")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}")


# --- rendering: escaping and Discord's limits, for every message the bot sends ---------------------------

def defuse_mentions(text: str) -> str:
    """@everyone, @here and <@id> forms made inert even where markdown is not rendered (footers)."""
    return discord.utils.escape_mentions(text).replace("<@", "<\u200b@")


def escape(text: str) -> str:
    """Quoted text shown as typed: markdown cannot restyle it and mentions cannot resolve."""
    return defuse_mentions(discord.utils.escape_markdown(text))


def fit(text: str, limit: int, hint: str = "", render: Callable[[str], str] = escape) -> str:
    """`text` rendered within `limit` characters: whole if it fits, else cut after a sentence (failing that a
    word, failing that a character) and ended with '…' and the hint saying where to read the rest."""
    whole = render(text)
    if len(whole) <= limit:
        return whole
    tail = f" … ({hint})" if hint else " …"
    word_ends = [match.start() for match in re.finditer(r"\s+", text)]
    for cuts in ([end for _, end in sentences(text)], word_ends, range(1, len(text))):
        cut = _longest_fitting(text, list(cuts), tail, limit, render)
        if cut is not None:
            return cut
    return render(tail.strip())[:limit]


def _longest_fitting(text: str, cuts: list[int], tail: str, limit: int, render: Callable[[str], str]) -> str | None:
    """Binary search for the longest cut whose rendering fits; rendering grows with the text it is given."""
    best, low, high = None, 0, len(cuts) - 1
    while low <= high:
        middle = (low + high) // 2
        candidate = render(text[: cuts[middle]].rstrip() + tail)
        if len(candidate) <= limit:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def safe_url(url: str | None) -> str | None:
    return url if url and _SAFE_URL.fullmatch(url) else None


def render_embed(reply: Reply) -> discord.Embed:
    """The reply as one embed within every embed limit. The description takes what the rest leaves of the total,
    and trailing fields are dropped only while it would get less than half its own limit."""
    embed = discord.Embed(title=fit(reply.title, TITLE) or None, url=safe_url(reply.url) if reply.title else None,
                          colour=discord.Colour.dark_teal())
    for field in reply.fields[:MAX_FIELDS]:
        url = safe_url(field.url)
        link = f"\n[Open the document](<{url}>)" if url else ""
        embed.add_field(name=fit(field.name, FIELD_NAME) or "\u200b", inline=False,
                        value=fit(field.value, FIELD_VALUE - len(link), field.cut_hint) + link or "\u200b")
    if reply.footer:
        embed.set_footer(text=fit(reply.footer, FOOTER, render=defuse_mentions))
    wanted = len(fit(reply.description, DESCRIPTION, reply.cut_hint))
    while embed.fields and EMBED_TOTAL - len(embed) < min(wanted, DESCRIPTION // 2):
        embed.remove_field(-1)
    embed.description = fit(reply.description, min(DESCRIPTION, EMBED_TOTAL - len(embed)), reply.cut_hint) or None
    return embed


def build_view(buttons: list[Button]) -> discord.ui.View | None:
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons[:MAX_BUTTONS]:
        view.add_item(ReplyButton(button))
    return view


def message_kwargs(reply: Reply) -> dict[str, Any]:
    """What to pass to any send: short notices as plain text, everything else as an embed; never a ping."""
    if reply.title or reply.fields or reply.footer:
        kwargs: dict[str, Any] = {"embed": render_embed(reply)}
    else:
        kwargs = {"content": fit(reply.description, CONTENT, reply.cut_hint)}
    view = build_view(reply.buttons)
    if view is not None:
        kwargs["view"] = view
    return kwargs | {"allowed_mentions": NO_PINGS}


def edit_kwargs(reply: Reply) -> dict[str, Any]:
    """As `message_kwargs`, clearing whatever the edited message showed before."""
    return {"content": None, "embed": None, "view": None} | message_kwargs(reply)


class ReplyButton(discord.ui.DynamicItem[discord.ui.Button],
                  template=r"ib:(?P<action>passage|more|vote|docs):(?P<argument>[\w:-]{0,80})"):
    """A button whose custom_id carries its action, so it works on any message, even after a restart."""

    def __init__(self, button: Button):
        super().__init__(discord.ui.Button(label=button.label[:LABEL], style=_STYLES[button.style],
                                           custom_id=f"ib:{button.action}:{button.argument}"))
        self.button = button

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str], /):
        label = getattr(item, "label", None) or match["action"]
        return cls(Button(label=label, action=match["action"], argument=match["argument"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog(AnswersCog.__cog_name__)
        await cog.press(interaction, self.button)


# --- the commands ------------------------------------------------------------------------------------------

def _described(name: str) -> Callable:
    return app_commands.command(name=name, description=COMMANDS[name].summary)


class AnswersCog(commands.Cog, name="Answers"):
    """Slash commands, buttons and channel questions; each defers at once and answers by follow-up."""

    def __init__(self, bot: commands.Bot, handlers: Handlers, settings: Settings):
        self.bot = bot
        self.handlers = handlers
        self.settings = settings
        self.cooldown = Cooldown(settings.cooldown_seconds)
        self.reindexing: asyncio.Task | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Direct messages are answered only when the server's staff allow it (BOT_ANSWER_DMS)."""
        if interaction.guild is not None or self.settings.answer_dms:
            return True
        refusal = Reply(ephemeral=True, description="I answer questions in the server, not in direct messages.")
        await interaction.response.send_message(**message_kwargs(refusal), ephemeral=True)
        return False

    async def cog_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError):
        if isinstance(error, app_commands.CheckFailure):
            return  # already told the user why
        reply = failure(getattr(error, "original", error))
        if interaction.response.is_done():
            await interaction.followup.send(**message_kwargs(reply), ephemeral=True)
        else:
            await interaction.response.send_message(**message_kwargs(reply), ephemeral=True)

    @_described("ask")
    @app_commands.rename(doc_type="type")
    @app_commands.describe(question="your question, in your own words", council="only this council's documents",
                           since="only documents dated on or after this day, as YYYY-MM-DD",
                           doc_type="only this kind of document")
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 1000],
                  council: str | None = None, since: str | None = None,
                  doc_type: Literal["minutes", "report", "letter", "news"] | None = None) -> None:
        wait = self.cooldown.wait(str(interaction.user.id))
        if wait:
            await interaction.response.send_message(**message_kwargs(too_soon(wait)), ephemeral=True)
            return
        await self._run(interaction, False, functools.partial(self.handlers.ask, question, council, since, doc_type))

    @ask.autocomplete("council")
    async def _council_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self._choices(self.handlers.council_choices, current)

    @_described("quote")
    @app_commands.describe(chunk_id="the passage id from an answer's sources (or start typing a document title)",
                           context="how many passages before and after to show as well")
    async def quote(self, interaction: discord.Interaction, chunk_id: str,
                    context: app_commands.Range[int, 0, 3] = 0) -> None:
        await self._run(interaction, False, functools.partial(self.handlers.quote, chunk_id, context))

    @quote.autocomplete("chunk_id")
    async def _quote_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self._choices(self.handlers.quote_choices, current)

    @_described("docs")
    @app_commands.describe(page="which page of the list, from 1")
    async def docs(self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 1000] = 1) -> None:
        await self._run(interaction, True, functools.partial(self.handlers.docs, page))

    @_described("visits")
    @app_commands.describe(as_of="see the timeline from this day, as YYYY-MM-DD (default today)",
                           council="only this council's visits", include_past="also list what already happened")
    async def visits(self, interaction: discord.Interaction, as_of: str | None = None, council: str | None = None,
                     include_past: bool = False) -> None:
        await self._run(interaction, False, functools.partial(self.handlers.visits, as_of, council, include_past))

    @visits.autocomplete("council")
    async def _visits_council_choices(self, interaction: discord.Interaction,
                                      current: str) -> list[app_commands.Choice[str]]:
        return await self._choices(self.handlers.council_choices, current)

    @_described("help")
    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(**message_kwargs(self.handlers.help()), ephemeral=True)

    @_described("reindex")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        """Runs in the background, editing its reply as it goes; the handler re-checks the permission."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        self.reindexing = asyncio.create_task(self._reindex(interaction, interaction.permissions.manage_guild))

    async def _reindex(self, interaction: discord.Interaction, allowed: bool) -> None:
        loop = asyncio.get_running_loop()
        updates: list[concurrent.futures.Future] = []

        def progress(step: str) -> None:
            update = edit_kwargs(Reply(description=f"Re-indexing: {step}…"))
            updates.append(asyncio.run_coroutine_threadsafe(interaction.edit_original_response(**update), loop))

        reply = await self._reply_from(functools.partial(self.handlers.reindex, allowed, progress))
        await asyncio.gather(*map(asyncio.wrap_future, updates), return_exceptions=True)  # none lands after the result
        await interaction.edit_original_response(**edit_kwargs(reply))

    async def press(self, interaction: discord.Interaction, button: Button) -> None:
        """A button: paging edits its own message; anything else answers privately."""
        work = functools.partial(self.handlers.press, button.action, button.argument, str(interaction.user.id))
        if button.action not in IN_PLACE_ACTIONS:
            await self._run(interaction, True, work)
            return
        await interaction.response.defer()
        await interaction.edit_original_response(**edit_kwargs(await self._reply_from(work)))

    async def _run(self, interaction: discord.Interaction, ephemeral: bool, work: Callable[[], Reply]) -> None:
        """Defer within Discord's 3 seconds, do the work off the event loop, then answer by follow-up."""
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        reply = await self._reply_from(work)
        if reply.ephemeral and not ephemeral:
            await interaction.delete_original_response()  # a public "thinking…" cannot turn private
        await interaction.followup.send(**message_kwargs(reply), ephemeral=reply.ephemeral or ephemeral)

    @staticmethod
    async def _reply_from(work: Callable[[], Reply]) -> Reply:
        try:
            return await asyncio.to_thread(work)
        except Exception as error:  # noqa: BLE001 — every failure reaches the user with a reference
            return failure(error)

    @staticmethod
    async def _choices(source: Callable[[str], list[Choice]], current: str) -> list[app_commands.Choice[str]]:
        try:
            choices = await asyncio.to_thread(source, current)
        except Exception:  # noqa: BLE001 — a failed suggestion list must not surface as an error
            log.exception("autocomplete failed for %r", current)
            return []
        return [app_commands.Choice(name=fit(c.name, CHOICE_NAME, render=str), value=c.value[:CHOICE_NAME])
                for c in choices]

    # --- channel questions --------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if not self._is_question(message):
            return
        wait = self.cooldown.wait(str(message.author.id))
        if wait:
            await message.reply(**message_kwargs(too_soon(wait)), mention_author=False, delete_after=max(wait, 5))
            return
        async with message.channel.typing():
            reply = await self._reply_from(
                functools.partial(self.handlers.channel_question, message.content, self.bot.user.id))
        if reply.ephemeral or not reply.topic:
            await message.reply(**message_kwargs(reply), mention_author=False)
            return
        thread = await self._thread_for(message, reply.topic)
        await thread.send(**message_kwargs(reply))

    def _is_question(self, message: discord.Message) -> bool:
        """Someone (not a bot) mentioning us, writing in a Q&A channel or its threads, or in a DM if allowed."""
        if message.author.bot:
            return False
        if message.guild is None:
            return self.settings.answer_dms
        channels = set(self.settings.qa_channel_ids)
        in_qa = message.channel.id in channels or getattr(message.channel, "parent_id", None) in channels
        return in_qa or any(user.id == self.bot.user.id for user in message.mentions)

    async def _thread_for(self, message: discord.Message, topic: str) -> discord.abc.Messageable:
        """A new thread on the question, where channels allow one; otherwise the channel (or thread) itself."""
        if isinstance(message.channel, discord.TextChannel):
            try:
                return await message.create_thread(name=fit(topic, THREAD_NAME, render=str))
            except discord.HTTPException as error:
                log.warning("could not open a thread in channel %s (%s); answering in the channel",
                            message.channel.id, error)
        return message.channel


# --- the bot ----------------------------------------------------------------------------------------------

class ImprovementBot(commands.Bot):
    """The Discord client: loads the cog, routes buttons, and syncs commands once at start."""

    def __init__(self, handlers: Handlers, settings: Settings):
        intents = discord.Intents.default()
        intents.message_content = bool(settings.qa_channel_ids)
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, allowed_mentions=NO_PINGS,
                         help_command=None)
        self.handlers = handlers
        self.settings = settings

    async def setup_hook(self) -> None:
        await self.add_cog(AnswersCog(self, self.handlers, self.settings))
        self.add_dynamic_items(ReplyButton)
        if self.settings.guild_ids:
            for guild_id in self.settings.guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
            log.info("commands synced to guilds %s", self.settings.guild_ids)
        else:
            await self.tree.sync()
            log.info("commands synced globally (they can take up to an hour to appear)")

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: the cog's listener answers questions, so mentions are not parsed as commands."""


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
    """Run the bot until stopped; a missing, malformed or rejected token is one EngineError line."""
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
