"""Areas for improvement: extraction from real report layouts, against a gold list read by hand, and in the index."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from index.improvements import document_areas
from index.improvements.curated import load_corrections
from index.models import Chunk, DocumentMeta
from index.parsing import parse_file

EVAL = Path(__file__).resolve().parents[2] / "eval"
# the gold read while the extractor was designed, and one read afterwards from reports it had not seen
GOLDS = {"design": EVAL / "improvement_areas_gold.json", "heldout": EVAL / "improvement_areas_heldout.json"}


def _norm(text: str) -> str:
    """Case, white space, line-wrap hyphens and a closing stop folded, as the gold file says."""
    text = re.sub(r"-\s+", "-", " ".join(text.casefold().split()))
    return text.rstrip(" .;,:")


def _matches(gold: dict, text: str) -> bool:
    folded = _norm(text)
    return folded.startswith(_norm(gold["starts"])) and folded.endswith(_norm(gold["ends"]))


def _areas_of(path: Path) -> list:
    parsed = parse_file(path, path.name)
    meta = DocumentMeta(doc_id=path.stem, source=path.name, title=path.stem)
    areas, reason = document_areas(meta, parsed.text, [])
    assert reason is None, reason
    return areas


@pytest.mark.parametrize("gold_name", sorted(GOLDS))
def test_extraction_matches_the_gold_list_item_by_item(shared_dir, gold_name):
    """Recall and precision of extracted items against areas read by hand: the design gold (6 PDFs and 6
    older-framework texts) and the held-out gold (5 older-framework and 3 ILACS texts)."""
    reports = json.loads(GOLDS[gold_name].read_text(encoding="utf-8"))["reports"]
    found = gold_total = extracted_total = correct = 0
    misses: list[str] = []
    for report in reports:
        areas = _areas_of(shared_dir / "corpora" / report["corpus"] / report["file"])
        extracted_total += len(areas)
        gold_total += len(report["areas"])
        used: set[int] = set()
        for gold in report["areas"]:
            hit = next((i for i, a in enumerate(areas) if i not in used and _matches(gold, a.text)), None)
            if hit is None:
                misses.append(f"{report['file']}: {gold['starts']}")
                continue
            used.add(hit)
            found += 1
            if "context" not in gold or _norm(areas[hit].context or "") == _norm(gold["context"]):
                correct += 1
        misses += [f"{report['file']}: extra {areas[i].text[:60]!r}" for i in range(len(areas)) if i not in used]
    recall, precision = found / gold_total, found / extracted_total
    print(f"\nextraction ({gold_name} gold): {gold_total} gold areas in {len(reports)} reports, {extracted_total} "
          f"extracted; recall {recall:.3f}, precision {precision:.3f}, context right for {correct}/{found}")
    assert recall >= 0.95 and precision >= 0.95, "\n".join(misses)
    assert correct == found, "\n".join(misses)


def _meta() -> DocumentMeta:
    return DocumentMeta(doc_id="d1", source="d1.txt", title="A report", council="Testshire")


def test_officers_report_recommendations_are_areas_with_their_source_passage(repo_root):
    """The seed officers' report lists three recommendations to its committee; each maps to a stored passage."""
    path = repo_root / "corpus" / "003_cd5dea8db04643bf.txt"
    text = parse_file(path, path.name).text
    start = text.index("Recommendation(s):")
    chunk = Chunk(chunk_id="abcdefabcdef", doc_id="d1", ordinal=0, location="para 1", text=text[start:start + 600])
    areas, reason = document_areas(_meta(), text, [chunk])
    assert reason is None
    assert [a.text[:52] for a in areas] == [
        "Children and Young People Scrutiny Committee conside",
        "Children and Young People Scrutiny Committee note th",
        "Children and Young People Scrutiny Committee confirm",
    ]
    assert all(a.chunk_id == "abcdefabcdef" and a.location == "para 1" for a in areas)
    assert all(" ".join(a.text.split()) in " ".join(text.split()) for a in areas)  # verbatim


def test_seed_documents_without_a_section_have_no_areas_and_no_problem(repo_root):
    for path in sorted((repo_root / "corpus").glob("00[0124]_*.txt")):
        areas, reason = document_areas(_meta(), parse_file(path, path.name).text, [])
        assert (areas, reason) == ([], None), path.name


def test_a_wrapped_item_is_joined_and_a_page_number_and_footnote_mark_do_not_leak():
    text = ("What needs to improve?1\n\n◼ The quality of plans and the oversight of children subject to supervision\n"
            "\n12\n\norders. (outcome 3, national\nframework)\n◼ Life-story work for all children.\n"
            "The experiences and progress of children who need help and\nprotection: good\n1. Children are safe.")
    areas, reason = document_areas(_meta(), text, [])
    assert reason is None
    assert [(a.text, a.context) for a in areas] == [
        ("The quality of plans and the oversight of children subject to supervision orders.",
         "outcome 3, national framework"),
        ("Life-story work for all children.", None),
    ]


def test_a_section_in_prose_is_reported_with_a_reason_and_none_found_is_not_a_problem():
    prose = "Intro.\n\nWhat needs to improve?\n\nThere are a very small number of areas of variability.\n"
    areas, reason = document_areas(_meta(), prose, [])
    assert areas == [] and reason == ("'What needs to improve?' at line 3 is not followed by a list of items "
                                      "the extractor can read")
    none = ("Priority and immediate action\n\n"
            "26. The inspection did not find any areas for priority and immediate action.\n")
    assert document_areas(_meta(), none, []) == ([], None)


def test_a_contents_page_entry_is_not_a_section():
    text = "Contents\nRecommendations 7\nSummary for children and young people 9\n"
    assert document_areas(_meta(), text, []) == ([], None)


def test_area_ids_are_stable_and_differ_between_documents():
    text = "Recommendations\n\n1. Improve the quality of assessments.\n2. Reduce caseloads.\n"
    first, _ = document_areas(_meta(), text, [])
    again, _ = document_areas(_meta(), text, [])
    other, _ = document_areas(_meta().model_copy(update={"doc_id": "d2"}), text, [])
    assert [a.id for a in first] == [a.id for a in again]
    assert not {a.id for a in first} & {a.id for a in other}


def test_progress_toml_entries_are_validated_one_by_one(tmp_path):
    path = tmp_path / "progress.toml"
    path.write_text('[[hide]]\narea = "0123456789ab"\n\n[[pin]]\narea = "zzz"\nchunk_id = "0123456789ab"\n\n'
                    '[[area]]\ninspection = "doc"\ntext = "The quality of plans."\ncolour = "red"\n\n[[tidy]]\n',
                    encoding="utf-8")
    corrections = load_corrections(path)
    assert corrections.hidden == {"0123456789ab"}
    assert corrections.errors == [
        f"{path} line 5: [[pin]] 'area': 'zzz' is not an id (12 hex digits, as `progress --json` shows them)",
        f"{path} line 11: [[area]] 'colour': unknown field",
        f"{path} line 13: unknown table [[tidy]]; use [[area]], [[hide]], [[pin]] or [[unpin]]",
    ]
    assert load_corrections(tmp_path / "missing.toml").errors == []
