"""The Discord adapter, driven through fakes built on discord.py's own classes: what it sends, and how."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from unittest.mock import MagicMock, create_autospec

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.discord_adapter.client import command_plan
from bot.discord_adapter.cog import AnswersCog, ReplyButton, build_view, message_kwargs
from bot.discord_adapter.render import fit, render_embed
from bot.feedback import FeedbackStore
from bot.handlers import Button, Field, Handlers, Reply
from bot.services import Services
from bot.settings import Settings

BOT_ID = 999
QA_CHANNEL = 77
QUESTION = "When is the next full Ofsted inspection expected?"
HOSTILE_QUESTION = "What did the fostering panel discuss about placement sufficiency?"
LONG_SENTENCE = "The fostering panel discussed placement sufficiency and the @everyone notice with <@123> present. "
HOSTILE_TEXT = f"""Fostering panel minutes

1. Placement sufficiency: @everyone <@123> <@&456789012345678901> **bold** __under__ `code` ||spoiler|| \
[click](https://evil.example) the fostering panel discussed placement sufficiency at length.

2. {LONG_SENTENCE * 105}
"""
MANIFEST = """[[document]]
file = "hostile.txt"
title = "Fostering panel @everyone minutes"
council = "Testshire Council"
body = "Corporate Parenting Board"
date = 2024-05-01
type = "minutes"
url = "https://example.org/fostering-panel"
"""


def run(coro):
    return asyncio.run(coro)


def settings_for(services: Services, **overrides) -> Settings:
    values = {"corpus_dir": services.corpus, "index_dir": services.index_dir, "cooldown_seconds": 0,
              "qa_channel_ids": [QA_CHANNEL], "_env_file": None} | overrides
    return Settings(**values)


def make_cog(services: Services, tmp_path, **overrides) -> AnswersCog:
    bot = MagicMock(spec=commands.Bot)
    bot.user = MagicMock(spec=discord.ClientUser, id=BOT_ID)
    handlers = Handlers(services, FeedbackStore(tmp_path / "feedback.sqlite"))
    return AnswersCog(bot, handlers, settings_for(services, **overrides))


def fake_interaction(user_id: int = 1, manage_guild: bool = False, in_guild: bool = True) -> discord.Interaction:
    interaction = create_autospec(discord.Interaction, instance=True)
    interaction.response = create_autospec(discord.InteractionResponse, instance=True)
    interaction.followup = create_autospec(discord.Webhook, instance=True)
    interaction.user = MagicMock(spec=discord.Member, id=user_id)
    interaction.permissions = discord.Permissions(manage_guild=manage_guild)
    interaction.guild = MagicMock(spec=discord.Guild) if in_guild else None
    return interaction


def fake_message(content: str, channel_type: type = discord.TextChannel, channel_id: int = 10,
                 mentions_bot: bool = False, in_guild: bool = True, author_is_bot: bool = False) -> discord.Message:
    message = create_autospec(discord.Message, instance=True)
    message.content = content
    message.author = MagicMock(spec=discord.Member, id=5, bot=author_is_bot)
    message.mentions = [MagicMock(spec=discord.Member, id=BOT_ID)] if mentions_bot else []
    message.guild = MagicMock(spec=discord.Guild) if in_guild else None
    message.channel = create_autospec(channel_type, instance=True)
    message.channel.id = channel_id
    message.create_thread.return_value = create_autospec(discord.Thread, instance=True)
    return message


def sent(mock) -> dict:
    """The keyword arguments of the one call made to a send/edit mock."""
    assert mock.await_count == 1, mock.await_args_list
    return mock.await_args.kwargs


def embed_text(kwargs: dict) -> str:
    """Every piece of text a message shows, joined."""
    embed = kwargs.get("embed") or discord.Embed()
    parts = [kwargs.get("content"), embed.title, embed.description, embed.footer.text]
    parts += [text for field in embed.fields for text in (field.name, field.value)]
    return "\n".join(part for part in parts if part)


def assert_fits(embed: discord.Embed) -> None:
    assert len(embed) <= 6000 and len(embed.fields) <= 25
    assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
    assert all(0 < len(f.name) <= 256 and 0 < len(f.value) <= 1024 for f in embed.fields)
    assert len(embed.footer.text or "") <= 2048


def assert_safe(kwargs: dict) -> None:
    """Nothing can ping: mentions are switched off, and none survive in the text even as display."""
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    assert kwargs["allowed_mentions"].replied_user is False
    text = embed_text(kwargs)
    assert "@everyone" not in text and "<@" not in text
    if "content" in kwargs:
        assert len(kwargs["content"] or "") <= 2000
    if kwargs.get("embed"):
        assert_fits(kwargs["embed"])
    if kwargs.get("view"):
        rows = kwargs["view"].to_components()
        assert len(rows) <= 5 and all(len(row["components"]) <= 5 for row in rows)


@pytest.fixture(scope="module")
def hostile_services(tmp_path_factory, embedder) -> Services:
    """A real one-document corpus whose text tries to ping everyone and overflow every limit."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "corpus").mkdir()
    (root / "corpus" / "hostile.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    (root / "corpus" / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    services = Services(Settings(corpus_dir=root / "corpus", index_dir=root / "index", _env_file=None), embedder)
    services.reindex()
    return services


# --- rendering ----------------------------------------------------------------------------------------------

def test_long_text_is_cut_after_a_sentence_with_a_pointer():
    text = "First sentence here. " * 300
    cut = fit(text, 1024, "/quote abc123")
    assert len(cut) <= 1024 and cut.endswith("sentence here. … (/quote abc123)")
    unbroken = fit("x" * 10_000, 256)
    assert len(unbroken) <= 256 and unbroken.endswith(" …")
    assert fit("short *text*", 100) == "short \\*text\\*"


def test_every_embed_limit_holds_at_once():
    reply = Reply(title="T" * 400, description="A sentence. " * 900, footer="f" * 3000,
                  fields=[Field(name="n" * 300, value="v. " * 600, url="https://example.org/x", cut_hint="/quote x")
                          for _ in range(30)], buttons=[Button(label=str(i), action="docs", argument=str(i))
                                                        for i in range(30)])
    kwargs = message_kwargs(reply)
    assert_safe(kwargs)
    embed = kwargs["embed"]
    assert embed.description and embed.fields and embed.fields[0].value.endswith("(<https://example.org/x>)")
    assert len(kwargs["view"].children) == 25


def test_unsafe_urls_are_not_linked():
    embed = render_embed(Reply(title="t", url="javascript:alert(1)", fields=[Field(name="n", value="v", url="x y")]))
    assert embed.url is None and embed.fields[0].value == "v"


def test_buttons_round_trip_through_their_custom_ids():
    view = build_view([Button(label="Show passage 1", action="passage", argument="abc123def456"),
                       Button(label="Helpful", action="vote", argument="0a1b2c3d:1", style="success")])
    passage, vote = view.children
    assert passage.custom_id == "ib:passage:abc123def456" and vote.custom_id == "ib:vote:0a1b2c3d:1"
    assert vote.item.style is discord.ButtonStyle.success
    match = ReplyButton.__discord_ui_compiled_template__.fullmatch(vote.custom_id)
    rebuilt = run(ReplyButton.from_custom_id(fake_interaction(), vote.item, match))
    assert rebuilt.button == Button(label="Helpful", action="vote", argument="0a1b2c3d:1")


# --- /ask ---------------------------------------------------------------------------------------------------

def test_ask_defers_then_answers_off_the_event_loop(seed_services, tmp_path):
    cog = make_cog(seed_services, tmp_path)
    interaction = fake_interaction()
    real_ask, threads = cog.handlers.ask, []
    cog.handlers.ask = lambda *args: threads.append(threading.get_ident()) or real_ask(*args)
    run(cog.ask.callback(cog, interaction, question=QUESTION))
    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=False)
    assert threads and threads[0] != threading.get_ident()
    kwargs = sent(interaction.followup.send)
    assert_safe(kwargs)
    assert kwargs["ephemeral"] is False
    embed = kwargs["embed"]
    assert embed.title == QUESTION and "[1]" in embed.description and embed.fields[0].name.startswith("[1] ")
    labels = [item.item.label for item in kwargs["view"].children]
    assert labels[0] == "Show passage 1" and labels[-3:] == ["More results", "Helpful", "Not helpful"]


def test_hostile_passages_never_ping_and_always_fit(hostile_services, tmp_path):
    cog = make_cog(hostile_services, tmp_path)
    interaction = fake_interaction()
    run(cog.ask.callback(cog, interaction, question=HOSTILE_QUESTION))
    answer = sent(interaction.followup.send)
    assert_safe(answer)
    assert "@\u200beveryone" in embed_text(answer) and "\\*\\*bold\\*\\*" in embed_text(answer)
    assert "[Open the document](<https://example.org/fostering-panel>)" in answer["embed"].fields[0].value
    buttons = [item.button for item in answer["view"].children]
    for button in buttons:
        pressed = fake_interaction(user_id=2)
        run(cog.press(pressed, button))
        kwargs = sent(pressed.followup.send)
        assert_safe(kwargs)
        assert kwargs["ephemeral"] is True
    for context in (0, 3):
        quoted = fake_interaction()
        chunk_id = buttons[0].argument
        run(cog.quote.callback(cog, quoted, chunk_id=chunk_id, context=context))
        assert_safe(sent(quoted.followup.send))


def test_a_10000_character_paragraph_is_cut_at_a_sentence_with_a_pointer():
    paragraph = LONG_SENTENCE * 105
    assert len(paragraph) > 10_000
    kwargs = message_kwargs(Reply(title="t", description=paragraph, cut_hint="/quote abc123def456"))
    assert_safe(kwargs)
    assert kwargs["embed"].description.endswith("present. … (/quote abc123def456)")


def test_cooldown_refuses_a_second_question_politely_and_privately(seed_services, tmp_path):
    cog = make_cog(seed_services, tmp_path, cooldown_seconds=60)
    cog.handlers.ask = lambda *args: Reply(title="answer", topic="answer")
    first, second, other = fake_interaction(user_id=1), fake_interaction(user_id=1), fake_interaction(user_id=2)
    for interaction in (first, second, other):
        run(cog.ask.callback(cog, interaction, question=QUESTION))
    first.followup.send.assert_awaited_once()
    other.followup.send.assert_awaited_once()
    second.response.defer.assert_not_awaited()
    kwargs = sent(second.response.send_message)
    assert kwargs["ephemeral"] is True and "please wait" in kwargs["content"]
    assert_safe(kwargs)
    message = fake_message(f"<@{BOT_ID}> {QUESTION}", mentions_bot=True)
    message.author.id = 1
    run(cog.on_message(message))
    assert "please wait" in sent(message.reply)["content"]
    message.create_thread.assert_not_awaited()


def test_errors_reach_the_user_privately_with_the_reference_in_the_log(seed_services, tmp_path, caplog):
    cog = make_cog(seed_services, tmp_path)

    def broken(*args):
        raise RuntimeError("disk on fire")

    cog.handlers.ask = broken
    interaction = fake_interaction()
    with caplog.at_level(logging.ERROR, logger="bot.handlers"):
        run(cog.ask.callback(cog, interaction, question=QUESTION))
    interaction.delete_original_response.assert_awaited_once()
    kwargs = sent(interaction.followup.send)
    assert kwargs["ephemeral"] is True and "disk on fire" not in kwargs["content"]
    reference = re.search(r"reference ([0-9a-f]{8})", kwargs["content"])[1]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info[0] is RuntimeError


def test_slash_commands_in_dms_are_refused_unless_allowed(seed_services, tmp_path):
    interaction = fake_interaction(in_guild=False)
    assert run(make_cog(seed_services, tmp_path).interaction_check(interaction)) is False
    assert sent(interaction.response.send_message)["ephemeral"] is True
    assert run(make_cog(seed_services, tmp_path, answer_dms=True).interaction_check(fake_interaction(in_guild=False)))


def test_errors_outside_the_callbacks_still_reach_the_user(seed_services, tmp_path):
    cog = make_cog(seed_services, tmp_path)
    interaction = fake_interaction()
    interaction.response.is_done.return_value = False
    run(cog.cog_app_command_error(interaction, app_commands.CommandInvokeError(cog.ask, RuntimeError("x"))))
    kwargs = sent(interaction.response.send_message)
    assert kwargs["ephemeral"] is True and re.search(r"reference [0-9a-f]{8}", kwargs["content"])
    checked = fake_interaction()
    run(cog.cog_app_command_error(checked, app_commands.CheckFailure()))
    checked.response.send_message.assert_not_awaited()
    checked.followup.send.assert_not_awaited()


# --- buttons and paging -------------------------------------------------------------------------------------

def test_a_pressed_button_is_routed_to_the_cog(seed_services, tmp_path):
    cog = make_cog(seed_services, tmp_path)
    chunk_id = seed_services.store.document_chunks(seed_services.store.documents()[0].doc_id)[0].chunk_id
    interaction = fake_interaction()
    interaction.client = MagicMock(spec=commands.Bot)
    interaction.client.get_cog.return_value = cog
    run(ReplyButton(Button(label="Show passage 1", action="passage", argument=chunk_id)).callback(interaction))
    interaction.client.get_cog.assert_called_once_with("Answers")
    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=True)
    kwargs = sent(interaction.followup.send)
    assert kwargs["ephemeral"] is True and chunk_id in kwargs["embed"].footer.text


