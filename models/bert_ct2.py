"""The NumPy BERT's weights run by CTranslate2: bulk CPU embedding without torch (#16).

An import embeds hundreds of context-length texts. On conv-43's 680 chat turns with their
neighbours (~70k tokens, 2 cores at load 6-7) NumPy took 64 s of CPU, torch 41 s after 9 s to
import and load, CTranslate2 36 s after 3 s to build: it is already a dependency (speech), imports
in ~0.1 s and runs BERT with fused kernels. Its model is built from the same ``model.safetensors``
on first use (serialised through a temporary folder removed at once; no conversion step, nothing
kept), so the vectors are those of ``models.bert_numpy`` to float32 rounding (tests/models).

Only folders ``models.bert_numpy.supports`` accepts are run here.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.bert_numpy import length_batches, load_tokenizer, mean_pool

if TYPE_CHECKING:
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)


def _import_specs() -> Any:
    """``ctranslate2.specs``, imported without importing torch.

    It imports torch when it can, only to accept torch tensors (never given here), which would
    cost the ~2.5 s of CPU this module exists to save. A process that has torch keeps it; in one
    that has not, "import torch" fails in any thread for the few milliseconds of this import
    (``models.device`` then picks the CPU, a CLIP load fails once and is retried).
    """
    if "torch" in sys.modules or "ctranslate2.specs" in sys.modules:
        import ctranslate2.specs

        return ctranslate2.specs
    sys.modules["torch"] = None  # type: ignore[assignment]  # "import torch" raises ImportError
    try:
        import ctranslate2.specs
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]
    return ctranslate2.specs


def _spec(folder: Path) -> Any:
    """A CTranslate2 encoder spec holding the folder's BERT weights (as its BERT converter does)."""
    from safetensors.numpy import load_file

    specs = _import_specs()
    common_spec, transformer_spec = specs.common_spec, specs.transformer_spec

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    w = {
        k.removeprefix("bert."): v for k, v in load_file(str(folder / "model.safetensors")).items()
    }
    spec = transformer_spec.TransformerEncoderModelSpec(
        transformer_spec.TransformerEncoderSpec(
            int(config["num_hidden_layers"]),
            int(config["num_attention_heads"]),
            pre_norm=False,
            activation=common_spec.Activation.GELU,  # exact (erf), as ``supports`` requires
            layernorm_embedding=True,
            num_source_embeddings=2,
            embeddings_merge=common_spec.EmbeddingsMerge.ADD,
        )
    )
    enc = spec.encoder
    enc.scale_embeddings = False
    enc.embeddings[0].weight = w["embeddings.word_embeddings.weight"]
    enc.embeddings[1].weight = w["embeddings.token_type_embeddings.weight"]
    enc.position_encodings.encodings = w["embeddings.position_embeddings.weight"]
    _norm(enc.layernorm_embedding, w, "embeddings.LayerNorm")
    for i, layer in enumerate(enc.layer):
        p = f"encoder.layer.{i}."
        att = layer.self_attention
        qkv = [f"{p}attention.self.{n}" for n in ("query", "key", "value")]
        att.linear[0].weight = np.concatenate([w[f"{n}.weight"] for n in qkv])
        att.linear[0].bias = np.concatenate([w[f"{n}.bias"] for n in qkv])
        _linear(att.linear[1], w, p + "attention.output.dense")
        _norm(att.layer_norm, w, p + "attention.output.LayerNorm")
        _linear(layer.ffn.linear_0, w, p + "intermediate.dense")
        _linear(layer.ffn.linear_1, w, p + "output.dense")
        _norm(layer.ffn.layer_norm, w, p + "output.LayerNorm")
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    spec.register_vocabulary(vocab)  # ids go in, but the model format wants its vocabulary
    spec.config.unk_token = "[UNK]"
    spec.config.layer_norm_epsilon = float(config.get("layer_norm_eps", 1e-12))
    spec.validate()
    spec.optimize()
    return spec


def _linear(spec: Any, w: dict[str, np.ndarray], name: str) -> None:
    spec.weight = w[name + ".weight"]
    spec.bias = w[name + ".bias"]


def _norm(spec: Any, w: dict[str, np.ndarray], name: str) -> None:
    spec.gamma = w[name + ".weight"]
    spec.beta = w[name + ".bias"]


class Ct2BertEmbedder:
    """Mean-pooled, normalised BERT sentence vectors computed by CTranslate2; loads lazily.

    Args:
        path: a sentence-transformers folder that ``models.bert_numpy.supports`` accepts.
        model_id: the name recorded with the index (the vectors are the NumPy embedder's).
        threads: CPU threads (0: one per core).
        compute_type: CTranslate2's compute type ("default" keeps the weights' float32).
    """

    def __init__(
        self, path: str | Path, model_id: str, threads: int = 0, compute_type: str = "default"
    ) -> None:
        self._path = Path(path)
        self.model_id = model_id
        self._threads = threads or os.cpu_count() or 1
        self._compute_type = compute_type
        self._lock = threading.Lock()
        self._model: tuple[Any, Tokenizer] | None = None
        self.dim = int(json.loads((self._path / "config.json").read_text("utf-8"))["hidden_size"])

    def _load(self) -> tuple[Any, Tokenizer]:
        with self._lock:
            if self._model is None:
                import ctranslate2

                logger.info("loading text embedder %s with CTranslate2", self._path)
                with tempfile.TemporaryDirectory(prefix="engram-ct2-") as tmp:
                    _spec(self._path).save(tmp)
                    files = {p.name: p.read_bytes() for p in Path(tmp).iterdir()}
                encoder = ctranslate2.Encoder(
                    str(self._path),
                    "cpu",
                    compute_type=self._compute_type,
                    intra_threads=self._threads,
                    files=files,
                )
                self._model = (encoder, load_tokenizer(self._path))
            return self._model

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; returns float32 (n, dim), L2-normalised. Safe from any thread."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encoder, tok = self._load()
        encodings = tok.encode_batch(list(texts))
        for rows in length_batches(encodings):
            ids = [encodings[i].ids for i in rows]
            hidden = np.asarray(encoder.forward_batch(ids).last_hidden_state)
            lengths = np.array([len(x) for x in ids])
            mask = np.arange(hidden.shape[1])[None, :] < lengths[:, None]
            out[rows] = mean_pool(hidden, mask)
        return out

    def unload(self) -> None:
        """Free the model; the next call loads it again."""
        with self._lock:
            self._model = None
