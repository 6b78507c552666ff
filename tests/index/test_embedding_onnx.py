"""The ONNX Runtime path: its vectors agree with SentenceTransformer.encode, answering through it never imports
torch, and the export is cached by the weights' hash (made again when they change, never half-written)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from index import onnx_export
from index.chunking import chunk_document, embed_prefix
from index.embedding import TextEncoder
from index.errors import EngineError
from index.onnx_embedding import OnnxEmbedder, _pooled
from index.onnx_export import ensure_export
from index.parsing import parse_file
from index.search import Searcher

HEAVY = ("torch", "transformers", "sentence_transformers")
PDFS = ("blackpool_2019-01-17_ofsted-childrens-services-inspection.pdf",
        "bradford_2023-01-31_ofsted-childrens-services-inspection.pdf",
        "bury_2025-07-29_ofsted-childrens-services-inspection.pdf")


@pytest.fixture(scope="session")
def onnx_dir(repo_root) -> Path:
    """The project's own cache (var/onnx): exported once per machine, as `make run` would."""
    return repo_root / "var" / "onnx"


@pytest.fixture(scope="session")
def onnx_embedder(onnx_dir) -> OnnxEmbedder:
    return OnnxEmbedder(cache_dir=onnx_dir)


def _passages(paths: list[Path], root: Path, counter: TextEncoder) -> list[str]:
    """Passages as the indexer embeds them: title and heading prefix, then the text."""
    texts = []
    for path in paths:
        parsed = parse_file(path, path.relative_to(root).as_posix())
        for chunk in chunk_document(parsed, path.stem, path.stem, counter.count_tokens):
            texts.append(embed_prefix(path.stem, chunk.heading) + chunk.text)
    return texts


def _agreement(onnx_embedder: OnnxEmbedder, embedder, texts: list[str]) -> np.ndarray:
    return np.sum(onnx_embedder.encode(texts) * embedder.encode(texts), axis=1)


def test_both_backends_meet_the_protocol(onnx_embedder, embedder):
    for encoder in (onnx_embedder, embedder):
        assert isinstance(encoder, TextEncoder)
    assert (onnx_embedder.name, onnx_embedder.dim, onnx_embedder.max_tokens) == (embedder.name, embedder.dim,
                                                                                 embedder.max_tokens)
    assert onnx_embedder.backend.startswith("onnx:") and len(onnx_embedder.backend) == 5 + 64
    sample = "The local authority's 2nd monitoring visit (Ofsted) — £41,250,000; CAMHS & SEND."
    assert onnx_embedder.count_tokens(sample) == embedder.count_tokens(sample)


def test_fp32_onnx_agrees_with_sentence_transformers_on_every_seed_passage(onnx_embedder, embedder, repo_root):
    corpus = repo_root / "corpus"
    texts = _passages(sorted(corpus.glob("*.txt")), corpus, embedder)
    texts += ["word " * 600, "x", ""]  # past the 256-piece window, one piece, none
    cosines = _agreement(onnx_embedder, embedder, texts)
    assert len(texts) > 50 and cosines.min() >= 0.999, (cosines.min(), texts[int(cosines.argmin())][:80])
    # both count word pieces alike, so an index built on one backend is cut the same way on the other
    assert [onnx_embedder.count_tokens(text) for text in texts] == [embedder.count_tokens(text) for text in texts]


def test_fp32_onnx_agrees_on_passages_from_three_ofsted_reports(onnx_embedder, embedder, shared_dir):
    root = shared_dir / "corpora" / "ofsted-ilacs"
    texts = _passages([root / name for name in PDFS], root, embedder)[::5]  # every fifth passage
    cosines = _agreement(onnx_embedder, embedder, texts)
    assert len(texts) >= 40 and cosines.min() >= 0.999, (cosines.min(), texts[int(cosines.argmin())][:80])


def test_one_question_at_a_time_agrees_too(onnx_embedder, embedder):
    """Up to eight texts go through the one-thread session, the rest through the batch one: both agree."""
    questions = ["When is the next full Ofsted inspection expected?", "agency staff costs", "What is CAMHS?"]
    for question in questions:
        assert float(onnx_embedder.encode([question])[0] @ embedder.encode([question])[0]) >= 0.999
    assert onnx_embedder.encode([]).shape == (0, onnx_embedder.dim)


def test_a_torch_built_index_ranks_the_same_with_onnx_queries(seed_services, onnx_embedder, shared_dir):
    questions = [q["q"] for q in json.loads((shared_dir / "eval" / "dev_questions.json").read_text())["questions"]]
    store = seed_services.store
    assert store.manifest.embedder == "torch"
    torch_side, onnx_side = Searcher(store, seed_services.embedder), Searcher(store, onnx_embedder)
    for question in questions:
        expected = [hit.chunk.chunk_id for hit in torch_side.search(question, k=5)]
        assert [hit.chunk.chunk_id for hit in onnx_side.search(question, k=5)] == expected, question


