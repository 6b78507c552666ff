"""The reliability suite's figures: each test records what it tried and what happened into one JSON file,
and `python -m tests.reliability.report` prints them as the Markdown table the README shows.

Figures are kept per scale (`RELIABILITY_SCALE=normal`, the default, or `full`), so one table can show the
quick run that every `make test` does beside the big one run by hand. A test records its figures before it
asserts, so a failing run's report shows what failed, not the last good numbers.

    python -m tests.reliability.report            # the Markdown table, both scales
    python -m tests.reliability.report --json     # the raw file
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SCALES = ("normal", "full")
AREAS = {
    "hostile_corpus": "Hostile corpus",
    "hostile_questions": "Hostile questions",
    "crash_safety": "Crash safety",
    "load": "Load",
    "permissions": "Permissions",
    "secrets": "Secrets",
    "concurrent_reindex": "Concurrent reindex and queries",
}


def report_path() -> Path:
    """`RELIABILITY_REPORT` if set, else var/reliability/report.json (git-ignored, like all of var/)."""
    return Path(os.environ.get("RELIABILITY_REPORT") or REPO_ROOT / "var" / "reliability" / "report.json")


def scale() -> str:
    """`RELIABILITY_SCALE`: normal (the default, what CI runs) or full (thousands of inputs, many kills)."""
    value = os.environ.get("RELIABILITY_SCALE", "normal").strip().lower() or "normal"
    if value not in SCALES:
        raise ValueError(f"RELIABILITY_SCALE={value!r}: use one of {', '.join(SCALES)}")
    return value


def by_scale(normal: Any, full: Any) -> Any:
    return full if scale() == "full" else normal


def load(path: Path | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    path = path or report_path()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def record(area: str, figures: dict[str, Any], path: Path | None = None) -> None:
    """Merge one area's figures into the report under the current scale (an flock guards parallel runs)."""
    if area not in AREAS:
        raise KeyError(f"unknown area {area!r}; add it to AREAS")
    path = path or report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / ".report.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        report = load(path)
        entry = report.setdefault(scale(), {}).setdefault(area, {})
        entry.update(figures)
        entry["recorded_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(temporary, path)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def render(report: dict[str, dict[str, dict[str, Any]]]) -> str:
    """One row per figure, one column per scale that has been run."""
    scales = [name for name in SCALES if report.get(name)]
    if not scales:
        return "No reliability figures yet: run `python -m pytest tests/reliability`."
    lines = ["| area | figure | " + " | ".join(scales) + " |", "|---|---|" + "---|" * len(scales)]
    for area, title in AREAS.items():
        labels: list[str] = []
        for name in scales:
            labels += [label for label in report[name].get(area, {}) if label != "recorded_at" and label not in labels]
        for i, label in enumerate(labels):
            cells = [_cell(report[name].get(area, {}).get(label)) for name in scales]
            lines.append(f"| {title if i == 0 else ''} | {label} | " + " | ".join(cells) + " |")
    when = {name: max((e.get("recorded_at", "") for e in report[name].values()), default="") for name in scales}
    lines.append("")
    lines.append("Recorded " + "; ".join(f"{name}: {when[name]}" for name in scales) + ".")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the raw report file")
    parser.add_argument("--path", type=Path, help=f"the report file (default {report_path()})")
    args = parser.parse_args(argv)
    report = load(args.path)
    print(json.dumps(report, indent=1, ensure_ascii=False) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
