"""A big build killed with SIGKILL part-way through embedding, then resumed, timed (issue 12).

    python -m benchmarks.resume_build --corpus ../shared/corpora/ofsted-ilacs-text --index-dir var/h12/text-killed \
        --kill-at 0.3 0.6 --out var/h12/killed.json

Runs `python -m bot --corpus C --index-dir D index` into an index folder that does not exist yet. While it
embeds, the passages committed to the build's checkpoint (index_dir/checkpoint.sqlite) are counted every few
seconds; when they reach each `--kill-at` share of the passages the first run set out to embed, the build gets
SIGKILL and is started again; the last run finishes. Prints and writes one JSON object: every run's wall time and
how it ended, and the whole wall time from the first start to the index being live. `--after PID` waits for that
process to end first, so two measurements do not share the cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from index.checkpoints import CHECKPOINT
from index.store import CURRENT

POLL_SECONDS = 5.0


def committed(index_dir: Path) -> int:
    """Passages in the checkpoint now (read beside the writer: WAL mode lets a reader in)."""
    path = index_dir / CHECKPOINT
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(path, timeout=30)
        try:
            return db.execute("SELECT count(*) FROM vectors").fetchone()[0]
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return 0  # not created yet


def said(log: Path, pattern: str) -> int | None:
    """The number in the first line of the build's output that matches `pattern` (tqdm's bars end in \\r)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    found = re.search(pattern, text.replace("\r", "\n"), re.MULTILINE)
    return int(found.group(1)) if found else None


def one_run(command: list[str], index_dir: Path, log: Path, share: float | None, total: int | None) -> dict:
    """One build, SIGKILLed once `share` of the `total` passages are committed (None: left to finish); the first
    run learns the total from its own 'embedding N passages' line."""
    started, before = time.time(), committed(index_dir)
    with log.open("wb") as out:
        build = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        killed_at = None
        while build.poll() is None:
            time.sleep(POLL_SECONDS)
            total = total or said(log, r"^embedding (\d+) passages")
            now = committed(index_dir)
            if share is not None and killed_at is None and total and now > before and now >= share * total:
                killed_at = now
                build.send_signal(signal.SIGKILL)
        build.wait()
    ended = time.time()
    return {"started": _iso(started), "ended": _iso(ended), "wall_seconds": round(ended - started, 1),
            "returncode": build.returncode, "killed": build.returncode == -signal.SIGKILL,
            "committed_when_killed": killed_at, "checkpoint_rows_after": committed(index_dir),
            "resumed": said(log, r"^resuming: (\d+) passages"), "embedding": said(log, r"^embedding (\d+) passages"),
            "log": str(log)}


def _iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat(timespec="seconds")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--kill-at", type=float, nargs="*", default=[0.3, 0.6], help="shares of the embedding")
    parser.add_argument("--after", type=int, help="wait for this process to end before starting")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.index_dir.exists():
        parser.error(f"{args.index_dir} exists; the measurement starts from no index, so pass a new folder")
    while args.after and _alive(args.after):
        time.sleep(30)
    command = [sys.executable, "-m", "bot", "--corpus", str(args.corpus), "--index-dir", str(args.index_dir), "index"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    runs: list[dict] = []
    total = None
    for number, share in enumerate([*args.kill_at, None], start=1):
        runs.append(one_run(command, args.index_dir, args.out.with_name(f"{args.out.stem}.run{number}.log"), share, total))
        total = total or runs[0]["embedding"]
    result = {"command": " ".join(command), "kill_at": args.kill_at, "passages_to_embed": total, "runs": runs,
              "wall_seconds": round(sum(run["wall_seconds"] for run in runs), 1),
              "live": (args.index_dir / CURRENT).is_file() and runs[-1]["returncode"] == 0}
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0 if result["live"] else 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
