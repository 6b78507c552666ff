"""The links scorer's arithmetic on a small made-up inspection: what counts as right, wrong and unjudged."""

from bot.progress import AreaProgress, Evidence, InspectionRef, ProgressReport, Source
from eval.score_links import Score, score_inspection

GOLD = {
    "council": "Testshire", "date": "2019-01-01",
    "areas": [
        {"id": "a1", "text": "Supervision.", "later": [
            {"doc_id": "later", "addressed": True, "evidence": [{"quote": "Supervision is  REGULAR now.", "theme": None}]}]},
        {"id": "a2", "text": "Missing children.", "later": [
            {"doc_id": "later", "addressed": True, "evidence": [{"quote": "Return home interviews are timely.", "theme": None}]}]},
        {"id": "a3", "text": "The board's plan.", "later": [{"doc_id": "later", "addressed": False, "evidence": []}]},
        {"id": "a4", "text": "Not extracted any more.", "later": [{"doc_id": "later", "addressed": True, "evidence": []}]},
    ],
}
PASSAGES = {
    "c1": "Managers meet staff. Supervision is regular now. Plans are good.",
    "c2": "Foster carers are well supported.",
    "c3": "Return home interviews are timely.",  # holds a2's string, but is linked to a1 and a3 here
    "c4": "The local offer is clear.",
}


def _area(area_id: str, chunks: list[str]) -> AreaProgress:
    evidence = [Evidence(doc_id="later", title="Later", date="2023-01-01", chunk_id=c, location="para 1", quote="q",
                         score=1.0) for c in chunks]
    return AreaProgress(id=area_id, text=area_id, context=None, source=Source(chunk_id=None, location=None),
                        evidence=evidence, latest_evidence_date=None)


def test_right_wrong_unjudged_precision_and_recall():
    report = ProgressReport(council="Testshire", inspection=InspectionRef(doc_id="early", title="Early", date=None),
                            areas=[_area("a1", ["c1", "c2", "c3"]), _area("a2", ["c4"]), _area("a3", ["c3"])])
    judged = {("a1", "c2"): {"right": False, "reason": "fostering, not supervision"},
              ("a2", "c4"): {"right": True, "reason": "judged yes"}}
    score, links = score_inspection(GOLD, report, PASSAGES.__getitem__, judged)

    assert [(l.area_id, l.chunk_id, l.verdict) for l in links] == [
        ("a1", "c1", "right"), ("a1", "c2", "wrong"), ("a1", "c3", "unjudged"), ("a2", "c4", "right"),
        ("a3", "c3", "unjudged")]
    assert (score.right, score.wrong, score.unjudged, score.links) == (2, 1, 2, 5)
    assert score.precision == 2 / 3 and score.precision_if_unjudged_wrong == 2 / 5
    # a1 and a2 have a right link; a4 is addressed but no longer shown, so it counts against recall and is named
    assert (score.areas_linked_right, score.areas_addressed, score.gold_areas_not_shown) == (2, 3, ["a4"])

    overall = Score(name="overall")
    overall.add(score)
    overall.add(score)
    assert (overall.links, overall.recall, overall.gold_areas_not_shown) == (10, 2 / 3, ["a4", "a4"])


def test_no_judged_links_gives_no_precision_rather_than_a_made_up_one():
    report = ProgressReport(council="Testshire", inspection=InspectionRef(doc_id="early", title="Early", date=None),
                            areas=[_area("a3", ["c4"])])
    score, _ = score_inspection(GOLD, report, PASSAGES.__getitem__, {})
    assert score.precision is None and score.precision_if_unjudged_wrong == 0.0
