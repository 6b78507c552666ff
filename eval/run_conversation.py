"""Run a conversation question set (eval/councillor_questions.json) through the answering core, follow-ups
carrying their context as in the console, and print each answer beside what a correct one must say.

    python -m eval.run_conversation eval/councillor_questions.json [--corpus DIR --index-dir DIR]

Each answer is checked for two things a script can check: one of the evidence strings is quoted (or, where the
set says the documents do not cover it, the answer declines), and no citation is from another council than the
one the question is about. Whether the answer says what `expect` says is for a person to judge from the print.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.answering import fold
from bot.conversation import Context
from bot.services import Services
from bot.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--index-dir", type=Path)
    args = parser.parse_args(argv)
    services = Services(load_settings(corpus_dir=args.corpus, index_dir=args.index_dir))
    contexts: dict[str, Context | None] = {}
    passed = 0
    questions = json.loads(args.questions.read_text(encoding="utf-8"))["questions"]
    for q in questions:
        answer = services.answerer.ask(q["q"], context=contexts.get(q["follows"]) if q["follows"] else None)
        contexts[q["id"]] = answer.context
        evidence = [fold(e) for e in q["evidence"]]
        quoted = any(e in fold(answer.answer) for e in evidence) if evidence else not answer.found
        right_council = q["council"] is None or all(c.council in (None, q["council"]) for c in answer.citations)
        passed += quoted and right_council
        print(f"\n{q['id']} {'PASS' if quoted and right_council else 'FAIL'} (evidence {'quoted' if quoted else 'MISSING'}, "
              f"council {'ok' if right_council else 'WRONG'}){' follows ' + q['follows'] if q['follows'] else ''}")
        print(f"Q: {q['q']}\nEXPECT: {q['expect']}\nANSWER:\n{answer.answer}")
    print(f"\n{passed} passed, {len(questions) - passed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
