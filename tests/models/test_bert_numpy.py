"""The NumPy MiniLM embedder agrees with sentence-transformers and keeps torch out (#16)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.bert_numpy import NumpyBertEmbedder, supports
from models.config import TextEmbeddingConfig
from models.text_embedding import (
    CpuTextEmbedder,
    SentenceTransformerEmbedder,
    load_text_embedder,
    packaged_minilm_path,
)

TEXTS = [
    "budget",
    "the budget is due Friday",
    "",
    "Café naïve 日本語 résumé 🎉 don't",
    "a " * 400,  # longer than the 256 tokens both keep
    "Terminal — ~/projects/ledger  git status; pytest -x -q  3 failed, 41 passed",
    "When did Caroline go to the LGBTQ support group? She went on 7 May 2023.",
    "x",
]


@pytest.fixture(scope="module")
def minilm() -> Path:
    return packaged_minilm_path()


def test_vectors_match_sentence_transformers(minilm: Path) -> None:
    ours = NumpyBertEmbedder(minilm, "all-MiniLM-L6-v2").embed_texts(TEXTS)
    ref = SentenceTransformerEmbedder(minilm).embed_texts(TEXTS)
    assert ours.shape == ref.shape == (len(TEXTS), 384)
    assert ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert float((ours * ref).sum(1).min()) > 0.99999
    # batching by length must not change a text's vector
    alone = NumpyBertEmbedder(minilm, "all-MiniLM-L6-v2").embed_texts(TEXTS[1:2])
    assert float(alone[0] @ ours[1]) > 0.99999


def test_empty_input(minilm: Path) -> None:
    assert NumpyBertEmbedder(minilm, "m").embed_texts([]).shape == (0, 384)


def test_loader_picks_numpy_on_cpu_and_torch_when_pinned(minilm: Path) -> None:
    auto = load_text_embedder(TextEmbeddingConfig())
    assert isinstance(auto, CpuTextEmbedder) and isinstance(auto.small, NumpyBertEmbedder)
    assert auto.model_id == "all-MiniLM-L6-v2" and auto.dim == 384
    pinned = load_text_embedder(TextEmbeddingConfig(device="cuda"))
    assert isinstance(pinned, SentenceTransformerEmbedder)  # falls back to cpu without a GPU


def test_bulk_passes_go_through_sentence_transformers_with_the_same_vectors(minilm: Path) -> None:
    """#16: NumPy for a query, torch for bulk (cheaper on long texts); the vectors agree."""
    emb = load_text_embedder(TextEmbeddingConfig())
    assert isinstance(emb, CpuTextEmbedder)
    long = [f"{t} " * 40 for t in TEXTS]
    assert sum(map(len, long)) > emb.BULK_CHARS
    bulk = emb.embed_texts(long)
    assert emb._bulk is not None  # the bulk model was loaded for it
    small = emb.small.embed_texts(long)
    assert bulk.shape == small.shape and float(np.min(np.sum(bulk * small, axis=1))) > 0.9999


def test_unsupported_folders_go_through_sentence_transformers(minilm: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(minilm, copy)
    assert supports(copy)
    pooling = copy / "1_Pooling" / "config.json"
    cfg = json.loads(pooling.read_text())
    cfg["pooling_mode_mean_tokens"], cfg["pooling_mode_cls_token"] = False, True
    pooling.write_text(json.dumps(cfg))
    assert not supports(copy)
    emb = load_text_embedder(TextEmbeddingConfig(path=str(copy)))
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert not supports(tmp_path / "missing")


def test_embedding_a_query_never_imports_torch(minilm: Path) -> None:
    code = (
        "import sys\n"
        "from models.config import TextEmbeddingConfig\n"
        "from models.text_embedding import load_text_embedder\n"
        "v = load_text_embedder(TextEmbeddingConfig()).embed_texts(['budget due Friday'])\n"
        "assert v.shape == (1, 384)\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "print(bad)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
