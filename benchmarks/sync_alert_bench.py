"""The Discord scheduled sync of 50 new papers from a ModernGov site on 127.0.0.1: how late the event loop ran
while it synced, and the alert delay from the sync's end (fetch + index) to the "New papers" post and the watch
alerts.

    .venv/bin/python -m benchmarks.sync_alert_bench [--runs 3] [--out var/bench/sync_alert.json]

One scheduled round runs as the bot runs it: the cog's own `start_schedule` timer on a real asyncio loop, the
real sync (HTTP, parsing, landing, incremental indexing) in its worker thread, and discord.py stand-ins (from
tests/bot/test_discord_cog.py) for the bot, channels and user that note when each message was sent. A 10 ms
timer on the same loop notes how late it fires, as tests/reliability/test_load.py does: that lateness is how long
discord.py's gateway heartbeat would have waited. Indexing uses the fake embedder (tests/fakes.py): this measures
the loop and the delay, not the meaning of the passages. Results print as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Callable
from unittest.mock import AsyncMock, MagicMock, patch

import discord

import bot.sync_command
from benchmarks.common import BENCH, machine
from benchmarks.sync_bench import COMMITTEE, TOPICS, fixture_site
from bot.discord_adapter.cog import AnswersCog
from bot.services import Services
from bot.settings import Settings
from tests.bot.test_discord_cog import make_cog
from tests.fakes import FakeEmbedder
from tests.reliability.test_load import TICK, percentile
from tests.sync.moderngov_site import Site, SiteServer

PAPERS = 50
SYNC_CHANNEL, WATCH_CHANNEL, WATCHER = 100, 200, 5
# A channel's watch and a person's watch, each on a topic some of the papers report on (benchmarks/sync_bench).
WATCHES = (("channel", str(WATCH_CHANNEL), TOPICS[1]), ("user", str(WATCHER), TOPICS[3]))
BASELINE_SECONDS = 0.3  # the first scheduled round starts after this: the lag meter's quiet baseline
HEARTBEAT_BLOCK_WARNING = 10.0  # discord.py's KeepAliveHandler warns "heartbeat blocked" after 10 s
HEARTBEAT_TIMEOUT = 60.0  # discord.py's default heartbeat_timeout: no gateway traffic for this long, it reconnects
LAG_LIMIT = 0.100  # the load tests' bound (tests/reliability/test_load.py)


def site_with(papers: int) -> Site:
    """The sync benchmark's committee cut to its first `papers` papers (three to a meeting, dated 2024-25)."""
    site = fixture_site()
    meetings = site.committees[COMMITTEE].meetings
    kept, left = [], papers
    for meeting in meetings:
        if left <= 0:
            break
        meeting.items[0].docs = meeting.items[0].docs[:left]
        left -= len(meeting.items[0].docs)
        kept.append(meeting)
    site.committees[COMMITTEE].meetings = kept
    return site


def _recording_target(spec: type, name: str, sends: list[dict]) -> MagicMock:
    """A channel or user stand-in whose send notes the message's title and monotonic time."""
    target = MagicMock(spec=spec)
    target.send = AsyncMock(side_effect=lambda **kwargs: sends.append(
        {"to": name, "title": kwargs["embed"].title, "at": time.monotonic()}))
    if spec is discord.TextChannel:
        target.permissions_for.return_value = discord.Permissions(send_messages=True)
    return target


def _cog(services: Services, work: Path, sends: list[dict]) -> AnswersCog:
    cog = make_cog(services, work, sync_interval_minutes=BASELINE_SECONDS / 60, sync_channel_id=SYNC_CHANNEL)
    channels = {SYNC_CHANNEL: _recording_target(discord.TextChannel, "sync channel", sends),
                WATCH_CHANNEL: _recording_target(discord.TextChannel, "watch channel", sends)}
    user = _recording_target(discord.User, "watcher (DM)", sends)
    cog.bot.get_channel = channels.get
    cog.bot.get_user = lambda user_id: user if user_id == WATCHER else None
    for kind, subscriber, topic in WATCHES:
        cog.handlers.watches.add(kind, subscriber, topic)
    return cog


async def _one_scheduled_round(cog: AnswersCog, lags: list[float], lag_ends: list[float], tail: float) -> float:
    """Start the cog's schedule, let its first round run while the 10 ms timer watches, stop the schedule;
    the monotonic time the schedule was started."""
    round_done = asyncio.Event()
    scheduled_sync = cog.scheduled_sync

    async def one_round() -> None:  # the cog's own round, noting when it ends
        try:
            await scheduled_sync()
        finally:
            round_done.set()

    cog.scheduled_sync = one_round  # type: ignore[method-assign]
    stop = asyncio.Event()

    async def monitor() -> None:
        while not stop.is_set():
            before = time.monotonic()
            await asyncio.sleep(TICK)
            lags.append(time.monotonic() - before - TICK)
            lag_ends.append(time.monotonic())

    watcher = asyncio.create_task(monitor())
    started = time.monotonic()
    cog.start_schedule()
    await round_done.wait()
    await cog.cog_unload()
    await asyncio.sleep(tail)
    stop.set()
    await watcher
    return started


