"""Small protocols the rest of Engram uses to talk to models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


class TextEmbedder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    model_id: str
    dim: int

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim), L2-normalised."""
        ...


class ImageTextEmbedder(Protocol):
    """Embeds images and texts into one space (CLIP), as unit-length float32 vectors."""

    model_id: str
    dim: int

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Return an array of shape (len(images), dim), L2-normalised."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim), L2-normalised."""
        ...
