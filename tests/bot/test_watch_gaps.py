"""Watched topics (/watch, /unwatch, `watch add|list|remove`), the scheduled sync's posts, and coverage gaps
(/gaps, `gaps`): handlers over real SQLite files and real indexes, and the Discord cog through discord.py fakes."""

from __future__ import annotations

import asyncio
import json
import threading
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.answering import QueryError
from bot.feedback import FeedbackStore
from bot.handlers import Handlers, Reply, SyncPosts, WatchAlert
from bot.services import Services
from bot.settings import Settings
from bot.watches import Watch, WatchStore
from index.sync.models import AddedPaper, SyncReport
from tests.bot.test_cli import run
from tests.bot.test_console import chat
from tests.bot.test_discord_cog import assert_safe, fake_interaction, make_cog, sent

UNCOVERED = "What is the recipe for a Victoria sponge cake?"
OLD_PAPER = "Budget report\n\nThe council set its budget for highways and street lighting for the coming year.\n"
NEW_PAPER = ("Corporate Parenting Board minutes\n\n1. Agency social workers: the board heard that the number of agency "
             "social workers fell from 60 to 35 after the recruitment campaign, saving money.\n\n2. The board noted "
             "the library opening hours.\n")


@pytest.fixture()
def handlers(seed_services, tmp_path) -> Handlers:
    return Handlers(seed_services, FeedbackStore(tmp_path / "feedback.sqlite"), watches=WatchStore(tmp_path / "w.db"))


def test_watch_adds_lists_and_removes_only_the_subscribers_own(handlers):
    assert "You watch no topics" in handlers.watch(None, "user", "1").description
    added = handlers.watch("  agency   social workers ", "user", "1")
    assert added.ephemeral and added.description.startswith("Now watching “agency social workers” (watch 1)")
    assert handlers.watch("Agency social workers", "user", "1").description.startswith("Already watching")
    handlers.watch("care leavers", "channel", "77")
    listed = handlers.watch("", "user", "1")
    assert listed.title == "Your watched topics" and listed.description.startswith("• 1. agency social workers · since")
    assert "care leavers" not in listed.description
    with pytest.raises(QueryError, match="you have no watch '2'"):
        handlers.unwatch("2", "user", "1")  # the channel's watch, not this person's
    assert handlers.unwatch("1", "user", "1").description == "Stopped watching “agency social workers”."
    assert [w.topic for w in handlers.watches.list()] == ["care leavers"]


def test_console_and_cli_keep_the_consoles_watches(handlers, seed_services, tmp_path):
    _, replies = chat(handlers, "/watch permanence", "/watch", "/unwatch permanence", "/watch")
    assert replies[0].startswith("Now watching “permanence”") and "1. permanence · since" in replies[1]
    assert replies[2] == "Stopped watching “permanence”." and replies[3].startswith("You watch no topics")
    cli_services = Services(seed_services.settings.model_copy(update={"watches_db": tmp_path / "cli.db"}),
                            seed_services.embedder)
    status, out, _ = run(cli_services, "watch", "add", "care leavers")
    assert status == 0 and out.startswith("watching: 1. care leavers · since")
    status, out, _ = run(cli_services, "watch", "--json", "list")
    assert [w["topic"] for w in json.loads(out)["watches"]] == ["care leavers"]
    status, out, _ = run(cli_services, "watch", "remove", "1")
    assert out.startswith("removed: 1. care leavers")


def test_declined_questions_and_not_helpful_votes_are_grouped_as_gaps(handlers, seed_services):
    assert "Only members with the Manage Server" in handlers.gaps(allowed=False).description
    assert handlers.gaps(allowed=True).description.startswith("No gaps yet")
    handlers.ask(UNCOVERED)
    handlers.ask(UNCOVERED)
    answered = handlers.ask("How much can agency social workers earn?")
    answer_id = next(b.argument for b in answered.buttons if b.action == "more")
    handlers.vote(answer_id, False, "u1")
    questions = handlers.feedback.gap_questions()
    assert [(q.question, q.why) for q in questions] == [
        ("How much can agency social workers earn?", "not helpful"), (UNCOVERED, "declined"), (UNCOVERED, "declined")]
    reply = handlers.gaps(allowed=True)
    assert reply.ephemeral and reply.title == "Coverage gaps"
    named = {field.name for field in reply.fields}
    assert any(name.endswith("· 2 questions") for name in named)
    assert f"“{UNCOVERED}” (declined, " in "\n".join(field.value for field in reply.fields)


