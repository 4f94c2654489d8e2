"""Image and text embeddings in one space with open_clip (default ViT-B-32 laion2b_s34b_b79k).

No PyPI package ships these weights, so offline this role is unavailable unless the weights
are in Engram's cache (``engram models pull``), the Hugging Face cache, or a configured path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.device import is_out_of_memory, pick_device
from models.errors import ModelUnavailable
from models.ocr import ImageInput, open_image
from models.registry import cached_path, entry_for, how_to_get

if TYPE_CHECKING:
    from models.config import ClipConfig

logger = logging.getLogger(__name__)

HF_REPOS = {"laion2b_s34b_b79k": "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"}
HF_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


class ClipEmbedder:
    """An open_clip model; embeds images and texts into L2-normalised float32 vectors.

    Calls are serialised by a lock, so one instance may be shared between threads.
    """

    def __init__(
        self, model: Any, preprocess: Any, tokenizer: Any, model_id: str, device: str
    ) -> None:
        self.model_id = model_id
        self.device = device
        self._model, self._preprocess, self._tokenizer = model, preprocess, tokenizer
        self._lock = threading.Lock()
        self.dim = int(self._encode_texts(["dimension probe"], device).shape[1])

    def embed_images(self, images: Sequence[ImageInput]) -> np.ndarray:
        """Embed PIL images, paths or arrays; returns (n, dim).

        Raises:
            BadInput: one of the images cannot be read (see ``models.ocr.open_image``).
        """
        if not len(images):
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        batch = torch.stack([self._preprocess(open_image(img).convert("RGB")) for img in images])
        return self._guarded(lambda device: self._model.encode_image(batch.to(device)))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts (truncated to the model's context length); returns (n, dim)."""
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return self._encode_texts(list(texts), self.device)

    def unload(self) -> None:
        """Drop the weights."""
        self._model = None

    def _encode_texts(self, texts: list[str], device: str) -> np.ndarray:
        tokens = self._tokenizer(texts)
        return self._run(lambda dev: self._model.encode_text(tokens.to(dev)), device)

    def _guarded(self, fn: Any) -> np.ndarray:
        with self._lock:
            try:
                return self._run(fn, self.device)
            except RuntimeError as exc:
                if self.device == "cpu" or not is_out_of_memory(exc):
                    raise
                logger.warning("CLIP ran out of %s memory; running this call on cpu", self.device)
                try:
                    self._model.to("cpu")
                    return self._run(fn, "cpu")
                finally:
                    self._model.to(self.device)

    def _run(self, fn: Any, device: str) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = fn(device).float()
            out = torch.nn.functional.normalize(out, dim=-1)
        return out.cpu().numpy().astype(np.float32)


def find_weights(cfg: ClipConfig, cache_dir: str | None = None) -> tuple[str, str, str]:
    """Return (model_name, pretrained, source) for open_clip, from local files only.

    Raises:
        ModelUnavailable: no local weights; the reason says how to get them.
    """
    if cfg.path:
        path = Path(cfg.path)
        if path.is_dir():
            return f"local-dir:{path}", "", "local path"
        if path.is_file():
            return cfg.architecture, str(path), "local path"
        raise ModelUnavailable("clip", cfg.model_id, f"the configured path {path} does not exist")
    entry = entry_for("clip", cfg.model_id)
    cached = cached_path(entry, cache_dir) if entry else None
    if cached is not None:
        return cfg.architecture, str(cached), "cache"
    hub = _hf_cached(cfg.pretrained_tag)
    if hub is not None:
        return cfg.architecture, hub, "huggingface cache"
    reason = how_to_get(entry) if entry else "set models.clip.path to a local checkpoint"
    raise ModelUnavailable("clip", cfg.model_id, reason)


def _hf_cached(tag: str) -> str | None:
    repo = HF_REPOS.get(tag)
    if repo is None:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    for name in HF_FILES:
        found = try_to_load_from_cache(repo, name)
        if isinstance(found, str):
            return found
    return None


def load_clip(cfg: ClipConfig, cache_dir: str | None = None) -> ClipEmbedder:
    """Build the CLIP embedder for a config from local weights (registry loader).

    Raises:
        ModelUnavailable: no local weights, or weights that do not load.
    """
    # find the weights before importing open_clip and torch: without them this role answers at once
    name, pretrained, source = find_weights(cfg, cache_dir)
    import open_clip

    device = pick_device(cfg.device)
    precision = "fp16" if device == "cuda" else "fp32"
    logger.info("loading CLIP %s (%s) from %s on %s", cfg.model_id, name, source, device)
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            name, pretrained=pretrained or None, device=device, precision=precision
        )
        tokenizer = open_clip.get_tokenizer(name)
    except Exception as exc:  # torch/safetensors/open_clip raise many types for bad files
        raise ModelUnavailable(
            "clip", cfg.model_id, f"cannot load {name} {pretrained}: {exc}"
        ) from exc
    model.eval()
    return ClipEmbedder(model, preprocess, tokenizer, cfg.model_id, device)
