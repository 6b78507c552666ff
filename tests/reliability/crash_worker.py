"""A fork server for the crash-safety tests: `python -m tests.reliability.crash_worker`.

It makes the deterministic fake embedder (tests/fakes.py) once, says {"ready": true}, then reads one JSON job a
line from standard input and runs each as a real `Indexer.run` in a forked child, so a test can SIGKILL indexers
many times without paying for a start-up each time. For each job it writes {"child": PID} when the child starts
and {"child": PID, "exit": N} or {"child": PID, "signal": N} when it ends.

A job: {"corpus": DIR, "index_dir": DIR, "rebuild": bool, "kill_at": N | null, "count_to": FILE | null,
"parallel": N} — with `parallel` it starts N identical builds at once and reports each under "all".
With `kill_at` the child SIGKILLs itself just before its Nth file operation under the index folder (as seen by
Python's audit hooks: open, mkdir, rename/replace, remove, rmdir, rmtree, sqlite3.connect), so kill points can be
spread evenly over everything a build does to the disk. With `count_to` it writes how many such operations the
build made and how long it took, so the test knows the range to draw from. With "kill_at_batch": N (and
"checkpoint_every": M passages a batch) the child SIGKILLs itself when it starts embedding its Nth batch.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

WATCHED = frozenset({"open", "os.mkdir", "os.rename", "os.remove", "os.rmdir", "shutil.rmtree", "sqlite3.connect",
                     "os.truncate", "shutil.copyfile", "shutil.move"})


def _under(folder: str, candidate: object) -> bool:
    if isinstance(candidate, bytes):
        candidate = os.fsdecode(candidate)
    return isinstance(candidate, (str, os.PathLike)) and os.fspath(candidate).startswith(folder)


def _watch(index_dir: Path, kill_at: int | None, counter: list[int]) -> None:
    folder = str(index_dir.resolve())

    def hook(event: str, args: tuple) -> None:
        if event in WATCHED and args and _under(folder, args[0]):
            counter[0] += 1
            if counter[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(hook)


def _child(job: dict, embedder) -> None:
    from index.indexer import Indexer  # imported by main() before any fork: every child runs the same code

    os.dup2(2, 1)  # standard output is the protocol; anything a library prints goes to standard error
    index_dir = Path(job["index_dir"])
    counter = [0]
    if job.get("kill_at") or job.get("count_to"):
        _watch(index_dir, job.get("kill_at"), counter)
    if job.get("kill_at_batch"):
        from tests.fakes import CountingEncoder

        embedder = CountingEncoder(embedder, stop_at=job["kill_at_batch"], stop=lambda: os.kill(os.getpid(), signal.SIGKILL))
    options = {"checkpoint_every": job["checkpoint_every"]} if job.get("checkpoint_every") else {}
    started = time.monotonic()
    Indexer(embedder, **options).run(Path(job["corpus"]), index_dir, rebuild=bool(job.get("rebuild")))
    if job.get("count_to"):
        Path(job["count_to"]).write_text(json.dumps({"events": counter[0], "seconds": time.monotonic() - started}))


def main() -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # the Rust tokenizer's threads do not survive fork()
    from index.indexer import Indexer  # noqa: F401 — here, not in the children, so an edit mid-run cannot split them
    from tests.fakes import FakeEmbedder

    embedder = FakeEmbedder()  # vectors, not meaning: what the tests check is the files
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        pids = []
        for _ in range(job.get("parallel", 1)):  # "parallel": N starts N identical builds at the same moment
            pid = os.fork()
            if pid == 0:
                try:
                    _child(job, embedder)
                except BaseException:  # noqa: BLE001 — reported as exit status 3 with the traceback on stderr
                    traceback.print_exc()
                    os._exit(3)
                os._exit(0)
            pids.append(pid)
        print(json.dumps({"child": pids[0], "children": pids}), flush=True)
        results = []
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            result = {"child": pid}
            if os.WIFSIGNALED(status):
                result["signal"] = os.WTERMSIG(status)
            else:
                result["exit"] = os.WEXITSTATUS(status)
            results.append(result)
        print(json.dumps(results[0] | {"all": results}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