def scheduled_round(work: Path, papers: int, tail: float = 0.2) -> dict:
    """One scheduled sync of `papers` new papers into an empty corpus at `work`; what the loop and the posts saw."""
    shutil.rmtree(work, ignore_errors=True)
    corpus = work / "corpus"
    corpus.mkdir(parents=True)
    with SiteServer(site_with(papers)) as server:
        (corpus / "sources.toml").write_text(f'[moderngov]\nbase_url = "{server.site.base_url}"\n'
                                             f"committees = [{COMMITTEE}]\ndays = 36500\n", encoding="utf-8")
        settings = Settings(corpus_dir=corpus, index_dir=work / "index", feedback_db=work / "feedback.sqlite",
                            watches_db=work / "watches.sqlite", model=FakeEmbedder.name, _env_file=None)
        services = Services(settings, FakeEmbedder())
        sends: list[dict] = []
        cog = _cog(services, work, sends)
        marks: dict[str, float] = {}
        services.reindex = _marked(services.reindex, marks, "index")  # type: ignore[method-assign]
        cog.handlers.scheduled_sync = _marked(cog.handlers.scheduled_sync, marks, "posts_built")  # type: ignore
        lags: list[float] = []
        lag_ends: list[float] = []
        with patch.object(bot.sync_command, "sync_and_index", _marked(bot.sync_command.sync_and_index, marks, "sync")):
            scheduled_at = asyncio.run(_one_scheduled_round(cog, lags, lag_ends, tail))
    return _summary(scheduled_at, marks, sends, lags, lag_ends, services)


def _marked(call: Callable, marks: dict[str, float], label: str) -> Callable:
    """`call`, noting in `marks` when it is called (label_started) and when it returns (label)."""

    def marked(*args, **kwargs):
        marks[f"{label}_started"] = time.monotonic()
        try:
            return call(*args, **kwargs)
        finally:
            marks[label] = time.monotonic()

    return marked


def _summary(scheduled_at: float, marks: dict[str, float], sends: list[dict], lags: list[float],
             lag_ends: list[float], services: Services) -> dict:
    end = marks["sync"]
    first_of = {}
    for send in sends:
        first_of.setdefault(send["to"], send)
    worst = max(lags)
    return {
        "papers_in_index": len(services.store.documents()),
        "round_started_after_s": round(marks["sync_started"] - scheduled_at, 3),
        "sync_fetch_and_index_s": round(end - marks["sync_started"], 2),
        "posts": [{"to": s["to"], "title": s["title"]} for s in sends],
        "fetch_and_land_s": round(marks["index_started"] - marks["sync_started"], 2),
        "posts_built_after_sync_end_ms": round(1000 * (marks["posts_built"] - end), 1),
        "alert_delay_ms": {to: round(1000 * (s["at"] - end), 1) for to, s in first_of.items()},
        "last_post_after_sync_end_ms": round(1000 * (max(s["at"] for s in sends) - end), 1) if sends else None,
        "loop_lag_samples": len(lags),
        "loop_lag_p99_ms": round(1000 * percentile(lags, 0.99), 1),
        "loop_lag_worst_ms": round(1000 * worst, 1),
        "worst_lag_ended_after_sync_start_s": round(lag_ends[lags.index(worst)] - marks["sync_started"], 2),
        "lag_over_load_test_bound_100ms": sum(lag > LAG_LIMIT for lag in lags),
        "heartbeat_would_be_blocked": worst > HEARTBEAT_BLOCK_WARNING,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--papers", type=int, default=PAPERS)
    parser.add_argument("--out", type=Path, default=BENCH / "sync_alert.json")
    options = parser.parse_args()
    runs = [scheduled_round(BENCH / "sync_alert", options.papers) for _ in range(options.runs)]
    delays = [delay for run in runs for delay in run["alert_delay_ms"].values()]
    results = {
        "machine": machine(), "papers": options.papers, "site": "ModernGov fixture on 127.0.0.1",
        "embedder": "fake (tests/fakes.py): measures the event loop and the delay, not the meaning of passages",
        "watches": [{"kind": kind, "topic": topic} for kind, _, topic in WATCHES],
        "lag_meter": f"{int(TICK * 1000)} ms asyncio timer on the bot's loop, lateness per tick",
        "compared_against": {
            "discord.py heartbeat block warning (s)": HEARTBEAT_BLOCK_WARNING,
            "discord.py heartbeat_timeout, reconnect (s)": HEARTBEAT_TIMEOUT,
            "load tests' loop lag bound (ms)": LAG_LIMIT * 1000},
        "runs": runs,
        "worst_loop_lag_ms_over_runs": max(run["loop_lag_worst_ms"] for run in runs),
        "alert_delay_ms_median": round(statistics.median(delays), 1) if delays else None,
        "alert_delay_ms_max": max(delays) if delays else None,
    }
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
