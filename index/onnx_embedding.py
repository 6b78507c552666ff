"""Sentence embeddings with ONNX Runtime and the `tokenizers` library alone: answering never imports torch.

The vectors are those of `SentenceTransformer.encode` for the same model (word pieces truncated at the
model's window, mean pooling over the attention mask, unit length); a test holds the two to a cosine of
0.999 on every passage.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Sequence

import numpy as np
from tokenizers import Encoding

from index.embedding import DEFAULT_MODEL, counting_tokenizer, resolve_model_path
from index.errors import EngineError
from index.onnx_export import INPUTS, ensure_export

_FEW_TEXTS = 8


class OnnxEmbedder:
    """The exported transformer on ONNX Runtime; counts word pieces and encodes unit-length vectors."""

    def __init__(self, model: str = DEFAULT_MODEL, cache_dir: Path = Path("var/onnx"), batch_size: int = 32):
        model_dir = resolve_model_path(model)
        self.name = model
        self.batch_size = batch_size
        self.max_tokens, self.dim = _sentence_config(model_dir)
        export = ensure_export(model_dir, cache_dir, model)
        self.backend = f"onnx:{export.onnx_sha256}"
        self._path = export.path(cache_dir)
        self._counter = counting_tokenizer(model_dir)
        self._window = counting_tokenizer(model_dir)
        self._window.enable_truncation(max_length=self.max_tokens)
        self._one = _session(self._path, threads=1)
        self._many = None
        self._making = threading.Lock()

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for `text`, without the [CLS]/[SEP] it adds."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text: batches of similar length, each padded to its longest."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return vectors
        session = self._one if len(texts) <= _FEW_TEXTS else self._batch_session()
        encodings = self._window.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        starts = range(0, len(order), self.batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            rows = order[start : start + self.batch_size]
            vectors[rows] = _pooled(session, [encodings[i] for i in rows])
        return vectors

    def _batch_session(self):
        """Batches (indexing) run on every core; made on first use, so a process that only answers never pays."""
        with self._making:
            if self._many is None:
                self._many = _session(self._path, threads=0)
            return self._many


def _session(path: Path, threads: int):
    """One question runs on one thread: threads wait on each other when the other core is busy (as for torch)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _pooled(session, encodings: list[Encoding]) -> np.ndarray:
    """Mean of the last hidden states over real tokens, scaled to unit length (sentence-transformers' Pooling and
    Normalize modules)."""
    width = max(len(encoding.ids) for encoding in encodings)
    feeds = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in INPUTS}
    for row, encoding in enumerate(encodings):
        n = len(encoding.ids)
        feeds["input_ids"][row, :n] = encoding.ids
        feeds["attention_mask"][row, :n] = encoding.attention_mask
        feeds["token_type_ids"][row, :n] = encoding.type_ids
    accepted = {graph_input.name for graph_input in session.get_inputs()}  # MPNet's graph has no token_type_ids
    hidden = session.run(None, {name: feed for name, feed in feeds.items() if name in accepted})[0]
    mask = feeds["attention_mask"][:, :, None].astype(np.float32)
    pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _sentence_config(model_dir: Path) -> tuple[int, int]:
    """(window in word pieces, vector size) from the sentence-transformers config; only mean pooling is built here."""
    pooling = _json(model_dir / "1_Pooling" / "config.json")
    if pooling and not pooling.get("pooling_mode_mean_tokens", False):
        raise EngineError(f"model {model_dir} pools other than by the mean, which the ONNX path does not do; "
                          "set BOT_EMBEDDER=torch")
    hidden = _json(model_dir / "config.json") or {}
    window = (_json(model_dir / "sentence_bert_config.json") or {}).get("max_seq_length")
    window = min(window or 512, hidden.get("max_position_embeddings", 512))
    dim = (pooling or {}).get("word_embedding_dimension") or hidden.get("hidden_size")
    if not dim:
        raise EngineError(f"model {model_dir} names no vector size in config.json; set BOT_EMBEDDER=torch")
    return int(window), int(dim)


def _json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise EngineError(f"model file {path} is unreadable ({error}); reinstall the model") from error