def test_cli_gaps_json(seed_services, tmp_path):
    settings = seed_services.settings.model_copy(update={"feedback_db": tmp_path / "fb.sqlite"})
    FeedbackStore(settings.feedback_db).record_declined(UNCOVERED)
    status, out, _ = run(Services(settings, seed_services.embedder), "gaps", "--json")
    [gap] = json.loads(out)["gaps"]
    assert status == 0 and gap["topic"] and [q["question"] for q in gap["questions"]] == [UNCOVERED]


@pytest.fixture()
def synced(tmp_path, embedder, monkeypatch) -> Handlers:
    """A real one-paper index; the 'sync' lands a second paper and indexes it (fetching is tested in tests/sync)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "budget.txt").write_text(OLD_PAPER, encoding="utf-8")
    services = Services(Settings(corpus_dir=corpus, index_dir=tmp_path / "index", _env_file=None), embedder)
    services.reindex()

    def fake_sync(services_, args, err):
        (corpus / "cpb.txt").write_text(NEW_PAPER, encoding="utf-8")
        services_.reindex()
        return SyncReport(added=[AddedPaper(source="cpb.txt", title="Corporate Parenting Board minutes", date=None,
                                            committee="Corporate Parenting Board", url="https://example.org/cpb")]), True

    monkeypatch.setattr("bot.sync_command.sync_and_index", fake_sync)
    return Handlers(services, FeedbackStore(tmp_path / "fb.sqlite"), watches=WatchStore(tmp_path / "w.db"))


def test_a_sync_posts_new_papers_and_the_watched_passages_in_them(synced):
    synced.watches.add("user", "5", "agency social workers")
    synced.watches.add("channel", "77", "street lighting")  # only in the old paper: no alert
    posts = synced.scheduled_sync()
    store = synced.services.store
    meta = next(m for m in store.documents() if m.source == "cpb.txt")
    first = store.document_chunks(meta.doc_id)[0]
    assert posts.papers.title == "New papers" and f"/quote {first.chunk_id}" in posts.papers.description
    [alert] = posts.alerts
    assert alert.watch.subscriber == "5" and alert.reply.title == "New on a watched topic: agency social workers"
    assert "number of agency social workers fell from 60 to 35" in alert.reply.fields[0].value
    assert "library" not in " ".join(f.value for f in alert.reply.fields)


def _watch(kind: str, subscriber: str) -> Watch:
    return Watch(watch_id=1, kind=kind, subscriber=subscriber, topic="t", created="2025-01-01T00:00:00+00:00")


def test_the_cog_posts_off_the_event_loop_without_pings_and_only_where_it_may(seed_services, tmp_path, monkeypatch):
    cog = make_cog(seed_services, tmp_path, sync_channel_id=100)
    release = threading.Event()
    alert = Reply(title="New on a watched topic: t", description="@everyone “quote”")
    posts = SyncPosts(papers=Reply(title="New papers", description="• a"), alerts=[
        WatchAlert(watch=_watch("user", "5"), reply=alert), WatchAlert(watch=_watch("channel", "200"), reply=alert),
        WatchAlert(watch=_watch("user", "console"), reply=alert)])

    def blocking_sync() -> SyncPosts:
        release.wait(5)
        return posts

    monkeypatch.setattr(cog.handlers, "scheduled_sync", blocking_sync)
    allowed, muted = MagicMock(spec=discord.TextChannel), MagicMock(spec=discord.TextChannel)
    allowed.send, muted.send = AsyncMock(), AsyncMock()
    allowed.permissions_for.return_value = discord.Permissions(send_messages=True)
    muted.permissions_for.return_value = discord.Permissions(send_messages=False)
    user = MagicMock(spec=discord.User)
    user.send = AsyncMock()
    cog.bot.get_channel = lambda channel_id: {100: allowed, 200: muted}[channel_id]
    cog.bot.get_user = lambda user_id: user if user_id == 5 else None

    async def scenario() -> int:
        task = asyncio.create_task(cog.scheduled_sync())
        ticks = 0
        for _ in range(5):  # the loop keeps running while the sync blocks its worker thread
            await asyncio.sleep(0.01)
            ticks += 1
        release.set()
        await task
        return ticks

    assert asyncio.run(scenario()) == 5
    assert sent(allowed.send)["embed"].title == "New papers"
    assert_safe(sent(user.send)) and muted.send.await_count == 0


def test_watch_here_and_gaps_need_manage_server_in_discord(seed_services, tmp_path):
    cog = make_cog(seed_services, tmp_path)
    cog.handlers.watches = WatchStore(tmp_path / "w.db")
    interaction = fake_interaction()
    asyncio.run(cog.watch.callback(cog, interaction, "care leavers", True))
    assert "Only members with Manage Server" in sent(interaction.response.send_message)["content"]
    interaction = fake_interaction(user_id=42)
    asyncio.run(cog.watch.callback(cog, interaction, "care leavers", False))
    assert sent(interaction.followup.send)["ephemeral"] is True
    assert [(w.kind, w.subscriber) for w in cog.handlers.watches.list()] == [("user", "42")]
    interaction = fake_interaction(manage_guild=False)
    asyncio.run(cog.gaps.callback(cog, interaction))
    assert "Only members with the Manage Server" in sent(interaction.followup.send)["content"]


def test_the_schedule_is_off_by_default_and_runs_each_interval_when_set(seed_services, tmp_path):
    off = make_cog(seed_services, tmp_path)
    off.start_schedule()
    assert off.schedule is None
    cog = make_cog(seed_services, tmp_path, sync_interval_minutes=0.001)  # 60 ms
    rounds: list[int] = []

    async def counted() -> None:
        rounds.append(1)
        if len(rounds) == 2:
            raise RuntimeError("one failed round")  # logged; the next round still comes

    cog.scheduled_sync = counted

    async def scenario() -> None:
        cog.start_schedule()
        await asyncio.sleep(0.35)
        await cog.cog_unload()

    asyncio.run(scenario())
    assert len(rounds) >= 3 and cog.schedule.done()


def test_a_scheduled_sync_against_a_real_local_moderngov_site_posts_new_papers_once(tmp_path):
    from tests.fakes import FakeEmbedder
    from tests.sync.test_sync import COMMITTEE, SiteServer, _settings, standard_site

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with SiteServer(standard_site()) as server:
        (corpus / "sources.toml").write_text(f'[moderngov]\nbase_url = "{server.site.base_url}"\n'
                                             f'committees = [{COMMITTEE}]\ndays = 36500\n', encoding="utf-8")
        services = Services(_settings(corpus, tmp_path), FakeEmbedder())
        handlers = Handlers(services, FeedbackStore(tmp_path / "fb.sqlite"), watches=WatchStore(tmp_path / "w.db"))
        first = handlers.scheduled_sync()
        again = handlers.scheduled_sync()
    lines = first.papers.description.split("\n")
    assert first.papers.title == "New papers" and len(lines) == 6  # as `sync` lands them (tests/sync)
    store = services.store
    for line in lines:
        chunk_id = line.rsplit("/quote ", 1)[1]
        assert store.document(store.chunk(chunk_id).doc_id).title in line
    assert any("Monitoring visit report" in line for line in lines)
    assert again.papers is None and again.alerts == []  # nothing new: nothing posted


def test_gaps_page_buttons_also_need_manage_server(seed_services, tmp_path):
    from bot.handlers import Button

    cog = make_cog(seed_services, tmp_path)
    interaction = fake_interaction(manage_guild=False)
    asyncio.run(cog.press(interaction, Button(label="Later ▶", action="gaps", argument="00000000:2")))
    assert "Only members with the Manage Server" in sent(interaction.response.send_message)["content"]
