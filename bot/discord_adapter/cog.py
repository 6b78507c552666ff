"""The Discord cog: slash commands, buttons and channel questions, all over `bot.handlers`.

Nothing here decides what to answer; it defers every interaction at once, runs the handler in a worker
thread, and sends the `Reply` through `message_kwargs`, which renders it with `bot.discord_adapter.render`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import re
import time
from typing import Any, Callable, Literal, get_args

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_adapter.render import CHOICE_NAME, CONTENT, LABEL, NO_PINGS, THREAD_NAME, fit, render_embed
from bot.handlers import (
    COMMANDS, IN_PLACE_ACTIONS, Button, ButtonAction, Choice, Cooldown, Handlers, Reply, failure, too_soon,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_BUTTONS = 25  # 5 rows of 5
TOKEN_SECONDS = 14 * 60  # an interaction's token lasts 15 minutes: after this, answer in a fresh message
THROTTLED_ACTIONS: frozenset[str] = frozenset({"more"})  # search again: under a per-user cooldown like questions
GUILDS_ONLY = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
_STYLES = {name: getattr(discord.ButtonStyle, name) for name in ("primary", "secondary", "success", "danger")}


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
                  template=rf"ib:(?P<action>{'|'.join(get_args(ButtonAction))}):(?P<argument>[\w:-]{{0,80}})"):
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


def conversation_key(message: discord.Message) -> str:
    """One person in one thread or DM, so follow-ups never cross people. A question in a channel opens a thread on
    its message, and a thread started from a message has the message's id: its follow-ups find this context,
    and every new thread starts afresh."""
    in_place = message.guild is None or isinstance(message.channel, discord.Thread)
    return f"{message.channel.id if in_place else message.id}:{message.author.id}"


def _described(name: str) -> Callable:
    return app_commands.command(name=name, description=COMMANDS[name].summary)


class AnswersCog(commands.Cog, name="Answers"):
    """Slash commands, buttons and channel questions; each defers at once and answers by follow-up."""

    def __init__(self, bot: commands.Bot, handlers: Handlers, settings: Settings):
        self.bot = bot
        self.handlers = handlers
        self.settings = settings
        self.cooldown = Cooldown(settings.cooldown_seconds)
        self.button_cooldown = Cooldown(settings.cooldown_seconds)
        self.reindexing: asyncio.Task | None = None
        if not settings.answer_dms:  # then Discord does not even offer the commands in direct messages
            for command in self.get_app_commands():
                command.guild_only = True
                command.allowed_contexts = GUILDS_ONLY
        self.schedule: asyncio.Task | None = None

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
        conversation = (f"{interaction.channel_id}:{interaction.user.id}"
                        if interaction.guild is None or isinstance(interaction.channel, discord.Thread) else None)
        await self._run(interaction, False, functools.partial(self.handlers.ask, question, council, since, doc_type,
                                                              conversation))

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
                           council="only this council's visits", include_past="also list what already happened",
                           page="which page of the timeline, from 1 (the buttons page through it too)")
    async def visits(self, interaction: discord.Interaction, as_of: str | None = None, council: str | None = None,
                     include_past: bool = False, page: app_commands.Range[int, 1, 1000] = 1) -> None:
        await self._run(interaction, False,
                        functools.partial(self.handlers.visits, as_of, council, include_past, page))

    @visits.autocomplete("council")
    async def _visits_council_choices(self, interaction: discord.Interaction,
                                      current: str) -> list[app_commands.Choice[str]]:
        return await self._choices(self.handlers.council_choices, current)

    @_described("progress")
    @app_commands.describe(theme="only the area on this theme, e.g. care leavers, permanence, workforce",
                           council="the council (needed when the documents cover several)",
                           inspection="which inspection: a year or a document (default: the latest)",
                           since="only evidence dated on or after this day, as YYYY-MM-DD",
                           page="which page, from 1 (the buttons page through it too)")
    async def progress(self, interaction: discord.Interaction, theme: app_commands.Range[str, 1, 100] | None = None,
                       council: str | None = None, inspection: str | None = None, since: str | None = None,
                       page: app_commands.Range[int, 1, 1000] = 1) -> None:
        await self._run(interaction, False,
                        functools.partial(self.handlers.progress, theme, council, inspection, since, page))

    @progress.autocomplete("council")
    async def _progress_council_choices(self, interaction: discord.Interaction,
                                        current: str) -> list[app_commands.Choice[str]]:
        return await self._choices(self.handlers.council_choices, current)

    @progress.autocomplete("inspection")
    async def _progress_inspection_choices(self, interaction: discord.Interaction,
                                           current: str) -> list[app_commands.Choice[str]]:
        return await self._choices(self.handlers.inspection_choices, current)

    @_described("compare")
    @app_commands.describe(a="the earlier inspection or visit (start typing a council or title)",
                           b="the later one", page="which page, from 1 (the buttons page through it too)")
    async def compare(self, interaction: discord.Interaction, a: str, b: str,
                      page: app_commands.Range[int, 1, 1000] = 1) -> None:
        await self._run(interaction, False, functools.partial(self.handlers.compare, a, b, page))

    @compare.autocomplete("a")
    @compare.autocomplete("b")
    async def _compare_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self._choices(self.handlers.inspection_choices, current)

    @_described("watch")
    @app_commands.describe(topic="what to watch, e.g. agency social workers (leave out to list your watches)",
                           here="post to this channel instead of to you (Manage Server only)")
    async def watch(self, interaction: discord.Interaction, topic: app_commands.Range[str, 1, 100] | None = None,
                    here: bool = False) -> None:
        if here and (interaction.guild is None or not interaction.permissions.manage_guild):
            refusal = Reply(ephemeral=True, description="Only members with Manage Server can set a channel's watches.")
            await interaction.response.send_message(**message_kwargs(refusal), ephemeral=True)
            return
        kind, subscriber = ("channel", str(interaction.channel_id)) if here else ("user", str(interaction.user.id))
        await self._run(interaction, True, functools.partial(self.handlers.watch, topic, kind, subscriber))

    @_described("unwatch")
    @app_commands.describe(which="the watch's number or topic, as /watch lists them",
                           here="a watch of this channel (Manage Server only)")
    async def unwatch(self, interaction: discord.Interaction, which: app_commands.Range[str, 1, 100],
                      here: bool = False) -> None:
        if here and (interaction.guild is None or not interaction.permissions.manage_guild):
            refusal = Reply(ephemeral=True,
                            description="Only members with Manage Server can change a channel's watches.")
            await interaction.response.send_message(**message_kwargs(refusal), ephemeral=True)
            return
        kind, subscriber = ("channel", str(interaction.channel_id)) if here else ("user", str(interaction.user.id))
        await self._run(interaction, True, functools.partial(self.handlers.unwatch, which, kind, subscriber))

    @_described("gaps")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def gaps(self, interaction: discord.Interaction) -> None:
        """Hidden from members without Manage Server, and the handler checks again."""
        await self._run(interaction, True, functools.partial(self.handlers.gaps, interaction.permissions.manage_guild))

    @_described("define")
    @app_commands.describe(term="an acronym or term, e.g. CLA, IRO, care leaver")
    async def define(self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 100]) -> None:
        await self._run(interaction, False, functools.partial(self.handlers.define, term))

    @define.autocomplete("term")
    async def _term_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self._choices(self.handlers.term_choices, current)

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
        """Progress edits the deferred reply while its token lasts (15 minutes); a result that comes later is posted
        as a fresh message in the channel, so a long build's outcome is never lost."""
        loop = asyncio.get_running_loop()
        updates: list[concurrent.futures.Future] = []
        started = time.monotonic()

        def in_time() -> bool:
            return time.monotonic() - started < TOKEN_SECONDS

        def progress(step: str) -> None:
            if in_time():
                update = edit_kwargs(Reply(description=f"Re-indexing: {step}…"))
                updates.append(asyncio.run_coroutine_threadsafe(interaction.edit_original_response(**update), loop))

        reply = await self._reply_from(functools.partial(self.handlers.reindex, allowed, progress))
        await asyncio.gather(*map(asyncio.wrap_future, updates), return_exceptions=True)  # none lands after the result
        if in_time():
            try:
                await interaction.edit_original_response(**edit_kwargs(reply))
                return
            except discord.HTTPException as error:
                log.warning("the /reindex reply could not be edited (%s); posting the result in the channel", error)
        if interaction.channel is not None:
            await interaction.channel.send(**message_kwargs(reply))

    # --- the scheduled sync -----------------------------------------------------------------------------------

    def start_schedule(self) -> None:
        """Sync every BOT_SYNC_INTERVAL_MINUTES (off when 0, the default); started by the client once connected."""
        minutes = self.settings.sync_interval_minutes
        if minutes > 0 and self.schedule is None:
            if not self.settings.sync_channel_id:
                log.warning("scheduled sync every %s minutes, but no BOT_SYNC_CHANNEL_ID: 'New papers' are not "
                            "posted (watch alerts still are)", minutes)
            self.schedule = asyncio.create_task(self._every(minutes * 60))

    async def cog_unload(self) -> None:
        if self.schedule is not None:
            self.schedule.cancel()

    async def _every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.scheduled_sync()
            except Exception:  # noqa: BLE001 — one failed round must not stop the next
                log.exception("scheduled sync failed; trying again in %s seconds", seconds)

    async def scheduled_sync(self) -> None:
        """Sync in a worker thread (the event loop keeps its heartbeat), then post 'New papers' to the sync channel
        and each watch's passages to its channel or person; never a ping, and only where the bot may post."""
        posts = await asyncio.to_thread(self.handlers.scheduled_sync)
        if posts.papers is not None and self.settings.sync_channel_id:
            await self._post(self.settings.sync_channel_id, posts.papers)
        for alert in posts.alerts:
            if alert.watch.subscriber.isdigit():
                await self._post(int(alert.watch.subscriber), alert.reply, to_user=alert.watch.kind == "user")

    async def _post(self, target_id: int, reply: Reply, to_user: bool = False) -> None:
        try:
            if to_user:
                target = self.bot.get_user(target_id) or await self.bot.fetch_user(target_id)
            else:
                target = self.bot.get_channel(target_id) or await self.bot.fetch_channel(target_id)
                guild = getattr(target, "guild", None)
                if guild is not None and not target.permissions_for(guild.me).send_messages:
                    log.warning("not posting to channel %s: the bot may not send messages there", target_id)
                    return
            await target.send(**message_kwargs(reply))
        except discord.HTTPException as error:
            log.warning("could not post to %s %s: %s", "user" if to_user else "channel", target_id, error)

    async def press(self, interaction: discord.Interaction, button: Button) -> None:
        """A button: paging edits its own message; anything else answers privately. Buttons bypass the command
        checks, so the direct-message rule and (for another search) the cooldown are applied here."""
        if not await self.interaction_check(interaction):
            return
        wait = self.button_cooldown.wait(str(interaction.user.id)) if button.action in THROTTLED_ACTIONS else 0.0
        if wait:
            await interaction.response.send_message(**message_kwargs(too_soon(wait)), ephemeral=True)
            return
        if button.action == "gaps" and not interaction.permissions.manage_guild:  # as /gaps itself
            refusal = self.handlers.gaps(allowed=False)
            await interaction.response.send_message(**message_kwargs(refusal), ephemeral=True)
            return
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
            reply = await self._reply_from(functools.partial(
                self.handlers.channel_question, message.content, self.bot.user.id, conversation_key(message)))
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
