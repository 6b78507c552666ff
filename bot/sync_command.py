"""`sync`: fetch new papers from a council's ModernGov site into the corpus, then index them incrementally.

Options come from the command line, else from `corpus/sources.toml` (see `index.sync.sources`); the HTTP
limits from settings (`BOT_SYNC_*`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import TextIO

from bot.handlers import parse_date
from bot.services import Services
from bot.settings import Settings
from index.errors import EngineError
from index.sync.http import FetchError, Fetcher, check_url
from index.sync.models import HttpConfig, SyncReport, SyncRequest
from index.sync.sources import load_sources
from index.sync.state import load_state, save_state
from index.sync.syncer import run_sync

EXIT_SOME_FAILED = 1


def http_config(settings: Settings) -> HttpConfig:
    return HttpConfig(
        user_agent=settings.sync_user_agent, timeout_seconds=settings.sync_timeout_seconds,
        download_seconds=settings.sync_download_seconds, retries=settings.sync_retries,
        backoff_seconds=settings.sync_backoff_seconds, max_bytes=settings.sync_max_bytes,
        max_redirects=settings.sync_max_redirects, workers=settings.sync_workers,
    )


def sync_request(args: argparse.Namespace, settings: Settings, today: dt.date) -> SyncRequest:
    """The command line over the corpus's sources.toml; anything missing or wrong is one line saying what to do."""
    defaults = load_sources(settings.corpus_dir).moderngov
    base_url = args.moderngov or defaults.base_url
    if not base_url:
        raise EngineError("no ModernGov site: pass --moderngov BASE_URL or set base_url under [moderngov] "
                          f"in {settings.corpus_dir / 'sources.toml'}")
    try:
        check_url(base_url)
    except FetchError as error:
        raise EngineError(f"--moderngov {base_url!r}: {error}; give the site's address, e.g. "
                          "https://democracy.example.gov.uk") from None
    committees = args.committee or defaults.committees
    if not committees:
        raise EngineError("no committee: pass --committee ID (repeat for more) or set committees under "
                          f"[moderngov] in {settings.corpus_dir / 'sources.toml'}")
    given_since, given_until = parse_date(args.since), parse_date(args.until)
    until = given_until or today + dt.timedelta(days=defaults.days_ahead)
    since = given_since or (given_until or today) - dt.timedelta(days=defaults.days)
    if since > until:
        raise EngineError(f"--since {since} is after --until {until}; swap them")
    return SyncRequest(base_url=base_url, committees=sorted(set(committees)), since=since, until=until,
                       council=args.council or defaults.council, dry_run=args.dry_run)


def run_sync_command(services: Services, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    report, indexed = sync_and_index(services, args, err)
    if args.json:
        print(json.dumps(report.to_json(indexed), ensure_ascii=False), file=out, flush=True)
    else:
        _print_report(report, indexed, out)
    return EXIT_SOME_FAILED if report.failed else 0


def sync_and_index(services: Services, args: argparse.Namespace, err: TextIO) -> tuple[SyncReport, bool]:
    """Fetch what is new, then index it; the report, and whether the index was updated. Also run by the Discord
    bot's scheduled sync, in a worker thread."""
    settings = services.settings
    request = sync_request(args, settings, dt.date.today())
    with Fetcher(http_config(settings)) as fetcher:
        report = run_sync(request, fetcher, settings.corpus_dir, settings.max_file_bytes, progress=not args.json)
    for failure in report.failed:
        print(f"failed: {failure.error}; the next sync tries again ({failure.url})", file=err)
    indexed = False
    if not request.dry_run and (report.added or load_state(settings.corpus_dir).pending_index):
        _index(services, args.json, err)
        indexed = True
    return report, indexed


def _index(services: Services, quiet: bool, err: TextIO) -> None:
    """The same incremental path as `index`; the state remembers papers landed but not yet indexed."""
    report = services.reindex(progress=not quiet, say=lambda message: print(message, file=err))
    for error in report.errors:
        print(f"skipped: {error}", file=err)
    corpus = services.settings.corpus_dir
    state = load_state(corpus)
    state.pending_index = False
    save_state(corpus, state)


def _print_report(report: SyncReport, indexed: bool, out: TextIO) -> None:
    verb = "would add" if report.dry_run else "added"
    changed = set(report.changed)
    for paper in report.added:
        mark = " (new version)" if paper.source in changed else ""
        print(f"{verb}: {paper.date or 'undated'} · {paper.committee} · {paper.title}{mark} [{paper.source}]", file=out)
    for meeting in report.cancelled:
        print(f"not fetched: {meeting}", file=out)
    print(f"{len(report.added)} {verb}, {report.unchanged} unchanged, {len(report.failed)} failed, "
          f"{report.restricted} restricted left out; "
          f"{'index updated' if indexed else 'nothing written' if report.dry_run else 'index not changed'}",
          file=out)
