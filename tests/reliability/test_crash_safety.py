"""Crash safety: SIGKILL real indexer processes at random points of builds and updates, many times; tear and
corrupt every file of a built index. The live index must always be a whole generation (the one before the build or
the one after, never a mix) that loads, verifies and answers; a damaged one must be refused with a message that
says how to rebuild it, and the next build must recover.

Kill points come two ways, alternately: at a random moment of the build (SIGKILL from the test after a delay drawn
from the build's measured duration, which lands anywhere, C code included), and just before a random one of the
build's file operations under the index folder (see crash_worker.py), which spreads kills evenly over the commit
sequence: writing the generation, checksumming, fsyncs, the CURRENT rename and removing the old generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.answering import Answerer, fold
from bot.rendering import error_text
from index.errors import IndexUnavailable
from index.indexer import corpus_files
from index.search import Searcher
from index.store import CURRENT, MANIFEST, IndexStore
from tests.reliability.conftest import copy_corpus
from tests.reliability.report import REPO_ROOT, by_scale

QUESTION = "When was the second monitoring visit and what did it cover?"
CHANGED_SEED = "002_8a488f655491fcdf.txt"


@pytest.fixture(scope="module")
def embedder(fake_embedder):
    """Builds, kills and damage need vectors, not meaning: the deterministic fake (the crash worker uses it too)."""
    return fake_embedder


class Worker:
    """The fork server of crash_worker.py, spoken to over pipes."""

    def __init__(self, log: Path):
        env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
        self.log = log
        self._stderr = log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.reliability.crash_worker"], cwd=REPO_ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, bufsize=0)
        self._buffer = b""
        assert self.read(timeout=300).get("ready"), "the crash worker did not start"

    def read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"crash worker silent for {timeout} s; its log: {self.tail()}")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise EOFError(f"crash worker exited; its log: {self.tail()}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def start(self, **job) -> int:
        self.proc.stdin.write((json.dumps(job, default=str) + "\n").encode())
        return self.read(timeout=60)["child"]

    def finish(self, timeout: float = 600) -> dict:
        return self.read(timeout)

    def build(self, **job) -> dict:
        self.start(**job)
        return self.finish()

    def tail(self) -> str:
        self._stderr.flush()
        return self.log.read_text(errors="replace")[-3000:]

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    started = Worker(tmp_path_factory.mktemp("worker") / "worker.log")
    yield started
    started.close()


def corpus_hashes(corpus: Path) -> dict[str, str]:
    return {p.relative_to(corpus).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus_files(corpus)}


def change_corpus(corpus: Path, step: int, rnd: random.Random) -> str:
    """One edit of the kind staff make between builds: a paper added, a paper amended, a paper withdrawn."""
    extras = sorted(corpus.glob("extra-*.txt"))
    kind = step % 3 if extras else 0
    if kind == 0:
        paragraphs = [f"({chr(97 + i)}) Round {step}: the fostering panel reviewed {rnd.randint(2, 90)} placements "
                      f"and the {rnd.choice(['board', 'committee', 'cabinet'])} noted progress." for i in range(3)]
        (corpus / f"extra-{step:03d}.txt").write_text(f"Panel note {step}\n\n" + "\n\n".join(paragraphs) + "\n")
        return "added a paper"
    if kind == 1:
        path = corpus / CHANGED_SEED
        path.write_text(path.read_text() + f"\n(z{step}) Update {step}: the improvement board met again.\n")
        return "amended a paper"
    extras[0].unlink()
    return "withdrew a paper"


def live_state(index_dir: Path, embedder, before: dict, after: dict) -> str:
    """'before' or 'after' when the live generation is whole, loads with its checksums and answers; else why not."""
    try:
        store = IndexStore.open(index_dir, model=embedder.name)
    except IndexUnavailable as error:
        return f"unavailable: {error_text(error)}"  # as a person reads it: the engine's line with the command to run
    try:
        hashes = store.manifest.file_hashes
        state = "before" if hashes == before else "after" if hashes == after else "a mix of both"
        if len(store.documents()) != len(hashes) or store.vectors.size != store.size != store.lexical.size:
            return f"inconsistent: {len(store.documents())} documents, {store.size} passages"
        answer = Answerer(Searcher(store, embedder)).ask(QUESTION)
        texts = {c.doc_id: fold(store.document_text(c.doc_id)) for c in answer.citations}
        if not answer.found or not all(fold(c.quote) in texts[c.doc_id] for c in answer.citations):
            return f"{state}, but does not answer"
        return state
    finally:
        store.close()


def leftovers(index_dir: Path) -> list[str]:
    live = (index_dir / CURRENT).read_text().strip()
    return sorted(p.name for p in index_dir.iterdir()
                  if p.name != live and (p.name.startswith("gen-") or p.name.startswith(f"{CURRENT}.")))


def test_sigkill_at_random_points_always_leaves_a_whole_index_that_answers(worker, tmp_path, embedder, repo_root,
                                                                         scale, record):
    seed = int(os.environ.get("RELIABILITY_SEED") or by_scale(1234, int(time.time())))
    rnd = random.Random(seed)
    rounds = by_scale(6, 60)
    # measure a full build and an update on a scratch copy: how many file operations, how many seconds
    scratch = copy_corpus(repo_root, tmp_path / "scratch-corpus")
    calibration = {}
    for kind in ("rebuild", "update"):
        if kind == "update":
            change_corpus(scratch, 0, rnd)
        count = tmp_path / f"{kind}.json"
        assert worker.build(corpus=scratch, index_dir=tmp_path / "scratch-index", rebuild=kind == "rebuild",
                            count_to=count).get("exit") == 0, worker.tail()
        calibration[kind] = json.loads(count.read_text())

    corpus = copy_corpus(repo_root, tmp_path / "corpus")
    index_dir = tmp_path / "index"
    outcomes: list[dict] = []

    def kill_one(step: int, rebuild: bool, before: dict) -> None:
        after = corpus_hashes(corpus)
        measured = calibration["rebuild" if rebuild or not before else "update"]
        how = "operation" if step % 2 == 0 else "moment"
        if how == "operation":
            kill_at = rnd.randint(1, max(1, round(measured["events"] * 1.05)))
            result = worker.build(corpus=corpus, index_dir=index_dir, rebuild=rebuild, kill_at=kill_at)
            where = f"before file operation {kill_at} of {measured['events']}"
        else:
            delay = rnd.uniform(0, measured["seconds"])
            child = worker.start(corpus=corpus, index_dir=index_dir, rebuild=rebuild)
            time.sleep(delay)
            with contextlib.suppress(ProcessLookupError):  # the build finished before its kill: counted as such
                os.kill(child, signal.SIGKILL)
            result = worker.finish()
            where = f"at {delay:.2f} s of {measured['seconds']:.2f} s"
        if not before:  # the very first build: nothing before it, so a clear "no index yet" is right
            state = live_state(index_dir, embedder, {}, after)
            if state.startswith("unavailable") and "python -m bot index" in state:
                state = "before"
        else:
            state = live_state(index_dir, embedder, before, after)
        outcomes.append({"step": step, "rebuild": rebuild, "how": how, "where": where, "state": state,
                         "killed": result.get("signal") == signal.SIGKILL, "exit": result.get("exit")})

    kill_one(0, True, {})  # the first build of all, killed
    assert worker.build(corpus=corpus, index_dir=index_dir).get("exit") == 0, worker.tail()
    for step in range(1, rounds + 1):
        live = IndexStore.open(index_dir)
        before = dict(live.manifest.file_hashes)
        live.close()
        change_corpus(corpus, step, rnd)
        kill_one(step, rebuild=step % 4 == 3, before=before)

    final = worker.build(corpus=corpus, index_dir=index_dir)
    recovered = final.get("exit") == 0 and live_state(index_dir, embedder, {}, corpus_hashes(corpus)) == "after"
    left = leftovers(index_dir)
    killed = [o for o in outcomes if o["killed"]]
    bad = [o for o in outcomes if o["state"] not in ("before", "after") or not (o["killed"] or o["exit"] == 0)]
    record("crash_safety", {
        "SIGKILLs (first build / updates / full rebuilds)": f"{len(killed)} ({sum(o['step'] == 0 for o in killed)} / "
        f"{sum(not o['rebuild'] for o in killed)} / {sum(o['rebuild'] and o['step'] > 0 for o in killed)})",
        "builds that finished before their kill": len(outcomes) - len(killed),
        "kills at a random file operation / at a random moment":
            f"{sum(o['how'] == 'operation' for o in killed)} / {sum(o['how'] == 'moment' for o in killed)}",
        "file operations in a build (update / rebuild)":
            f"{calibration['update']['events']} / {calibration['rebuild']['events']}",
        "live index after a kill: the previous / the new one":
            f"{sum(o['state'] == 'before' for o in killed)} / {sum(o['state'] == 'after' for o in killed)}",
        "live index loaded, verified and answered after every kill": f"{len(killed) - len(bad)} / {len(killed)}",
        "torn or mixed live index after a kill": len(bad),
        "next build recovered, leftovers removed": recovered and not left,
        "kill seed": seed,
    })
    assert not bad, "\n".join(map(str, bad)) + f"\nseed {seed}"
    assert len(killed) >= rounds // 2, outcomes
    assert recovered and not left, (final, left, worker.tail())


# --- torn and corrupted files --------------------------------------------------------------------------------------

def _truncate(data: bytes, rnd: random.Random) -> bytes:
    return data[: rnd.randrange(len(data))] if data else b"x"


def _flip(data: bytes, rnd: random.Random) -> bytes:
    if not data:
        return b"\x01"
    out = bytearray(data)
    at = rnd.randrange(len(out))
    out[at] ^= rnd.randint(1, 255)
    return bytes(out)


def _zero_page(data: bytes, rnd: random.Random) -> bytes:
    at = rnd.randrange(max(1, len(data))) // 4096 * 4096
    return data[:at] + b"\x00" * min(4096, len(data) - at) + data[at + 4096:]


def _append(data: bytes, rnd: random.Random) -> bytes:
    return data + rnd.randbytes(64)


DAMAGE = {"torn (truncated)": _truncate, "one byte flipped": _flip, "a 4 KB page zeroed": _zero_page,
          "garbage appended": _append, "deleted": None}
MANIFEST_EDITS = {  # what a flipped digit does to the few numbers that change what the bot says
    "relevance threshold": ('"relevance_threshold": ', lambda v: str(round(float(v) + 0.3, 6))),
    "passage count": ('"passages": ', lambda v: str(int(v) + 1)),
    "a file's checksum": ('"passages.sqlite": "', lambda v: ("0" if v[0] != "0" else "1") + v[1:]),
}


def _edit_manifest(text: str, key: str, change) -> str:
    start = text.index(key) + len(key)
    end = start
    while end < len(text) and text[end] not in ',\n"':
        end += 1
    return text[:start] + change(text[start:end]) + text[end:]


def test_torn_or_corrupted_index_files_are_refused_with_how_to_rebuild(tmp_path, embedder, repo_root, scale,
                                                                      record):
    from bot.services import Services
    from bot.settings import Settings
    from index.indexer import Indexer
    from tests.bot.test_discord_cog import embed_text, fake_interaction, make_cog

    corpus = copy_corpus(repo_root, tmp_path / "corpus")
    pristine = tmp_path / "pristine"
    Indexer(embedder).run(corpus, pristine)
    generation = (pristine / CURRENT).read_text().strip()
    reference = IndexStore.open(pristine)
    files = sorted(reference.manifest.checksums) + [MANIFEST]
    reference_manifest = reference.manifest
    reference.close()
    seed = int(os.environ.get("RELIABILITY_SEED") or by_scale(99, int(time.time())))
    rnd = random.Random(seed)
    cases: list[tuple[str, callable]] = []
    for name in files:
        for damage, change in DAMAGE.items():
            for _ in range(by_scale(1, 20) if change is not None else 1):
                cases.append((f"{name}: {damage}", lambda folder, n=name, c=change: _damage(folder / generation / n,
                                                                                          c, rnd)))
    for label, (key, change) in MANIFEST_EDITS.items():
        cases.append((f"{MANIFEST}: {label} changed", lambda folder, k=key, c=change: _rewrite(
            folder / generation / MANIFEST, lambda text: _edit_manifest(text, k, c))))
    for label, content in {"empty": "", "names a missing generation": "gen-nothing", "garbage": "\x00\xff"}.items():
        cases.append((f"{CURRENT}: {label}", lambda folder, c=content: (folder / CURRENT).write_bytes(c.encode(
            "latin-1"))))
    cases.append((f"{CURRENT}: deleted", lambda folder: (folder / CURRENT).unlink()))
    cases.append(("the whole generation folder deleted", lambda folder: shutil.rmtree(folder / generation)))

    silent, untold, told = [], [], 0
    for label, damage in cases:
        work = tmp_path / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(pristine, work)
        damage(work)
        try:
            store = IndexStore.open(work, model=embedder.name)
        except IndexUnavailable as error:
            message = error_text(error)  # the engine's line, with the command the bot adds to it
            if "python -m bot index" not in message or "\n" in message:
                untold.append(f"{label}: {message}")
            else:
                told += 1
            continue
        # it loaded: fine only if nothing that changes an answer was damaged (say, a flipped space in the JSON)
        same = store.manifest.model_dump(exclude={"manifest_sha256"}) == reference_manifest.model_dump(
            exclude={"manifest_sha256"})
        store.close()
        if not same:
            silent.append(label)

    # what a user sees: the failure reply in Discord names the command that rebuilds, and the next build recovers
    work = tmp_path / "work"
    shutil.rmtree(work)
    shutil.copytree(pristine, work)
    _damage(work / generation / "passages.sqlite", _flip, rnd)
    services = Services(Settings(corpus_dir=corpus, index_dir=work, model=embedder.name, _env_file=None), embedder)
    cog = make_cog(services, tmp_path)
    interaction = fake_interaction()
    asyncio.run(cog.ask.callback(cog, interaction, question=QUESTION))
    shown = embed_text(interaction.followup.send.await_args.kwargs)
    report = Indexer(embedder).run(corpus, work)
    recovered = report.rebuilt and IndexStore.open(work).size == IndexStore.open(pristine).size

    record("crash_safety", {
        "index damages tried (every file: torn, flipped byte, zeroed page, appended, deleted; CURRENT; manifest "
        "values)": len(cases),
        "refused with how to rebuild": told,
        "loaded although damaged (wrong data served)": len(silent),
        "refused without saying how to rebuild": len(untold),
        "a user asking in Discord is told to run `python -m bot index --rebuild`":
            "python -m bot index --rebuild" in shown,
        "the next `index` rebuilds a damaged index by itself": recovered,
        "damage seed": seed,
    })
    assert not silent, silent
    assert not untold, untold
    assert "python -m bot index --rebuild" in shown and "something went wrong" not in shown, shown
    assert recovered


def _damage(path: Path, change, rnd: random.Random) -> None:
    if change is None:
        path.unlink()
    else:
        path.write_bytes(change(path.read_bytes(), rnd))


def _rewrite(path: Path, change) -> None:
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def test_two_indexers_at_once_both_finish_and_leave_a_whole_index(worker, tmp_path, embedder, repo_root, scale,
                                                                  record):
    """A `python -m bot index` from cron while someone runs /reindex: two builds of one index folder at once.
    Each build ends by removing the generations that are not its own, so neither may remove one still being
    written, and the live index must be whole and current when both are done."""
    corpus = copy_corpus(repo_root, tmp_path / "corpus")
    index_dir = tmp_path / "index"
    assert worker.build(corpus=corpus, index_dir=index_dir).get("exit") == 0, worker.tail()
    rounds = by_scale(3, 20)
    failures, states = [], []
    for step in range(rounds):
        change_corpus(corpus, step, random.Random(step))
        results = worker.build(corpus=corpus, index_dir=index_dir, rebuild=True, parallel=2)["all"]
        failures += [f"round {step}: {result}" for result in results if result.get("exit") != 0]
        states.append(live_state(index_dir, embedder, {}, corpus_hashes(corpus)))
    left = leftovers(index_dir) if (index_dir / CURRENT).is_file() else ["no CURRENT"]
    record("crash_safety", {
        "two builds of one index at once: rounds": rounds,
        "two builds at once: builds that failed": len(failures),
        "two builds at once: live index whole and current afterwards": f"{states.count('after')} / {rounds}",
    })
    assert not failures, failures + [worker.tail()]
    assert states == ["after"] * rounds and not left, (states, left)
