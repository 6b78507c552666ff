"""The model's transformer exported to ONNX once, cached beside the index and re-exported when the weights change.

The export needs torch and transformers; it runs at the first index or the first question after the
weights change, never again. A small JSON record beside the `.onnx` file names the weights' SHA-256 (and
their sizes and modification times, so the 90 MB are hashed only when those change) and the exported
file's own SHA-256, which the index manifest records.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import tempfile
import warnings
from pathlib import Path

from pydantic import BaseModel, ValidationError

from index.errors import EngineError
from index.hashing import sha256_file

RECIPE = 1  # raise when the export below changes, so cached exports are made again
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
WEIGHT_FILES = ("config.json", "model.safetensors", "pytorch_model.bin")


class FileStamp(BaseModel):
    size: int
    mtime_ns: int
    sha256: str


class OnnxExport(BaseModel):
    """The record of one export: which weights it came from and what it produced."""

    recipe: int
    source: str
    weights: dict[str, FileStamp]
    onnx_file: str
    onnx_sha256: str

    def path(self, cache_dir: Path) -> Path:
        return cache_dir / self.onnx_file


def ensure_export(model_dir: Path, cache_dir: Path, label: str) -> OnnxExport:
    """The cached export of the model in `model_dir`, made first if it is missing or its weights changed."""
    record_path = cache_dir / f"{_slug(label, model_dir)}.json"
    current = _valid_record(record_path, model_dir, cache_dir)
    if current is not None:
        return current
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with (cache_dir / ".export.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two processes starting together export once
            return _valid_record(record_path, model_dir, cache_dir) or _export(model_dir, cache_dir, record_path)
    except OSError as error:
        raise EngineError(f"cannot write the ONNX model to {cache_dir} ({error.strerror}); make it writable, set "
                          "BOT_ONNX_DIR to a writable folder, or set BOT_EMBEDDER=torch") from error


def _slug(label: str, model_dir: Path) -> str:
    """One cache entry per model folder: its name, readable, and a hash of its path, distinct."""
    where = hashlib.sha256(str(model_dir.resolve()).encode("utf-8")).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '_', label)[-60:]}-{where}"


def _weight_stamps(model_dir: Path, known: dict[str, FileStamp]) -> dict[str, FileStamp]:
    """Size, time and hash of each weight file; a hash is reused while its file's size and time are unchanged."""
    stamps = {}
    for name in WEIGHT_FILES:
        path = model_dir / name
        if not path.is_file():
            continue
        stat = path.stat()
        old = known.get(name)
        if old is not None and (old.size, old.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            stamps[name] = old
        else:
            stamps[name] = FileStamp(size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=sha256_file(path))
    return stamps


def _valid_record(record_path: Path, model_dir: Path, cache_dir: Path) -> OnnxExport | None:
    """The record if its export was made by this recipe from these very weights and its file is still there."""
    try:
        record = OnnxExport.model_validate_json(record_path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, UnicodeDecodeError):
        return None
    if record.recipe != RECIPE or not record.path(cache_dir).is_file():
        return None
    if {name: s.sha256 for name, s in _weight_stamps(model_dir, record.weights).items()} != \
            {name: s.sha256 for name, s in record.weights.items()}:
        return None
    return record


def _export(model_dir: Path, cache_dir: Path, record_path: Path) -> OnnxExport:
    """Trace the transformer to a temporary file, then publish it and its record, each with an atomic rename."""
    weights = _weight_stamps(model_dir, {})
    handle, temporary = tempfile.mkstemp(dir=cache_dir, prefix=".export-", suffix=".onnx")
    os.close(handle)
    try:
        os.chmod(temporary, 0o644)  # mkstemp makes it private; whoever runs the bot reads it
        _trace(model_dir, Path(temporary))
        onnx_sha256 = sha256_file(Path(temporary))
        onnx_file = f"{record_path.stem}-{onnx_sha256[:16]}.onnx"
        _fsync(Path(temporary))
        os.replace(temporary, cache_dir / onnx_file)
    finally:
        Path(temporary).unlink(missing_ok=True)
    record = OnnxExport(recipe=RECIPE, source=str(model_dir), weights=weights, onnx_file=onnx_file,
                        onnx_sha256=onnx_sha256)
    _write_atomically(record_path, record.model_dump_json(indent=1))
    for old in cache_dir.glob(f"{record_path.stem}-*.onnx"):  # exports of earlier weights
        if old.name != onnx_file:
            old.unlink(missing_ok=True)
    return record


def _trace(model_dir: Path, target: Path) -> None:
    """torch.onnx's TorchScript exporter on the bare transformer (pooling and normalising stay in numpy)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    # a padded example, so nothing about the mask is traced as a constant
    attention_mask = torch.tensor([[1] * 12, [1] * 7 + [0] * 5], dtype=torch.long)
    input_ids = torch.randint(1000, 2000, (2, 12), dtype=torch.long) * attention_mask
    token_type_ids = torch.zeros_like(input_ids)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated, and it warns as it traces
        torch.onnx.export(LastHiddenState(model), (input_ids, attention_mask, token_type_ids), str(target),
                          input_names=list(INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    _fsync(temporary)
    os.replace(temporary, path)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
