"""A chat in the terminal over the same handlers as the Discord bot: type a question, or /help."""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass
from typing import Callable, TextIO

from bot.answering import QueryError
from bot.handlers import Handlers, Reply, failure

_OPTION = re.compile(r'\b(council|since|type|as_of|include_past|page|inspection):(?:"([^"]*)"|(\S+))')
_QUIT = {"/quit", "/exit"}


@dataclass(frozen=True)
class Session:
    """Where replies go, and the conversation follow-up questions belong to (one per console session)."""

    out: TextIO
    key: str | None = None


def _options(rest: str) -> tuple[str, dict[str, str]]:
    """'QUESTION council:"Bury Council" since:2024-01-01' — options anywhere, quotes optional."""
    options = {match[1]: match[2] if match[2] is not None else match[3] for match in _OPTION.finditer(rest)}
    return _OPTION.sub(" ", rest), options


def _ask(handlers: Handlers, rest: str, session: Session) -> Reply:
    question, options = _options(rest)
    return handlers.ask(question, options.get("council"), options.get("since"), options.get("type"),
                        conversation=session.key)


def _page(options: dict[str, str]) -> int:
    page = options.get("page", "1")
    if not page.isdigit():
        raise QueryError(f"'{page}' is not a page number; write page:2")
    return int(page)


def _visits(handlers: Handlers, rest: str, session: Session) -> Reply:
    """'/visits as_of:2024-03-01 council:Nottingham include_past:true page:2'."""
    _, options = _options(rest)
    include_past = options.get("include_past", "").lower() in {"true", "yes", "1"}
    return handlers.visits(options.get("as_of"), options.get("council"), include_past, _page(options))


def _progress(handlers: Handlers, rest: str, session: Session) -> Reply:
    """'/progress care leavers council:Bradford inspection:2018 since:2020-01-01 page:2'."""
    theme, options = _options(rest)
    return handlers.progress(theme, options.get("council"), options.get("inspection"), options.get("since"),
                             _page(options))


def _compare(handlers: Handlers, rest: str, session: Session) -> Reply:
    """'/compare DOC_A DOC_B page:2'."""
    ids, options = _options(rest)
    if len(ids.split()) != 2:
        raise QueryError("give two document ids, e.g. /compare DOC_A DOC_B; /docs lists them")
    return handlers.compare(*ids.split(), page=_page(options))


def _quote(handlers: Handlers, rest: str, session: Session) -> Reply:
    chunk_id, _, context = rest.strip().partition(" ")
    if context.strip() and not context.strip().isdigit():
        raise QueryError(f"'{context.strip()}' is not a number of passages; write /quote ID or /quote ID 2")
    return handlers.quote(chunk_id, int(context or 0))


def _docs(handlers: Handlers, rest: str, session: Session) -> Reply:
    return handlers.docs(int(rest) if rest.strip().isdigit() else 1)


CONSOLE = "console"  # the subscriber the console's (and the command line's) watches belong to


def _watch(handlers: Handlers, rest: str, session: Session) -> Reply:
    return handlers.watch(rest, "user", CONSOLE)


def _unwatch(handlers: Handlers, rest: str, session: Session) -> Reply:
    return handlers.unwatch(rest, "user", CONSOLE)


def _gaps(handlers: Handlers, rest: str, session: Session) -> Reply:
    _, options = _options(rest)
    return handlers.gaps(allowed=True, page=_page(options))


def _define(handlers: Handlers, rest: str, session: Session) -> Reply:
    return handlers.define(rest)


def _reindex(handlers: Handlers, rest: str, session: Session) -> Reply:
    return handlers.reindex(allowed=True, progress=lambda step: print(f"… {step}", file=session.out, flush=True))


def _new(handlers: Handlers, rest: str, session: Session) -> Reply:
    return handlers.new_conversation(session.key)


def _help(handlers: Handlers, rest: str, session: Session) -> Reply:
    return handlers.help()


ROUTES: dict[str, Callable[[Handlers, str, Session], Reply]] = {
    "/ask": _ask, "/quote": _quote, "/docs": _docs, "/visits": _visits, "/progress": _progress,
    "/compare": _compare, "/watch": _watch, "/unwatch": _unwatch, "/gaps": _gaps, "/define": _define,
    "/reindex": _reindex, "/new": _new, "/help": _help,
}


def _command(line: str) -> tuple[str, str]:
    """'/command' and the rest; plain text is a question."""
    command, _, rest = line.partition(" ") if line.startswith("/") else ("/ask", "", line)
    return command.lower(), rest


def _route(line: str) -> Callable[[Handlers, str, Session], Reply] | None:
    return ROUTES.get(_command(line)[0])


def respond(handlers: Handlers, line: str, out: TextIO, conversation: str | None = None) -> Reply:
    """One line typed: a /command with its arguments, or plain text asked as a question (a follow-up of the
    conversation's question before, when `conversation` names one)."""
    command, rest = _command(line)
    route = ROUTES.get(command)
    if route is None:
        raise QueryError(f"there is no command {command}; type /help to see them, or /quit to leave")
    return route(handlers, rest, Session(out=out, key=conversation))


MODEL_ROUTES = frozenset({_ask, _progress, _compare, _gaps})  # the commands that embed text


class _Screen:
    """The console's output, shared with the thread that loads the model: one writer at a time, and a message
    that arrives while the prompt waits is shown above a fresh prompt."""

    def __init__(self, out: TextIO):
        self.out = out
        self.lock = threading.Lock()
        self.at_prompt = False

    def say(self, text: str, prompt: bool = False) -> None:
        with self.lock:
            print(text, end="" if prompt else "\n", file=self.out, flush=True)
            self.at_prompt = prompt

    def notice(self, text: str) -> None:
        with self.lock:
            print(f"\n{text}\n> " if self.at_prompt else text, end="" if self.at_prompt else "\n",
                  file=self.out, flush=True)


def _warm_in_background(handlers: Handlers, screen: _Screen) -> threading.Event:
    """Load the index and the model while the person types; the event is set when that is done (or failed)."""
    ready = threading.Event()

    def warm() -> None:
        try:
            handlers.warm()
            message = "(The model is ready.)"
        except Exception as error:  # noqa: BLE001 — said in one line; questions then say what is wrong
            message = f"(The model is not ready. {failure(error).description})"
        ready.set()
        screen.notice(message)

    threading.Thread(target=warm, name="warm-model", daemon=True).start()
    return ready


def run_console(handlers: Handlers, stdin: TextIO, out: TextIO, warm: bool = False) -> int:
    """The chat; with `warm`, the prompt comes at once while the model loads in the background, and a question
    asked before it is ready waits for it."""
    screen = _Screen(out)
    screen.say("Improvement bot: ask about the documents in your own words, or type /help. /quit leaves."
               + (" The model is loading; it says when it is ready." if warm else ""))
    ready = _warm_in_background(handlers, screen) if warm else None
    conversation = f"console:{secrets.token_hex(4)}"
    while True:
        screen.say("> ", prompt=True)
        line = stdin.readline()
        screen.at_prompt = False
        if not line or line.strip().lower() in _QUIT:
            return 0
        if not line.strip():
            continue
        if ready is not None and not ready.is_set() and _route(line.strip()) in MODEL_ROUTES:
            screen.say("… the model is still loading; your question is answered as soon as it is ready.")
            ready.wait()
        try:
            reply = respond(handlers, line.strip(), out, conversation)
        except Exception as error:  # noqa: BLE001 — the chat goes on; the details are logged with a reference
            reply = failure(error)
        screen.say(reply.as_text())
