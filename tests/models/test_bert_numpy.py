"""The NumPy and CTranslate2 MiniLM embedders agree with sentence-transformers and keep torch out
(#16)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from models.bert_ct2 import Ct2BertEmbedder
from models.bert_numpy import NumpyBertEmbedder, supports
from models.config import TextEmbeddingConfig
from models.protocols import TextEmbedder
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


def assert_same_vectors(make: Callable[[], TextEmbedder], ref: np.ndarray) -> None:
    """``make()``'s vectors of TEXTS are ``ref``, and a text's vector does not depend on the
    texts batched with it (batching is by length)."""
    ours = make().embed_texts(TEXTS)
    assert ours.shape == ref.shape == (len(TEXTS), 384)
    assert ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert float((ours * ref).sum(1).min()) > 0.99999
    alone = make().embed_texts(TEXTS[1:2])
    assert float(alone[0] @ ours[1]) > 0.99999


def test_vectors_match_sentence_transformers(minilm: Path) -> None:
    ref = SentenceTransformerEmbedder(minilm).embed_texts(TEXTS)
    assert_same_vectors(lambda: NumpyBertEmbedder(minilm, "all-MiniLM-L6-v2"), ref)


def test_empty_input(minilm: Path) -> None:
    assert NumpyBertEmbedder(minilm, "m").embed_texts([]).shape == (0, 384)


def test_loader_picks_numpy_on_cpu_and_torch_when_pinned(minilm: Path) -> None:
    auto = load_text_embedder(TextEmbeddingConfig())
    assert isinstance(auto, CpuTextEmbedder) and isinstance(auto.small, NumpyBertEmbedder)
    assert auto.model_id == "all-MiniLM-L6-v2" and auto.dim == 384
    pinned = load_text_embedder(TextEmbeddingConfig(device="cuda"))
    assert isinstance(pinned, SentenceTransformerEmbedder)  # falls back to cpu without a GPU


def test_ctranslate2_vectors_match_numpy(minilm: Path) -> None:
    ref = NumpyBertEmbedder(minilm, "all-MiniLM-L6-v2").embed_texts(TEXTS)
    assert_same_vectors(lambda: Ct2BertEmbedder(minilm, "all-MiniLM-L6-v2"), ref)
    assert Ct2BertEmbedder(minilm, "m").embed_texts([]).shape == (0, 384)


def test_bulk_passes_go_through_ctranslate2_with_the_same_vectors(minilm: Path) -> None:
    """#16: NumPy for a query, CTranslate2 for bulk (cheaper on long texts, and no torch import);
    the vectors agree."""
    emb = load_text_embedder(TextEmbeddingConfig())
    assert isinstance(emb, CpuTextEmbedder)
    long = [f"{t} " * 40 for t in TEXTS]
    assert sum(map(len, long)) > emb.BULK_CHARS
    bulk = emb.embed_texts(long)
    assert isinstance(emb._bulk, Ct2BertEmbedder)  # the bulk model was loaded for it
    small = emb.small.embed_texts(long)
    assert bulk.shape == small.shape and float(np.min(np.sum(bulk * small, axis=1))) > 0.9999


def test_a_failing_bulk_model_falls_back_to_numpy(
    minilm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Ct2BertEmbedder, texts: list[str]) -> np.ndarray:
        raise RuntimeError("no CTranslate2 here")

    monkeypatch.setattr(Ct2BertEmbedder, "embed_texts", broken)
    emb = CpuTextEmbedder(minilm, "all-MiniLM-L6-v2")
    long = [f"{t} " * 40 for t in TEXTS]
    got = emb.embed_texts(long)
    assert not emb._bulk_ok  # not asked again
    assert float(np.min(np.sum(got * emb.small.embed_texts(long), axis=1))) > 0.99999


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


def test_embedding_never_imports_torch(minilm: Path) -> None:
    """Neither a query nor a bulk pass (an import) pays for importing torch (#16)."""
    code = (
        "import sys\n"
        "from models.config import TextEmbeddingConfig\n"
        "from models.text_embedding import load_text_embedder\n"
        "emb = load_text_embedder(TextEmbeddingConfig())\n"
        "v = emb.embed_texts(['budget due Friday'])\n"
        "assert v.shape == (1, 384)\n"
        "bulk = emb.embed_texts(['the budget is due on Friday, said Ana. ' * 20] * 10)\n"
        "assert bulk.shape == (10, 384) and emb._bulk is not None\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "print(bad)\n"
        "import torch\n"  # hidden only while CTranslate2's specs were imported
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