def test_docs_pages_edit_their_own_message(seed_services, tmp_path, monkeypatch):
    from bot import handlers as handlers_module

    monkeypatch.setattr(handlers_module, "DOCS_PER_PAGE", 2)
    cog = make_cog(seed_services, tmp_path)
    interaction = fake_interaction()
    run(cog.docs.callback(cog, interaction))
    first = sent(interaction.followup.send)
    assert first["ephemeral"] is True and len(first["embed"].fields) == 2
    older = first["view"].children[0].button
    pressed = fake_interaction()
    run(cog.press(pressed, older))
    pressed.response.defer.assert_awaited_once_with()
    page = sent(pressed.edit_original_response)
    assert page["embed"].footer.text.startswith("Page 2 of 3") and page["content"] is None
    assert_safe(page)


def _visit_ids(kwargs: dict) -> list[str]:
    """The passage ids of every event line a /visits message shows, in order."""
    values = "\n".join(field.value for field in kwargs["embed"].fields)
    return [ids for line in values.split("\n") if line.startswith("• ") for ids in [line.rsplit("(id", 1)[-1]]]


def test_visits_show_every_event_whole_and_page_through_them_with_buttons(seed_services, tmp_path, monkeypatch):
    from bot import handlers as handlers_module

    cog = make_cog(seed_services, tmp_path)
    everything = cog.handlers.visits("2026-11-22", None, True, page=None)
    every_line = [line for field in everything.fields for line in field.value.split("\n") if line.startswith("• ")]
    interaction = fake_interaction()
    run(cog.visits.callback(cog, interaction, as_of="2026-11-22", include_past=True))
    whole = sent(interaction.followup.send)
    assert_safe(whole)
    assert len(_visit_ids(whole)) == len(every_line) >= 7 and " … (" not in embed_text(whole)  # none cut

    monkeypatch.setattr(handlers_module, "VISIT_PAGE_CHARS", 700)
    monkeypatch.setattr(handlers_module, "VISIT_FIELD_CHARS", 400)
    interaction = fake_interaction()
    run(cog.visits.callback(cog, interaction, as_of="2026-11-22", include_past=True))
    pages = [sent(interaction.followup.send)]
    while later := [item.button for item in pages[-1].get("view", discord.ui.View()).children
                    if item.button.label.startswith("Later")]:
        pressed = fake_interaction()
        run(cog.press(pressed, later[0]))
        pages.append(sent(pressed.edit_original_response))
    assert len(pages) > 2
    assert [page["embed"].footer.text.split(" · ")[0] for page in pages] == [
        f"Page {n} of {len(pages)}" for n in range(1, len(pages) + 1)]
    assert [ids for page in pages for ids in _visit_ids(page)] == _visit_ids(whole)
    for page in pages:
        assert_safe(page)