def test_answering_through_services_with_onnx_never_imports_torch(seed_services, onnx_embedder, onnx_dir, repo_root):
    """A fresh process, as `python -m bot ask` is: settings, Services, an answer; then which modules were loaded."""
    question = "When was the second monitoring visit and what did it cover?"
    script = (
        "import json, sys\n"
        "from bot.services import Services\n"
        "from bot.settings import load_settings\n"
        "services = Services(load_settings())\n"
        f"answer = services.answerer.ask({question!r})\n"
        "print(json.dumps({'found': answer.found, 'backend': services.embedder.backend,\n"
        "                  'cited': [c.chunk_id for c in answer.citations],\n"
        f"                  'loaded': [m for m in {HEAVY!r} if m in sys.modules]}}))\n"
    )
    env = os.environ | {"BOT_CORPUS_DIR": str(seed_services.corpus), "BOT_INDEX_DIR": str(seed_services.index_dir),
                        "BOT_EMBEDDER": "onnx", "BOT_ONNX_DIR": str(onnx_dir), "HF_HUB_OFFLINE": "1",
                        "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=repo_root, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["loaded"] == [], result
    assert result["backend"] == onnx_embedder.backend
    reference = seed_services.answerer.ask(question)
    assert result["found"] and result["cited"] == [c.chunk_id for c in reference.citations]


@pytest.fixture()
def fake_trace(monkeypatch):
    """The export without torch: a file made from the weights' bytes, so new weights make a new file."""
    traced: list[Path] = []

    def trace(model_dir: Path, target: Path) -> None:
        traced.append(model_dir)
        target.write_bytes(b"onnx of " + (model_dir / "model.safetensors").read_bytes())

    monkeypatch.setattr(onnx_export, "_trace", trace)
    return traced


def _model_folder(folder: Path, weights: bytes) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text('{"hidden_size": 8}')
    (folder / "model.safetensors").write_bytes(weights)
    return folder


def test_the_export_is_made_once_and_again_only_when_the_weights_change(tmp_path, fake_trace):
    model = _model_folder(tmp_path / "model", b"weights one")
    cache = tmp_path / "cache"
    first = ensure_export(model, cache, "my model")
    assert len(fake_trace) == 1 and first.path(cache).read_bytes() == b"onnx of weights one"
    assert ensure_export(model, cache, "my model") == first and len(fake_trace) == 1  # cached
    os.utime(model / "model.safetensors")  # touched, same bytes: hashed again, not exported again
    assert ensure_export(model, cache, "my model").onnx_sha256 == first.onnx_sha256 and len(fake_trace) == 1
    _model_folder(model, b"weights two")
    second = ensure_export(model, cache, "my model")
    assert len(fake_trace) == 2 and second.onnx_sha256 != first.onnx_sha256
    assert second.weights["model.safetensors"].sha256 != first.weights["model.safetensors"].sha256
    assert sorted(p.name for p in cache.iterdir() if not p.name.startswith(".")) == sorted(
        [second.onnx_file, f"{Path(second.onnx_file).stem.rsplit('-', 1)[0]}.json"])  # the old export is gone


def test_a_failed_export_leaves_the_previous_one_in_place(tmp_path, fake_trace, monkeypatch):
    model = _model_folder(tmp_path / "model", b"weights one")
    cache = tmp_path / "cache"
    first = ensure_export(model, cache, "m")
    _model_folder(model, b"weights two")

    def broken(model_dir: Path, target: Path) -> None:
        target.write_bytes(b"half an export")
        raise RuntimeError("killed mid-export")

    monkeypatch.setattr(onnx_export, "_trace", broken)
    with pytest.raises(RuntimeError):
        ensure_export(model, cache, "m")
    assert first.path(cache).read_bytes() == b"onnx of weights one"
    assert not [p for p in cache.iterdir() if p.name.startswith(".export-")]  # no temporary file left


def test_an_unwritable_cache_says_what_to_do(tmp_path, fake_trace):
    model = _model_folder(tmp_path / "model", b"weights")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(EngineError, match="BOT_ONNX_DIR|BOT_EMBEDDER=torch"):
        ensure_export(model, blocker / "cache", "m")


def test_a_graph_without_token_type_ids_is_fed_only_the_inputs_it_declares():
    """MPNet-style models take no token_type_ids: feeding one anyway fails with INVALID_ARGUMENT."""
    class Session:
        def get_inputs(self):
            return [SimpleNamespace(name="input_ids"), SimpleNamespace(name="attention_mask")]

        def run(self, _outputs, feeds):
            assert set(feeds) == {"input_ids", "attention_mask"}
            return [np.ones((*feeds["input_ids"].shape, 4), dtype=np.float32)]

    encoding = SimpleNamespace(ids=[5, 6, 7], attention_mask=[1, 1, 1], type_ids=[0, 0, 0])
    vectors = _pooled(Session(), [encoding])
    assert vectors.shape == (1, 4) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
