"""ModelHub: the one door from memory/ and the CLI to every model role (all lazy)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from models.config import ROLES, ModelConfig
from models.errors import BadInput, ModelError, ModelUnavailable
from models.registry import CATALOGUE, LazyModel, make_lazy

if TYPE_CHECKING:
    from models.clip import ClipEmbedder
    from models.llm import LLM
    from models.ocr import RapidOcrEngine
    from models.protocols import TextEmbedder
    from models.speech import WhisperTranscriber

logger = logging.getLogger(__name__)

__all__ = ["BadInput", "ModelError", "ModelHub", "ModelUnavailable", "catalogue_rows"]


class ModelHub:
    """Holds one LazyModel per role; each loads on first use from any thread.

    Args:
        config: the models configuration; ``use()`` edits a copy held here.
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self._lazy: dict[str, LazyModel[Any]] = {r: make_lazy(r, self.config) for r in ROLES}

    def text_embedder(self) -> TextEmbedder:
        """Return the text embedder. Raises ModelUnavailable if its weights are missing."""
        return cast("TextEmbedder", self._lazy["text_embedding"].get())

    def ocr(self) -> RapidOcrEngine:
        """Return the OCR engine. Raises ModelUnavailable if rapidocr is missing."""
        return cast("RapidOcrEngine", self._lazy["ocr"].get())

    def speech(self) -> WhisperTranscriber:
        """Return the speech-to-text model. Raises ModelUnavailable if its weights are missing."""
        return cast("WhisperTranscriber", self._lazy["speech"].get())

    def clip(self, required: bool = False) -> ClipEmbedder | None:
        """Return the CLIP embedder, or None when it is unavailable (search runs on text).

        Raises:
            ModelUnavailable: only when ``required`` is true.
        """
        try:
            return cast("ClipEmbedder", self._lazy["clip"].get())
        except ModelUnavailable as exc:
            if required:
                raise
            logger.info("image embeddings off: %s", exc.reason)
            return None

    def llm(self) -> LLM:
        """Return the configured LLM (local model or server client)."""
        return cast("LLM", self._lazy["llm"].get())

    def lazy(self, role: str) -> LazyModel[Any]:
        """Return the LazyModel of a role (for load state and timings)."""
        return self._lazy[role]

    def doctor(self, quick_check: bool = True) -> dict[str, Any]:
        """Return the doctor report (see ``models.doctor.run_doctor``); reuses loaded models."""
        from models.doctor import run_doctor

        return run_doctor(self.config, quick_check=quick_check, models=self._lazy)

    def use(self, role: str, model_id_or_path: str) -> None:
        """Point a role at a catalogue id or a local path, unloading the old model.

        The caller persists ``self.config`` if it wants the change to outlive the process.
        """
        sub = self.config.role(role)
        if model_id_or_path in CATALOGUE:
            if CATALOGUE[model_id_or_path].role != role:
                raise ModelUnavailable(
                    role,
                    model_id_or_path,
                    f"it is a {CATALOGUE[model_id_or_path].role} model, not {role}",
                )
            sub.model_id, sub.path = model_id_or_path, None
        else:
            sub.path = model_id_or_path
            sub.model_id = model_id_or_path
        self._lazy[role].unload()
        self._lazy[role] = make_lazy(role, self.config)

    def unload_all(self) -> None:
        """Unload every loaded model (e.g. on low memory or at shutdown)."""
        for lazy in self._lazy.values():
            lazy.unload()


def catalogue_rows(hub: ModelHub | None = None) -> list[dict[str, Any]]:
    """Describe every catalogue model for ``engram models list``, with local availability."""
    from models.registry import cached_path, packaged_path

    rows = []
    for entry in CATALOGUE.values():
        local = (
            packaged_path(entry)
            if entry.package
            else cached_path(entry, hub.config.cache_dir if hub else None)
        )
        in_use = hub is not None and hub.config.role(entry.role).model_id == entry.model_id
        rows.append(
            {
                "model_id": entry.model_id,
                "role": entry.role,
                "description": entry.description,
                "package": entry.package,
                "url": entry.url,
                "size_bytes": entry.size_bytes,
                "sha256": entry.sha256,
                "offline_available": local is not None,
                "local_path": str(local) if local else None,
                "in_use": in_use,
            }
        )
    return rows


def pull_model(model_id: str, hub: ModelHub | None = None, progress: Any = None) -> str:
    """Download a catalogue model into the cache; returns the file path.

    Raises:
        ModelUnavailable: offline, unknown id, or a packaged model.
        DownloadError: the transfer or the sha256 check failed.
    """
    from models.download import pull

    return str(pull(model_id, cache_dir=hub.config.cache_dir if hub else None, progress=progress))
