"""A chat in the terminal: type a question, or a command such as /quote ID or /docs."""

from __future__ import annotations

from typing import TextIO

from bot.answering import QueryError
from bot.services import Services
from index.errors import EngineError

HELP = "Ask a question in plain words, or: /ask QUESTION, /quote ID, /docs, /help, /quit"


def run_console(services: Services, stdin: TextIO, out: TextIO) -> int:
    print(f"Improvement bot — {len(services.store.documents())} documents. {HELP}", file=out, flush=True)
    while True:
        print("> ", end="", file=out, flush=True)
        line = stdin.readline()
        if not line or line.strip() in {"/quit", "/exit"}:
            return 0
        if not line.strip():
            continue
        try:
            print(_respond(services, line.strip()), file=out, flush=True)
        except (QueryError, EngineError) as error:
            print(f"Sorry: {error}", file=out, flush=True)


def _respond(services: Services, line: str) -> str:
    command, _, rest = line.partition(" ") if line.startswith("/") else ("/ask", "", line)
    if command == "/ask":
        return services.answerer.ask(rest).answer
    if command == "/quote":
        chunk = services.store.chunk(rest.strip().lower())
        if chunk is None:
            raise QueryError(f"no passage has id '{rest.strip()}'")
        return f"[{chunk.location}] {chunk.text.strip()}"
    if command == "/docs":
        return "\n".join(f"- {m.title} ({m.council or 'council unknown'})" for m in services.store.documents())
    if command == "/help":
        return HELP
    raise QueryError(f"unknown command {command}; {HELP}")