# --- /reindex -----------------------------------------------------------------------------------------------

def test_reindex_needs_manage_server_in_the_command_and_in_the_handler(hostile_services, tmp_path, monkeypatch):
    cog = make_cog(hostile_services, tmp_path)
    assert cog.reindex.default_permissions == discord.Permissions(manage_guild=True) and cog.reindex.guild_only
    calls = []
    monkeypatch.setattr(hostile_services, "reindex", lambda **kw: calls.append(kw))
    interaction = fake_interaction(manage_guild=False)  # e.g. a server that overrode the default permissions

    async def go():
        await cog.reindex.callback(cog, interaction)
        await cog.reindexing

    run(go())
    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=True)
    assert "Manage Server" in sent(interaction.edit_original_response)["content"] and calls == []


def test_reindex_runs_in_the_background_and_reports_progress(hostile_services, tmp_path):
    cog = make_cog(hostile_services, tmp_path)
    interaction = fake_interaction(manage_guild=True)

    async def go():
        await cog.reindex.callback(cog, interaction)
        assert not cog.reindexing.done()  # the command returned while the work goes on
        await cog.reindexing

    run(go())
    edits = [call.kwargs for call in interaction.edit_original_response.await_args_list]
    assert edits[0]["content"] == "Re-indexing: reading the document folder…"
    assert edits[-1]["embed"].title == "Indexed 1 documents, " + f"{hostile_services.store.size} passages"
    for edit in edits:
        assert_safe(edit)


