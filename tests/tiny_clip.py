"""A tiny random-weight open_clip model saved the way the Hugging Face hub lays one out
(open_clip_config.json + weights), for tests that load it through the real loader (#17)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TINY: dict[str, Any] = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


def save_tiny_clip(folder: Path, seed: int = 0, embed_dim: int = 16) -> Path:
    """Write open_clip_config.json and random weights into ``folder``; returns it."""
    import open_clip
    import torch

    cfg = {**TINY, "embed_dim": embed_dim}
    torch.manual_seed(seed)
    model = open_clip.CLIP(**cfg)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": cfg, "preprocess_cfg": {}})
    )
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder
