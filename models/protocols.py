"""Small protocols the rest of Engram uses to talk to models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


class TextEmbedder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    model_id: str
    dim: int

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim), L2-normalised."""
        ...
