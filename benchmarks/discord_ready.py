"""The Discord-ready state minus the network, as `python -m bot serve` would reach it, then exit.

    python -m benchmarks.discord_ready --corpus DIR --index-dir DIR

Builds the settings, Services, Handlers and the discord.py bot with its cog (the same objects `serve`
builds, cog added as `serve --check` does), and loads the index and the model, without connecting to
Discord. Prints one JSON line with the time of each step since the interpreter started running this module.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--feedback-db", type=Path, required=True)
    args = parser.parse_args(argv)
    steps: dict[str, float] = {}

    from bot.services import Services
    from bot.settings import load_settings

    settings = load_settings(corpus_dir=args.corpus, index_dir=args.index_dir, feedback_db=args.feedback_db)
    services = Services(settings)
    steps["services_s"] = time.perf_counter() - started
    try:
        from bot.discord_adapter import client, cog as answers_cog
        from bot.feedback import FeedbackStore
        from bot.handlers import Handlers
    except ImportError as error:  # the cog is written elsewhere; without it, Services + model + index only
        cog = f"not importable ({error})"
    else:
        handlers = Handlers(services, FeedbackStore(settings.feedback_db))
        bot = client.ImprovementBot(handlers, settings)
        asyncio.run(bot.add_cog(answers_cog.AnswersCog(bot, handlers, settings)))
        cog = "bot.discord_adapter imported; ImprovementBot built and AnswersCog added (no connection)"
    steps["discord_objects_s"] = time.perf_counter() - started
    services.searcher  # the index and the model, loaded before the first question arrives
    steps["index_and_model_s"] = time.perf_counter() - started
    print(json.dumps({"cog": cog, "steps": {k: round(v, 3) for k, v in steps.items()}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