# --- channel questions --------------------------------------------------------------------------------------

def test_a_mention_is_answered_in_a_thread_on_the_message_like_ask(seed_services, tmp_path):
    cog = make_cog(seed_services, tmp_path)
    message = fake_message(f"<@{BOT_ID}> {QUESTION}", mentions_bot=True)
    run(cog.on_message(message))
    message.create_thread.assert_awaited_once_with(name=QUESTION)
    thread = message.create_thread.return_value
    kwargs = sent(thread.send)
    assert_safe(kwargs)
    interaction = fake_interaction(user_id=3)
    run(cog.ask.callback(cog, interaction, question=QUESTION))
    assert kwargs["embed"].to_dict() == sent(interaction.followup.send)["embed"].to_dict()
    message.reply.assert_not_awaited()


@pytest.mark.parametrize("message, answered", [
    (fake_message("what next?", channel_id=QA_CHANNEL), True),
    (fake_message("what next?", channel_type=discord.Thread, channel_id=1), False),
    (fake_message("what next?"), False),
    (fake_message(f"<@{BOT_ID}> what next?", mentions_bot=True, author_is_bot=True), False),
    (fake_message("@everyone what next?"), False),
    (fake_message("what next?", channel_type=discord.DMChannel, in_guild=False), False),
])
def test_which_messages_are_questions(seed_services, tmp_path, message, answered):
    cog = make_cog(seed_services, tmp_path)
    cog.handlers.ask = lambda question, conversation=None: Reply(title=question, topic=question,
                                                                 description="quoted")
    run(cog.on_message(message))
    assert (message.create_thread.await_count + message.channel.send.await_count + message.reply.await_count) == (
        1 if answered else 0)


