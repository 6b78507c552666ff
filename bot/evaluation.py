"""Measure retrieval (hit@1, hit@5, MRR@10 for dense, lexical and hybrid) and answers on a question set."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from pydantic import BaseModel

from bot.answering import Answer, fold
from bot.services import Services
from index.errors import EngineError
from index.models import SearchHit


class EvalQuestion(BaseModel):
    id: str
    q: str
    evidence: list[str]
    kind: str = "all"


class QuestionSet(BaseModel):
    questions: list[EvalQuestion]
    out_of_scope: list[str] = []


class RetrievalScores(BaseModel):
    hit_at_1: float
    hit_at_5: float
    mrr_at_10: float


class KindScores(BaseModel):
    """Hybrid retrieval and answers for one kind of question (council and year, paraphrase, ...)."""

    questions: int
    retrieval: RetrievalScores
    answer_has_evidence: float


class EvalReport(BaseModel):
    questions: int
    out_of_scope: int
    retrieval: dict[str, RetrievalScores]
    by_kind: dict[str, KindScores] = {}
    mean_quote_chars: float = 0.0
    answer_has_evidence: float
    in_scope_answered: float
    out_of_scope_refused: float
    quotes_verbatim: float
    misses: list[str]
    warm_query_ms_p50: float
    warm_query_ms_p95: float


def load_questions(path: Path) -> QuestionSet:
    try:
        return QuestionSet.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise EngineError(f"{path}: not a readable question set ({error}); give a file like ../shared/eval/dev_questions.json") from error


def _first_hit_rank(hits: list[SearchHit], evidence: list[str]) -> int | None:
    wanted = [fold(e) for e in evidence]
    for rank, hit in enumerate(hits, start=1):
        text = fold(hit.chunk.text)
        if any(e in text for e in wanted):
            return rank
    return None


def _ranks(services: Services, questions: list[EvalQuestion], mode: str) -> list[int | None]:
    return [_first_hit_rank(services.searcher.search(q.q, k=10, mode=mode), q.evidence) for q in questions]


def _scores(ranks: list[int | None]) -> RetrievalScores:
    count = len(ranks) or 1
    return RetrievalScores(
        hit_at_1=sum(r == 1 for r in ranks) / count,
        hit_at_5=sum(r is not None and r <= 5 for r in ranks) / count,
        mrr_at_10=sum(1 / r for r in ranks if r) / count,
    )


def quotes_are_verbatim(services: Services, answer: Answer) -> bool:
    """Every quote appears, white space folded, in the full text of the document it cites."""
    store = services.store
    return all(
        " ".join(c.quote.split()) in " ".join(store.document_text(c.doc_id).split()) for c in answer.citations
    )


def evaluate(services: Services, path: Path) -> EvalReport:
    question_set = load_questions(path)
    questions = question_set.questions
    ranks = {mode: _ranks(services, questions, mode) for mode in ("dense", "lexical", "hybrid")}
    retrieval = {mode: _scores(mode_ranks) for mode, mode_ranks in ranks.items()}
    misses = [f"hybrid {q.id}: evidence at rank {rank or '>10'}" for q, rank in zip(questions, ranks["hybrid"])
              if rank != 1]
    timings, answers = [], []
    for question in questions:
        started = time.perf_counter()
        answers.append((question, services.answerer.ask(question.q)))
        timings.append((time.perf_counter() - started) * 1000)
    refusals = [services.answerer.ask(q) for q in question_set.out_of_scope]
    count = len(questions) or 1
    with_evidence = [q.id for q, a in answers if any(fold(e) in fold(a.answer) for e in q.evidence)]
    misses += [f"answer {q.id}: evidence not quoted" for q, _ in answers if q.id not in with_evidence]
    misses += [f"out of scope answered: {a.question}" for a in refusals if a.found]
    quotes = [len(" ".join(c.quote for c in a.citations)) for _, a in answers if a.found]
    by_kind = {}
    for kind in dict.fromkeys(q.kind for q in questions):
        chosen = [i for i, q in enumerate(questions) if q.kind == kind]
        by_kind[kind] = KindScores(questions=len(chosen), retrieval=_scores([ranks["hybrid"][i] for i in chosen]),
                                   answer_has_evidence=sum(questions[i].id in with_evidence for i in chosen) / len(chosen))
    return EvalReport(
        questions=len(questions), out_of_scope=len(refusals), retrieval=retrieval, by_kind=by_kind,
        mean_quote_chars=sum(quotes) / (len(quotes) or 1),
        answer_has_evidence=len(with_evidence) / count,
        in_scope_answered=sum(a.found for _, a in answers) / count,
        out_of_scope_refused=sum(not a.found for a in refusals) / (len(refusals) or 1),
        quotes_verbatim=sum(quotes_are_verbatim(services, a) for _, a in answers) / count,
        misses=misses,
        warm_query_ms_p50=statistics.median(timings) if timings else 0.0,
        warm_query_ms_p95=sorted(timings)[int(0.95 * (len(timings) - 1))] if timings else 0.0,
    )


def render_report(report: EvalReport) -> str:
    lines = [f"{report.questions} questions, {report.out_of_scope} out of scope", "",
             f"{'mode':<8} {'hit@1':>6} {'hit@5':>6} {'MRR@10':>7}"]
    for mode, scores in report.retrieval.items():
        lines.append(f"{mode:<8} {scores.hit_at_1:>6.2f} {scores.hit_at_5:>6.2f} {scores.mrr_at_10:>7.3f}")
    if len(report.by_kind) > 1:
        lines += ["", f"{'hybrid, by kind':<16} {'n':>3} {'hit@1':>6} {'hit@5':>6} {'MRR@10':>7} {'quoted':>7}"]
        for kind, scores in report.by_kind.items():
            r = scores.retrieval
            lines.append(f"{kind:<16} {scores.questions:>3} {r.hit_at_1:>6.2f} {r.hit_at_5:>6.2f} {r.mrr_at_10:>7.3f} "
                         f"{scores.answer_has_evidence:>7.2f}")
    lines += [
        "",
        f"answers quoting the evidence: {report.answer_has_evidence:.2f}",
        f"mean quotation length:        {report.mean_quote_chars:.0f} characters",
        f"in-scope questions answered:  {report.in_scope_answered:.2f}",
        f"out-of-scope refused:         {report.out_of_scope_refused:.2f}",
        f"quotes found verbatim:        {report.quotes_verbatim:.2f}",
        f"warm ask latency p50 / p95:   {report.warm_query_ms_p50:.1f} / {report.warm_query_ms_p95:.1f} ms",
    ]
    if report.misses:
        lines += ["", "misses:"] + [f"  {miss}" for miss in report.misses]
    return "\n".join(lines)
