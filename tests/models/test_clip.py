"""CLIP: a tiny random open_clip model saved to disk and loaded through the real loading code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.clip import ClipEmbedder, load_clip
from models.config import ClipConfig
from models.errors import BadInput, ModelUnavailable
from tests.tiny_clip import TINY, save_tiny_clip


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny")


@pytest.fixture(scope="module")
def clip(tiny_dir: Path) -> ClipEmbedder:
    return load_clip(ClipConfig(model_id="tiny-clip", path=str(tiny_dir), device="cpu"))


def test_loaded_weights_are_the_saved_ones(clip, tiny_dir):
    import torch

    saved = torch.load(tiny_dir / "open_clip_pytorch_model.bin", weights_only=True)
    loaded = clip._model.state_dict()
    assert torch.equal(saved["token_embedding.weight"], loaded["token_embedding.weight"])


def test_embeddings_are_unit_vectors_of_the_model_dim(clip, tmp_path):
    assert clip.dim == 16
    red, blue = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (40, 40), "blue")
    path = tmp_path / "blue.png"
    blue.save(path)
    imgs = clip.embed_images([red, path])
    texts = clip.embed_texts(["a red square", "a blue square", "a red square"])
    assert imgs.shape == (2, 16) and texts.shape == (3, 16)
    assert imgs.dtype == texts.dtype == np.float32
    assert np.allclose(np.linalg.norm(imgs, axis=1), 1, atol=1e-5)
    assert np.allclose(texts[0], texts[2]) and not np.allclose(texts[0], texts[1])
    assert not np.allclose(imgs[0], imgs[1])
    assert clip.embed_texts([]).shape == (0, 16)


def test_bad_image_is_bad_input(clip, tmp_path):
    bad = tmp_path / "x.png"
    bad.write_text("not an image")
    with pytest.raises(BadInput):
        clip.embed_images([Image.new("RGB", (8, 8)), bad])
    with pytest.raises(BadInput):
        clip.embed_images([Image.new("RGB", (0, 0))])


def test_offline_default_is_unavailable_with_how_to(monkeypatch, tmp_path):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(ModelUnavailable) as info:
        load_clip(ClipConfig(), cache_dir=str(tmp_path / "cache"))
    assert info.value.role == "clip" and info.value.model_id == "clip-vit-b32-laion2b"
    assert "engram models pull clip-vit-b32-laion2b" in info.value.reason


def test_checkpoint_file_in_engram_cache_is_used(tmp_path, tiny_dir, monkeypatch):
    import models.clip as clip_mod

    # A ViT-B-32-sized download is too big for a test: point the architecture at the tiny config
    (tmp_path / "cache").mkdir()
    target = tmp_path / "cache" / "open_clip_vit_b32_laion2b.safetensors"
    import torch
    from safetensors.torch import save_file

    state = torch.load(tiny_dir / "open_clip_pytorch_model.bin", weights_only=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(target))
    import open_clip

    open_clip.add_model_config(_write_cfg(tmp_path / "TinyArch.json"))
    name, pretrained, source = clip_mod.find_weights(
        ClipConfig(architecture="TinyArch"), cache_dir=str(tmp_path / "cache")
    )
    assert (name, pretrained, source) == ("TinyArch", str(target), "cache")
    emb = load_clip(
        ClipConfig(architecture="TinyArch", device="cpu"), cache_dir=str(tmp_path / "cache")
    )
    assert emb.embed_texts(["hello"]).shape == (1, 16)


def _write_cfg(path: Path) -> Path:
    path.write_text(json.dumps(TINY))
    return path


def test_corrupt_checkpoint_is_unavailable(tmp_path, tiny_dir):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "open_clip_config.json").write_text((tiny_dir / "open_clip_config.json").read_text())
    data = (tiny_dir / "open_clip_pytorch_model.bin").read_bytes()
    (broken / "open_clip_pytorch_model.bin").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelUnavailable, match="cannot load"):
        load_clip(ClipConfig(path=str(broken), device="cpu"))