def test_follow_ups_in_a_qa_thread_and_allowed_dms_are_answered_in_place(seed_services, tmp_path):
    cog = make_cog(seed_services, tmp_path, answer_dms=True)
    cog.handlers.ask = lambda question, conversation=None: Reply(title=question, topic=question,
                                                                 description="quoted")
    in_thread = fake_message("and after that?", channel_type=discord.Thread, channel_id=1)
    in_thread.channel.parent_id = QA_CHANNEL
    direct = fake_message("what next?", channel_type=discord.DMChannel, in_guild=False)
    for message in (in_thread, direct):
        run(cog.on_message(message))
        message.create_thread.assert_not_awaited()
        assert_safe(sent(message.channel.send))


def test_a_bare_mention_gets_help_and_a_failure_gets_a_reference(seed_services, tmp_path):
    cog = make_cog(seed_services, tmp_path)
    bare = fake_message(f"<@{BOT_ID}>", mentions_bot=True)
    run(cog.on_message(bare))
    assert sent(bare.reply)["embed"].title == "Asking about the improvement journey"

    def broken(question):
        raise RuntimeError("boom")

    cog.handlers.ask = broken
    failing = fake_message(f"<@{BOT_ID}> why?", mentions_bot=True)
    run(cog.on_message(failing))
    kwargs = sent(failing.reply)
    assert re.search(r"reference [0-9a-f]{8}", kwargs["content"]) and kwargs["mention_author"] is False
    assert_safe(kwargs)


