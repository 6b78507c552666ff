"""The command line: `python -m bot COMMAND` or `improvement-bot COMMAND`, with `--json` for scripts."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import sys
import textwrap
from pathlib import Path
from typing import Callable, TextIO

from pydantic import BaseModel

from bot.answering import QueryError, clean_query
from bot.conversation import Conversations
from bot.feedback import FeedbackStore
from bot.gaps import group_gaps, nearest_topic
from bot.handlers import Handlers, Reply, define_term, find_passage, newest_first, parse_date, parse_filters
from bot.progress import ProgressError, Tracker
from bot.rendering import error_text, index_summary, iso_date, source_line, watch_line
from bot.services import Services
from bot.settings import load_settings
from index.errors import EngineError
from index.models import DOC_TYPES, SearchFilters, SearchHit

EXIT_USAGE = 2
EXIT_PROBLEMS = 3  # `index` built what it could, but files were skipped or the manifest has problems


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="improvement-bot", description=__doc__)
    parser.add_argument("--corpus", type=Path, help="folder of documents (default: setting BOT_CORPUS_DIR, corpus/)")
    parser.add_argument("--index-dir", type=Path, help="where the index lives (default: BOT_INDEX_DIR, var/index/)")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="build or update the index from the corpus")
    index.add_argument("--rebuild", action="store_true", help="re-embed everything instead of only what changed")
    index.add_argument("--json", action="store_true")

    for name, noun in (("ask", "QUESTION"), ("search", "QUERY")):
        command = commands.add_parser(name, help=f"{'answer a question with quotes' if name == 'ask' else 'rank passages'}")
        command.add_argument("text", nargs="?", metavar=noun)
        command.add_argument("--json", action="store_true")
        command.add_argument("--batch", action="store_true", help='read JSON lines {"id", "query"} from standard input')
        _add_filters(command)
    commands.choices["search"].add_argument("--k", type=int, default=5, help="how many passages (1-50)")
    commands.choices["search"].add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid")

    quote = commands.add_parser("quote", help="the whole cited passage with its source")
    quote.add_argument("chunk_id")
    quote.add_argument("--context", type=int, default=0, help="also show N passages before and after")
    quote.add_argument("--json", action="store_true")

    docs = commands.add_parser("docs", help="the documents in the index")
    docs.add_argument("--json", action="store_true")

    define = commands.add_parser("define", help="what a term or acronym means, from the glossary")
    define.add_argument("term", metavar="TERM")
    define.add_argument("--json", action="store_true", help="term, expansion, definition, synonyms, source")

    progress = commands.add_parser("progress", help="what an inspection asked to improve, and what later documents "
                                   "say on each area")
    progress.add_argument("theme", nargs="?", metavar="THEME", help="only the area on this theme, e.g. care leavers")
    progress.add_argument("--council", help="the council (needed when the documents cover several)")
    progress.add_argument("--inspection", metavar="YEAR|DOC_ID", help="which inspection (default: the latest)")
    progress.add_argument("--since", help="only evidence dated on or after YYYY-MM-DD")
    progress.add_argument("--json", action="store_true")

    compare = commands.add_parser("compare", help="two inspections or visits side by side, theme by theme")
    compare.add_argument("doc_a", metavar="DOC_A")
    compare.add_argument("doc_b", metavar="DOC_B")
    compare.add_argument("--json", action="store_true")

    watch = commands.add_parser("watch", help="topics whose new passages are posted (to this console's watches)")
    watch_commands = watch.add_subparsers(dest="action", required=True)
    watch_commands.add_parser("add", help="watch a topic").add_argument("topic", metavar="TOPIC")
    watch_commands.add_parser("list", help="the topics watched")
    watch_commands.add_parser("remove", help="stop watching").add_argument("which", metavar="NUMBER|TOPIC")
    watch.add_argument("--json", action="store_true")

    gaps = commands.add_parser("gaps", help="questions declined or marked not helpful, grouped by nearest topic")
    gaps.add_argument("--json", action="store_true")

    visits = commands.add_parser("visits", help="upcoming inspections and visits, from the documents")
    visits.add_argument("--as-of", help="see the timeline from this day, YYYY-MM-DD (default today)")
    visits.add_argument("--council", help="only this council's visits")
    visits.add_argument("--all", action="store_true", help="the whole timeline, oldest first")
    visits.add_argument("--json", action="store_true")

    evaluate = commands.add_parser("eval", help="measure retrieval and answers on a question set")
    evaluate.add_argument("questions", type=Path)
    evaluate.add_argument("--json", action="store_true")

    commands.add_parser("console", help="a chat in this terminal over the same handlers as the Discord bot")
    serve = commands.add_parser("serve", help="run the Discord bot (needs BOT_DISCORD_TOKEN)")
    serve.add_argument("--check", action="store_true",
                       help="validate the settings and print the commands it would sync, as JSON, without connecting")
    feedback = commands.add_parser("feedback", help="summary of the Helpful / Not helpful votes")
    feedback.add_argument("--json", action="store_true")
    commands.add_parser("start", help="update the index, then run the Discord bot (or the console without a token)")
    sync = commands.add_parser("sync", help="fetch new papers from a council's ModernGov site, then index them")
    sync.add_argument("--moderngov", metavar="BASE_URL", help="the council's ModernGov site (default: sources.toml)")
    sync.add_argument("--committee", type=int, action="append", metavar="ID",
                      help="a committee id (lCommitteeId); repeat for more (default: sources.toml)")
    sync.add_argument("--since", help="meetings on or after YYYY-MM-DD (default: a year ago)")
    sync.add_argument("--until", help="meetings on or before YYYY-MM-DD (default: 60 days ahead)")
    sync.add_argument("--council", help="the council's name, for the manifest entries (default: sources.toml)")
    sync.add_argument("--dry-run", action="store_true", help="list what would change; write nothing")
    sync.add_argument("--json", action="store_true", help="one JSON object: added, unchanged, failed, indexed")
    return parser


def _add_filters(command: argparse.ArgumentParser) -> None:
    command.add_argument("--council", help="only documents of this council")
    command.add_argument("--type", dest="doc_type", choices=DOC_TYPES, help="only this kind of document")
    command.add_argument("--since", help="only documents dated on or after YYYY-MM-DD")
    command.add_argument("--until", help="only documents dated on or before YYYY-MM-DD")


def _filters(args: argparse.Namespace) -> SearchFilters | None:
    return parse_filters(args.council, args.since, args.doc_type, args.until)


def hit_json(rank: int, hit: SearchHit) -> dict:
    return {
        "rank": rank, "score": round(hit.score, 6), "chunk_id": hit.chunk.chunk_id, "doc_id": hit.document.doc_id,
        "source": hit.document.source, "title": hit.document.title, "date": iso_date(hit.document),
        "location": hit.chunk.location, "text": hit.chunk.text,
    }


class Cli:
    """One method per command; each prints to `out` and returns the exit status."""

    def __init__(self, services: Services, out: TextIO | None = None, err: TextIO | None = None,
                 stdin: TextIO | None = None):
        """Streams default to the process's at call time, not import time, so captured output is seen."""
        self.services = services
        self.out, self.err, self.stdin = out or sys.stdout, err or sys.stderr, stdin or sys.stdin

    def emit(self, payload: dict) -> None:
        print(json.dumps(payload, ensure_ascii=False), file=self.out, flush=True)

    def index(self, args: argparse.Namespace) -> int:
        report = self.services.reindex(rebuild=args.rebuild, progress=not args.json, say=lambda m: print(m, file=self.err))
        for error in report.errors:
            print(f"problem: {error}", file=self.err)
        problems = report.problem_summary()
        if args.json:
            self.emit(report.model_dump())
        else:
            print(f"indexed {report.documents} documents, {report.passages} passages "
                  f"({index_summary(report)}){f'; {problems}' if problems else ''}", file=self.out)
        return EXIT_PROBLEMS if report.errors else 0

    def search(self, args: argparse.Namespace) -> int:
        if not 1 <= args.k <= 50:
            raise QueryError(f"--k {args.k} is out of range; use 1 to 50")

        filters = _filters(args)

        def run(query: str) -> dict:
            hits = self.services.searcher.search(query, k=args.k, filters=filters, mode=args.mode)
            return {"query": query, "results": [hit_json(rank, hit) for rank, hit in enumerate(hits, start=1)]}

        return self._one_or_batch(args, run, self._print_search)

    def ask(self, args: argparse.Namespace) -> int:
        filters = _filters(args)

        def run(question: str) -> dict:
            return self.services.answerer.ask(question, filters).model_dump()

        return self._one_or_batch(args, run, lambda payload: print(payload["answer"], file=self.out))

    def _one_or_batch(self, args: argparse.Namespace, run: Callable[[str], dict], show: Callable[[dict], None]) -> int:
        if args.batch:
            return self._batch(run)
        if args.text is None:
            raise QueryError(f"give the {'question' if args.command == 'ask' else 'query'} in quotes, or use --batch")
        payload = run(clean_query(args.text))
        self.emit(payload) if args.json else show(payload)
        return 0

    def _batch(self, run: Callable[[str], dict]) -> int:
        """One JSON line out per line in; a bad line gets an error line and the batch goes on."""
        for number, line in enumerate(self.stdin, start=1):
            if not line.strip():
                continue
            request_id = None
            try:
                request = json.loads(line)
                request_id = request.get("id") if isinstance(request, dict) else None
                if not isinstance(request, dict) or not isinstance(request.get("query"), str):
                    raise QueryError('each line must be a JSON object like {"id": 1, "query": "..."}')
                self.emit({"id": request_id, **run(clean_query(request["query"]))})
            except json.JSONDecodeError as error:
                self.emit({"id": None, "error": f"line {number} is not JSON ({error.msg})"})
            except (QueryError, EngineError) as error:
                self.emit({"id": request_id, "error": error_text(error)})
        return 0

    def _print_search(self, payload: dict) -> None:
        store = self.services.store
        for result in payload["results"]:
            meta = store.document(result["doc_id"])
            print(f"{result['rank']}. [{result['chunk_id']}] {source_line(meta, result['location'])}", file=self.out)
            print(f"   {' '.join(result['text'].split())[:300]}", file=self.out)
        if not payload["results"]:
            print("No passages match.", file=self.out)

    def quote(self, args: argparse.Namespace) -> int:
        if not args.json:
            print(self.handlers.quote(args.chunk_id, args.context).as_text(), file=self.out)
            return 0
        meta, chunk, around = find_passage(self.services.store, args.chunk_id, args.context)
        self.emit({
            "chunk_id": chunk.chunk_id, "doc_id": meta.doc_id, "source": meta.source, "title": meta.title,
            "council": meta.council, "body": meta.body, "date": iso_date(meta), "location": chunk.location,
            "heading": chunk.heading, "url": meta.url, "text": chunk.text,
            "before": [c.model_dump() for c in around if c.ordinal < chunk.ordinal],
            "after": [c.model_dump() for c in around if c.ordinal > chunk.ordinal],
        })
        return 0

    def docs(self, args: argparse.Namespace) -> int:
        if not args.json:
            print(self.handlers.docs(page=None).as_text(), file=self.out)
            return 0
        store = self.services.store
        self.emit({"documents": [{
            "doc_id": m.doc_id, "source": m.source, "title": m.title, "council": m.council, "body": m.body,
            "date": iso_date(m), "date_precision": m.date_precision, "type": m.doc_type, "url": m.url,
            "inferred": m.inferred, "passages": len(store.document_chunks(m.doc_id)),
            "stale_since": m.stale_since.isoformat() if m.stale_since else None, "stale_reason": m.stale_reason,
        } for m in newest_first(store)], "improvement_problems": [
            problem.model_dump(include={"doc_id", "source", "reason"}) for problem in store.improvement_areas().problems
        ]})
        return 0

    def define(self, args: argparse.Namespace) -> int:
        """An unknown term is the one-line error naming the closest headwords (exit status 2)."""
        entry = define_term(self.services.glossary, args.term)
        if args.json:
            self.emit({"term": entry.term, "expansion": entry.expansion, "definition": entry.definition,
                       "synonyms": list(entry.synonyms), "source": entry.source})
        else:
            print(self.handlers.define(args.term).as_text(), file=self.out)
        return 0

    def progress(self, args: argparse.Namespace) -> int:
        """JSON as issue 11 gives it; reports whose improvement section could not be read go to stderr."""
        if args.json and args.theme:
            raise QueryError("--json gives every area; leave out THEME, or drop --json to see one theme")
        for problem in self.services.tracker.problems(args.council):
            print(f"not read: {problem}", file=self.err)
        if args.json:
            since = parse_date(args.since)
            self.emit(self._tracked(lambda tracker: tracker.progress(args.council, args.inspection, since)))
            return 0
        reply = self.handlers.progress(args.theme, args.council, args.inspection, args.since, page=None)
        print(reply.title, reply.description, _sections_text(reply), sep="\n\n", file=self.out)
        return 0

    def compare(self, args: argparse.Namespace) -> int:
        if args.json:
            self.emit(self._tracked(lambda tracker: tracker.compare(args.doc_a, args.doc_b)))
            return 0
        reply = self.handlers.compare(args.doc_a, args.doc_b, page=None)
        print(reply.title, reply.description, _sections_text(reply), sep="\n\n", file=self.out)
        return 0

    def _tracked(self, work: Callable[[Tracker], BaseModel]) -> dict:
        try:
            return work(self.services.tracker).model_dump(mode="json")
        except ProgressError as error:
            raise QueryError(str(error)) from None

    def watch(self, args: argparse.Namespace) -> int:
        """The console's watches (subscriber 'console'): Discord members keep theirs with /watch."""
        from bot.console import CONSOLE

        store = self.handlers.watches
        if args.action == "add":
            watch, _ = store.add("user", CONSOLE, args.topic)
            watches = [watch]
        elif args.action == "remove":
            watches = [store.remove("user", CONSOLE, args.which)]
        else:
            watches = store.list("user", CONSOLE)
        if args.json:
            self.emit({"watches": [w.model_dump(mode="json") for w in watches]})
        elif args.action == "list":
            print(self.handlers.watch(None, "user", CONSOLE).as_text(), file=self.out)
        else:
            print(f"{'removed' if args.action == 'remove' else 'watching'}: {watch_line(watches[0])}", file=self.out)
        return 0

    def gaps(self, args: argparse.Namespace) -> int:
        if args.json:
            found = group_gaps(self.handlers.feedback.gap_questions(), nearest_topic(self.services.searcher))
            self.emit({"gaps": [gap.model_dump(mode="json") for gap in found]})
            return 0
        reply = self.handlers.gaps(allowed=True, page=None)
        print("\n\n".join(filter(None, (reply.title, reply.description, _sections_text(reply)))), file=self.out)
        return 0

    def visits(self, args: argparse.Namespace) -> int:
        _, problems = self.services.visit_events()
        for problem in problems:
            print(f"skipped: {problem}", file=self.err)
        if args.json:
            timeline = self.services.timeline(parse_date(args.as_of) or dt.date.today(), args.council, args.all)
            self.emit(timeline.model_dump(mode="json"))
            return 0
        reply = self.handlers.visits(args.as_of, args.council, include_past=args.all, page=None)
        print(_sections_text(reply), file=self.out)
        return 0

    def eval(self, args: argparse.Namespace) -> int:
        from bot.evaluation import evaluate, render_report

        report = evaluate(self.services, args.questions)
        self.emit(report.model_dump()) if args.json else print(render_report(report), file=self.out)
        return 0

    @functools.cached_property
    def handlers(self) -> Handlers:
        return Handlers(self.services, FeedbackStore(self.services.settings.feedback_db),
                        conversations=Conversations())

    def console(self, args: argparse.Namespace) -> int:
        from bot.console import run_console

        return run_console(self.handlers, self.stdin, self.out, warm=True)

    def serve(self, args: argparse.Namespace) -> int:
        from bot.discord_adapter import client

        settings = self.services.settings
        if args.check:
            client.checked_token(settings)
            self.emit(client.command_plan(self.handlers, settings))
            return 0
        client.serve(self.handlers, settings)
        return 0

    def feedback(self, args: argparse.Namespace) -> int:
        summary = FeedbackStore(self.services.settings.feedback_db).summary()
        self.emit(summary.model_dump(mode="json")) if args.json else print(summary.render(), file=self.out)
        return 0

    def sync(self, args: argparse.Namespace) -> int:
        from bot.sync_command import run_sync_command

        return run_sync_command(self.services, args, self.out, self.err)

    def start(self, args: argparse.Namespace) -> int:
        self.index(argparse.Namespace(rebuild=False, json=False))
        if self.services.settings.discord_token is None:
            return self.console(args)
        return self.serve(argparse.Namespace(check=False))


def _sections_text(reply: Reply) -> str:
    """A reply's fields as indented sections: 'Upcoming as of 1 Mar 2024, soonest first:' then its lines."""
    return "\n".join(f"{field.name}:\n{textwrap.indent(field.value, '  ')}" for field in reply.fields)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(corpus_dir=args.corpus, index_dir=args.index_dir)
        cli = Cli(Services(settings))
        return getattr(cli, args.command)(args)
    except (QueryError, EngineError) as error:
        print(f"error: {error_text(error)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