# --- serve --check and the token -----------------------------------------------------------------------------

def test_command_plan_lists_what_would_be_synced(seed_services, tmp_path):
    handlers = Handlers(seed_services, FeedbackStore(tmp_path / "feedback.sqlite"))
    plan = command_plan(handlers, settings_for(seed_services, guild_ids=[1, 2]))
    commands_by_name = {command["name"]: command for command in plan["commands"]}
    assert set(commands_by_name) == {"ask", "quote", "docs", "visits", "progress", "compare", "watch",
                                     "unwatch", "gaps", "define", "reindex", "help"}
    assert [o["name"] for o in commands_by_name["ask"]["options"]] == ["question", "council", "since", "type"]
    assert commands_by_name["reindex"]["default_member_permissions"] == 32
    assert commands_by_name["gaps"]["default_member_permissions"] == 32
    assert commands_by_name["ask"]["default_member_permissions"] is None
    assert plan["sync"] == {"guilds": [1, 2]} and plan["intents"] == {"message_content": True}
    assert plan["scheduled_sync"] == {"interval_minutes": None, "channel_id": None}  # off by default


@pytest.fixture()
def clean_env(tmp_path, monkeypatch, repo_root):
    """The CLI's own settings loading, away from any developer's .env and token."""
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_DISCORD_TOKEN", "DISCORD_TOKEN", "BOT_GUILD_IDS", "BOT_QA_CHANNEL_IDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_CORPUS_DIR", str(repo_root / "corpus"))
    monkeypatch.setenv("BOT_INDEX_DIR", str(tmp_path / "index"))
    return monkeypatch


def test_serve_check_needs_no_token_and_never_prints_one(clean_env, capfd):
    from bot.cli import main

    assert main(["serve", "--check"]) == 0
    assert json.loads(capfd.readouterr().out)["token"] == "missing"
    token = "A" * 24 + ".Bcdefg." + "C" * 27
    clean_env.setenv("BOT_DISCORD_TOKEN", token)
    assert main(["serve", "--check"]) == 0
    out = capfd.readouterr().out
    assert json.loads(out)["token"] == "set" and token not in out


@pytest.mark.parametrize("token, message", [
    (None, "no Discord token"),
    ("Bot not-a-real-token", "malformed"),
])
def test_serve_without_a_usable_token_is_one_line_and_status_2(clean_env, capfd, token, message):
    from bot.cli import main

    if token:
        clean_env.setenv("DISCORD_TOKEN", token)
    assert main(["serve"]) == 2
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and message in captured.err
    assert not token or token not in captured.err
